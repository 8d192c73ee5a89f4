/**
 * Client → bucket, the user-space twin of the kernel rule. `nftHashExpr` writes the rule's hash
 * expression and `bucketOf` evaluates the same expression, so the two cannot drift apart.
 */
import type { HashConfig } from '../model/hash-config.js';
import { VmacError } from '../util/errors.js';
import { formatIp, maskPrefix } from '../util/ip.js';
import { checkedPrefix, clientKey, type ClientEndpoint } from './client-key.js';
import { jhash, reciprocalScale } from './jhash.js';

/** The bucket (0..buckets-1) the kernel's `jhash … mod buckets seed hash.seed` gives this client. */
export function bucketOf(client: ClientEndpoint, hash: HashConfig, buckets: number): number {
  const key = clientKey(client, hash);
  return reciprocalScale(jhash(key, key.length, checkedSeed(hash.seed)), buckets);
}

/** The seed as a u32; anything else would be truncated by nft and hash differently. */
function checkedSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new VmacError('VMAC_CONFIG_INVALID', `hash.seed must be an integer 0..0xffffffff, got ${seed}`, { seed });
  }
  return seed;
}

/** The source-address selector of one family: `ip saddr` or `ip6 saddr`. */
function saddr(family: 4 | 6): string {
  return family === 4 ? 'ip saddr' : 'ip6 saddr';
}

/** The netmask of a prefix in the family's text form (`255.255.255.0`, `ffff:ffff:ffff:ffff::`). */
function netmaskText(family: 4 | 6, prefix: number): string {
  return formatIp(maskPrefix(new Uint8Array(family === 4 ? 4 : 16).fill(0xff), prefix));
}

/** The hashed fields: the part between `jhash` and `mod`. */
function hashedFields(hash: HashConfig, family: 4 | 6): string {
  switch (hash.affinity) {
    case 'address':
      return saddr(family);
    case 'address+port':
      // `th sport` (transport header) covers TCP, UDP, SCTP and DCCP with one register layout.
      return `${saddr(family)} . th sport`;
    case 'network':
      return `${saddr(family)} & ${netmaskText(family, checkedPrefix(hash, family))}`;
  }
}

/**
 * The exact nft hash expression, e.g. `jhash ip saddr . th sport mod 256 seed 0x1234abcd`.
 * The seed is always written (without it the kernel draws a random seed per rule and the nodes
 * disagree about buckets), in nft's own `0x%x` form so the text matches `nft list ruleset`.
 */
export function nftHashExpr(hash: HashConfig, family: 4 | 6, buckets: number): string {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 0xffffffff) {
    throw new VmacError('VMAC_CONFIG_INVALID', `bucket count must be an integer 1..${0xffffffff}, got ${buckets}`, { buckets });
  }
  const seed = checkedSeed(hash.seed);
  return `jhash ${hashedFields(hash, family)} mod ${buckets} seed 0x${seed.toString(16)}`;
}
