/** Two namespaces joined by one veth (no bridge): the sender `tx` and the node `rx`. */
import { randomBytes } from 'node:crypto';
import { run } from '../lab/exec.js';

export interface Pair { tx: string; rx: string; rxMac: string; txMac: string; cleanup(): Promise<void> }

export async function makePair(tag: string): Promise<Pair> {
  const prefix = `${tag}${randomBytes(2).toString('hex')}`;
  const tx = `${prefix}-tx`;
  const rx = `${prefix}-rx`;
  const cleanup = async (): Promise<void> => {
    for (const ns of [tx, rx]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', tx]);
    await run('ip', ['netns', 'add', rx]);
    await run('ip', ['-n', tx, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', rx]);
    for (const ns of [tx, rx]) {
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    const mac = async (ns: string): Promise<string> => (JSON.parse(await run('ip', ['-n', ns, '-j', 'link', 'show', 'eth0'])) as { address: string }[])[0]?.address ?? '';
    return { tx, rx, rxMac: await mac(rx), txMac: await mac(tx), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Removes the pair on Ctrl-C too; returns the work's result. */
export async function withPair<T>(tag: string, work: (p: Pair) => Promise<T>): Promise<T> {
  const pair = await makePair(tag);
  const onSignal = (): void => void pair.cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(pair);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pair.cleanup();
  }
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
