/**
 * The XDP data path (datapath: xdp): the netdev part of the nft data path (ruleset.ts) as an XDP
 * program on the cluster interface (native-shims/xdp/vmac_xdp.bpf.c), the conntrack hand-over
 * table (`inet <table>_ct`, prerouting) still through libnftables, so both backends hand
 * connections over alike.
 *
 *   install   loads a fresh program, fills its maps, then attaches it natively: an atomic replace
 *             of this service's program if one is attached (a crash-restart, a config change),
 *             else only-if-none; another program on the interface refuses (VMAC_XDP_BUSY).
 *   move      writes the inactive bank of vmac_owned in one batch, then flips the bank: atomic.
 *   setPhases the ct table's `phase` map first, then the bank flip (a bucket coming in is
 *             decided by conntrack before XDP lets it in); its removals after the flip.
 *   renew     one 8-byte map update: the lease deadline in CLOCK_MONOTONIC ns, which the program
 *             compares with bpf_ktime_get_ns() for every frame (no 4 ms set ticks).
 *   teardown  detaches exactly our program and removes the nft tables.
 *
 * On veth (the lab) a tiny tc ingress program goes with it (vmac_tc_host in the BPF object):
 * veth re-uses the sender's socket buffer, whose pkt_type already says OTHERHOST, and the stack
 * would drop what XDP let in. NIC drivers build the buffer after XDP; there it is not attached.
 *
 * Nothing is pinned. The program is attached through netlink, so like the nft table it outlives
 * the process: a crashed daemon's node keeps dropping foreign buckets and hiding the VIP from the
 * kernel's ARP, and stops answering its own at the lease deadline. The next process finds it by
 * its interface (its cfg carries this service's tag) and adopts its maps (hitless restart) or
 * replaces it atomically (install); stop removes it.
 *
 * Failures throw VMAC_NFT_FAILED, the data path's failure code whatever the backend (the
 * contract suite and the runtime switch on it), with `xdp <what> failed` in the message.
 */
import { constants } from 'node:os';
import type { NftRunner } from '../../native-shims/nftables.js';
import type { XdpMaps, XdpShim } from '../../native-shims/xdp.js';
import type { HashConfig } from '../config/types.js';
import { VmacError } from '../util/errors.js';
import type { DataPathPort, DataPathState, PhaseChange } from './datapath-port.js';
import { phasesOf } from './datapath-port.js';
import { inspectPhases, nftDataPath } from './nft-datapath.js';
import { CT_FAMILY, ctTableName, renderCtTable, renderPhaseChanges, renderTeardown, type DataPathPlan } from './ruleset.js';
import { bankUpdate, CFG_BYTES, cfgTag, COUNTER_BYTES, deadlineNs, encodeCfg, serviceTag, STATE_BANK, STATE_DEADLINE, STATS_SLOTS, sumCounter, sumU64, u64, XDP_OUTCOMES, type XdpOutcome } from './xdp-maps.js';

export const XDP_PROG_NAME = 'vmac_xdp';

export interface XdpDataPathOptions {
  readonly hash: HashConfig;
  /** Drive another namespace's interface (tests, benchmarks); absent: this process's. */
  readonly netnsPath?: string;
  /** CLOCK_MONOTONIC ns, the clock of bpf_ktime_get_ns() (libuv's hrtime is CLOCK_MONOTONIC). */
  readonly nowNs?: () => bigint;
  /**
   * native (default): in the driver, before a socket buffer exists. generic: XDP in the stack's
   * receive path (skb mode). On veth generic keeps the sender's TSO and needs no tc fix-up
   * (docs/xdp.md has the measurements); a NIC wants native.
   */
  readonly mode?: 'native' | 'generic';
}

export interface XdpDataPath extends DataPathPort {
  /** Packets and bytes passed per owned bucket since the program was loaded (metrics). */
  counters(): Map<number, { packets: number; bytes: number }>;
  /** What the program did with frames, per outcome, since it was loaded. */
  outcomes(): Record<XdpOutcome, number>;
}

interface Attached { progId: number; generic: boolean; maps: XdpMaps; bank: 0 | 1; owned: Set<number> }

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const errnoName = (rc: number): string => ERRNO_NAMES.get(rc) ?? `errno ${rc}`;

export function xdpDataPath(xdp: XdpShim, nft: NftRunner, plan: DataPathPlan, opts: XdpDataPathOptions): XdpDataPath {
  const ns = opts.netnsPath ?? null;
  const nowNs = opts.nowNs ?? (() => process.hrtime.bigint());
  const tag = serviceTag(plan.table);
  const B = plan.buckets;
  const cpus = xdp.possibleCpus();
  // The hand-over's UDP operations are the nft backend's own (they touch only the ct table).
  const ct = nftDataPath(nft, plan);
  let att: Attached | null = null;
  let createdQdisc = false; // this process made the clsact qdisc for the veth fix-up

  const fail = (what: string, why: string, details: Record<string, unknown> = {}): never => {
    throw new VmacError('VMAC_NFT_FAILED', `xdp ${what} failed: ${why}`, { table: plan.table, ifname: plan.ifname, what, ...details });
  };
  const closeMaps = (maps: Partial<XdpMaps> & Record<string, number>): void => { for (const fd of Object.values(maps)) xdp.closeFd(fd); };
  const nftRun = (what: string, script: string): void => {
    if (script === '') return;
    const r = nft.run(script);
    if (r.rc !== 0) fail(what, r.error.split('\n').find((l) => l.trim() !== '') ?? 'nft error', { nftError: r.error });
  };
  const generic = opts.mode === 'generic';
  const attached = (): { id: number; generic: boolean } => {
    try {
      const i = xdp.ifInfo(ns, plan.ifname);
      return { id: i.progId, generic: i.generic === 1 };
    } catch (err) { return fail('query', `interface ${plan.ifname}: ${(err as Error).message}`); }
  };
  /** The program attached to the interface now, if it is this service's; 'foreign' if another. */
  const findOurs = (): Attached | 'foreign' | null => {
    const { id, generic: inSkbMode } = attached();
    if (id === 0) return null;
    if (att?.progId === id) return att;
    const found = xdp.progMaps(id);
    if (!found) return null;
    const m = found.maps;
    const complete = m.vmac_cfg !== undefined && m.vmac_state !== undefined && m.vmac_owned !== undefined && m.vmac_count !== undefined && m.vmac_stats !== undefined;
    const cfg = complete && found.name === XDP_PROG_NAME ? xdp.mapLookup(m.vmac_cfg, 0, CFG_BYTES) : null;
    if (!complete || cfg === null || cfgTag(cfg) !== tag || cfg.readUInt32LE(56) !== B) { closeMaps(m); return 'foreign'; }
    const maps = m as unknown as XdpMaps;
    if (att) closeMaps(att.maps);
    att = { progId: id, generic: inSkbMode, maps, ...readOwned(maps) };
    return att;
  };
  /** The active bank and the buckets it owns, as the kernel holds them. */
  const readOwned = (maps: XdpMaps): { bank: 0 | 1; owned: Set<number> } => {
    const bankBuf = xdp.mapLookup(maps.vmac_state, STATE_BANK, 8);
    const bank: 0 | 1 = bankBuf !== null && bankBuf.readBigUInt64LE() === 1n ? 1 : 0;
    const owned = new Set<number>();
    for (let b = 0; b < B; b++) {
      const v = xdp.mapLookup(maps.vmac_owned, bank * B + b, 4);
      if (v !== null && v.readUInt32LE() !== 0) owned.add(b);
    }
    return { bank, owned };
  };
  const need = (what: string): Attached => {
    const a = att ?? findOurs();
    if (a === null || a === 'foreign') return fail(what, `no vmac XDP program of ${plan.table} on ${plan.ifname}`);
    return a;
  };
  const write = (what: string, fd: number, keys: Uint32Array, values: Buffer): void => {
    const rc = xdp.mapUpdate(fd, keys, values);
    if (rc !== 0) fail(what, errnoName(rc), { errno: errnoName(rc) });
  };
  const setDeadline = (what: string, a: Attached, leaseMs: number | null): void => {
    write(what, a.maps.vmac_state, Uint32Array.of(STATE_DEADLINE), u64(deadlineNs(nowNs(), leaseMs)));
  };
  /** Writes the inactive bank, then flips: packets see the old set or the new one, never a mix. */
  const flip = (what: string, a: Attached, owned: Set<number>): void => {
    // A bucket coming in counts from zero, as nft's re-created element does (bucket-totals.ts relies on it).
    const incoming = [...owned].filter((b) => !a.owned.has(b));
    if (incoming.length > 0) write(what, a.maps.vmac_count, Uint32Array.from(incoming), Buffer.alloc(incoming.length * COUNTER_BYTES * cpus));
    const next: 0 | 1 = a.bank === 0 ? 1 : 0;
    const u = bankUpdate(next, B, owned);
    write(what, a.maps.vmac_owned, u.keys, u.values);
    write(what, a.maps.vmac_state, Uint32Array.of(STATE_BANK), u64(BigInt(next)));
    a.bank = next;
    a.owned = owned;
  };
  const checkBuckets = (what: string, buckets: readonly number[]): void => {
    for (const b of buckets) if (!Number.isInteger(b) || b < 0 || b >= B) fail(what, `bucket ${b} outside 0..${B - 1}`, { bucket: b });
  };

  return {
    install(owned, leaseMs) {
      checkBuckets('install', owned);
      const before = findOurs();
      if (before === 'foreign') {
        throw new VmacError('VMAC_XDP_BUSY', `another XDP program is attached to ${plan.ifname}: vmac's XDP data path needs the interface's XDP hook for one service (use datapath: nft, or detach it)`, { ifname: plan.ifname });
      }
      const info = xdp.ifInfo(ns, plan.ifname);
      const loaded = xdp.load(B);
      try {
        const fresh: Attached = { progId: loaded.progId, generic, maps: loaded.maps, bank: 0, owned: new Set(owned) };
        write('install', loaded.maps.vmac_cfg, Uint32Array.of(0), encodeCfg({ table: plan.table, vip: plan.vip, vip6: plan.v6?.vip6 ?? null, vmac: plan.vmac, hostMac: info.mac, buckets: B, hash: opts.hash }));
        const u = bankUpdate(0, B, fresh.owned);
        write('install', loaded.maps.vmac_owned, u.keys, u.values);
        setDeadline('install', fresh, leaseMs);
        // The hand-over table (and no nft netdev table of ours: one filter, never two).
        nftRun('install', [`add table netdev ${plan.table}`, `delete table netdev ${plan.table}`, ...renderCtTable(plan)].join('\n'));
        if (info.driver === 'veth' && !generic) {
          const tc = xdp.tcAttach(ns, plan.ifname, loaded.tcProg);
          if (tc.rc !== 0) fail('install', `tc fix-up on ${plan.ifname}: ${errnoName(tc.rc)}`, { errno: errnoName(tc.rc) });
          createdQdisc ||= tc.createdQdisc;
        }
        // Another attach mode than the running program's cannot replace it atomically: remove it first.
        let replacing = before?.progId ?? 0;
        if (before && before.generic !== generic) {
          const rc = xdp.detach(ns, plan.ifname, before.progId, before.generic);
          if (rc !== 0) fail('install', `detach the ${before.generic ? 'generic' : 'native'} program from ${plan.ifname}: ${errnoName(rc)}`, { errno: errnoName(rc) });
          replacing = 0;
        }
        const rc = xdp.attach(ns, plan.ifname, loaded.prog, replacing, generic);
        if (rc !== 0) fail('install', `attach to ${plan.ifname}: ${errnoName(rc)}${rc === constants.errno.EEXIST || rc === constants.errno.EBUSY ? ' (another XDP program was attached meanwhile)' : ''}`, { errno: errnoName(rc) });
        if (before) closeMaps(before.maps);
        att = fresh;
      } catch (err) {
        closeMaps(loaded.maps);
        throw err;
      } finally {
        xdp.closeFd(loaded.prog);
        xdp.closeFd(loaded.tcProg);
      }
    },
    move(add, remove) {
      const a = need('move');
      checkBuckets('move', [...add, ...remove]);
      for (const b of remove) if (!a.owned.has(b)) fail('move', `bucket ${b} not owned`, { bucket: b });
      const next = new Set(a.owned);
      for (const b of remove) next.delete(b);
      for (const b of add) next.add(b);
      flip('move', a, next);
    },
    setPhases(changes: readonly PhaseChange[]) {
      const a = need('phases');
      checkBuckets('phases', changes.map((c) => c.bucket));
      const now = phasesOf({ installed: true, owned: [...a.owned].sort((x, y) => x - y), ...inspectPhases(nft, plan), leaseRemainingMs: null });
      for (const c of changes) if ((now.get(c.bucket) ?? 'none') !== c.from) fail('phases', `bucket ${c.bucket} is not ${c.from}`, { bucket: c.bucket });
      const ctTable = ` ${CT_FAMILY} ${ctTableName(plan.table)} `;
      const ctLines = renderPhaseChanges(plan, changes).split('\n').filter((l) => l.includes(ctTable));
      nftRun('phases', ctLines.join('\n'));
      const next = new Set(a.owned);
      for (const c of changes) {
        if (c.to === 'none') next.delete(c.bucket);
        else next.add(c.bucket);
      }
      if (next.size !== a.owned.size || [...next].some((b) => !a.owned.has(b))) flip('phases', a, next);
    },
    udpActive: () => ct.udpActive(),
    ...(ct.udpFlowStage ? { udpFlowStage: (bucket: number, stage: 'draining' | 'incoming', fills: Parameters<NonNullable<DataPathPort['udpFlowStage']>>[2]) => ct.udpFlowStage?.(bucket, stage, fills) } : {}),
    ...(ct.udpFlowSet ? { udpFlowSet: (set: Parameters<NonNullable<DataPathPort['udpFlowSet']>>[0]) => ct.udpFlowSet?.(set) ?? [] } : {}),
    renew(leaseMs) {
      setDeadline('renew', need('renew'), leaseMs);
    },
    release() {
      setDeadline('release', need('release'), null);
    },
    teardown() {
      const a = findOurs();
      if (a !== null && a !== 'foreign') {
        const rc = xdp.detach(ns, plan.ifname, a.progId, a.generic);
        if (rc !== 0 && rc !== constants.errno.ENOENT) fail('teardown', `detach from ${plan.ifname}: ${errnoName(rc)}`, { errno: errnoName(rc) });
        closeMaps(a.maps);
      }
      att = null;
      let veth = false;
      try { veth = xdp.ifInfo(ns, plan.ifname).driver === 'veth'; } catch { /* interface gone: nothing attached to it */ }
      if (veth) {
        const rc = xdp.tcDetach(ns, plan.ifname, createdQdisc);
        if (rc !== 0 && rc !== constants.errno.ENOENT && rc !== constants.errno.EINVAL) fail('teardown', `tc fix-up on ${plan.ifname}: ${errnoName(rc)}`, { errno: errnoName(rc) });
        createdQdisc = false;
      }
      nftRun('teardown', renderTeardown(plan));
    },
    inspect(): DataPathState {
      let a: Attached | 'foreign' | null;
      try { a = findOurs(); } catch { a = null; }
      if (a === null || a === 'foreign') return { installed: false, owned: [], incoming: [], draining: [], leaseRemainingMs: null };
      Object.assign(a, readOwned(a.maps)); // the kernel's word, not our memory of it
      const d = xdp.mapLookup(a.maps.vmac_state, STATE_DEADLINE, 8);
      const leftNs = d === null ? 0n : d.readBigUInt64LE() - nowNs();
      return { installed: true, owned: [...a.owned].sort((x, y) => x - y), ...inspectPhases(nft, plan), leaseRemainingMs: leftNs > 0n ? Number(leftNs) / 1e6 : null };
    },
    counters() {
      const out = new Map<number, { packets: number; bytes: number }>();
      const a = att ?? findOurs();
      if (a === null || a === 'foreign') return out;
      for (const b of a.owned) {
        const v = xdp.mapLookup(a.maps.vmac_count, b, COUNTER_BYTES * cpus);
        if (v !== null) out.set(b, sumCounter(v));
      }
      return out;
    },
    outcomes() {
      const out = Object.fromEntries(XDP_OUTCOMES.map((o) => [o, 0])) as Record<XdpOutcome, number>;
      const a = att ?? findOurs();
      if (a === null || a === 'foreign') return out;
      XDP_OUTCOMES.forEach((o, i) => {
        if (i >= STATS_SLOTS) return;
        const v = xdp.mapLookup(a.maps.vmac_stats, i, 8 * cpus);
        if (v !== null) out[o] = sumU64(v);
      });
      return out;
    },
  };
}
