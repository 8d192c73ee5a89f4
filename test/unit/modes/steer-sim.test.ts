/**
 * arp-steer in the deterministic simulator (test/sim/steer-sim.ts): the real responder, gain watch
 * and directed announcer on top of the simulated cluster's takeover and hand-over. Invariants
 * checked: every ARP request answered by exactly the node whose kernel answers the client's
 * bucket; after a kill or a planned move every client steered to that node. Each broken variant
 * (no directed announcement; a responder that answers everyone) is caught.
 */
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../sim/schedule.js';
import { createSteerSim, type SteerSim } from '../../sim/steer-sim.js';

const timing = PROFILES.default;
const deadMs = timing.intervalMs * timing.deadAfter;

function run(s: SteerSim, ms: number): void {
  for (let t = 0; t < ms; t++) {
    s.cluster.clock.advance(1);
    const dup = s.cluster.firstDoubleAnswered();
    if (dup) throw new Error(`t=${s.cluster.clock.nowMs()}: bucket ${dup.bucket} answered by ${dup.nodes.join(',')}`);
  }
}

/** A node whose kernel answers at least one client's bucket. */
function servingNode(s: SteerSim): number {
  const owners = s.clients.map((c) => s.cluster.answering().get(c.bucket)?.[0]).filter((x): x is number => x !== undefined);
  const id = owners[0];
  if (id === undefined) throw new Error('no client is served');
  return id;
}

function settled(o: { announce?: boolean; answerAll?: boolean } = {}): SteerSim {
  const s = createSteerSim(3, timing, { clients: 24, ...o });
  run(s, deadMs * 3);
  s.arpAll();
  return s;
}

describe('arp-steer in the simulator', () => {
  it('each client\'s ARP is answered once, by its bucket\'s owner; a kill re-steers the dead node\'s clients by the directed ARP', () => {
    const s = settled();
    expect(s.violations).toEqual([]);
    expect(s.misSteered()).toEqual([]);
    const victim = servingNode(s);
    const victims = s.clients.filter((c) => c.entry === victim).length;
    expect(victims).toBeGreaterThan(0);
    s.cluster.crash(victim);
    // Dead time, takeover, and the directed burst (garpCount x garpIntervalMs) with room to spare.
    run(s, deadMs + timing.leaseMs + 1000);
    expect(s.clients.filter((c) => c.entry === victim)).toEqual([]);
    expect(s.misSteered()).toEqual([]);
    s.arpAll(); // and new requests are answered by the new owners only
    expect(s.violations).toEqual([]);
  });

  it('a planned move (drain) re-steers the drained node\'s clients to the nodes that answer their buckets', () => {
    const s = settled();
    const drained = servingNode(s);
    expect(s.clients.filter((c) => c.entry === drained).length).toBeGreaterThan(0);
    s.cluster.drain(drained, 2000);
    run(s, 4000);
    expect(s.clients.filter((c) => c.entry === drained)).toEqual([]);
    expect(s.misSteered()).toEqual([]);
    s.arpAll();
    expect(s.violations).toEqual([]);
  });

  it('broken: without the directed announcement the dead node\'s clients stay on it (caught)', () => {
    const s = settled({ announce: false });
    const victim = servingNode(s);
    s.cluster.crash(victim);
    run(s, deadMs + timing.leaseMs + 1000);
    expect(s.misSteered().length).toBeGreaterThan(0);
  });

  it('broken: a responder that answers every requester is caught answering twice', () => {
    const s = settled({ answerAll: true });
    expect(s.violations.length).toBeGreaterThan(0);
    expect(s.violations[0]).toMatch(/answered by \d,\d/);
  });
});
