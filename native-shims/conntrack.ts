/**
 * The only file that loads our conntrack shim (native-shims/conntrack/, ctnetlink over raw
 * netlink). Dumps are filtered by the kernel to one VIP and protocol and come back as fixed
 * 16-byte records (see conntrack_shim.c), decoded here into typed entries; nothing parses text.
 */
import { createRequire } from 'node:module';
import { addonPath } from './addon-path.js';
import { VmacError } from '../src/util/errors.js';

export const CT_RECORD_SIZE = 16;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Kernel TCP conntrack states (enum tcp_conntrack), by number. */
export const TCP_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'] as const;
export type TcpState = (typeof TCP_STATES)[number];

/** One conntrack entry to the VIP (original direction: src = client). */
export interface CtEntry {
  readonly proto: number; // 6 TCP, 17 UDP
  readonly saddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly tcpState: TcpState | null; // null for UDP
  readonly seenReply: boolean; // the service answered (UDP: the flow is "established")
  readonly timeoutS: number; // seconds left before the kernel forgets the entry
}

interface NativeModule {
  open(netnsPath: string | null): number;
  close(fd: number): void;
  dump(fd: number, vipNetworkOrder: number, proto: number): Promise<Buffer>;
  insert(fd: number, records: Buffer, timeoutS: number): number;
}

/** Loads the shim without opening a socket (the start-up check, native-shims/probe.ts). */
export function loadConntrackShim(): void {
  native();
}

let loaded: NativeModule | undefined;
function native(): NativeModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const mod = require(addonPath('conntrack', 'vmac_conntrack', 'VMAC_CONNTRACK_FAILED', 'conntrack shim')) as Partial<NativeModule>;
  for (const f of ['open', 'close', 'dump', 'insert'] as const) {
    if (typeof mod[f] !== 'function') throw new VmacError('VMAC_CONNTRACK_FAILED', `the conntrack shim lacks ${f}(): rebuild it with \`make setup\``);
  }
  return (loaded = mod as NativeModule);
}

/** An IPv4 address as the number whose little-endian bytes are the address in network order. */
function ipv4NetworkOrder(addr: string): number {
  const p = addr.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new VmacError('VMAC_BAD_ADDRESS', `not an IPv4 address: ${addr}`, { addr });
  return ((p[0] as number) | ((p[1] as number) << 8) | ((p[2] as number) << 16) | ((p[3] as number) << 24)) >>> 0;
}

function wrap(what: string, err: unknown): VmacError {
  const e = err as { message?: string; code?: string; errno?: number };
  return new VmacError('VMAC_CONNTRACK_FAILED', `${what}: ${e.message ?? String(err)}`, { errno: e.code }, { cause: err });
}

/** Decodes one record at `off` (see conntrack_shim.c). */
export function decodeRecord(buf: Buffer, off: number): CtEntry {
  const proto = buf[off + 8] as number;
  return {
    proto,
    saddr: `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`,
    sport: buf.readUInt16LE(off + 4),
    dport: buf.readUInt16LE(off + 6),
    tcpState: proto === IPPROTO_TCP ? (TCP_STATES[buf[off + 9] as number] ?? 'NONE') : null,
    seenReply: ((buf[off + 10] as number) & 1) !== 0,
    timeoutS: buf.readUInt32LE(off + 12),
  };
}

export interface ConntrackSocket {
  /** The entries whose original destination is `vip` and protocol `proto`, filtered by the kernel. */
  dumpRaw(vip: string, proto: number): Promise<Buffer>;
  dump(vip: string, proto: number): Promise<CtEntry[]>;
  /** Creates entries (tests and benchmarks): client `saddr:sport` → `vip:dport`, unreplied. */
  insert(vip: string, entries: readonly { saddr: string; sport: number; dport: number; proto: number; tcpState?: TcpState }[], timeoutS: number): number;
  close(): void;
}

/** A ctnetlink socket of this process's network namespace, or of the one at `netnsPath` (/run/netns/X). */
export function openConntrack(netnsPath: string | null = null): ConntrackSocket {
  const n = native();
  let fd: number;
  try {
    fd = n.open(netnsPath);
  } catch (err) {
    throw wrap(`cannot open conntrack netlink${netnsPath ? ` in ${netnsPath}` : ''}`, err);
  }
  let open = true;
  // One dump at a time on this socket: the drain poll's TCP reading and the UDP hand-over's flow
  // list are independent callers, and two dumps in flight on one netlink socket read each
  // other's answers (the kernel refuses the second with EBUSY, and the first comes back short
  // of entries without an error: test/lab/conntrack-concurrent.test.ts).
  let last: Promise<unknown> = Promise.resolve();
  const dumpOnce = async (vip: string, proto: number): Promise<Buffer> => {
    if (!open) throw new VmacError('VMAC_CONNTRACK_FAILED', 'conntrack socket closed');
    try {
      return await n.dump(fd, ipv4NetworkOrder(vip), proto);
    } catch (err) {
      throw wrap('conntrack dump failed', err);
    }
  };
  const dumpRaw = (vip: string, proto: number): Promise<Buffer> => {
    const next = last.then(() => dumpOnce(vip, proto));
    last = next.catch(() => undefined);
    return next;
  };
  return {
    dumpRaw,
    async dump(vip, proto) {
      const buf = await dumpRaw(vip, proto);
      const out: CtEntry[] = [];
      for (let off = 0; off + CT_RECORD_SIZE <= buf.length; off += CT_RECORD_SIZE) out.push(decodeRecord(buf, off));
      return out;
    },
    insert(vip, entries, timeoutS) {
      const buf = Buffer.alloc(entries.length * CT_RECORD_SIZE);
      const v = ipv4NetworkOrder(vip);
      entries.forEach((e, i) => {
        const off = i * CT_RECORD_SIZE;
        buf.writeUInt32LE(ipv4NetworkOrder(e.saddr), off);
        buf.writeUInt16LE(e.sport, off + 4);
        buf.writeUInt16LE(e.dport, off + 6);
        buf[off + 8] = e.proto;
        buf[off + 9] = Math.max(0, TCP_STATES.indexOf(e.tcpState ?? 'ESTABLISHED'));
        buf.writeUInt32LE(v, off + 12);
      });
      try {
        return n.insert(fd, buf, timeoutS);
      } catch (err) {
        throw wrap('conntrack insert failed', err);
      }
    },
    close() {
      if (!open) return;
      open = false;
      n.close(fd);
    },
  };
}
