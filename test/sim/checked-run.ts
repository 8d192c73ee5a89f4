/**
 * Advances a simulated cluster `ms` one millisecond at a time, failing on a bucket whose new flows
 * two nodes accept or that one node owns while another still drains it (a reset risk); returns
 * the longest time (ms) any bucket's new flows were refused by every node. `each` runs every ms.
 */
import type { SimCluster } from './sim-cluster.js';

export function runChecked(c: SimCluster, ms: number, buckets: number, each?: () => void): number {
  const refused = new Uint8Array(buckets);
  const runFor = new Int32Array(buckets);
  let longest = 0;
  for (let t = 0; t < ms; t++) {
    c.clock.advance(1);
    c.reapLeft();
    const dup = c.firstDoubleAnswered();
    if (dup) throw new Error(`t=${c.clock.nowMs()}: bucket ${dup.bucket} new flows accepted by ${dup.nodes.join(',')}`);
    const risk = c.firstResetRisk();
    if (risk) throw new Error(`t=${c.clock.nowMs()}: bucket ${risk.bucket} owned by ${risk.owner} while ${risk.draining} drains it`);
    c.refusedNow(refused);
    for (let b = 0; b < buckets; b++) {
      runFor[b] = refused[b] ? (runFor[b] ?? 0) + 1 : 0;
      longest = Math.max(longest, runFor[b] ?? 0);
    }
    each?.();
  }
  return longest;
}
