/**
 * What the cluster runtime asks before each takeover decision, pure: the membership state with
 * the two-node override applied, the dead peers whose buckets must wait for a fence (holdBack),
 * and which peers to fence now. Reads the fence gate (`fenced`) but changes nothing; the runtime
 * carries out `fence` and `heard`.
 *
 *   two-node: the verdict (quorum-policy.ts) sets membership's override; a split it may win
 *     (keep-own) with fencing configured asks for the peer to be fenced — only a peer heard at
 *     least once since start (a node never heard is not shot at boot; it simply waits).
 *   fencing configured (any policy): a peer a quorum agrees is dead, that did not hand over
 *     (leaving or draining), is fenced before its buckets are taken — also one never heard since
 *     our start (startup fencing, as Pacemaker does: it may have been serving before we came).
 */
import { agreedDead, heardPeers, withQuorumOverride, type MembershipState } from './membership.js';
import { fenceWanted, overrideFor, twoNodeVerdict, type FenceGate, type QuorumPolicyConfig, type TieBreakerState, type TwoNodeVerdict } from './quorum-policy.js';

export interface GateInput {
  readonly policy: QuorumPolicyConfig;
  readonly m: MembershipState;
  readonly nowMs: number;
  readonly fencing: boolean; // a fence agent is configured
  readonly fenced: (id: number) => boolean; // the fence gate per peer
  readonly tieBreaker: TieBreakerState;
  /**
   * Peers heard with another config that announce they serve nothing (config-agreement.ts): not
   * silent, not holding buckets, so never fenced and never waited for (absent: none).
   */
  readonly notServing?: ReadonlySet<number>;
}

export interface GateResult {
  readonly m: MembershipState;
  readonly verdict: TwoNodeVerdict | null; // null under the majority policy
  readonly holdBack: ReadonlySet<number>;
  readonly fence: readonly { readonly target: number; readonly reason: string }[];
  readonly heard: readonly number[];
}

const NONE: ReadonlySet<number> = new Set();

function handedOver(m: MembershipState, id: number, notServing?: ReadonlySet<number>): boolean {
  if (notServing?.has(id) === true) return true;
  const hb = m.peers.get(id)?.latest;
  return hb !== null && hb !== undefined && (hb.type === 'leave' || hb.state === 'leaving' || hb.state === 'draining');
}

export function quorumGate(g: GateInput): GateResult {
  let m = g.m;
  const heard = heardPeers(m, g.nowMs);
  const fence: { target: number; reason: string }[] = [];
  let verdict: TwoNodeVerdict | null = null;
  if (g.policy.policy === 'two-node') {
    const peer = [...m.peers.keys()][0];
    if (peer !== undefined) {
      const gate: FenceGate = !g.fencing ? 'not-configured' : g.fenced(peer) ? 'fenced' : 'pending';
      verdict = twoNodeVerdict(heard.includes(peer), g.tieBreaker, gate);
      if (fenceWanted(verdict, gate, heard.includes(peer)) && m.peers.get(peer)?.lastHeardMs != null && !handedOver(m, peer, g.notServing)) {
        fence.push({ target: peer, reason: `two-node split: peer silent, tie-breaker ${g.policy.tieBreaker.target} reachable` });
      }
    }
    m = withQuorumOverride(m, overrideFor(verdict ?? 'normal'));
  }
  if (!g.fencing) return { m, verdict, holdBack: NONE, fence, heard };
  const hold = new Set<number>();
  for (const id of agreedDead(m, g.nowMs)) {
    if (handedOver(m, id, g.notServing) || g.fenced(id)) continue;
    hold.add(id);
    // Never heard since our start counts too (startup fencing): it may have been serving before.
    if (!fence.some((f) => f.target === id)) fence.push({ target: id, reason: m.peers.get(id)?.lastHeardMs == null ? 'never heard since our start (startup fencing)' : 'dead while holding buckets' });
  }
  return { m, verdict, holdBack: hold.size === 0 ? NONE : hold, fence, heard };
}
