/**
 * The vocabulary shared by the kernel renderer (vmac/ruleset.ts), the wire (cluster/heartbeat-codec.ts)
 * and the reducers (takeover/, node/): one definition each, imported everywhere else. This module
 * imports nothing, so every layer may depend on it.
 */

/**
 * What the kernel does with one bucket's packets on this node, and what a heartbeat says about
 * one bucket of its sender (2 bits on the wire, in this order):
 *   none     - dropped at ingress;
 *   owned    - all accepted;
 *   incoming - new owner during a hand-over: established,related, new TCP SYNs and UDP;
 *   draining - old owner during a hand-over: established,related only.
 */
export type BucketPhase = 'none' | 'owned' | 'incoming' | 'draining';
/** Every phase, in wire order (the codec's 2-bit value is the index). */
export const BUCKET_PHASES: readonly BucketPhase[] = ['none', 'owned', 'incoming', 'draining'];

/**
 * One bucket's move on this node. `udp`: with a UDP flow timeout, this node keeps the bucket's
 * UDP in its new phase (it owned the bucket before it started moving): the kernel then uses the
 * `<phase>_udp` chain.
 */
export interface PhaseChange { readonly bucket: number; readonly from: BucketPhase; readonly to: BucketPhase; readonly udp?: boolean }
