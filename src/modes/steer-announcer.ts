/**
 * arp-steer's announcements (issue 17): no broadcast gratuitous ARP (it would steer every client
 * to one node), but a directed gratuitous ARP "VIP is-at <this node's MAC>" to each known client of
 * the buckets this node just started to answer (gain-watch.ts), repeated `count` times
 * `intervalMs` apart like a gratuitous burst. Linux clients update an existing neighbour entry
 * from such a reply with the default arp_accept=0, so a dead node's clients re-learn at once
 * instead of after their entry goes stale (base_reachable_time 30 s, then 5 s delay and 3
 * unicast probes to the dead MAC).
 */
import type { Logger } from 'pino';
import { decodeArpFrame, encodeArpFrame } from '../arp/arp-frame.js';
import { decodeNdFrame, NA_FLAG_OVERRIDE, neighborAdvert, UNSPECIFIED } from '../arp/nd-frame.js';
import type { Schedule } from '../arp/garp-burst.js';
import type { PacketPort } from '../arp/packet-port.js';
import { isLinkLocal6, parseNeighJson, SteerClients, type SteerClient } from './steer-clients.js';

/**
 * The directed announcement: a gratuitous ARP reply (sender IP = target IP = VIP, sender MAC =
 * target MAC = ours) sent by unicast to one client. The gratuitous form matters: Linux ignores an
 * ordinary reply that would change an entry updated less than `locktime` (1 s) ago, so a client
 * re-steered by the previous move would keep the dead node's MAC; a GARP overrides the locktime
 * (arp_is_garp: sip == tip, and for a reply tha == sha). Unicast to the client, it is PACKET_HOST
 * there, so the entry becomes REACHABLE at once.
 */
export function directedGarp(o: { realMac: string; vip: string }, clientMac: string): Uint8Array {
  return encodeArpFrame({ ethDst: clientMac, ethSrc: o.realMac, op: 'reply', senderMac: o.realMac, senderIp: o.vip, targetMac: o.realMac, targetIp: o.vip });
}

/**
 * The IPv6 twin (ND steering): an unsolicited NA "VIP6 is-at <this node's MAC>" with the Override
 * flag, unicast to one client (Ethernet and IPv6 destination the client's). RFC 4861 §7.2.5: an
 * NA with O set replaces the link-layer address of an existing entry (Linux: state STALE, so the
 * next packet goes to the new MAC and the entry is confirmed by a unicast NS this node answers).
 * Solicited is clear, as for any unsolicited NA; ND has no locktime to override.
 */
export function directedNa(o: { realMac: string; vip6: string }, client: SteerClient): Uint8Array {
  return neighborAdvert({ ethDst: client.mac, ethSrc: o.realMac, srcIp: o.vip6, dstIp: client.ip, target: o.vip6, targetMac: o.realMac, flags: NA_FLAG_OVERRIDE });
}

export interface SteerAnnouncerOptions {
  readonly port: PacketPort;
  readonly vip: string;
  /** Dual stack: the VIP6, steered by ND the way the VIP is by ARP. */
  readonly vip6?: string;
  readonly realMac: string;
  readonly bucketOf: (ip: string) => number;
  readonly count: number;
  readonly intervalMs: number;
  readonly schedule: Schedule;
  readonly log: Logger;
  /** The interface's neighbours as `ip -j neigh` JSON text, both families (absent: requests seen only). */
  readonly readNeighbours?: () => Promise<string>;
  /** false: learn clients but send nothing (VMAC_STEER_ANNOUNCE=off, to show what it prevents). */
  readonly enabled?: boolean;
  /**
   * Where the known clients survive a restart. A restarted node's neighbour table holds only its
   * own clients, and other nodes' clients send no broadcast request while their entries live: without
   * the store it could not re-steer them when it takes over (the lab saw ~1.2 s gaps then).
   */
  readonly store?: SteerClientStore;
}

export interface SteerClientStore {
  load(): SteerClient[];
  save(clients: readonly SteerClient[]): void;
}

/** A new or changed client is saved at most this long after it was seen (one small file write). */
export const STEER_SAVE_DELAY_MS = 1000;

export interface SteerAnnouncer {
  /** Buckets this node started to answer: announce them to their known clients. */
  gained(buckets: readonly number[]): void;
  stats(): { readonly clients: number; readonly sent: number; readonly failed: number };
  close(): void;
}

export function createSteerAnnouncer(o: SteerAnnouncerOptions): SteerAnnouncer {
  const clients = new SteerClients();
  let sent = 0;
  let failed = 0;
  let closed = false;
  const cancels = new Set<() => void>();
  const enabled = o.enabled !== false;
  let saveArmed = false;
  const loaded = (() => { try { return o.store?.load() ?? []; } catch { return []; } })();
  for (const c of loaded) clients.see(c.ip, c.mac);
  const learned = (ip: string, mac: string): void => {
    if (!clients.see(ip, mac) || !o.store || saveArmed || closed) return;
    saveArmed = true;
    const cancel = o.schedule(() => {
      cancels.delete(cancel);
      saveArmed = false;
      try { o.store?.save(clients.all()); } catch (err) { o.log.warn({ err }, 'saving the known clients failed'); }
    }, STEER_SAVE_DELAY_MS);
    cancels.add(cancel);
  };

  // Every ARP request for the VIP names a client (sender IP and MAC); requests from ourselves do not.
  // Likewise every NS for the VIP6 (source address, and its source link-layer option or Ethernet source).
  const unsubscribe = o.port.onFrame((bytes) => {
    const d = decodeArpFrame(bytes);
    if (d.ok) {
      if (d.frame.op !== 'request' || d.frame.targetIp !== o.vip || d.frame.senderIp === o.vip || d.frame.ethSrc === o.realMac) return;
      learned(d.frame.senderIp, d.frame.senderMac);
      return;
    }
    if (o.vip6 === undefined) return;
    const n = decodeNdFrame(bytes);
    if (!n.ok || n.frame.kind !== 'solicitation' || n.frame.target !== o.vip6 || n.frame.ethSrc === o.realMac) return;
    if (n.frame.srcIp === UNSPECIFIED || n.frame.srcIp === o.vip6 || isLinkLocal6(n.frame.srcIp)) return;
    learned(n.frame.srcIp, n.frame.lladdr ?? n.frame.ethSrc);
  });

  const vip6 = o.vip6;
  function sendTo(list: readonly SteerClient[]): void {
    for (const c of list) {
      const v6 = c.ip.includes(':');
      if (v6 && vip6 === undefined) continue; // an IPv6 neighbour of an IPv4-only service
      try {
        o.port.send(v6 && vip6 !== undefined ? directedNa({ realMac: o.realMac, vip6 }, c) : directedGarp(o, c.mac));
        sent += 1;
      } catch {
        failed += 1;
      }
    }
  }

  function burst(list: readonly SteerClient[]): void {
    if (list.length === 0) return;
    sendTo(list);
    let left = o.count - 1;
    const next = (): void => {
      if (closed || left <= 0) return;
      const cancel = o.schedule(() => { cancels.delete(cancel); left -= 1; sendTo(list); next(); }, o.intervalMs);
      cancels.add(cancel);
    };
    next();
  }

  return {
    gained(buckets) {
      if (closed) return;
      const set = new Set(buckets);
      const known = clients.inBuckets(set, o.bucketOf);
      o.log.info({ event: 'steer-announce', buckets: buckets.length, clients: known.length, enabled }, enabled ? 'directed ARP/NA to the clients of the buckets gained' : 'directed ARP/NA off: clients of the buckets gained re-learn by themselves');
      if (!enabled) return;
      burst(known);
      // Clients that resolved the VIP before we saw their request: from the neighbour table.
      if (o.readNeighbours) {
        const already = new Set(known.map((c) => c.ip));
        o.readNeighbours().then((text) => {
          if (closed) return;
          const extra = parseNeighJson(text, o.vip, o.vip6).filter((c) => !already.has(c.ip) && (o.vip6 !== undefined || !c.ip.includes(':')));
          for (const c of extra) learned(c.ip, c.mac);
          burst(extra.filter((c) => set.has(o.bucketOf(c.ip))));
        }, (err: unknown) => o.log.warn({ err }, 'reading the neighbour table failed'));
      }
    },
    stats: () => ({ clients: clients.size, sent, failed }),
    close() {
      closed = true;
      unsubscribe();
      for (const c of cancels) c();
      cancels.clear();
    },
  };
}
