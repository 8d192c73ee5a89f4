/**
 * The Neighbour Discovery responder: the IPv6 twin of responder.ts (ARP), on the same packet
 * port. For each Neighbor Solicitation for the VIP6 (to its solicited-node group or unicast to
 * the VMAC) it asks the same policy callback `decide(sourceIp)` — "do I own the soliciting
 * address's bucket", with the same stand-in rules — so exactly one node answers, with the VMAC
 * as target link-layer address. Every frame ends in one named outcome, counted and logged with
 * the same word.
 */
import { captureOwner } from './shared-capture.js';
import type { Logger } from 'pino';
import { VmacError } from '../util/errors.js';
import { formatMac, parseIp, parseMac } from '../util/ip.js';
import { isUnicastMac } from './arp-frame.js';
import type { ArpDecision, PolicyDropReason } from './responder.js';
import { decodeNdFrame, neighborAdvert, NA_FLAG_OVERRIDE, NA_FLAG_SOLICITED, UNSPECIFIED, type NdDecodeFailure, type NdFrame } from './nd-frame.js';
import type { PacketPort } from './packet-port.js';

export interface NdIdentity {
  /** The shared virtual IPv6 address, canonical text. */
  readonly vip6: string;
  /** The shared virtual MAC: target link-layer address only, never an Ethernet source. */
  readonly vmac: string;
  /** This node's own interface MAC: the Ethernet source of everything we send. */
  readonly realMac: string;
  /** arp-steer (issue 17): no shared MAC; `vmac` is this node's own MAC and equals `realMac`. */
  readonly steer?: boolean;
}

/** As `validateArpIdentity`, for IPv6: canonical text, the real MAC unicast and not the VMAC. */
export function validateNdIdentity(input: NdIdentity): NdIdentity {
  const invalid = (message: string): VmacError => new VmacError('VMAC_CONFIG_INVALID', message, { vip6: input.vip6, vmac: input.vmac, realMac: input.realMac });
  const ip = parseIp(input.vip6);
  if (ip.family !== 6) throw invalid(`ND needs an IPv6 VIP, got ${JSON.stringify(input.vip6)}`);
  const vmac = formatMac(parseMac(input.vmac));
  const realMac = formatMac(parseMac(input.realMac));
  if (input.steer === true) {
    if (realMac !== vmac) throw invalid('arp-steer answers with the node\'s own MAC: vmac must equal the real MAC');
  } else if (realMac === vmac) throw invalid('the real MAC equals the VMAC: the VMAC must never be an Ethernet source');
  if (!isUnicastMac(realMac)) throw invalid(`the real MAC ${realMac} is not a unicast address`);
  return { vip6: ip.text, vmac, realMac, ...(input.steer === true ? { steer: true } : {}) };
}

/** Reasons decided from the frame alone, before policy is asked. */
export type NdFrameDropReason =
  | NdDecodeFailure
  | 'vip-conflict' // an NA claims the VIP6 for another link-layer address
  | 'from-self' // Ethernet source is our own real MAC: a frame we sent, seen by the tap
  | 'advertisement' // an NA for the VIP6 with the VMAC (a peer's announcement): nothing to answer
  | 'not-for-vip'
  | 'dad-probe' // NS from :: for the VIP6: a host is about to configure our VIP6 (a conflict)
  | 'bad-sender-mac'; // the reply's Ethernet destination would be a group or zero MAC

export type NdDropReason = NdFrameDropReason | PolicyDropReason | 'policy-failed' | 'send-failed';
export type NdOutcome = 'answered' | NdDropReason;

export const ND_OUTCOMES: readonly NdOutcome[] = [
  'answered', 'truncated', 'not-ipv6', 'not-nd', 'bad-hop-limit', 'bad-code', 'bad-checksum', 'bad-option', 'bad-source',
  'vip-conflict', 'from-self', 'advertisement', 'not-for-vip', 'dad-probe', 'bad-sender-mac', 'not-owner', 'not-ready', 'policy-failed', 'send-failed',
];

export type NdCounters = Record<NdOutcome, number>;

export function createNdCounters(): NdCounters {
  return Object.fromEntries(ND_OUTCOMES.map((o) => [o, 0])) as NdCounters;
}

export type NdClassification =
  | { readonly kind: 'candidate'; readonly request: NdFrame; readonly replyTo: string }
  | { readonly kind: 'drop'; readonly reason: NdFrameDropReason; readonly request?: NdFrame };

/**
 * Everything about a received frame that does not need policy (pure). A conflict is reported
 * first, even from our own MAC: the VIP6 advertised with any address but the VMAC poisons clients.
 */
export function classifyNdFrame(bytes: Uint8Array, id: NdIdentity): NdClassification {
  const decoded = decodeNdFrame(bytes);
  if (!decoded.ok) return { kind: 'drop', reason: decoded.reason };
  const f = decoded.frame;
  const drop = (reason: NdFrameDropReason): NdClassification => ({ kind: 'drop', reason, request: f });
  // arp-steer: every node advertises the VIP6 with its own MAC, so another MAC is a peer, not a conflict.
  if (f.kind === 'advertisement' && f.target === id.vip6 && f.lladdr !== null && f.lladdr !== id.vmac && id.steer !== true) return drop('vip-conflict');
  if (f.ethSrc === id.realMac) return drop('from-self');
  if (f.target !== id.vip6) return drop('not-for-vip');
  if (f.kind === 'advertisement') return drop('advertisement');
  if (f.srcIp === UNSPECIFIED) return drop('dad-probe');
  // RFC 4861 §7.2.4: answer to the source link-layer option; a unicast NS may omit it.
  const replyTo = f.lladdr ?? f.ethSrc;
  if (!isUnicastMac(replyTo)) return drop('bad-sender-mac');
  return { kind: 'candidate', request: f, replyTo };
}

/** The solicited NA: from our real MAC and the VIP6, Solicited and Override set, target LLA = VMAC. */
export function buildNdReply(request: NdFrame, replyTo: string, id: NdIdentity): Uint8Array {
  return neighborAdvert({
    ethSrc: id.realMac, ethDst: replyTo, srcIp: id.vip6, dstIp: request.srcIp,
    target: id.vip6, targetMac: id.vmac, flags: NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE,
  });
}

export interface NdResponderOptions extends NdIdentity {
  readonly port: PacketPort;
  /** Policy, given the soliciting address: must be fast and synchronous; a throw counts as 'policy-failed'. */
  readonly decide: (sourceIp: string) => ArpDecision;
  readonly log: Logger;
  readonly counters?: NdCounters;
}

export interface NdResponder {
  stats(): Readonly<NdCounters>;
  /** Detaches from the port (shared with the ARP responder and the bursts). */
  close(): void;
}

const WARN_OUTCOMES: ReadonlySet<NdOutcome> = new Set(['vip-conflict', 'dad-probe', 'policy-failed', 'send-failed']);
/** Outcomes for frames that are not ND at all (ARP on the shared port): counted, never logged. */
const SILENT_OUTCOMES: ReadonlySet<NdOutcome> = new Set(['not-ipv6']);

export function createNdResponder(options: NdResponderOptions): NdResponder {
  const id = validateNdIdentity(options);
  const { port, decide, log } = options;
  const counters = options.counters ?? createNdCounters();

  function record(outcome: NdOutcome, request?: NdFrame, err?: unknown): void {
    counters[outcome] += 1;
    if (SILENT_OUTCOMES.has(outcome)) return;
    const fields = { outcome, count: counters[outcome], nd: request && summarize(request), err };
    if (!WARN_OUTCOMES.has(outcome)) log.debug(fields, 'nd frame');
    else if ((counters[outcome] & (counters[outcome] - 1)) === 0) log.warn(fields, `nd ${outcome}`);
  }

  function handle(bytes: Uint8Array): void {
    // The ARP responder's frames on the shared capture are not ours to count (shared-capture.ts).
    if (captureOwner(bytes) === 'arp') return;
    const c = classifyNdFrame(bytes, id);
    if (c.kind === 'drop') return record(c.reason, c.request);
    let decision: ArpDecision;
    try {
      decision = decide(c.request.srcIp);
    } catch (err) {
      return record('policy-failed', c.request, err);
    }
    if (decision !== 'answer') return record(decision, c.request);
    try {
      port.send(buildNdReply(c.request, c.replyTo, id));
    } catch (err) {
      return record('send-failed', c.request, err);
    }
    record('answered', c.request);
  }

  const unsubscribe = port.onFrame(handle);
  log.info({ vip6: id.vip6, vmac: id.vmac, realMac: id.realMac }, 'nd responder started');
  return {
    stats: () => ({ ...counters }),
    close() {
      unsubscribe();
      log.info({ answered: counters.answered }, 'nd responder stopped');
    },
  };
}

/** Untrusted wire data, nested under a key we own. */
function summarize(f: NdFrame): Record<string, string> {
  return { kind: f.kind, ethSrc: f.ethSrc, srcIp: f.srcIp, dstIp: f.dstIp, target: f.target, lladdr: f.lladdr ?? '' };
}

