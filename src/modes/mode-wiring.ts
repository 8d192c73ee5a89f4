/**
 * What the daemon does differently per mode (issue 17), behind a few calls so that
 * node-daemon.ts only calls in:
 *   - arp-steer: the data-path port is watched for buckets gained (gain-watch.ts), the ARP
 *     identity answers with the node's own MAC, and a directed announcer replaces the broadcast
 *     gratuitous ARP bursts (steer-announcer.ts);
 *   - multicast / igmp: the group membership (group-membership.ts) is joined after the host set-up.
 */
import { VmacError } from '../util/errors.js';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { VmacConfig } from '../config/types.js';
import { bucketOf } from '../hash/bucket-of.js';
import type { Schedule } from '../arp/garp-burst.js';
import type { PacketPort } from '../arp/packet-port.js';
import type { DataPathPort } from '../vmac/datapath-port.js';
import { watchGains } from './gain-watch.js';
import { createSteerAnnouncer, type SteerAnnouncer, type SteerClientStore } from './steer-announcer.js';
import type { SteerClient } from './steer-clients.js';

export interface SteerHook {
  /** The data-path port, watched for gained buckets. */
  wrap(dp: DataPathPort): DataPathPort;
  /** Starts the directed announcer; gains seen before it are announced when it starts. */
  start(o: { cfg: VmacConfig; port: PacketPort; realMac: string; schedule: Schedule; log: Logger; enabled: boolean; readNeighbours?: () => Promise<string> }): SteerAnnouncer & { announce(): void };
}

export function createSteerHook(): SteerHook {
  let announcer: SteerAnnouncer | null = null;
  const early = new Set<number>();
  return {
    wrap: (dp) => watchGains(dp, (buckets) => {
      if (announcer) announcer.gained(buckets);
      else for (const b of buckets) early.add(b);
    }),
    start(o) {
      // The config refuses arp-steer without an IPv4 VIP (mode-config.ts modeProblems).
      if (o.cfg.vip === null) throw new VmacError('VMAC_CONFIG_INVALID', 'arp-steer needs an IPv4 vip');
      const a = createSteerAnnouncer({
        port: o.port, vip: o.cfg.vip, ...(o.cfg.vip6 !== undefined && o.cfg.vip6 !== null ? { vip6: o.cfg.vip6 } : {}), realMac: o.realMac, bucketOf: (ip) => bucketOf({ addr: ip }, o.cfg.hash, o.cfg.buckets),
        count: o.cfg.arp.garpCount, intervalMs: o.cfg.arp.garpIntervalMs, schedule: o.schedule, log: o.log, enabled: o.enabled,
        ...(o.readNeighbours ? { readNeighbours: o.readNeighbours } : {}),
        // Per service and node: nodes that share a run directory (the lab) keep their own file.
        store: fileClientStore(join(dirname(o.cfg.control.socket), `${o.cfg.service}.n${o.cfg.node.id}.steer-clients.json`)),
      });
      announcer = a;
      if (early.size > 0) { a.gained([...early].sort((x, y) => x - y)); early.clear(); }
      // The cluster's takeover announcement: the gains themselves already triggered the replies.
      return { ...a, announce: () => undefined };
    },
  };
}

/** `ip -j neigh show dev <ifname>`, IPv4 and IPv6 (the daemon runs in the node's namespace). */
export function ipNeighbours(ifname: string): () => Promise<string> {
  return () => new Promise((resolve, reject) => {
    execFile('ip', ['-j', 'neigh', 'show', 'dev', ifname], { timeout: 5000 }, (err, out) => (err ? reject(new Error(`ip neigh show dev ${ifname}: ${err.message}`)) : resolve(out)));
  });
}

/** The known clients in a small JSON file beside the control socket (written whole, then renamed). */
export function fileClientStore(path: string): SteerClientStore {
  return {
    load: () => {
      let doc: unknown;
      try { doc = JSON.parse(readFileSync(path, 'utf8')); } catch { return []; }
      return Array.isArray(doc) ? (doc as SteerClient[]).filter((c) => typeof c.ip === 'string' && typeof c.mac === 'string') : [];
    },
    save: (clients) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, JSON.stringify(clients));
      renameSync(`${path}.tmp`, path);
    },
  };
}
