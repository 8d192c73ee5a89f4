import { constants } from 'node:os';
import { NL_NO_ANSWER, type NetfilterSocket, type NftRunner } from '../../native-shims/nftables.js';
import { VmacError } from '../util/errors.js';
import type { DataPathPort, DataPathState } from './datapath-port.js';
import { parseFlowSet, renderFlowExpire, renderFlowFill, renderListFlows, renderStage } from './udp-flow-rules.js';
import { leaseBatch } from './lease-batch.js';
import { ALIVE_SET, CT_FAMILY, ctTableName, renderInstall, renderListUdpActive, renderOwnedDelta, renderPhaseChanges, renderRelease, renderRenew, renderTeardown, type DataPathPlan } from './ruleset.js';

/**
 * The data path in the kernel, through one long-lived libnftables context. With `netfilter`, a
 * lease renewal is one prebuilt netlink batch on that socket (lease-batch.ts) instead of an
 * nft command (which re-reads the whole ruleset first); every other change stays on
 * libnftables, so bucket moves keep their one-transaction atomicity.
 */
export function nftDataPath(nft: NftRunner, plan: DataPathPlan, netfilter?: NetfilterSocket): DataPathPort {
  const exec = (what: string, script: string): void => {
    if (script === '') return;
    const r = nft.run(script);
    if (r.rc !== 0) {
      throw new VmacError('VMAC_NFT_FAILED', `nft ${what} failed: ${firstLine(r.error)}`, { table: plan.table, what, nftError: r.error });
    }
  };
  return {
    install: (owned, leaseMs) => exec('install', renderInstall(plan, owned, leaseMs)),
    move: (add, remove) => exec('move', renderOwnedDelta(plan, add, remove)),
    setPhases: (changes) => exec('phases', renderPhaseChanges(plan, changes)),
    udpActive: () => {
      if ((plan.udpFlowTimeoutMs ?? 0) === 0) return new Set<number>();
      const r = nft.run(renderListUdpActive(plan), true);
      if (r.rc !== 0) throw new VmacError('VMAC_NFT_FAILED', `nft udp-active failed: ${firstLine(r.error)}`, { table: plan.table, what: 'udp-active', nftError: r.error });
      return parseUdpActive(r.output);
    },
    udpFlowStage: (bucket, stage, fills) => exec('udp-flow-stage', [...fills.flatMap((f) => renderFlowFill(plan, f.set, f.flows)), ...renderStage(plan, bucket, stage)].join('\n')),
    udpFlowStages: (stages) => { if (stages.length > 0) exec('udp-flow-stage', stages.flatMap((x) => [...x.fills.flatMap((f) => renderFlowFill(plan, f.set, f.flows)), ...renderStage(plan, x.bucket, x.stage)]).join('\n')); },
    udpFlowExpire: (sets) => { const cmds = renderFlowExpire(plan, sets); if (cmds.length > 0) exec('udp-flow-expire', cmds.join('\n')); },
    udpFlowSet: (set) => ([4, 6] as const).flatMap((family) => {
      // Text, not JSON: JSON rounds `expires` to whole seconds.
      const r = nft.run(renderListFlows(plan, set, family));
      if (r.rc !== 0) throw new VmacError('VMAC_NFT_FAILED', `nft udp-flow-set failed: ${firstLine(r.error)}`, { table: plan.table, what: 'udp-flow-set', nftError: r.error });
      return parseFlowSet(r.output);
    }),
    renew: netfilter ? batchRenewer(netfilter, plan) : (leaseMs) => exec('renew', renderRenew(plan, leaseMs)),
    release: () => exec('release', renderRelease(plan)),
    teardown: () => exec('teardown', renderTeardown(plan)),
    inspect: () => inspectTable(nft, plan),
  };
}

/** Renewals as prebuilt batches on one socket; a refusal throws VMAC_NFT_FAILED naming the errno. */
function batchRenewer(netfilter: NetfilterSocket, plan: DataPathPlan): (leaseMs: number) => void {
  const batch = leaseBatch(plan.table, ALIVE_SET, plan.ifname);
  let seq = 1;
  return (leaseMs) => {
    const from = seq;
    seq = (seq + batch.seqsPerBatch) >>> 0;
    const rc = netfilter.talk(batch.renewal(leaseMs, from), batch.ackSeq(from));
    if (rc !== 0) {
      const errno = errnoName(rc);
      throw new VmacError('VMAC_NFT_FAILED', `nft renew failed: ${errno}${rc === 2 ? ' (the table or its lease set is missing)' : ''}`, { table: plan.table, what: 'renew', errno });
    }
  };
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
function errnoName(rc: number): string {
  return rc === NL_NO_ANSWER ? 'no answer from the kernel' : (ERRNO_NAMES.get(rc) ?? `errno ${rc}`);
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
}

/** Reads the table back: the owned map from JSON, the lease's `expires` from text (JSON rounds it to seconds). */
export function inspectTable(nft: NftRunner, plan: Pick<DataPathPlan, 'table'>): DataPathState {
  const owned = nft.run(`list map netdev ${plan.table} owned`, true);
  if (owned.rc !== 0) return { installed: false, owned: [], incoming: [], draining: [], leaseRemainingMs: null };
  const { incoming, draining } = inspectPhases(nft, plan);
  return { installed: true, owned: parseOwned(owned.output), incoming, draining, leaseRemainingMs: parseLease(nft.run(`list set netdev ${plan.table} alive`).output) };
}

/** The hand-over table's phases (both backends keep it in nft): empty when the table is missing. */
export function inspectPhases(nft: NftRunner, plan: Pick<DataPathPlan, 'table'>): { incoming: number[]; draining: number[] } {
  const phase = nft.run(`list map ${CT_FAMILY} ${ctTableName(plan.table)} phase`, true);
  return phase.rc === 0 ? parsePhaseMap(phase.output) : { incoming: [], draining: [] };
}

interface NftJsonVerdict { jump?: { target?: string } }
interface NftJsonPhaseMap { map?: { elem?: [number | { elem?: { val?: number } }, NftJsonVerdict][] } }

/** The hand-over map: which buckets jump to `incoming`, which to `draining`. */
export function parsePhaseMap(json: string): { incoming: number[]; draining: number[] } {
  const doc = JSON.parse(json) as { nftables?: NftJsonPhaseMap[] };
  const incoming: number[] = [];
  const draining: number[] = [];
  for (const item of doc.nftables ?? []) {
    for (const [key, verdict] of item.map?.elem ?? []) {
      const b = typeof key === 'number' ? key : key.elem?.val;
      if (typeof b !== 'number') continue;
      const target = verdict.jump?.target;
      // `incoming_udp` / `draining_udp`: the same phases, kept by the bucket's UDP keeper.
      // `incoming_hold` / `draining_adopt`: the same phases, per-flow UDP stages.
      if (target === 'incoming' || target === 'incoming_udp' || target === 'incoming_hold') incoming.push(b);
      else if (target === 'draining' || target === 'draining_udp' || target === 'draining_adopt') draining.push(b);
    }
  }
  return { incoming: incoming.sort((a, b) => a - b), draining: draining.sort((a, b) => a - b) };
}

interface NftJsonMap { map?: { elem?: [number | { elem?: { val?: number } }, unknown][] } }

export function parseOwned(json: string): number[] {
  const doc = JSON.parse(json) as { nftables?: NftJsonMap[] };
  const buckets: number[] = [];
  for (const item of doc.nftables ?? []) {
    for (const [key] of item.map?.elem ?? []) {
      const b = typeof key === 'number' ? key : key.elem?.val;
      if (typeof b === 'number') buckets.push(b);
    }
  }
  return buckets.sort((a, b) => a - b);
}

/** `expires 183ms` / `expires 1s200ms` → milliseconds; null when the set has no element. */
export function parseLease(text: string): number | null {
  const m = /expires ((?:\d+[hms]+)+)/.exec(text);
  if (!m?.[1]) return null;
  let ms = 0;
  for (const [, n, unit] of m[1].matchAll(/(\d+)(ms|h|m|s)/g)) {
    const v = Number(n);
    ms += unit === 'ms' ? v : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v * 3_600_000;
  }
  return ms;
}

interface NftJsonSet { set?: { elem?: (number | { elem?: { val?: number } })[] } }

/** The `udpactive` set (elements with timeouts: `{elem: {val, timeout, expires}}`) → buckets. */
export function parseUdpActive(json: string): Set<number> {
  const doc = JSON.parse(json) as { nftables?: NftJsonSet[] };
  const out = new Set<number>();
  for (const item of doc.nftables ?? []) {
    for (const e of item.set?.elem ?? []) {
      const b = typeof e === 'number' ? e : e.elem?.val;
      if (typeof b === 'number') out.add(b);
    }
  }
  return out;
}
