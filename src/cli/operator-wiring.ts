/**
 * What `vmac run` adds around the daemon for operators: the metrics/dashboard endpoint
 * (src/metrics/operator-surface.ts) and systemd notifications (src/systemd/notify-loop.ts).
 * Neither can stop the daemon: a busy metrics port or a broken notify socket is logged, and
 * the data path keeps running.
 */
import type { Logger } from 'pino';
import type { NftRunner } from '../../native-shims/nftables.js';
import type { BucketCounters } from '../metrics/nft-counters.js';
import { openNotifySocket } from '../../native-shims/sdnotify.js';
import type { VmacConfig } from '../config/types.js';
import type { Daemon } from '../daemon/node-daemon.js';
import type { EventTap } from '../metrics/event-tap.js';
import { startOperatorSurface, type OperatorSurface } from '../metrics/operator-surface.js';
import { startNotifyLoop, type NotifyLoop } from '../systemd/notify-loop.js';
import { watchdogPingMs } from '../systemd/notify-policy.js';
import type { Clock } from '../util/clock.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { tableName } from '../vmac/ruleset.js';

export interface OperatorExtras {
  stopping(): void;
  close(): Promise<void>;
}

/** Lets the metrics read the kernel counters of buckets just before they are removed. */
export function withCounterReadBeforeMove(dp: DataPathPort, beforeMove: (remove: readonly number[]) => void): DataPathPort {
  return {
    ...dp,
    move: (add, remove) => { beforeMove(remove); dp.move(add, remove); },
    // A bucket leaving `owned` (phase to none) loses its kernel counter with it: read it first.
    setPhases: (changes) => { beforeMove(changes.filter((c) => c.from !== 'none' && c.to === 'none').map((c) => c.bucket)); dp.setPhases(changes); },
  };
}

export async function startOperatorExtras(cfg: VmacConfig, daemon: Daemon, d: { nft: NftRunner; tap: EventTap; clock: Clock; log: Logger; onSurface: (s: OperatorSurface) => void; counters?: () => BucketCounters }): Promise<OperatorExtras> {
  let surface: OperatorSurface | null = null;
  if (cfg.metrics.listen !== null) {
    try {
      surface = await startOperatorSurface(daemon, { listen: cfg.metrics.listen, table: tableName(cfg.service), nft: d.nft, tap: d.tap, clock: d.clock, intervalMs: cfg.timing.intervalMs, log: d.log.child({ module: 'operator' }), ...(d.counters ? { counters: d.counters } : {}) });
      d.onSurface(surface);
    } catch (err) {
      d.log.error({ err, event: 'operator-failed' }, 'metrics and dashboard are off: the data path runs on');
    }
  }
  let notify: NotifyLoop | null = null;
  try {
    const socket = openNotifySocket();
    if (socket !== null) {
      const deadMs = cfg.timing.intervalMs * cfg.timing.deadAfter;
      // A joining node hears a healthy cluster within one dead time; twice that, and it is
      // alone or partitioned: report ready anyway (STATUS says it waits for a quorum).
      notify = startNotifyLoop({ socket, status: () => daemon.status(), clock: d.clock, watchdogMs: watchdogPingMs(process.env, process.pid), readyGraceMs: 2 * deadMs, log: d.log.child({ module: 'systemd' }) });
    }
  } catch (err) {
    d.log.error({ err, event: 'notify-failed' }, 'systemd notifications are off');
  }
  return {
    stopping() { notify?.stopping(); },
    async close() {
      notify?.close();
      await surface?.close();
    },
  };
}
