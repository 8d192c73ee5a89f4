/**
 * The libpcap adapter (native-shims/pcap.ts) meets the PacketPort contract, for real: both ends
 * of a veth pair in one namespace this test creates, each check in a child process inside it (a
 * capture opens in its caller's namespace; the runner stays in the host's). Needs root.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.js';
import { repoRoot } from '../../lab/paths.js';
import { PACKET_PORT_CHECKS } from '../contract/packet-port.contract.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName } from './support.js';

const ns = uniqueLabName('pp');
let results: { name: string; ok: boolean; error?: string }[] = [];

describe('PacketPort contract: libpcap on a veth pair', () => {
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    for (const l of ['lo', 'v0', 'v1']) await run('ip', ['-n', ns, 'link', 'set', l, 'up']);
    const out = await new Promise<string>((resolve, reject) => {
      execFile('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/lab/packet-port-pcap-child.ts'], { cwd: repoRoot(), timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`contract child failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    results = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { name: string; ok: boolean; error?: string });
  }, 90_000);

  afterAll(async () => {
    await deleteNamespaces(ns);
    await expectNoNamespacesLeft(ns);
  });

  for (const c of PACKET_PORT_CHECKS) {
    it(c.name, () => {
      const r = results.find((x) => x.name === c.name);
      expect(r, 'the child ran this check').toBeDefined();
      expect(r?.error ?? null).toBeNull();
      expect(r?.ok).toBe(true);
    });
  }
});
