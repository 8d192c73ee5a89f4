/**
 * Wires the data-path check (src/health/reachability) into the daemon: an ICMP echo socket bound to the
 * cluster interface, the prober and runner, and the one leasing decision the cluster takes from
 * two sources — the local service (resource set) and the data path. The node leases only while
 * both allow it; a data-path drain uses its own drain timeout (connections through a cut path
 * cannot be finished anyway), and a node that holds its buckets although its path fails
 * announces `standby`, so the peers do not count it as a healthy place for their buckets.
 */
import type { Logger } from 'pino';
import type { IcmpEchoPort } from '../../native-shims/raw-socket.js';
import type { Clock } from '../util/clock.js';
import type { DataPathCheckConfig } from '../config/reachability-config.js';
import { icmpProber } from '../health/reachability/reachability-prober.js';
import { startDataPathCheck, type DataPathRunner } from '../health/reachability/reachability-runner.js';
import { degraded, leasingAllowed } from '../health/reachability/reachability-policy.js';

export type LeasingSource = 'service' | 'datapath';

export interface LeasingTarget {
  setLeasing(allowed: boolean, o?: { drainTimeoutMs?: number }): void;
}

export interface LeasingGate {
  /** One source allows leasing or not; the cluster hears only changes of the combination. */
  set(source: LeasingSource, allowed: boolean): void;
  allowed(): boolean;
}

/**
 * `initial`: what each source allows at start (a node with resources starts drained: the service
 * must be healthy first). `drainTimeoutMs`: per source, for the drain that source causes.
 */
export function leasingGate(target: LeasingTarget, initial: Readonly<Record<LeasingSource, boolean>>, drainTimeoutMs: Readonly<Partial<Record<LeasingSource, number>>> = {}): LeasingGate {
  const allow = { ...initial };
  let combined = allow.service && allow.datapath;
  return {
    set(source, allowed) {
      allow[source] = allowed;
      const next = allow.service && allow.datapath;
      if (next === combined) return;
      combined = next;
      const timeout = drainTimeoutMs[source];
      target.setLeasing(next, next || timeout === undefined ? undefined : { drainTimeoutMs: timeout });
    },
    allowed: () => combined,
  };
}

export interface DataPathWiringDeps {
  readonly cfg: DataPathCheckConfig;
  readonly ifname: string;
  readonly openEcho: (ifname: string) => IcmpEchoPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly gate: LeasingGate;
  readonly healthyPeers: () => number;
  readonly setDegraded: (degraded: boolean) => void;
  /** The heartbeat interval: how often the peers' health is read, and part of the settle time. */
  readonly peerPollMs: number;
  /** ICMP identifier of our echoes (distinct from the tie-breaker's in the same namespace). */
  readonly echoId?: number;
}

export function startDataPathWiring(d: DataPathWiringDeps): DataPathRunner {
  const echo = d.openEcho(d.ifname);
  const prober = icmpProber(echo, d.clock, d.echoId ?? ((process.pid + 0x5a5a) & 0xffff), (err, target) => d.log.warn({ err, event: 'datapath-send-failed', target }, `data path echo to ${target} could not be sent`));
  return startDataPathCheck({
    // Settle for one check interval (the most by which two nodes notice a shared loss apart)
    // plus two heartbeat intervals (for their standby to arrive and be read).
    cfg: { ...d.cfg, settleMs: d.cfg.intervalMs + 2 * d.peerPollMs }, prober, clock: d.clock, log: d.log, healthyPeers: d.healthyPeers, peerPollMs: d.peerPollMs,
    onRole(role) {
      d.setDegraded(degraded(role));
      d.gate.set('datapath', leasingAllowed(role));
    },
  });
}
