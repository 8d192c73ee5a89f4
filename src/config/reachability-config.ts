/**
 * The `dataPathCheck` section of a service file: as written, its defaults (each says why; the
 * schema's `default` annotations repeat them and a unit test keeps them equal), the validated
 * shape the daemon sees, and its cross-field rules, each problem naming its field.
 * Absent: no data-path check (the node never drains for its path to the clients).
 */
import { parseIp } from '../util/ip.js';
import type { ConfigProblem } from './problems.js';

/** Whether any or all targets must answer for the path to count as working. */
export type Require = 'any' | 'all';

/** The reachability policy's parameters (health/reachability/reachability-policy.ts reads them; defined here so config imports no policy). */
export interface DataPathPolicy {
  readonly targets: readonly string[];
  readonly require: Require;
  readonly timeoutMs: number;
  readonly fall: number;
  readonly rise: number;
  /** How long a node that just lost its path waits, announcing standby, before draining. */
  readonly settleMs: number;
}

export interface RawDataPathCheck {
  targets: string[];
  require?: Require;
  intervalMs?: number;
  timeoutMs?: number;
  fall?: number;
  rise?: number;
  drainTimeoutMs?: number;
}

/** The section as the daemon sees it (the settle time is derived from the timings: reachability-wiring.ts). */
export interface DataPathCheckConfig extends Omit<DataPathPolicy, 'settleMs'> {
  readonly intervalMs: number;
  /** How long a node drained for its data path keeps a bucket's established connections. */
  readonly drainTimeoutMs: number;
}

export const DATAPATH_DEFAULTS = {
  // Several targets are redundancy (two routers): the path is fine while any of them answers.
  require: 'any' as const,
  // Ten rounds a second: with fall 3 a cut is noticed in ~0.3-0.4 s, the order of the default
  // profile's dead time (240 ms), so a cut data path costs the clients about what a crash does;
  // one small echo per target per round is nothing for a router.
  intervalMs: 100,
  // The whole interval: rounds never overlap, and a LAN gateway answers in well under 1 ms, so
  // only real trouble (or a stalled daemon, which is not counted) runs out of it.
  timeoutMs: 100,
  // Three lost rounds in a row: one or two lost echoes (a router rate-limiting ICMP, a full
  // queue) are not a cut.
  fall: 3,
  // Five good rounds before taking buckets back: coming back moves buckets, so be surer of
  // recovery than of failure; a flapping path does not drag buckets back and forth.
  rise: 5,
  // No wait: a node that cannot reach its clients cannot finish their connections either, so
  // its buckets go to the grantee as soon as it took them, and its lease stops (healthHold).
  drainTimeoutMs: 0,
} as const;

export function buildDataPathCheck(raw: RawDataPathCheck | undefined): DataPathCheckConfig | null {
  if (raw === undefined) return null;
  return {
    targets: raw.targets.map((t) => parseIp(t).text),
    require: raw.require ?? DATAPATH_DEFAULTS.require,
    intervalMs: raw.intervalMs ?? DATAPATH_DEFAULTS.intervalMs,
    timeoutMs: raw.timeoutMs ?? Math.min(DATAPATH_DEFAULTS.timeoutMs, raw.intervalMs ?? DATAPATH_DEFAULTS.intervalMs),
    fall: raw.fall ?? DATAPATH_DEFAULTS.fall,
    rise: raw.rise ?? DATAPATH_DEFAULTS.rise,
    drainTimeoutMs: raw.drainTimeoutMs ?? DATAPATH_DEFAULTS.drainTimeoutMs,
  };
}

interface RawNodeish { address?: unknown; extraAddresses?: unknown }

function nodeAddresses(raw: { node?: RawNodeish; peers?: unknown }): Set<string> {
  const out = new Set<string>();
  const add = (n: RawNodeish | undefined): void => {
    const extra: unknown[] = Array.isArray(n?.extraAddresses) ? (n.extraAddresses as unknown[]) : [];
    for (const a of [n?.address, ...extra]) {
      if (typeof a !== 'string') continue;
      try { out.add(parseIp(a).text); } catch { /* reported by the node checks */ }
    }
  };
  add(raw.node);
  if (Array.isArray(raw.peers)) for (const p of raw.peers as RawNodeish[]) add(p);
  return out;
}

/** Cross-field problems of `dataPathCheck` (the schema checked its shape). */
export function dataPathProblems(raw: { dataPathCheck?: RawDataPathCheck; vip?: unknown; node?: RawNodeish; peers?: unknown }): ConfigProblem[] {
  const c = raw.dataPathCheck;
  if (c === undefined) return [];
  const out: ConfigProblem[] = [];
  let vip: string | null = null;
  try { vip = typeof raw.vip === 'string' ? parseIp(raw.vip).text : null; } catch { vip = null; }
  const nodes = nodeAddresses(raw);
  const seen = new Map<string, number>();
  c.targets.forEach((t, i) => {
    const at = `dataPathCheck.targets[${i}]`;
    let text: string;
    try {
      const ip = parseIp(t);
      if (ip.family !== 4) { out.push({ path: at, message: `must be an IPv4 address (ICMP echo), got ${JSON.stringify(t)}` }); return; }
      text = ip.text;
    } catch {
      out.push({ path: at, message: `must be an IPv4 address like 10.200.0.254 (the gateway the clients come through), got ${JSON.stringify(t)}` });
      return;
    }
    if (text === vip) out.push({ path: at, message: `${text} is the VIP: the nodes themselves answer it, so it says nothing about the path to the clients` });
    else if (nodes.has(text)) out.push({ path: at, message: `${text} is a cluster node's address: the check must reach the clients' side (a gateway or router), and a dead peer would then drain every node` });
    const first = seen.get(text);
    if (first !== undefined) out.push({ path: at, message: `${text} is already dataPathCheck.targets[${first}]` });
    else seen.set(text, i);
  });
  const interval = c.intervalMs ?? DATAPATH_DEFAULTS.intervalMs;
  if (c.timeoutMs !== undefined && c.timeoutMs > interval) out.push({ path: 'dataPathCheck.timeoutMs', message: `must be at most intervalMs (${interval}), got ${c.timeoutMs}: rounds never overlap` });
  return out;
}
