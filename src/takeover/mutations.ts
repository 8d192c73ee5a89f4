/**
 * Deliberate protocol faults, for the simulator's mutation variants only: each removes one rule
 * the protocol's safety or liveness rests on, and the simulator must catch it (test/sim; `npm run
 * sim -- --mutation NAME`). No config sets one; the daemon never runs with one.
 *
 *   take-without-grant          a node takes a draining bucket's new flows with no grant naming it
 *   skip-agreed-map-check       a bucket nobody holds is taken although peers announce another agreed map
 *   lease-past-quorum-proof     the lease is renewed for its full length while a quorum holds, not
 *                               only up to the moment a quorum could call us dead
 *   handover-before-drain-ends  the new owner takes a bucket outright while the old owner still drains it
 *   never-take-orphans          a bucket nobody holds is never taken (the liveness check must fire)
 */
export const PROTOCOL_MUTATIONS = ['take-without-grant', 'skip-agreed-map-check', 'lease-past-quorum-proof', 'handover-before-drain-ends', 'never-take-orphans'] as const;
export type ProtocolMutation = (typeof PROTOCOL_MUTATIONS)[number];

export function isProtocolMutation(x: string): x is ProtocolMutation {
  return (PROTOCOL_MUTATIONS as readonly string[]).includes(x);
}
