/** Shared fixtures for the config tests: a minimal valid file, built as YAML text from an object. */
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigProblem } from '../../../src/config/problems.js';
import { isVmacError } from '../../../src/util/errors.js';

export const BASE = {
  service: 'web',
  interface: 'eth0',
  vip: '10.200.0.1',
  hash: { seed: 0x5eed1234 },
  node: { id: 1, name: 'n1', address: '10.200.0.11' },
  peers: [{ id: 2, name: 'n2', address: '10.200.0.12' }],
  // With peers, every node needs a heartbeat address and the file needs the key's path.
  heartbeat: { keyFile: '/etc/vmac/web.key' },
};

/** BASE with top-level keys replaced (undefined removes a key), as YAML text. */
export function yamlWith(patch: Record<string, unknown>): string {
  const merged: Record<string, unknown> = { ...BASE, ...patch };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return stringify(merged);
}

/** The problems parseConfig reports for `text`; fails the test if it accepts the text. */
export function problemsOf(text: string, file = 'web.yaml'): ConfigProblem[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    if (isVmacError(err, 'VMAC_CONFIG_INVALID')) return err.details.problems as ConfigProblem[];
    throw err;
  }
  throw new Error('expected the config to be refused');
}

/** The message for `path`, or a readable failure listing what was reported instead. */
export function messageAt(problems: readonly ConfigProblem[], path: string): string {
  const hit = problems.find((p) => p.path === path);
  if (!hit) throw new Error(`no problem at ${path}; got: ${JSON.stringify(problems)}`);
  return hit.message;
}
