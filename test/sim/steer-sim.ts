/**
 * arp-steer in the simulator (issue 17), where it applies: buckets, leases and takeover are the
 * simulator's (sim-cluster.ts, independent of any MAC); this layer adds what the mode adds on top
 * — each node's real ARP responder (steer identity, the node's own MAC) and directed announcer
 * fed by the real gain watch — on a flooding fake segment with simulated clients that keep one
 * neighbour entry for the VIP and update it from any ARP reply addressed to them (Linux with
 * arp_accept=0 updates an existing entry so). Clients never re-ARP by themselves here: in the
 * real network they do only when their entry goes stale (tens of seconds), far beyond a takeover.
 *
 * Invariants:
 *   answered-once   every ARP request of a client is answered by exactly one node, and by the node
 *                   whose kernel answers the client's bucket (or none while nobody does)
 *   steered         once a takeover or planned move has settled, every client's entry names the
 *                   node whose kernel answers its bucket (the directed re-announce reached it)
 * Broken variants (a test must catch each): the directed announcer off (`announce: false`), and
 * a responder that answers every requester (`answerAll: true`).
 */
import { pino } from 'pino';
import { arpRequest, decodeArpFrame } from '../../src/arp/arp-frame.js';
import { createFakeSegment } from '../../src/arp/fake-packet-port.js';
import type { PacketPort } from '../../src/arp/packet-port.js';
import { createArpResponder } from '../../src/arp/responder.js';
import { arpDecider } from '../../src/daemon/ownership.js';
import { scheduleOn } from '../../src/daemon/node-daemon.js';
import { bucketOf } from '../../src/hash/bucket-of.js';
import { watchGains } from '../../src/modes/gain-watch.js';
import { createSteerAnnouncer, type SteerAnnouncer } from '../../src/modes/steer-announcer.js';
import { createSimCluster, type SimCluster, type SimNode, type SimTiming } from './sim-cluster.js';

const log = pino({ level: 'silent' });
const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
export const nodeMac = (id: number): string => `52:54:00:00:01:${hex2(id)}`;
const clientMac = (i: number): string => `52:54:00:00:02:${hex2(i)}`;

export interface SteerClientState { readonly ip: string; readonly mac: string; bucket: number; entry: number | null }

export interface SteerSim {
  readonly cluster: SimCluster;
  readonly clients: readonly SteerClientState[];
  /** Every client broadcasts one ARP request for the VIP. */
  arpAll(): void;
  /** Requests answered by more than one node, or by a node whose kernel does not answer the client's bucket. */
  readonly violations: string[];
  /** Clients whose entry does not name the node the kernel answers their bucket on (none answering: not counted). */
  misSteered(): SteerClientState[];
}

export function createSteerSim(n: number, timing: SimTiming, o: { clients: number; buckets?: number; announce?: boolean; answerAll?: boolean }): SteerSim {
  const seg = createFakeSegment();
  const violations: string[] = [];
  const clients: SteerClientState[] = [];
  let cluster: SimCluster | null = null;
  /** Who, in the kernel, answers bucket `b` now (one node, or null). */
  const kernelOwner = (b: number): number | null => {
    const ids = cluster?.answering().get(b) ?? [];
    return ids.length === 1 ? (ids[0] ?? null) : null;
  };
  const announcers = new Set<SteerAnnouncer>();
  const senders: (() => void)[] = [];

  // One steer layer per process start: a port that goes quiet when the process dies or freezes.
  const wrapDataPath = (node: SimNode, dp: Parameters<typeof watchGains>[0]): ReturnType<typeof watchGains> => {
    const incarnation = node.incarnation;
    const clock = node.clock;
    const alive = (): boolean => node.runtime !== null && node.incarnation === incarnation && !clock.frozen;
    const raw = seg.attach();
    const port: PacketPort = {
      send: (f) => { if (alive()) raw.send(f); },
      onFrame: (h) => raw.onFrame((f) => { if (alive()) h(f); }),
      close: () => raw.close(),
    };
    const cfg = node.cfg;
    const vip = cfg.vip ?? '';
    const announcer = createSteerAnnouncer({
      port, vip, realMac: nodeMac(node.id), bucketOf: (ip) => bucketOf({ addr: ip }, cfg.hash, cfg.buckets),
      count: cfg.arp.garpCount, intervalMs: cfg.arp.garpIntervalMs, schedule: scheduleOn(clock), log, enabled: o.announce !== false,
    });
    announcers.add(announcer);
    const decide = (ip: string): 'answer' | 'not-owner' | 'not-ready' => {
      const rt = node.runtime;
      if (o.answerAll === true) return 'answer';
      if (rt === null) return 'not-ready';
      return arpDecider(cfg, () => rt.currentMap(), () => rt.serving(), () => rt.arpStandInFor())(ip);
    };
    createArpResponder({ port, vip, vmac: nodeMac(node.id), realMac: nodeMac(node.id), steer: true, decide, log });
    return watchGains(dp, (buckets) => announcer.gained(buckets));
  };

  const c = createSimCluster(n, timing, o.buckets ?? 64, { wrapDataPath });
  cluster = c;
  const cfg = c.nodes[0]?.cfg;
  if (!cfg || cfg.vip === null) throw new Error('the sim config has no IPv4 VIP');
  const vip = cfg.vip;
  const macToNode = new Map(c.nodes.map((x) => [nodeMac(x.id), x.id]));

  for (let i = 1; i <= o.clients; i++) {
    const ip = `10.9.100.${i}`;
    const state: SteerClientState = { ip, mac: clientMac(i), bucket: bucketOf({ addr: ip }, cfg.hash, cfg.buckets), entry: null };
    clients.push(state);
    const port = seg.attach();
    let answers: number[] | null = null; // while a request of ours is out: who answered it
    port.onFrame((f) => {
      const d = decodeArpFrame(f);
      if (!d.ok || d.frame.ethDst !== state.mac || d.frame.op !== 'reply' || d.frame.senderIp !== vip) return;
      const from = macToNode.get(d.frame.senderMac);
      if (from === undefined) return;
      state.entry = from; // an existing entry is updated by any reply for it
      if (answers !== null && d.frame.targetIp === ip) answers.push(from);
    });
    senders.push(() => {
      answers = [];
      port.send(arpRequest({ ethSrc: state.mac, senderMac: state.mac, senderIp: ip, targetIp: vip }));
      const got = answers;
      answers = null;
      const owner = kernelOwner(state.bucket);
      if (got.length > 1) violations.push(`t=${c.clock.nowMs()}: ${ip} (bucket ${state.bucket}) answered by ${got.join(',')}`);
      else if (got.length === 1 && got[0] !== owner) violations.push(`t=${c.clock.nowMs()}: ${ip} (bucket ${state.bucket}) answered by n${got[0] ?? '?'}, the kernel answers it on ${owner ?? 'no node'}`);
    });
  }

  return {
    cluster: c,
    clients,
    violations,
    arpAll() { for (const send of senders) send(); },
    misSteered: () => clients.filter((s) => { const k = kernelOwner(s.bucket); return k !== null && s.entry !== k; }),
  };
}
