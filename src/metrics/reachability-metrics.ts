/**
 * The data-path check's metrics, pulled from the status snapshot at scrape time. The series exist
 * only while the check is configured (no target: no series), except the one-hot gauges' names,
 * which are always registered so the reference lists them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DaemonStatus } from '../daemon/node-daemon.js';

const HEALTHS = ['unknown', 'reachable', 'unreachable'] as const;
const ROLES = ['serving', 'settling', 'draining', 'holding'] as const;

export function registerDataPathMetrics(registry: Registry, snap: () => DaemonStatus): void {
  const r = { registers: [registry] };
  new Gauge({ ...r, name: 'vmac_datapath_health', help: 'Data-path check verdict (one-hot): the clients\' side (dataPathCheck.targets) reachable through the cluster interface.', labelNames: ['health'],
    collect() { this.reset(); const d = snap().dataPath; if (d) for (const h of HEALTHS) this.set({ health: h }, d.health === h ? 1 : 0); } });
  new Gauge({ ...r, name: 'vmac_datapath_role', help: 'What the data-path check makes this node do (one-hot): serving, settling (just failed: serving, announcing standby), draining (failing: buckets to healthy peers), holding (failing, no healthy peer: keeps serving).', labelNames: ['role'],
    collect() { this.reset(); const d = snap().dataPath; if (d) for (const x of ROLES) this.set({ role: x }, d.role === x ? 1 : 0); } });
  new Counter({ ...r, name: 'vmac_datapath_echoes_total', help: 'Data-path check echoes per target, by result (answered within the timeout, or lost).', labelNames: ['target', 'result'],
    collect() {
      this.reset();
      for (const t of snap().dataPath?.targets ?? []) {
        this.inc({ target: t.address, result: 'answered' }, t.answered);
        this.inc({ target: t.address, result: 'lost' }, t.sent - t.answered);
      }
    } });
  new Counter({ ...r, name: 'vmac_datapath_rounds_total', help: 'Data-path check rounds by outcome (inconclusive: judged late because the daemon stalled; not counted).', labelNames: ['outcome'],
    collect() {
      this.reset();
      const d = snap().dataPath;
      if (!d) return;
      this.inc({ outcome: 'pass' }, d.rounds - d.failedRounds - d.inconclusiveRounds);
      this.inc({ outcome: 'fail' }, d.failedRounds);
      this.inc({ outcome: 'inconclusive' }, d.inconclusiveRounds);
    } });
  new Gauge({ ...r, name: 'vmac_datapath_rtt_seconds', help: 'Round-trip time of the last answered echo per target.', labelNames: ['target'],
    collect() { this.reset(); for (const t of snap().dataPath?.targets ?? []) if (t.lastRttMs !== null) this.set({ target: t.address }, t.lastRttMs / 1000); } });
}
