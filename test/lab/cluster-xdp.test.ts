/**
 * The XDP backend under real daemons: a 3-node lab (datapath: xdp), 300 client addresses, real
 * ARP through the program's marking and the responder's unmarking. Every client answered by the
 * node `vmac which` predicts; kill -9 leaves the program attached and its lease runs out by
 * itself while the survivors take over; a planned stop leaves nothing attached.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo } from '../../lab/lab.js';
import { checkAnswers, predictor } from '../../lab/answers.js';
import { probeUdp, type UdpProbeResult } from '../../lab/probe.js';
import { run } from '../../lab/exec.js';
import { openNftables } from '../../native-shims/nftables.js';
import { openXdp } from '../../native-shims/xdp.js';
import { xdpDataPath } from '../../src/vmac/xdp-datapath.js';
import { loadConfig } from '../../src/config/load.js';
import { dataPathPlan, type DaemonStatus } from '../../src/daemon/node-daemon.js';
import { requestControl } from '../../src/daemon/control-socket.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('cx');
let lab: LabInfo;

const xdpOn = async (ns: string): Promise<boolean> => /prog\/xdp .*name vmac_xdp/.test(await run('ip', ['-n', ns, 'link', 'show', 'eth0']));

describe('3-node lab on the XDP backend, 300 client addresses', () => {
  // A short UDP idle time, as `vmac lab failover` uses: a planned stop waits for its UDP flows to go quiet.
  useLab(name, (l) => (lab = l), { datapath: 'xdp', udpIdleMs: 1000 });

  it('every node runs the XDP program and no nft netdev table; the hand-over table stays in nft', async () => {
    for (const n of lab.nodes) {
      expect(await xdpOn(n.ns)).toBe(true);
      const tables = await run('ip', ['netns', 'exec', n.ns, 'nft', 'list', 'tables']);
      expect(tables).not.toMatch(/table netdev vmac_lab/);
      expect(tables).toMatch(/table inet vmac_lab_ct/);
    }
  });

  it('every address is answered over UDP and TCP by exactly the node `vmac which` predicts; no duplicates', async () => {
    const r = await checkAnswers(lab);
    expect(r.clients).toHaveLength(300);
    expect(r.mismatches).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(r.lost).toBe(0);
    for (const n of lab.nodes) expect(r.perNode[n.name] ?? 0).toBeGreaterThan(60);
    // `vmac status` names the backend and what the program did (its status is the control socket's).
    for (const n of lab.nodes) {
      const st = await requestControl(loadConfig(n.config).control.socket, { cmd: 'status' }) as DaemonStatus;
      expect(st.backend?.kind).toBe('xdp');
      expect(st.backend?.frames?.passed ?? 0).toBeGreaterThan(0);
      expect(st.backend?.frames?.['foreign-bucket'] ?? 0).toBeGreaterThan(0);
    }
  }, 60_000);

  it('every client resolved the VIP to the VMAC through ARP answered by the daemon (the kernel never answered)', async () => {
    for (const c of lab.clients) {
      const neigh = JSON.parse(await run('ip', ['-n', c.ns, '-j', 'neigh', 'show', lab.vip])) as { lladdr?: string; state?: string[] }[];
      expect(neigh[0]?.lladdr).toBe(lab.vmac);
      expect(neigh[0]?.state ?? []).not.toContain('PERMANENT');
    }
  });

  it('kill -9: the program stays attached, its lease ends by itself, survivors take over; SIGTERM: nothing left attached', async () => {
    const victim = lab.nodes[1]!;
    const cfg = loadConfig(victim.config);
    const deadMs = cfg.timing.intervalMs * cfg.timing.deadAfter;
    const predict = predictor(lab);
    const files = lab.clients.map((c, i) => {
      const addrs = c.addresses.filter((a) => predict(a) === victim.name).slice(0, 5);
      const file = join(lab.dir, `xvictim-c${i + 1}.addrs`);
      writeFileSync(file, `${addrs.join('\n')}\n`);
      return { ns: c.ns, file };
    });
    const probes: Promise<UdpProbeResult>[] = files.map((f) => probeUdp(f.ns, { vip: lab.vip, port: lab.echoPort, addrFile: f.file, intervalUs: 1000, durationMs: 2500, waitMs: 300 }));
    await new Promise((r) => setTimeout(r, 800));
    process.kill(victim.daemonPid, 'SIGKILL');
    const results = (await Promise.all(probes)).flatMap((r) => r.addrs);
    expect(results.length).toBeGreaterThan(0);
    for (const a of results) {
      expect(a.nodes[victim.name] ?? 0).toBeGreaterThan(0);
      expect(a.lastNode).not.toBe(victim.name);
      expect(a.lost).toBeLessThan(deadMs);
    }
    expect(results.reduce((s, a) => s + a.duplicates, 0)).toBe(0);
    // The crashed daemon's program is still attached (it hides the VIP from the kernel's ARP),
    // its lease deadline passed.
    expect(await xdpOn(victim.ns)).toBe(true);
    const port = xdpDataPath(openXdp(), openNftables(`/run/netns/${victim.ns}`), dataPathPlan(cfg), { hash: cfg.hash, netnsPath: `/run/netns/${victim.ns}` });
    const st = port.inspect();
    expect(st.installed).toBe(true);
    expect(st.leaseRemainingMs).toBeNull();
    expect(port.outcomes()['lease-gone']).toBeGreaterThan(0);
    // A planned stop removes everything: SIGTERM to another node's daemon.
    const other = lab.nodes[2]!;
    process.kill(other.daemonPid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && await xdpOn(other.ns)) await new Promise((r) => setTimeout(r, 200));
    expect(await xdpOn(other.ns)).toBe(false);
    expect(await run('ip', ['netns', 'exec', other.ns, 'nft', 'list', 'tables'])).not.toMatch(/vmac_lab/);
  }, 60_000);
});
