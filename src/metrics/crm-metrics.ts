/**
 * Cluster resources' metrics (singletons and groups, docs/crm.md), pulled from the status
 * snapshot at scrape time. No series without singletons or groups (the names are registered so
 * the reference lists them).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DaemonStatus } from '../daemon/node-daemon.js';

const PHASES = ['claiming', 'starting', 'started', 'failed', 'stopping', 'stop-failed'] as const;

export function registerCrmMetrics(registry: Registry, snap: () => DaemonStatus): void {
  const r = { registers: [registry] };
  new Gauge({ ...r, name: 'vmac_crm_resource_phase', help: 'Each singleton / group member on this node (one-hot over claiming, starting, started, failed, stopping, stop-failed; all 0: stopped here).', labelNames: ['resource', 'phase'],
    collect() {
      this.reset();
      const c = snap().crm;
      if (c) for (const res of c.resources) for (const p of PHASES) this.set({ resource: res.name, phase: p }, res.phases[c.self] === p ? 1 : 0);
    } });
  new Gauge({ ...r, name: 'vmac_crm_resource_nodes', help: 'On how many nodes each singleton / group member runs, as reported to this node (1 while it runs; more than 1 must never happen).', labelNames: ['resource'],
    collect() { this.reset(); for (const res of snap().crm?.resources ?? []) this.set({ resource: res.name }, res.runningOn.length); } });
  new Gauge({ ...r, name: 'vmac_crm_failures', help: 'Unexpired failure counts of each singleton / group member per node (migrationThreshold counts these).', labelNames: ['resource', 'node'],
    collect() { this.reset(); for (const res of snap().crm?.resources ?? []) for (const [node, n] of Object.entries(res.failures)) this.set({ resource: res.name, node }, n); } });
  new Gauge({ ...r, name: 'vmac_crm_unclean_nodes', help: 'Nodes outside the view not known to run nothing: their singletons start nowhere else until they are fenced (or, without fencing, the self-stop grace passed).',
    collect() { this.reset(); const c = snap().crm; if (c) this.set(c.unclean.length); } });
  new Counter({ ...r, name: 'vmac_crm_actions_total', help: 'Resource actions this node ran (start, stop, each ok or failed), monitor failures, fences it asked for.', labelNames: ['action', 'result'],
    collect() {
      this.reset();
      const k = snap().crm?.counters;
      if (!k) return;
      this.inc({ action: 'start', result: 'ok' }, k.starts - k.startFailures);
      this.inc({ action: 'start', result: 'failed' }, k.startFailures);
      this.inc({ action: 'stop', result: 'ok' }, k.stops - k.stopFailures);
      this.inc({ action: 'stop', result: 'failed' }, k.stopFailures);
      this.inc({ action: 'monitor', result: 'failed' }, k.monitorFailures);
      this.inc({ action: 'fence', result: 'asked' }, k.fencesAsked);
    } });
  new Counter({ ...r, name: 'vmac_crm_reports_total', help: 'Resource reports sent, received, and dropped by reason (bad-mac, stale, config-differs, …).', labelNames: ['kind'],
    collect() {
      this.reset();
      const k = snap().crm?.counters;
      if (!k) return;
      this.inc({ kind: 'sent' }, k.reportsSent);
      this.inc({ kind: 'received' }, k.reportsReceived);
      for (const [reason, n] of Object.entries(k.dropped)) this.inc({ kind: `dropped-${reason}` }, n ?? 0);
    } });
}
