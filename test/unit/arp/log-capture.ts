/** A real pino logger whose records land in an array, so tests can assert levels and fields. */
import { pino, type Logger } from 'pino';

export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export const WARN = 40;

export function captureLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { records.push(JSON.parse(line) as LogRecord); } });
  return { log: log.child({ module: 'arp', ifname: 'test0' }), records };
}
