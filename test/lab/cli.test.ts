/**
 * The CLI as an operator uses it: `vmac check` on broken files (exit 2, a message naming the
 * file and field), `vmac run` refusing a bad file before touching the kernel, `vmac which --json`,
 * and `vmac run` + SIGTERM leaving nothing of ours in the kernel.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { daemonEntry } from '../../lab/paths.js';
import { run } from '../../lab/exec.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const fixtures = new URL('../fixtures/broken/', import.meta.url).pathname;
const vmac = (args: string[], ns?: string) =>
  spawnSync(ns ? 'ip' : process.execPath, ns ? ['netns', 'exec', ns, process.execPath, daemonEntry(), ...args] : [daemonEntry(), ...args], { encoding: 'utf8', timeout: 20_000 });

/** The field each broken fixture must be blamed on (`''`: a whole-file problem). */
const EXPECTED: Record<string, string> = {
  '01-yaml-syntax.yaml': 'YAML syntax error',
  '02-seed-missing.yaml': 'hash.seed:',
  '03-unknown-key.yaml': 'peers[0].adress:',
  '04-duplicate-id.yaml': 'peers[0].id:',
  '05-id-out-of-range.yaml': 'node.id:',
  '06-renew-too-slow.yaml': 'timing.renewMs:',
  '07-multicast-vmac.yaml': 'vmac:',
  '08-ipv6-vip.yaml': 'vip:',
  '09-bad-interface.yaml': 'interface:',
  '10-buckets-out-of-range.yaml': 'buckets:',
  '11-bad-affinity.yaml': 'hash.affinity:',
  '12-unknown-mode.yaml': 'mode:',
};

const prefix = uniqueLabName('cli');
const nodeNs = `${prefix}-n`;
const peerNs = `${prefix}-p`;
const dir = mkdtempSync(join(tmpdir(), 'vmac-cli-'));

afterAll(async () => {
  await deleteNamespaces(nodeNs, peerNs);
  rmSync(dir, { recursive: true, force: true });
  await expectNoNamespacesLeft(prefix);
});

async function kernelState(ns: string): Promise<{ ruleset: string; addrs: string; arpAnnounce: string }> {
  return {
    ruleset: await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset']),
    addrs: await run('ip', ['-n', ns, '-br', 'addr', 'show', 'eth0']),
    arpAnnounce: (await run('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.conf.eth0.arp_announce'])).trim(),
  };
}

describe('vmac check and run on broken configs', () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.yaml')).sort();

  it('has at least ten distinct broken fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
  });

  it.each(Object.entries(EXPECTED))('check %s: exit 2, names the file and the field', (file, field) => {
    const r = vmac(['check', join(fixtures, file)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: ${field}`);
    expect(r.stdout).toBe('');
  });

  it('run refuses every broken file before creating any kernel state', async () => {
    await vethPair(nodeNs, peerNs);
    const before = await kernelState(nodeNs);
    for (const file of files) {
      const r = vmac(['run', join(fixtures, file)], nodeNs);
      expect(r.status, `${file}: ${r.stderr}`).toBe(2);
      expect(await kernelState(nodeNs)).toEqual(before);
    }
    expect(before.ruleset.trim()).toBe('');
  });
});

describe('vmac which and run', () => {
  const cfg = join(dir, 'web.yaml');
  // A single-node service: no peers, so no heartbeat key or address is needed.
  writeFileSync(cfg, ['service: web', 'interface: eth0', 'vip: 10.201.0.1', 'hash: { seed: 0xabc }', 'node: { id: 1, name: n1 }', 'peers: []', ''].join('\n'));

  it('which --json prints client, bucket and owner', () => {
    const r = vmac(['which', '192.0.2.7', '--config', cfg, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { client: string; bucket: number; owner: string };
    expect(out.client).toBe('192.0.2.7');
    expect(out.bucket).toBeGreaterThanOrEqual(0);
    expect(out.bucket).toBeLessThan(256);
    expect(out.owner).toBe('n1');
  });

  it('which refuses a bad address with exit 2', () => {
    const r = vmac(['which', '300.1.2.3', '--config', cfg]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('300.1.2.3');
  });

  it('run applies the data path; SIGTERM removes the table, the VIP and restores sysctls', async () => {
    const before = await kernelState(nodeNs);
    const child = spawn('ip', ['netns', 'exec', nodeNs, process.execPath, daemonEntry(), 'run', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!out.includes('"event":"ready"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(out).toContain('"event":"ready"');
    const up = await kernelState(nodeNs);
    expect(up.ruleset).toContain('table netdev vmac_web');
    expect(up.ruleset).toContain('jhash ip saddr mod 256 seed 0xabc');
    expect(up.addrs).toContain('10.201.0.1/32');
    expect(up.arpAnnounce).toBe('2');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"event":"stopped"');
    expect(await kernelState(nodeNs)).toEqual(before);
  });
});
