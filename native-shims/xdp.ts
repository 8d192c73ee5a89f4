/**
 * The only file that loads our libbpf shim (native-shims/xdp/, built by `make setup`): the XDP
 * program vmac_xdp.bpf.c and its maps. Typed here once; the policy (which program is ours, what
 * to write, errors) lives in src/vmac/xdp-datapath.ts.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addonPath } from './addon-path.js';
import { VmacError } from '../src/util/errors.js';

/** Map fds by the names in vmac_xdp.bpf.c. */
export type XdpMapName = 'vmac_cfg' | 'vmac_state' | 'vmac_owned' | 'vmac_count' | 'vmac_stats';
export type XdpMaps = Readonly<Record<XdpMapName, number>>;

export interface XdpLoaded { readonly prog: number; readonly progId: number; readonly tcProg: number; readonly maps: XdpMaps }
export interface XdpIfInfo { readonly ifindex: number; readonly mac: Buffer; readonly progId: number; readonly generic: number; readonly driver: string }

export interface XdpShim {
  /** Loads (verifies) the program with vmac_owned sized 2*buckets and vmac_count buckets; nothing is attached. */
  load(buckets: number): XdpLoaded;
  /** The interface's index, MAC and attached native XDP program id (0: none); throws ENODEV. */
  ifInfo(netnsPath: string | null, ifname: string): XdpIfInfo;
  /** Attaches natively (generic: skb mode): oldProgId 0 only if none is attached, else atomically replaces exactly that one. Returns errno. */
  attach(netnsPath: string | null, ifname: string, progFd: number, oldProgId: number, generic: boolean): number;
  /** Detaches exactly that program (attached in that mode). Returns errno. */
  detach(netnsPath: string | null, ifname: string, progId: number, generic: boolean): number;
  /** The veth pkt_type fix-up (vmac_tc_host) at tc ingress, replacing ours; createdQdisc: clsact was made for it. */
  tcAttach(netnsPath: string | null, ifname: string, tcProgFd: number): { rc: number; createdQdisc: boolean };
  /** Removes our tc filter (and the clsact qdisc when destroyQdisc). Returns errno. */
  tcDetach(netnsPath: string | null, ifname: string, destroyQdisc: boolean): number;
  /** An attached program's name and map fds (null: no such program). */
  progMaps(progId: number): { name: string; maps: Partial<XdpMaps> & Record<string, number> } | null;
  /** One batch update (one syscall) of an ARRAY map; returns errno. */
  mapUpdate(fd: number, keys: Uint32Array, values: Buffer): number;
  /** One element (per-CPU maps: every CPU's value, valueBytes in all); null when absent. */
  mapLookup(fd: number, key: number, valueBytes: number): Buffer | null;
  closeFd(fd: number): void;
  possibleCpus(): number;
  /** Runs the loaded program once on `frame` (BPF_PROG_TEST_RUN): its verdict and the frame after it. */
  testRun(progFd: number, frame: Buffer): { retval: number; frame: Buffer };
}

interface NativeModule {
  load(objPath: string, buckets: number): XdpLoaded;
  ifInfo(netnsPath: string | null, ifname: string): XdpIfInfo;
  attach(netnsPath: string | null, ifname: string, progFd: number, oldProgId: number, generic: boolean): number;
  detach(netnsPath: string | null, ifname: string, progId: number, generic: boolean): number;
  progMaps(progId: number): { name: string; maps: Record<string, number> } | null;
  tcAttach(netnsPath: string | null, ifname: string, tcProgFd: number): { rc: number; createdQdisc: boolean };
  tcDetach(netnsPath: string | null, ifname: string, destroyQdisc: boolean): number;
  mapUpdate(fd: number, keys: Uint32Array, values: Buffer): number;
  mapLookup(fd: number, key: number, valueBytes: number): Buffer | null;
  closeFd(fd: number): void;
  possibleCpus(): number;
  testRun(progFd: number, frame: Buffer): { retval: number; frame: Buffer };
}

const FUNCTIONS = ['load', 'ifInfo', 'attach', 'detach', 'tcAttach', 'tcDetach', 'progMaps', 'mapUpdate', 'mapLookup', 'closeFd', 'possibleCpus', 'testRun'] as const;
const OBJECT = 'vmac_xdp.bpf.o';

let loaded: { mod: NativeModule; object: string } | undefined;

function native(): { mod: NativeModule; object: string } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const path = addonPath('xdp', 'vmac_xdp', 'VMAC_XDP_UNAVAILABLE', 'libbpf shim');
  const mod = require(path) as Partial<NativeModule>;
  for (const fn of FUNCTIONS) {
    if (typeof mod[fn] !== 'function') throw new VmacError('VMAC_XDP_UNAVAILABLE', `the libbpf shim lacks ${fn}(): rebuild it with \`make setup\``);
  }
  // The BPF object is built beside the addon (native-shims/xdp/Makefile) and shipped with it.
  const object = join(dirname(path), OBJECT);
  if (!existsSync(object)) throw new VmacError('VMAC_XDP_UNAVAILABLE', `the XDP program ${object} is not built: run \`make setup\``, { object });
  loaded = { mod: mod as NativeModule, object };
  return loaded;
}

/** Loads the addon and checks the BPF object is there, opening nothing (`vmac run`'s start-up check). */
export function loadXdpShim(): void {
  native();
}

export function openXdp(): XdpShim {
  const { mod, object } = native();
  return {
    load: (buckets) => {
      try {
        return mod.load(object, buckets);
      } catch (err) {
        throw new VmacError('VMAC_XDP_UNAVAILABLE', `cannot load the XDP program ${object}: ${(err as Error).message}`, { object }, { cause: err });
      }
    },
    ifInfo: (ns, ifname) => mod.ifInfo(ns, ifname),
    attach: (ns, ifname, fd, old, generic) => mod.attach(ns, ifname, fd, old, generic),
    detach: (ns, ifname, id, generic) => mod.detach(ns, ifname, id, generic),
    tcAttach: (ns, ifname, fd) => mod.tcAttach(ns, ifname, fd),
    tcDetach: (ns, ifname, destroy) => mod.tcDetach(ns, ifname, destroy),
    progMaps: (id) => mod.progMaps(id),
    mapUpdate: (fd, k, v) => mod.mapUpdate(fd, k, v),
    mapLookup: (fd, k, n) => mod.mapLookup(fd, k, n),
    closeFd: (fd) => mod.closeFd(fd),
    possibleCpus: () => mod.possibleCpus(),
    testRun: (fd, frame) => mod.testRun(fd, frame),
  };
}
