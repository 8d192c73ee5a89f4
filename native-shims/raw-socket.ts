/**
 * The only file that touches the `raw-socket` npm package: an ICMPv4 echo socket for the
 * two-node tie-breaker. Typed once here; packets are built and parsed in TypeScript (RFC 792),
 * the addon only opens the raw socket, sends and receives. The kernel hands IPv4 raw sockets the
 * IP header too: it is skipped by its IHL. Needs CAP_NET_RAW (the daemon runs as root).
 */
import { createRequire } from 'node:module';
import { VmacError } from '../src/util/errors.js';

const require = createRequire(import.meta.url);

export interface EchoReply { readonly source: string; readonly id: number; readonly seq: number }

/** The port the tie-breaker pinger uses; a fake implements it in tests. */
export interface IcmpEchoPort {
  send(target: string, id: number, seq: number): void;
  onReply(fn: (r: EchoReply) => void): void;
  close(): void;
}

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;

/** The Internet checksum (RFC 1071) over `buf`. */
export function inetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An echo request: type 8, code 0, checksum, identifier, sequence, 8 bytes of payload. */
export function echoRequest(id: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(ICMP_ECHO_REQUEST, 0);
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  b.write('vmac-tb\0', 8, 'latin1');
  b.writeUInt16BE(inetChecksum(b), 2);
  return b;
}

/** The echo reply in an IPv4 packet as read from a raw socket, or null for anything else. */
export function parseEchoReply(packet: Uint8Array, source: string): EchoReply | null {
  if (packet.length < 20 || (packet[0] ?? 0) >> 4 !== 4) return null;
  const ihl = ((packet[0] ?? 0) & 0x0f) * 4;
  const icmp = packet.subarray(ihl);
  if (icmp.length < 8 || icmp[0] !== ICMP_ECHO_REPLY || icmp[1] !== 0) return null;
  if (inetChecksum(icmp) !== 0) return null;
  return { source, id: ((icmp[4] ?? 0) << 8) | (icmp[5] ?? 0), seq: ((icmp[6] ?? 0) << 8) | (icmp[7] ?? 0) };
}

interface RawSocketModule {
  createSocket(o: { protocol: number }): RawSocket;
  Protocol: { ICMP: number };
  SocketLevel: { SOL_SOCKET: number };
  SocketOption: { SO_BINDTODEVICE?: number };
}
interface RawSocket {
  send(buf: Buffer, offset: number, length: number, address: string, after: (err: Error | null, bytes: number) => void): void;
  on(ev: 'message', fn: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', fn: (err: Error) => void): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  close(): void;
}

/**
 * `device`: bind the socket to that interface (SO_BINDTODEVICE), so echoes leave through it
 * whatever the routing table says, and only replies that arrive on it are read (the data-path
 * check pings out of the cluster interface).
 */
/** Loads the `raw-socket` package and its native part without opening a socket (`vmac run` checks it first). */
export function loadRawSocketPackage(): RawSocketModule {
  try {
    return require('raw-socket') as RawSocketModule;
  } catch (err) {
    throw new VmacError('VMAC_PING_FAILED', `cannot load the raw-socket package: ${(err as Error).message}`, {}, { cause: err });
  }
}

export function openIcmpEcho(onError: (err: Error) => void = () => undefined, o: { device?: string } = {}): IcmpEchoPort {
  let sock: RawSocket;
  try {
    const raw = loadRawSocketPackage();
    sock = raw.createSocket({ protocol: raw.Protocol.ICMP });
    if (o.device !== undefined) {
      const opt = raw.SocketOption.SO_BINDTODEVICE;
      if (opt === undefined) throw new Error('SO_BINDTODEVICE is not available on this platform');
      const name = Buffer.from(`${o.device}\0`, 'latin1');
      try { sock.setOption(raw.SocketLevel.SOL_SOCKET, opt, name, name.length); } catch (err) { sock.close(); throw err; }
    }
  } catch (err) {
    throw new VmacError('VMAC_PING_FAILED', `cannot open an ICMP raw socket${o.device === undefined ? '' : ` bound to ${o.device}`} (needs CAP_NET_RAW): ${(err as Error).message}`, {}, { cause: err });
  }
  const listeners: ((r: EchoReply) => void)[] = [];
  sock.on('message', (buf, source) => {
    // The addon reuses its receive buffer: parse before anything async.
    const r = parseEchoReply(buf, source);
    if (r) for (const fn of listeners) fn(r);
  });
  sock.on('error', onError);
  return {
    send(target, id, seq) {
      const b = echoRequest(id, seq);
      sock.send(b, 0, b.length, target, (err) => { if (err) onError(err); });
    },
    onReply: (fn) => { listeners.push(fn); },
    close: () => sock.close(),
  };
}
