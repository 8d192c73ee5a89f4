/**
 * The package is the product: `make deb`'s script builds the .deb from the built tree, it is
 * unpacked into a staging root (dpkg -x, as dpkg -i would lay it out under /), and the lab runs
 * the INSTALLED `usr/bin/vmac` in every node (VMAC_LAB_VMAC), never the source tree's:
 *   - it serves a 3-node lab and survives kill -9 of each node in turn (gaps reported);
 *   - a start-up failure after the data path is up (the heartbeat port taken; a failure after
 *     the daemon is up) exits 1 naming the cause, and the namespace's nftables ruleset,
 *     addresses and arp_announce are what they were before (`nft monitor` shows the table was
 *     there in between);
 *   - without its optional realtime module it says so and runs on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labUp, type LabInfo } from '../../lab/lab.js';
import { failoverRun, summarize, type RunResult } from '../../lab/failover.js';
import { probeWindowMs } from '../../lab/faults.js';
import { nsRun, run, spawnInNs } from '../../lab/exec.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const name = uniqueLabName('pkg');
let stage = '';
let vmacBin = '';
let lab: LabInfo;
const savedEnv = process.env.VMAC_LAB_VMAC;

/** One namespace `ns` with eth0 (10.201.0.1/24) on a veth whose peer sits in `peerNs`. */
async function bareNode(ns: string, peerNs: string): Promise<void> {
  for (const n of [ns, peerNs]) await run('ip', ['netns', 'add', n]);
  await run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs]);
  for (const n of [ns, peerNs]) await run('ip', ['-n', n, 'link', 'set', 'lo', 'up']).then(() => run('ip', ['-n', n, 'link', 'set', 'eth0', 'up']));
  await run('ip', ['-n', ns, 'addr', 'add', '10.201.0.1/24', 'dev', 'eth0']);
}

/** What the daemon may change in the namespace: the ruleset, eth0's addresses, arp_announce. */
async function kernelState(ns: string): Promise<{ nft: string; addrs: string; arpAnnounce: string }> {
  return {
    nft: (await nsRun(ns, 'nft', ['list', 'ruleset'])).trim(),
    addrs: (await nsRun(ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).replace(/\\?\s+valid_lft.*$/gm, '').trim(),
    arpAnnounce: (await nsRun(ns, 'cat', ['/proc/sys/net/ipv4/conf/eth0/arp_announce'])).trim(),
  };
}

function singleNodeConfig(dir: string, service: string): string {
  const key = join(dir, 'k.key');
  writeFileSync(key, `${execFileSync(vmacBin, ['keygen'], { encoding: 'utf8' }).trim()}\n`, { mode: 0o600 });
  const file = join(dir, `${service}.yaml`);
  writeFileSync(file, [
    `service: ${service}`, 'interface: eth0', 'vip: 10.201.0.100', 'hash: { seed: 0x1234 }',
    'node: { id: 1, name: n1, address: 10.201.0.1 }', 'peers:', '  - { id: 2, name: n2, address: 10.201.0.2 }',
    `heartbeat: { keyFile: ${key} }`, `control: { socket: ${join(dir, `${service}.sock`)} }`, 'metrics: { listen: off }', '',
  ].join('\n'));
  return file;
}

/**
 * Runs the installed `vmac run` in `ns` until it exits, or until `ms` passes or its output
 * contains `stopOn` (then SIGTERM, a planned stop); exit code and output.
 */
function runVmac(ns: string, bin: string, config: string, env: Record<string, string>, ms: number, stopOn?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, bin, 'run', config], { env: { ...process.env, VMAC_LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let asked = false;
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (stopOn !== undefined && !asked && out.includes(stopOn)) { asked = true; child.kill('SIGTERM'); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

/** `nft monitor` and `ip monitor address` in `ns` while `body` runs: every table and address change. */
async function watchKernel<T>(ns: string, dir: string, body: () => Promise<T>): Promise<{ result: T; changes: string; addresses: string }> {
  const stamp = Date.now();
  const nftFile = join(dir, `nft-${stamp}.txt`);
  const ipFile = join(dir, `ip-${stamp}.txt`);
  const monitors = [spawnInNs(ns, 'nft', ['monitor', 'tables'], nftFile), spawnInNs(ns, 'ip', ['-4', 'monitor', 'address'], ipFile)];
  await new Promise((r) => setTimeout(r, 300));
  try {
    const result = await body();
    await new Promise((r) => setTimeout(r, 100));
    return { result, changes: readFileSync(nftFile, 'utf8'), addresses: readFileSync(ipFile, 'utf8') };
  } finally {
    for (const m of monitors) {
      try { process.kill(-(m.pid ?? 0), 'SIGTERM'); } catch { m.kill('SIGTERM'); }
    }
  }
}

describe('the installed package (make deb -> dpkg -x -> usr/bin/vmac)', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    execFileSync('bash', ['packaging/build-deb.sh'], { stdio: 'pipe' });
    const deb = readdirDeb();
    stage = mkdtempSync(join(tmpdir(), 'vmac-stage-'));
    execFileSync('dpkg-deb', ['-x', deb, stage]);
    vmacBin = join(stage, 'usr/bin/vmac');
    expect(readlinkSync(vmacBin)).toBe('../lib/vmac/bin/vmac.js');
    console.log(`[installed] deb built and unpacked in ${Date.now() - t0} ms`);
    process.env.VMAC_LAB_VMAC = vmacBin;
    lab = await labUp({ name, nodes: 3, clients: 3, addrs: 30, seed: 4242, buckets: 256, profile: 'default', affinity: 'address' });
  }, 120_000);

  afterAll(async () => {
    if (savedEnv === undefined) delete process.env.VMAC_LAB_VMAC;
    else process.env.VMAC_LAB_VMAC = savedEnv;
    await labDown(name);
    await expectNoNamespacesLeft(name);
    if (stage) rmSync(stage, { recursive: true, force: true });
  }, 60_000);

  it('every node runs the installed binary, with all its native modules (realtime scheduling entered)', () => {
    for (const n of lab.nodes) {
      const cmdline = readFileSync(`/proc/${n.daemonPid}/cmdline`, 'utf8').split('\0');
      expect(cmdline).toContain(vmacBin);
      const log = readFileSync(n.log, 'utf8');
      expect(log).toContain('"event":"serving"');
      expect(log).toContain('"scheduling":"fifo"');
      expect(log).not.toContain('capability-missing');
    }
  });

  it('serves and survives kill -9 of each node in turn (the usual gaps)', async () => {
    const runs: RunResult[] = [];
    for (const [i, victim] of lab.nodes.entries()) {
      runs.push(await failoverRun(lab, { run: i + 1, fault: 'kill', victim, perClient: 3, durationMs: probeWindowMs('kill'), seed: 11 + i }));
    }
    const s = summarize('kill', runs);
    console.log(`[installed] kill x${s.runs}: gap p50 ${s.gapMs.p50.toFixed(1)} ms, p99 ${s.gapMs.p99.toFixed(1)} ms, max ${s.gapMs.max.toFixed(1)} ms; duplicates ${s.duplicates}, lost (survivors) ${s.lostSurvivors}, false takeovers ${s.falseTakeovers}`);
    expect(s.duplicates).toBe(0);
    expect(s.lostSurvivors).toBe(0);
    expect(s.falseTakeovers).toBe(0);
    for (const r of runs) {
      expect(r.victimMoved).toBeGreaterThan(0);
      expect(r.gapsMs.length).toBeGreaterThan(0);
      // The victim's clients are answered again within the probe window (a gap, not an outage).
      expect(Math.max(...r.gapsMs)).toBeLessThan(probeWindowMs('kill') - r.faultAtMs);
    }
    // Restored by the harness: every node runs the installed binary again.
    for (const n of lab.nodes) expect(readFileSync(`/proc/${n.daemonPid}/cmdline`, 'utf8').split('\0')).toContain(vmacBin);
  }, 90_000);

  it('a start-up failure after the data path is up exits 1 naming the cause and leaves nothing in the kernel', async () => {
    const ns = `${name}-f1`;
    await bareNode(ns, `${name}-f2`);
    const dir = mkdtempSync(join(tmpdir(), 'vmac-fail-'));
    try {
      const config = singleNodeConfig(dir, 'pkfail');
      const before = await kernelState(ns);
      // 1. The heartbeat port is taken (after VIP, sysctl and nftables table are in place).
      const holder = spawnInNs(ns, process.execPath, ['-e', "require('dgram').createSocket('udp4').bind(5789, '10.201.0.1')"], join(dir, 'holder.log'));
      await new Promise((r) => setTimeout(r, 500));
      const a = await watchKernel(ns, dir, () => runVmac(ns, vmacBin, config, {}, 45_000));
      holder.kill('SIGKILL');
      const afterA = await kernelState(ns);
      console.log(`[installed] heartbeat port taken: exit ${a.result.code}; stderr: ${a.result.out.split('\n').filter((l) => l.startsWith('vmac:')).join(' ')}\n  nft monitor: ${a.changes.trim().split('\n').join(' | ')}\n  ip monitor: ${a.addresses.trim().split('\n').join(' | ')}\n  before ${JSON.stringify(before)}\n  after  ${JSON.stringify(afterA)}`);
      expect(a.result.code).toBe(1);
      expect(a.result.out).toMatch(/vmac: VMAC_NETLINK_FAILED: cannot bind the heartbeat socket: .*EADDRINUSE/);
      expect(a.result.out).toContain('"event":"start-failed"');
      expect(a.changes).toMatch(/add table netdev vmac_pkfail/);
      expect(a.changes).toMatch(/delete table netdev vmac_pkfail/);
      expect(a.addresses).toMatch(/^\d+: eth0 +inet 10\.201\.0\.100\/32/m);
      expect(a.addresses).toMatch(/^Deleted \d+: eth0 +inet 10\.201\.0\.100\/32/m);
      expect(afterA).toEqual(before);
      // 2. A failure after the daemon is up (the test hook fails the last start-up step).
      const b = await watchKernel(ns, dir, () => runVmac(ns, vmacBin, config, { VMAC_TEST_FAIL_AFTER_START: 'after-start' }, 45_000));
      const afterB = await kernelState(ns);
      console.log(`[installed] failure after start: exit ${b.result.code}; stderr: ${b.result.out.split('\n').filter((l) => l.startsWith('vmac:')).join(' ')}\n  nft monitor: ${b.changes.trim().split('\n').join(' | ')}\n  ip monitor: ${b.addresses.trim().split('\n').join(' | ')}\n  after  ${JSON.stringify(afterB)}`);
      expect(b.result.code).toBe(1);
      expect(b.result.out).toMatch(/vmac: VMAC_START_FAILED: start-up failed after the data path was up \(.*after-start.*\); every kernel change was removed/);
      expect(b.changes).toMatch(/add table netdev vmac_pkfail[\s\S]*delete table netdev vmac_pkfail/);
      expect(b.addresses).toMatch(/^Deleted \d+: eth0 +inet 10\.201\.0\.100\/32/m);
      expect(afterB).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('without its optional realtime module the installed daemon says so, runs, and stops cleanly', async () => {
    const ns = `${name}-f1`;
    const dir = mkdtempSync(join(tmpdir(), 'vmac-nort-'));
    const copy = join(dir, 'root');
    try {
      cpSync(stage, copy, { recursive: true, verbatimSymlinks: true });
      rmSync(join(copy, 'usr/lib/vmac/native-shims/realtime'), { recursive: true });
      const config = singleNodeConfig(dir, 'pknort');
      const before = await kernelState(ns);
      const r = await runVmac(ns, join(copy, 'usr/bin/vmac'), config, {}, 45_000, '"scheduling":"unavailable"');
      expect(r.out).toContain('"event":"capability-missing"');
      expect(r.out).toContain('"module":"realtime"');
      expect(r.out).toContain('"event":"ready"');
      expect(r.out).toContain('"scheduling":"unavailable"');
      expect(r.code).toBe(0); // stopped by our SIGTERM, cleanly
      expect(await kernelState(ns)).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function readdirDeb(): string {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  const arch = execFileSync('dpkg-architecture', ['-qDEB_HOST_ARCH'], { encoding: 'utf8' }).trim();
  return `dist/vmac_${version}_${arch}.deb`;
}
