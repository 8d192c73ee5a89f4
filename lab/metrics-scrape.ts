/**
 * Scrapes a lab node's operator endpoint from inside its namespace (the endpoint listens on the
 * namespace's own loopback, as in production) with curl, and parses the Prometheus text format
 * into samples. The parser covers what prom-client writes: `name{k="v",...} value`.
 */
import { nsRun } from './exec.js';

export interface Sample { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number }

export const LAB_METRICS_URL = 'http://127.0.0.1:9789';

export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m?.[1] || m[4] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export async function scrapeNode(ns: string, path = '/metrics'): Promise<string> {
  return nsRun(ns, 'curl', ['-sS', '--max-time', '5', `${LAB_METRICS_URL}${path}`]);
}

/** Sum of `name` over samples whose labels match `where`. */
export function sumOf(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** bucket → value of a per-bucket counter. */
export function perBucket(samples: readonly Sample[], name: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of samples) if (s.name === name && s.labels.bucket !== undefined) m.set(Number(s.labels.bucket), (m.get(Number(s.labels.bucket)) ?? 0) + s.value);
  return m;
}
