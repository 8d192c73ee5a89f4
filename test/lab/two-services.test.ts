/**
 * Issue 15, several services per host: two vmac services (own names, VIPs, heartbeat and metrics
 * ports, control sockets, tables) on the same 3 lab nodes. A kill -9 of one service's daemon loses
 * nothing for the other service's clients (every address probed every millisecond); a planned
 * stop of one service leaves `arp_announce` in force for the other, and the value is put back
 * only when the last service on the node stopped (the negative control: it does change then).
 */
import { describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { labDown, labUp, type LabInfo, type LabNodeInfo } from '../../lab/lab.js';
import { stopPid } from '../../lab/ha-lab.js';
import { arpAnnounce, probeBoth, serving, startSecondService } from '../../lab/two-services.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

describe('two services on the same three nodes', () => {
  const name = uniqueLabName('ts');
  let lab: LabInfo;
  let second: LabNodeInfo[] = [];

  it('lab up, second service up on every node', async () => {
    lab = await labUp({ name, nodes: 3, clients: 3, addrs: 10, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address', dataPathCheck: false, udpIdleMs: 1000 });
    second = await startSecondService(lab);
    expect(second).toHaveLength(3);
  }, 180_000);

  it('kill -9 of the first service on n1: the second service\'s clients lose nothing', async () => {
    const victim = lab.nodes[0] as LabNodeInfo;
    const r = await probeBoth(lab, 1000, 3000, () => { process.kill(victim.daemonPid, 'SIGKILL'); return Promise.resolve(); });
    console.log(`[two-services kill -9] ${JSON.stringify(r)}`);
    expect(r.second.addresses).toBe(30);
    expect(r.second.sent).toBeGreaterThan(2000); // probes really ran through the kill (1 ms rounds; fewer on a loaded machine)
    expect(r.second.lost).toBe(0);
    expect(r.second.duplicates).toBe(0);
  }, 60_000);

  it('planned stop of the first service on n2: arp_announce stays 2 for the second; restored once the second stops too', async () => {
    const node = lab.nodes[1] as LabNodeInfo;
    expect((await arpAnnounce(node)).eth0).toBe('2');
    const r = await probeBoth(lab, 1000, 3000, async () => { await stopPid(node.daemonPid); });
    console.log(`[two-services planned stop] ${JSON.stringify(r)}`);
    expect((await arpAnnounce(node)).eth0).toBe('2');
    expect(r.second.lost).toBe(0);
    expect(r.second.duplicates).toBe(0);
    expect(await Promise.all(second.map(serving))).toEqual([true, true, true]);
    await stopPid((second[1] as LabNodeInfo).daemonPid);
    expect((await arpAnnounce(node)).eth0).toBe('0');
  }, 60_000);

  it('lab down, nothing left', async () => {
    // Keep the second service's logs for a look at any loss (the lab's directory goes with it).
    for (const n of second) { try { copyFileSync(n.log, `/tmp/vmac-two-services-${n.name}-lab2.log`); } catch { /* gone */ } }
    if (lab) await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);
});
