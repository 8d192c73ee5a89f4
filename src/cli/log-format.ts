/**
 * Human-readable log lines for a terminal; JSON stays the format everywhere else (journald,
 * files, pipes). The fixed vocabulary comes first, in a fixed order, so lines line up:
 *   20:01:02.345 INFO  n1 buckets-moved reason=takeover bucket=7 durationMs=241  buckets moved (takeover)
 * Anything else follows as key=value; errors print their message and code.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** The log vocabulary every module uses (docs/metrics.md "Logs"); printed first, in this order. */
export const LOG_VOCABULARY = ['event', 'node', 'bucket', 'reason', 'durationMs'] as const;
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'service', ...LOG_VOCABULARY]);

function text(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try { rec = JSON.parse(line) as Record<string, unknown>; } catch { return line; }
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '';
  const parts = [time, LEVELS[Number(rec.level)] ?? String(rec.level)];
  if (rec.node !== undefined) parts.push(text(rec.node));
  if (rec.event !== undefined) parts.push(text(rec.event));
  for (const k of ['bucket', 'reason', 'durationMs'] as const) if (rec[k] !== undefined) parts.push(`${k}=${text(rec[k])}`);
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k) || v === undefined) continue;
    if (k === 'err' && typeof v === 'object' && v !== null) {
      const e = v as { message?: string; code?: string };
      parts.push(`err=${JSON.stringify(`${e.code ? `${e.code}: ` : ''}${e.message ?? ''}`)}`);
    } else parts.push(`${k}=${text(v)}`);
  }
  return `${parts.join(' ')}  ${typeof rec.msg === 'string' ? rec.msg : ''}\n`;
}
