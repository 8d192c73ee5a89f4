/**
 * TCP during a failover run: long-lived streams (8 bytes echoed every 100 ms, silent > 1 s is a
 * stall) and a steady rate of new short connections, from the victim's client addresses and,
 * separately, from the surviving nodes' (lab/c/streams.c, one process per client namespace and
 * side). The survivors' clients must see no reset and no stall: a failover moves only the
 * victim's buckets. The victim's clients' streams were accepted by a kernel that is gone or cut
 * off, so the node taking over has no socket for them and resets them (there is no state
 * transfer); their new connections must succeed once the takeover is done.
 */
import type { StreamsResult } from './handover.js';
import { nsRun } from './exec.js';
import { labBinary } from './paths.js';

export type { StreamsResult } from './handover.js';

export interface TcpLoad {
  /** Long-lived streams per client namespace and side (spread round robin over its addresses). */
  readonly streamsPerClient: number;
  /** New short connections per second per client namespace and side. */
  readonly newPerSec: number;
}

/** Default TCP load: 2 streams per probed address (5 per side per client) and 20 new connections/s per client and side. */
export const DEFAULT_TCP_LOAD: TcpLoad = { streamsPerClient: 10, newPerSec: 20 };

export interface TcpRunResult {
  /** Summed over the client namespaces: clients of the surviving nodes. */
  readonly survivors: StreamsResult;
  /** Summed over the client namespaces: clients of the victim. */
  readonly victim: StreamsResult;
}

export const EMPTY_STREAMS: StreamsResult = { opened: 0, closed_ok: 0, open_at_end: 0, resets: 0, stalls: 0, max_silent_ms: 0, new_ok: 0, new_failed: 0, slow_connects: 0, connect_failed: 0 };

/** Sums reports (max_silent_ms: the largest). Pure. */
export function sumStreams(rs: readonly StreamsResult[]): StreamsResult {
  return rs.reduce((a, r) => {
    const out = { ...a };
    for (const k of Object.keys(EMPTY_STREAMS) as (keyof StreamsResult)[]) out[k] = k === 'max_silent_ms' ? Math.max(a[k], r[k]) : a[k] + r[k];
    return out;
  }, EMPTY_STREAMS);
}

/**
 * Starts the TCP load for one run (all client namespaces, both sides) and resolves with its
 * reports once `durationMs` has passed. Streams live longer than the window: none closes on its
 * own during the run, so every one is exposed to the fault.
 */
export function tcpDuringRun(lab: { vip: string; echoPort: number }, sides: readonly { ns: string; victimFile: string; othersFile: string }[], load: TcpLoad, durationMs: number): Promise<TcpRunResult> {
  const bin = labBinary('vmac-streams');
  const life = `${durationMs * 10}:${durationMs * 10}`;
  const one = (ns: string, file: string): Promise<StreamsResult> =>
    nsRun(ns, bin, ['--vip', lab.vip, '--port', String(lab.echoPort), '--addrs', file, '--streams', String(load.streamsPerClient), '--duration-ms', String(durationMs), '--new-per-sec', String(load.newPerSec), '--life-ms', life], { timeoutMs: durationMs + 30_000 })
      .then((out) => JSON.parse(out) as StreamsResult);
  const victim = Promise.all(sides.map((s) => one(s.ns, s.victimFile)));
  const survivors = Promise.all(sides.map((s) => one(s.ns, s.othersFile)));
  return Promise.all([survivors, victim]).then(([sv, vc]) => ({ survivors: sumStreams(sv), victim: sumStreams(vc) }));
}

export interface TcpSummary {
  readonly survivors: StreamsResult;
  readonly victim: StreamsResult;
  /** Runs in which a survivor's client saw a reset or a stalled stream (must be 0). */
  readonly runsSurvivorsDisturbed: number;
}

export function summarizeTcp(runs: readonly { tcp?: TcpRunResult }[]): TcpSummary | undefined {
  const with_ = runs.filter((r): r is { tcp: TcpRunResult } => r.tcp !== undefined);
  if (with_.length === 0) return undefined;
  return {
    survivors: sumStreams(with_.map((r) => r.tcp.survivors)),
    victim: sumStreams(with_.map((r) => r.tcp.victim)),
    runsSurvivorsDisturbed: with_.filter((r) => r.tcp.survivors.resets + r.tcp.survivors.stalls > 0).length,
  };
}
