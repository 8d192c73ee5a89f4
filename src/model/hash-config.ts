/**
 * How a client maps to a bucket: shared by the config (which validates it), the user-space hash
 * (src/hash), the kernel renderer (src/vmac) and the fingerprint. Defined here, below all of
 * them, so that none of them imports another for it.
 */
export type Affinity = 'address' | 'address+port' | 'network';

export interface HashConfig {
  readonly affinity: Affinity;
  readonly prefixLength: number; // IPv4 prefix for `network` affinity
  readonly prefixLength6: number; // IPv6 prefix for `network` affinity
  readonly seed: number; // u32; always written into the kernel rule
}
