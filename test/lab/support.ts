/** Shared by the lab tests: unique namespace prefixes and the "nothing left behind" check. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { listLabNamespaces } from '../../lab/lab.js';
import { run } from '../../lab/exec.js';

/** A prefix no other lab on this machine uses: tag + 4 random hex digits (≤ 12 chars). */
export function uniqueLabName(tag: string): string {
  return `${tag}${randomBytes(2).toString('hex')}`.slice(0, 12);
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
