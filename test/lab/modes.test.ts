/**
 * Switch-friendly modes (issue 17) on a lab switch configured like real ones: one quick cell per
 * mode (3 nodes, 6 client namespaces of one address, a bystander). The full table — every mode on
 * every switch setting, with kill failover gaps — is `vmac lab modes` (docs/switch-modes.md).
 *   unicast on a no-flood switch: nothing reaches the nodes (the failure the modes fix; the
 *     negative control of the cells after it)
 *   multicast on the same switch: every client answered by the node `vmac which` names
 * The multicast, arp-steer and igmp cells end with one kill of a serving node in a lab whose
 * nodes fence (lab agent): fenced (link down), its clients taken over with 0 duplicates, the fence
 * counted in the survivors' metrics, and the mode named by their metrics and dashboard. (Unicast,
 * the default mode of every other lab suite, has its fencing, metrics and failover tests there.)
 *   arp-steer on the same switch, dual stack: likewise for IPv4 and IPv6 clients (ARP and ND
 *     steering), not one VIP frame at the bystander; a killed node's clients of both families
 *     answered again by a survivor (directed ARP and NA), 0 duplicates
 *   igmp on a snooping switch with the cluster's ports as multicast-router ports: every client
 *     answered, 0 frames at the bystander, every node a member of the group and a stopped node not
 */
import { describe, expect, it } from 'vitest';
import { modesCell, type ModesCell, type ModesCellOptions } from '../../lab/modes.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const quiet = (): void => undefined;
const cell = (name: string, o: Pick<ModesCellOptions, 'mode' | 'switchMode' | 'runs'> & Pick<Partial<ModesCellOptions>, 'ipv6' | 'clients' | 'fenceKill'>): ReturnType<typeof modesCell> =>
  modesCell({ name, nodes: 3, clients: 6, seed: 4242, log: quiet, ...o });

/** Dead time + the fence delay (3 s) + the lab agent + the takeover, with room for a loaded machine. */
const FENCED_GAP_MS = 5000;

/** The fenced kill at the end of a cell (lab/modes-fence.ts). */
function expectFencedKill(c: ModesCell, mode: string): void {
  const f = c.fence;
  expect(f).toBeDefined();
  if (!f) return;
  expect(f.victimClients).toBeGreaterThan(0);
  expect(f.takenOver).toBe(f.victimClients);
  expect(f.duplicates).toBe(0);
  expect(f.maxGapMs ?? Infinity).toBeLessThan(FENCED_GAP_MS);
  expect(f.fenceOk).toBeGreaterThanOrEqual(1);
  expect(f.victimLink).toBe('down');
  expect(f.metricsModes).toEqual([mode, mode]);
  expect(f.dashboardModes).toEqual([mode, mode]);
}

describe('modes on a lab switch', () => {
  it('unicast on a no-flood switch: no client is answered, the bystander sees nothing', async () => {
    const name = uniqueLabName('mu');
    const c = await cell(name, { mode: 'unicast', switchMode: 'no-flood', runs: 0 });
    expect(c.answered).toBe(0);
    expect(c.bystanderFrames).toBe(0);
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it('multicast on a no-flood switch: every client answered by the predicted node, no duplicates', async () => {
    const name = uniqueLabName('mm');
    const c = await cell(name, { mode: 'multicast', switchMode: 'no-flood', runs: 0, fenceKill: true });
    expect(c.answered).toBe(c.clients);
    expect(c.duplicates).toBe(0);
    expect(c.bystanderFrames).toBeGreaterThan(0); // a group MAC is flooded: the cost this mode keeps
    expectFencedKill(c, 'multicast');
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it('arp-steer on a no-flood switch, dual stack: every client answered by the predicted node (ARP and ND), 0 frames at the bystander; a fenced kill re-steered by the directed ARP and NA', async () => {
    const name = uniqueLabName('ma');
    const c = await cell(name, { mode: 'arp-steer', switchMode: 'no-flood', runs: 0, fenceKill: true, ipv6: true });
    expect(c.answered).toBe(c.clients);
    expect(c.duplicates).toBe(0);
    expect(c.v6?.answered).toBe(c.v6?.clients);
    expect(c.v6?.duplicates).toBe(0);
    expect(c.bystanderFrames).toBe(0); // IPv4 and IPv6 frames for the VIPs
    // The kill: fenced, every client of the victim answered again by a survivor, 0 duplicates; IPv6
    // clients too (without the directed NA they would wait tens of seconds for their entry to go stale).
    expectFencedKill(c, 'arp-steer');
    const f6 = c.fence?.v6;
    expect(f6?.victimClients ?? 0).toBeGreaterThan(0);
    expect(f6?.takenOver).toBe(f6?.victimClients);
    expect(f6?.duplicates).toBe(0);
    expect(f6?.maxGapMs ?? Infinity).toBeLessThan(FENCED_GAP_MS);
    await expectNoNamespacesLeft(name);
  }, 120_000);

  it('igmp on a snooping switch (cluster ports as mrouter ports): every client answered, 0 frames at the bystander, a stopped node leaves the group', async () => {
    const name = uniqueLabName('mi');
    const c = await cell(name, { mode: 'igmp', switchMode: 'igmp-mrouter', runs: 0, fenceKill: true });
    expect(c.answered).toBe(c.clients);
    expect(c.bystanderFrames).toBe(0);
    expectFencedKill(c, 'igmp');
    // After the fenced kill: the live nodes are members; node 1, stopped, leaves the group.
    const live = ['n1', 'n2', 'n3'].filter((n) => n !== c.fence?.victim);
    expect(c.members?.before).toEqual(expect.arrayContaining(live));
    expect(c.members?.afterStop).toEqual(expect.arrayContaining(live.filter((n) => n !== 'n1')));
    expect(c.members?.afterStop).not.toContain('n1');
    await expectNoNamespacesLeft(name);
  }, 60_000);
});
