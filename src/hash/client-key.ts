/**
 * The bytes the kernel hashes for one client: the nft source registers after the payload loads,
 * i.e. each field in network byte order, every field zero-padded to whole 4-byte registers
 * (a 2-byte port occupies a full register: `p_hi p_lo 0 0`).
 */
import type { HashConfig } from '../model/hash-config.js';
import { VmacError } from '../util/errors.js';
import { maskPrefix, parseIp, type IpAddress } from '../util/ip.js';

/** A client as `vmac which` or the ARP responder sees it. */
export interface ClientEndpoint {
  readonly addr: string;
  readonly sport?: number; // transport source port; required for `address+port` affinity
}

const REGISTER_BYTES = 4;

/** Bytes of `n` rounded up to whole nft registers. */
function paddedBytes(n: number): number {
  return Math.ceil(n / REGISTER_BYTES) * REGISTER_BYTES;
}

/** Checks a prefix length against the family's address width (why: a bad config must not hash silently). */
export function checkedPrefix(hash: HashConfig, family: 4 | 6): number {
  const prefix = family === 4 ? hash.prefixLength : hash.prefixLength6;
  const maxBits = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxBits) {
    const field = family === 4 ? 'prefixLength' : 'prefixLength6';
    throw new VmacError('VMAC_CONFIG_INVALID', `hash.${field} must be an integer 0..${maxBits}, got ${prefix}`, { [field]: prefix });
  }
  return prefix;
}

function checkedPort(client: ClientEndpoint): number {
  const port = client.sport;
  if (port === undefined) {
    throw new VmacError(
      'VMAC_BAD_ADDRESS',
      `affinity "address+port" hashes the client's source port too: give a port with the address (client ${client.addr})`,
      { addr: client.addr },
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new VmacError('VMAC_BAD_ADDRESS', `not a port number (0..65535): ${JSON.stringify(port)}`, { addr: client.addr, sport: port });
  }
  return port;
}

/** The address bytes as they sit in the register: masked to the prefix for network affinity. */
function addressBytes(ip: IpAddress, hash: HashConfig): Uint8Array {
  if (hash.affinity !== 'network') return ip.bytes;
  return maskPrefix(ip.bytes, checkedPrefix(hash, ip.family));
}

/**
 * The exact key `jhash` sees for this client under this affinity:
 * `ip saddr` 4 bytes, `ip saddr . th sport` 8, `ip6 saddr` 16, `ip6 saddr . th sport` 20,
 * network affinity the masked address (4 or 16). The port is ignored unless the affinity uses it.
 */
export function clientKey(client: ClientEndpoint, hash: HashConfig): Uint8Array {
  const ip = parseIp(client.addr);
  const addr = addressBytes(ip, hash);
  if (hash.affinity !== 'address+port') return Uint8Array.from(addr);
  const port = checkedPort(client);
  const key = new Uint8Array(addr.length + paddedBytes(2));
  key.set(addr, 0);
  key[addr.length] = port >> 8;
  key[addr.length + 1] = port & 0xff;
  return key;
}

