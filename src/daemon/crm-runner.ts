/**
 * The interpreter of the transition engine (transition.ts) on one node: feeds it the cluster's
 * view, the peers' reports (crm-codec.ts, on the heartbeat sockets), the outcomes of its actions
 * and of fences, and carries its effects out — start/stop through the resource drivers
 * (command triple, systemd unit, OCF agent, floating VIP), fences through the fence runner,
 * reports to every peer (sent again every heartbeat interval: datagrams get lost), self-fence
 * through the daemon. Every decision is the engine's; this file owns I/O and its tallies only.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { HeartbeatKey } from '../cluster/heartbeat-auth.js';
import type { ResourceDriver } from '../health/resources/driver.js';
import type { FenceRunner } from '../fencing/fence-runner.js';
import type { ClusterStatus } from '../node/node-status.js';
import type { CrmDriverSpec, CrmModel } from '../crm/model.js';
import { decodeCrmMessage, encodeCrmMessage, type CrmDropReason } from '../cluster/crm-codec.js';
import { crmStatusOf, crmViewOf, sameView, type CrmStatus, type CrmView } from '../node/crm-view.js';
import { applyResourceOp, pendingCleanups, standbyOf, type ResourceOp } from '../crm/operator.js';
import { initialCrmState, step, type CrmEffect, type CrmEvent, type CrmState, type NodeReport } from '../crm/transition.js';

export interface CrmTiming {
  /** Heartbeat interval: the view is read, the report sent again and the engine ticked this often. */
  readonly intervalMs: number;
  /** The cluster's dead time (interval × deadAfter). */
  readonly deadMs: number;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly monitorIntervalMs: number;
  readonly monitorTimeoutMs: number;
  /** A failed fence is asked for again after this long (the fence runner also retries by itself). */
  readonly fenceRetryMs: number;
  /** Startup fencing of a node not seen since this one started waits this long (transition.ts). */
  readonly startupFenceDelayMs?: number;
}

export interface CrmRunnerDeps {
  readonly model: CrmModel;
  readonly self: { readonly id: number; readonly name: string };
  readonly nodes: readonly { readonly id: number; readonly name: string }[];
  readonly key: HeartbeatKey;
  /** Our config fingerprint digest: reports of another fingerprint are dropped. */
  readonly fingerprint: string;
  /** This process's start (ms since the Unix epoch): a restart's reports supersede the old ones. */
  readonly epoch: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** To every peer on every heartbeat link. */
  readonly send: (bytes: Uint8Array) => void;
  readonly clusterStatus: () => Pick<ClusterStatus, 'self' | 'quorum' | 'nodes' | 'config'>;
  readonly driverFor: (resource: string, spec: CrmDriverSpec) => ResourceDriver;
  readonly fence?: Pick<FenceRunner, 'require' | 'phase' | 'onChange'>;
  /** A stop failed where no peer can fence this node: take it out (the daemon stops; the watchdog resets the machine). */
  readonly selfFence: (reason: string) => void;
  readonly timing: CrmTiming;
}

export interface CrmCounters {
  reportsSent: number;
  reportsReceived: number;
  dropped: Partial<Record<CrmDropReason | 'config-differs' | 'unknown-sender' | 'stale', number>>;
  starts: number;
  stops: number;
  startFailures: number;
  stopFailures: number;
  monitorFailures: number;
  fencesAsked: number;
}

export interface CrmRunner {
  onDatagram(bytes: Uint8Array): void;
  status(): CrmStatus & { counters: CrmCounters };
  /** An operator request (`vmac resource …`): the answer for the operator, or an error string. */
  operate(op: ResourceOp): { ok: boolean; message: string };
  /** Planned stop: stop this node's singletons (dependents first) and report it; resolves once all are down (bounded). */
  leave(): Promise<void>;
  close(): void;
}

export function startCrmRunner(d: CrmRunnerDeps): CrmRunner {
  const { clock, log, timing } = d;
  const names = d.nodes.map((n) => n.name);
  const idOf = new Map(d.nodes.map((n) => [n.name, n.id]));
  const nameOf = new Map(d.nodes.map((n) => [n.id, n.name]));
  const chain = Math.max(1, d.model.resources.filter((r) => r.kind === 'singleton').length);
  let s: CrmState = {
    ...initialCrmState({
      self: d.self.name, nodes: names, model: d.model, fencing: d.fence !== undefined,
      // Without fencing a silent node is assumed stopped once it could have noticed its lost quorum and stopped every singleton it ran.
      selfStopGraceMs: 2 * timing.deadMs + chain * timing.stopTimeoutMs + 1000, fenceRetryMs: timing.fenceRetryMs,
      ...(timing.startupFenceDelayMs !== undefined ? { startupFenceDelayMs: timing.startupFenceDelayMs } : {}),
    }, clock.nowMs()),
    epoch: d.epoch,
  };
  const drivers = new Map<string, ResourceDriver>();
  for (const r of d.model.resources) if (r.kind === 'singleton' && r.driver !== null) drivers.set(r.name, d.driverFor(r.name, r.driver));
  const counters: CrmCounters = { reportsSent: 0, reportsReceived: 0, dropped: {}, starts: 0, stops: 0, startFailures: 0, stopFailures: 0, monitorFailures: 0, fencesAsked: 0 };
  const newest = new Map<string, { epoch: number; seq: number }>(); // per sender, never forgotten: an older report is a replay
  const monitoring = new Set<string>();
  let lastReport: NodeReport | null = null;
  let lastView: (CrmView & { standby: string[] }) | null = null;
  let appliedCleanups: Record<string, number> = {};
  let leaving = false;
  let closed = false;
  let dispatching = false;
  const queue: CrmEvent[] = [];
  const drop = (reason: keyof CrmCounters['dropped']): void => { counters.dropped[reason] = (counters.dropped[reason] ?? 0) + 1; };

  function dispatch(ev: CrmEvent): void {
    if (closed) return;
    queue.push(ev);
    if (dispatching) return; // effects that complete synchronously queue their events
    dispatching = true;
    try {
      for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
        const r = step(s, e, clock.nowMs());
        s = r.state;
        for (const eff of r.effects) perform(eff);
        const c = pendingCleanups(s.operator, appliedCleanups);
        appliedCleanups = c.applied;
        for (const res of c.resources) if (s.order.primitives.includes(res)) { log.info({ event: 'crm-cleanup', resource: res }, `cleanup of ${res}: its failures and bans on this node are forgotten`); queue.push({ type: 'cleanup', resource: res }); }
      }
    } finally { dispatching = false; }
  }

  function sendReport(): void {
    if (lastReport === null) return;
    try {
      d.send(encodeCrmMessage({ senderId: d.self.id, fingerprint: d.fingerprint, report: lastReport }, d.key));
      counters.reportsSent++;
    } catch (err) { log.error({ err, event: 'crm-report-failed' }, 'sending the resource report failed'); }
  }

  function act(resource: string, action: 'start' | 'stop'): void {
    const driver = drivers.get(resource);
    const startedMs = clock.nowMs();
    log.info({ event: `crm-${action}`, resource, driver: driver?.describe }, `${action === 'start' ? 'starting' : 'stopping'} ${resource}`);
    if (action === 'start') counters.starts++; else counters.stops++;
    const done = (outcome: 'ok' | 'failed', detail: string): void => {
      if (outcome === 'failed') { if (action === 'start') counters.startFailures++; else counters.stopFailures++; }
      log[outcome === 'ok' ? 'info' : 'error']({ event: `crm-${action}-done`, resource, outcome, detail, durationMs: Math.round(clock.nowMs() - startedMs) }, `${action} of ${resource}: ${outcome} (${detail})`);
      dispatch({ type: 'action-done', resource, action, outcome });
    };
    if (driver === undefined) { done('failed', 'no driver'); return; }
    const p = action === 'start' ? driver.start(timing.startTimeoutMs) : driver.stop(timing.stopTimeoutMs);
    p.then((r) => done(r.outcome === 'ok' ? 'ok' : 'failed', `${r.outcome}: ${r.detail}`), (err: unknown) => done('failed', String(err)));
  }

  function perform(e: CrmEffect): void {
    switch (e.type) {
      case 'report': lastReport = e.report; sendReport(); break;
      case 'start': case 'stop': act(e.resource, e.type); break;
      case 'fence': {
        const id = idOf.get(e.node);
        counters.fencesAsked++;
        log.warn({ event: 'crm-fence', target: e.node, reason: e.reason }, `fencing ${e.node} before its resources start elsewhere (${e.reason})`);
        if (id !== undefined) d.fence?.require(id, `resources: ${e.reason}`);
        queueMicrotask(trackFences); // a node fenced earlier (for its buckets) counts at once
        break;
      }
      case 'self-fence':
        log.fatal({ event: 'crm-self-fence', reason: e.reason }, `self-fence: ${e.reason}`);
        d.selfFence(e.reason);
        break;
    }
  }

  /** Fences the engine asked for: report their outcome once the fence runner has one. */
  function trackFences(): void {
    if (!d.fence || closed) return;
    for (const [node, u] of Object.entries(s.unclean)) {
      const id = idOf.get(node);
      if (u.fence !== 'requested' || id === undefined) continue;
      const phase = d.fence.phase(id);
      if (phase === 'fenced') dispatch({ type: 'fence-done', node, outcome: 'ok' });
      else if (phase === 'retry-wait') dispatch({ type: 'fence-done', node, outcome: 'failed' });
    }
  }

  /** The view (and operator standby) as the engine should see it; a new one is an event. */
  function poll(): void {
    if (closed) return;
    const v = crmViewOf(d.clusterStatus());
    const view = { ...v, quorate: v.quorate && !leaving, standby: standbyOf(s.operator) };
    if (!sameView(lastView, view)) {
      if (lastView === null || lastView.quorate !== view.quorate || lastView.members.join() !== view.members.join()) log.info({ event: 'crm-view', members: view.members, quorate: view.quorate, standby: view.standby }, `resources: view ${view.members.join(',')}${view.quorate ? '' : ' (no quorum: stopping every singleton here)'}`);
      lastView = view;
      dispatch({ type: 'view', members: view.members, quorate: view.quorate, standby: view.standby, serving: view.serving, cleanLeave: view.cleanLeave });
    }
    trackFences();
    dispatch({ type: 'tick' });
  }

  function monitor(): void {
    for (const [r, driver] of drivers) {
      if (s.local[r] !== 'started' || monitoring.has(r)) continue;
      monitoring.add(r);
      const failed = (detail: string): void => {
        if (s.local[r] !== 'started') return;
        counters.monitorFailures++;
        log.error({ event: 'crm-monitor-failed', resource: r, detail }, `${r} failed its monitor: ${detail}`);
        dispatch({ type: 'monitor-failed', resource: r });
      };
      driver.monitor(timing.monitorTimeoutMs).then(
        (m) => { monitoring.delete(r); if (m.state !== 'running') failed(`${m.state}: ${m.detail}`); },
        (err: unknown) => { monitoring.delete(r); failed(String(err)); },
      );
    }
  }

  const timers: TimerHandle[] = [
    clock.setRepeating(timing.intervalMs, () => { poll(); sendReport(); }),
    clock.setRepeating(timing.monitorIntervalMs, monitor),
  ];
  d.fence?.onChange(() => queueMicrotask(trackFences));
  poll();

  return {
    onDatagram(bytes) {
      const r = decodeCrmMessage(bytes, d.key);
      if (!r.ok) { drop(r.reason); return; }
      const { msg } = r;
      const node = nameOf.get(msg.senderId);
      if (node === undefined || node === d.self.name) { drop('unknown-sender'); return; }
      if (msg.fingerprint !== d.fingerprint) { drop('config-differs'); return; }
      const last = newest.get(node);
      const rep = msg.report;
      if (last !== undefined && (rep.epoch < last.epoch || (rep.epoch === last.epoch && rep.seq < last.seq))) { drop('stale'); return; }
      newest.set(node, { epoch: rep.epoch, seq: rep.seq });
      counters.reportsReceived++;
      dispatch({ type: 'report', node, report: rep });
    },
    status: () => ({ ...crmStatusOf(s, clock.nowMs()), counters: { ...counters, dropped: { ...counters.dropped } } }),
    operate(op) {
      const next = applyResourceOp(s.operator, op, d.model, names, clock.wallMs());
      if (typeof next === 'string') return { ok: false, message: next };
      log.info({ event: 'crm-operator', op, version: next.version }, `operator: resource ${op.op}`);
      dispatch({ type: 'operator', operator: next });
      poll();
      return { ok: true, message: `resource ${op.op} applied (constraints version ${next.version}); it reaches every member with the next report` };
    },
    leave() {
      leaving = true;
      poll();
      const deadline = clock.nowMs() + chain * timing.stopTimeoutMs + timing.intervalMs;
      return new Promise<void>((resolve) => {
        let h: TimerHandle | null = null;
        const check = (): boolean => {
          const busy = Object.values(s.local).some((p) => p !== 'stopped' && p !== 'stop-failed');
          if (busy && clock.nowMs() < deadline) return false;
          if (h !== null) clock.clear(h);
          sendReport();
          resolve();
          return true;
        };
        if (!check()) h = clock.setRepeating(Math.min(50, timing.intervalMs), () => { check(); });
      });
    },
    close() {
      closed = true;
      for (const h of timers) clock.clear(h);
    },
  };
}
