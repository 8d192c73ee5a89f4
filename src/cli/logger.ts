import { pino, type DestinationStream, type Logger } from 'pino';
import { formatLogLine } from './log-format.js';

/** Receives the object of every log call (the operator surface's event tap). */
export interface LogRecordSink { record(obj: Record<string, unknown>): void }

/**
 * JSON logs on stdout (journald/systemd collects them); one child logger per module. On a
 * terminal the lines are formatted for humans (log-format.ts) unless VMAC_LOG_FORMAT=json.
 */
export function createLogger(base: Record<string, unknown>, level = process.env.VMAC_LOG_LEVEL ?? 'info', sink?: LogRecordSink): Logger {
  const human = process.stdout.isTTY === true && process.env.VMAC_LOG_FORMAT !== 'json';
  const dest: DestinationStream | undefined = human ? { write: (line: string) => process.stdout.write(formatLogLine(line)) } : undefined;
  const opts = {
    level,
    base: { pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(sink === undefined ? {} : {
      hooks: {
        logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: Parameters<Logger['info']>) => void) {
          const obj: unknown = args[0];
          if (typeof obj === 'object' && obj !== null && !(obj instanceof Error)) sink.record(obj as Record<string, unknown>);
          method.apply(this, args);
        },
      },
    }),
  };
  return dest === undefined ? pino(opts) : pino(opts, dest);
}
