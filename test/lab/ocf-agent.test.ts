/**
 * Issue 7, Pacemaker: Debian's `ocf-tester` (resource-agents) runs the agent's meta-data,
 * validate-all, start, monitor, stop (and its idempotence checks) against a real daemon in a
 * lab node namespace, where that node joins a running 2-node cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, labUp, type LabInfo } from '../../lab/lab.js';
import { nsRun } from '../../lab/exec.js';
import { repoRoot } from '../../lab/paths.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const name = uniqueLabName('ocf');
let lab: LabInfo;
const OCF_TESTER = '/usr/sbin/ocf-tester';

describe.skipIf(!existsSync(OCF_TESTER))('OCF agent ocf:vmac:vmac under ocf-tester', () => {
  beforeAll(async () => {
    lab = await labUp({ name, nodes: 3, clients: 1, addrs: 4, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address' });
  }, 120_000);

  afterAll(async () => {
    await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it('passes every ocf-tester check', async () => {
    const node = lab.nodes[2]!;
    process.kill(node.daemonPid, 'SIGTERM'); // the agent starts its own daemon for this node
    await new Promise((r) => setTimeout(r, 1500));
    const agent = join(repoRoot(), 'packaging/ocf/vmac');
    const out = await nsRun(node.ns, OCF_TESTER, ['-n', 'vmac-lab', '-o', 'service=lab', '-o', `config=${node.config}`, '-o', `binary=${join(repoRoot(), 'bin/vmac.js')}`,
      '-o', `pidfile=${join(lab.dir, 'ocf.pid')}`, '-o', `logfile=${join(lab.dir, 'ocf-daemon.log')}`, agent], { timeoutMs: 180_000 }).catch((err: Error) => err.message);
    console.log(`ocf-tester:\n${out}`);
    expect(out).toMatch(/packaging\/ocf\/vmac passed all tests/);
    expect(out).not.toMatch(/failed/i);
  }, 200_000);
});
