/**
 * The only file that touches the `netlink` npm package (rtnetlink). It normalises the package's
 * errors (`Error("Request rejected: EEXIST")`, no code) into an errno name once, and classifies
 * "already done" outcomes (EEXIST on add, EADDRNOTAVAIL/ESRCH on delete) as named results.
 */
import { createRequire } from 'node:module';
import { VmacError } from '../src/util/errors.js';

const require = createRequire(import.meta.url);

export interface LinkInfo {
  readonly index: number;
  readonly name: string;
  readonly mac: string; // aa:bb:cc:dd:ee:ff
  readonly up: boolean;
}

export interface AddressInfo {
  readonly index: number;
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

export type AddOutcome = 'added' | 'already-present';
export type DeleteOutcome = 'deleted' | 'already-absent';

export interface Rtnetlink {
  getLink(name: string): Promise<LinkInfo>;
  listAddresses(index: number): Promise<AddressInfo[]>;
  addAddress(index: number, bytes: Uint8Array, prefixLength: number): Promise<AddOutcome>;
  deleteAddress(index: number, bytes: Uint8Array, prefixLength: number): Promise<DeleteOutcome>;
  close(): void;
}

/** The errno name inside the package's message, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const msg = err instanceof Error ? err.message : String(err);
  return /\b(E[A-Z0-9]+)\b/.exec(msg)?.[1];
}

const AF_INET = 2;
const AF_INET6 = 10;

interface RawLink { data: { index?: number; flags?: { up?: true } }; attrs: { ifname?: string; address?: Buffer } }
interface RawAddr { data: { family?: number; prefixlen?: number; index?: number }; attrs: { address?: Buffer; local?: Buffer } }
interface RawSocket {
  getLinks(): Promise<RawLink[]>;
  getAddresses(): Promise<RawAddr[]>;
  newAddress(data: object, attrs: object, options?: object): Promise<unknown>;
  delAddress(data: object, attrs: object): Promise<unknown>;
  socket: { close(): void };
}

/** Loads the `netlink` package and its native part without opening a socket (`vmac run` checks it first). */
export function loadNetlinkPackage(): { createRtNetlink: () => RawSocket } {
  try {
    return require('netlink') as { createRtNetlink: () => RawSocket };
  } catch (err) {
    throw new VmacError('VMAC_NETLINK_FAILED', `cannot load the netlink package: ${(err as Error).message}`, {}, { cause: err });
  }
}

export function openRtnetlink(): Rtnetlink {
  let sock: RawSocket;
  try {
    const mod = loadNetlinkPackage();
    sock = mod.createRtNetlink();
  } catch (err) {
    throw new VmacError('VMAC_NETLINK_FAILED', `cannot open an rtnetlink socket: ${String(err)}`, {}, { cause: err });
  }
  const fail = (what: string, err: unknown, details: Record<string, unknown>): never => {
    throw new VmacError('VMAC_NETLINK_FAILED', `${what}: ${errnoOf(err) ?? String(err)}`, { ...details, errno: errnoOf(err) }, { cause: err });
  };
  return {
    async getLink(name) {
      const links = await sock.getLinks().catch((err: unknown) => fail('listing links', err, { name }));
      const l = links.find((x) => x.attrs.ifname === name);
      if (!l || l.data.index === undefined) throw new VmacError('VMAC_LINK_NOT_FOUND', `no interface named ${JSON.stringify(name)} in this network namespace`, { name });
      const mac = Array.from(l.attrs.address ?? Buffer.alloc(6), (b) => b.toString(16).padStart(2, '0')).join(':');
      return { index: l.data.index, name, mac, up: l.data.flags?.up === true };
    },
    async listAddresses(index) {
      const addrs = await sock.getAddresses().catch((err: unknown) => fail('listing addresses', err, { index }));
      return addrs
        .filter((a) => a.data.index === index && (a.data.family === AF_INET || a.data.family === AF_INET6))
        .map((a) => ({
          index,
          family: a.data.family === AF_INET ? 4 : 6,
          bytes: Uint8Array.from(a.attrs.local ?? a.attrs.address ?? []),
          prefixLength: a.data.prefixlen ?? 0,
        }));
    },
    async addAddress(index, bytes, prefixLength) {
      const family = bytes.length === 4 ? AF_INET : AF_INET6;
      try {
        // IPv6: no duplicate address detection. Every node holds the same VIP6 on purpose, and a
        // tentative address would not be used for minutes after another node's DAD probe.
        const data = family === AF_INET6 ? { family, prefixlen: prefixLength, index, flags: { nodad: true } } : { family, prefixlen: prefixLength, index };
        await sock.newAddress(data, { local: Buffer.from(bytes), address: Buffer.from(bytes) }, { flags: { create: true, excl: true } });
        return 'added';
      } catch (err) {
        if (errnoOf(err) === 'EEXIST') return 'already-present';
        return fail('adding address', err, { index, prefixLength });
      }
    },
    async deleteAddress(index, bytes, prefixLength) {
      const family = bytes.length === 4 ? AF_INET : AF_INET6;
      try {
        await sock.delAddress({ family, prefixlen: prefixLength, index }, { local: Buffer.from(bytes), address: Buffer.from(bytes) });
        return 'deleted';
      } catch (err) {
        const e = errnoOf(err);
        if (e === 'EADDRNOTAVAIL' || e === 'ESRCH' || e === 'ENODEV') return 'already-absent';
        return fail('deleting address', err, { index, prefixLength });
      }
    },
    close() {
      sock.socket.close();
    },
  };
}
