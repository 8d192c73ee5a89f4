/**
 * The ARP responder (MetalLB's layer2 responder pattern): one per cluster interface, it speaks
 * ARP and holds no policy. For each request for the VIP it asks `decide(senderIp)` whether this
 * node answers that requester — typically "do I own the requester's hash bucket", so exactly
 * one node of the cluster replies — and every frame ends in one named outcome that is counted
 * and logged with the same word.
 */
import { captureOwner } from './shared-capture.js';
import type { Logger } from 'pino';
import { arpReply, decodeArpFrame, isUnicastMac, type ArpDecodeFailure, type ArpFrame } from './arp-frame.js';
import { validateArpIdentity, type ArpIdentity } from './arp-identity.js';
import type { PacketPort } from './packet-port.js';

/** Reasons the policy callback may give for not answering. */
export type PolicyDropReason = 'not-owner' | 'not-ready';
export type ArpDecision = 'answer' | PolicyDropReason;

/** Reasons decided from the frame alone, before policy is asked. */
export type FrameDropReason =
  | ArpDecodeFailure
  | 'vip-conflict' // someone else claims the VIP with another MAC (or our kernel lacks arp_announce=2)
  | 'from-self' // Ethernet source is our own real MAC: a frame our own kernel sent, seen by the tap
  | 'reply-not-request'
  | 'not-for-vip'
  | 'gratuitous' // a peer's announcement (sender IP = target IP = VIP): never answered
  | 'bad-sender-mac'; // group or zero sender MAC: a unicast reply could not reach it

export type ArpDropReason = FrameDropReason | PolicyDropReason | 'policy-failed' | 'send-failed';
export type ArpOutcome = 'answered' | ArpDropReason;

export const ARP_OUTCOMES: readonly ArpOutcome[] = [
  'answered', 'truncated', 'not-arp', 'not-ipv4-over-ethernet', 'unknown-opcode', 'vip-conflict', 'from-self',
  'reply-not-request', 'not-for-vip', 'gratuitous', 'bad-sender-mac', 'not-owner', 'not-ready', 'policy-failed', 'send-failed',
];

/** Per-outcome frame counts. Pass one in to keep counts across a responder restart. */
export type ArpCounters = Record<ArpOutcome, number>;

export function createArpCounters(): ArpCounters {
  return Object.fromEntries(ARP_OUTCOMES.map((o) => [o, 0])) as ArpCounters;
}

export type ArpClassification =
  | { readonly kind: 'candidate'; readonly request: ArpFrame }
  | { readonly kind: 'drop'; readonly reason: FrameDropReason; readonly request?: ArpFrame };

/**
 * Everything about a received frame that does not need policy: pure, so tests and the
 * simulator can use it directly. The order matters: a conflict is reported even when it comes
 * from our own kernel, because that is exactly the misconfiguration (no arp_announce=2) that
 * poisons clients' VIP entries with a real MAC.
 */
export function classifyArpFrame(bytes: Uint8Array, id: ArpIdentity): ArpClassification {
  const decoded = decodeArpFrame(bytes);
  if (!decoded.ok) return { kind: 'drop', reason: decoded.reason };
  const f = decoded.frame;
  const drop = (reason: FrameDropReason): ArpClassification => ({ kind: 'drop', reason, request: f });
  // arp-steer: every node claims the VIP with its own MAC, so another MAC is a peer, not a conflict.
  if (f.senderIp === id.vip && f.senderMac !== id.vmac && id.steer !== true) return drop('vip-conflict');
  if (f.ethSrc === id.realMac) return drop('from-self');
  if (f.op !== 'request') return drop('reply-not-request');
  if (f.targetIp !== id.vip) return drop('not-for-vip');
  if (f.senderIp === f.targetIp) return drop('gratuitous');
  if (!isUnicastMac(f.senderMac)) return drop('bad-sender-mac');
  return { kind: 'candidate', request: f };
}

/**
 * The reply to `request`: from our real MAC, to the requester's ARP sender hardware address
 * (RFC 826 answers `ar$sha`, as Linux does), announcing VIP is-at VMAC.
 */
export function buildArpReply(request: ArpFrame, id: ArpIdentity): Uint8Array {
  return arpReply({
    ethSrc: id.realMac,
    ethDst: request.senderMac,
    senderMac: id.vmac,
    senderIp: id.vip,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

export interface ArpResponderOptions {
  readonly port: PacketPort;
  readonly vip: string;
  readonly vmac: string;
  readonly realMac: string;
  /** arp-steer: answer with the node's own MAC (`vmac` = `realMac`). */
  readonly steer?: boolean;
  /** Policy: must be fast and synchronous; a throw counts as 'policy-failed', never crashes. */
  readonly decide: (senderIp: string) => ArpDecision;
  /** A child logger, e.g. `logger.child({ module: 'arp', ifname })`. */
  readonly log: Logger;
  readonly counters?: ArpCounters;
}

export interface ArpResponder {
  /** A snapshot of the per-outcome counters. */
  stats(): Readonly<ArpCounters>;
  /** Detaches from the port. Does not close it: the port may be shared with GARP bursts. */
  close(): void;
}

/** Outcomes an operator must hear about; the rest are routine and logged at debug. */
const WARN_OUTCOMES: ReadonlySet<ArpOutcome> = new Set(['vip-conflict', 'policy-failed', 'send-failed']);

/** Throws `VMAC_CONFIG_INVALID` on a bad identity (see `validateArpIdentity`). */
export function createArpResponder(options: ArpResponderOptions): ArpResponder {
  const id = validateArpIdentity(options);
  const { port, decide, log } = options;
  const counters = options.counters ?? createArpCounters();

  function record(outcome: ArpOutcome, request?: ArpFrame, err?: unknown): void {
    counters[outcome] += 1;
    const fields = { outcome, count: counters[outcome], arp: request && summarize(request), err };
    if (!WARN_OUTCOMES.has(outcome)) log.debug(fields, 'arp frame');
    // Warnings are rate-limited to counts 1, 2, 4, 8, …: a flood cannot drown the log.
    else if (isPowerOfTwo(counters[outcome])) log.warn(fields, `arp ${outcome}`);
  }

  function askPolicy(senderIp: string): ArpDecision | { failed: unknown } {
    try {
      return decide(senderIp);
    } catch (err) {
      return { failed: err };
    }
  }

  function handle(bytes: Uint8Array): void {
    // The ND responder's frames on the shared capture are not ours to count (shared-capture.ts).
    if (captureOwner(bytes) === 'nd') return;
    const c = classifyArpFrame(bytes, id);
    if (c.kind === 'drop') return record(c.reason, c.request);
    const decision = askPolicy(c.request.senderIp);
    if (typeof decision === 'object') return record('policy-failed', c.request, decision.failed);
    if (decision !== 'answer') return record(decision, c.request);
    try {
      port.send(buildArpReply(c.request, id));
    } catch (err) {
      return record('send-failed', c.request, err);
    }
    record('answered', c.request);
  }

  const unsubscribe = port.onFrame(handle);
  log.info({ vip: id.vip, vmac: id.vmac, realMac: id.realMac }, 'arp responder started');
  return {
    stats: () => ({ ...counters }),
    close() {
      unsubscribe();
      log.info({ answered: counters.answered }, 'arp responder stopped');
    },
  };
}

/** Untrusted wire data, nested under a key we own. */
function summarize(f: ArpFrame): Record<string, string> {
  return { op: f.op, ethSrc: f.ethSrc, senderMac: f.senderMac, senderIp: f.senderIp, targetIp: f.targetIp };
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
