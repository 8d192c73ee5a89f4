/** Shared by the lab tests: unique namespace prefixes and the "nothing left behind" check. */
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { labDown, labUp, listLabNamespaces, type LabInfo } from '../../lab/lab.js';
import type { LabSpec } from '../../lab/plan.js';
import { run } from '../../lab/exec.js';

/**
 * A prefix no other lab on this machine uses: tag + 4 random hex digits (≤ 12 chars), after
 * VMAC_LAB_TAG if set (so a person or job running labs beside others can claim a namespace prefix).
 */
export function uniqueLabName(tag: string): string {
  return `${process.env.VMAC_LAB_TAG ?? ''}${tag}${randomBytes(2).toString('hex')}`.slice(0, 12);
}

export async function expectNoNamespacesLeft(prefix: string): Promise<void> {
  expect(await listLabNamespaces(prefix)).toEqual([]);
}

/** One bare namespace with a veth pair (eth0 inside, its peer `peer0` in a second namespace). */
export async function vethPair(a: string, b: string): Promise<void> {
  await run('ip', ['netns', 'add', a]);
  await run('ip', ['netns', 'add', b]);
  await run('ip', ['-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
  for (const ns of [a, b]) {
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}

export async function deleteNamespaces(...names: string[]): Promise<void> {
  for (const ns of names) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
}

/**
 * The usual lab of a test file: 3 nodes, 3 clients of 100 addresses, 256 buckets, the default
 * profile and a random hash seed, built before the file's tests and removed after them (checking
 * that nothing is left). `onUp` receives it.
 */
export function useLab(name: string, onUp: (lab: LabInfo) => void, spec: Partial<LabSpec> = {}): void {
  beforeAll(async () => {
    onUp(await labUp({ name, nodes: 3, clients: 3, addrs: 100, seed: randomInt(1, 2 ** 31), buckets: 256, profile: 'default', affinity: 'address', ...spec }));
  }, 120_000);
  afterAll(async () => {
    await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);
}
