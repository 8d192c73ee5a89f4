import { pino, type Logger } from 'pino';

/** JSON logs on stdout (journald/systemd collects them); one child logger per module. */
export function createLogger(base: Record<string, unknown>, level = process.env.VMAC_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
