/**
 * An IPv6-only service (vip6 and no vip) on a 3-node lab: every IPv6 client address is answered,
 * over UDP and TCP, by exactly the node `vmac which` names (through the running daemons' view);
 * the kernel holds no IPv4 or ARP rule for the service, the daemon answers no ARP (its counters
 * stay at zero) and nobody answers ARP for the would-be IPv4 VIP.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { LabInfo } from '../../lab/lab.js';
import { checkAnswers } from '../../lab/answers.js';
import { nsRun, run } from '../../lab/exec.js';
import { daemonEntry } from '../../lab/paths.js';
import { requestControl } from '../../src/daemon/control-socket.js';
import { loadConfig } from '../../src/config/load.js';
import type { DaemonStatus } from '../../src/daemon/node-daemon.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('v6o');
let lab: LabInfo;

describe('IPv6-only service (3 nodes, 2 clients x 60 IPv6 addresses)', () => {
  useLab(name, (l) => (lab = l), { ipv6: true, ipv6Only: true, clients: 2, addrs: 60 });

  it('every IPv6 address answered by exactly the node vmac which names, UDP and TCP, 0 duplicates', async () => {
    const r = await checkAnswers(lab, { family: 6 });
    process.stdout.write(`[ipv6-only] ${r.clients.length} addresses, ${r.mismatches.length} mismatches, ${r.duplicates} duplicates, ${r.lost} lost, expected per node ${JSON.stringify(r.perNode)}\n`);
    expect(r.clients.length).toBe(120);
    expect(r.mismatches).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(new Set(r.clients.map((c) => c.expected)).size).toBe(3);
    // `vmac which` itself (the running daemon's map, asked over its control socket) names the same node.
    const node1 = lab.nodes[0];
    if (!node1) throw new Error('no node');
    for (const c of r.clients.slice(0, 6)) {
      const out = spawnSync('ip', ['netns', 'exec', node1.ns, process.execPath, daemonEntry(), 'which', c.addr, '--config', node1.config, '--json'], { encoding: 'utf8', timeout: 20_000 });
      const w = JSON.parse(out.stdout) as { owner: string; source: string };
      expect(w).toMatchObject({ owner: c.expected, source: 'daemon' });
      expect(c.udpNodes).toEqual([w.owner]);
    }
  }, 90_000);

  it('no IPv4 or ARP rule in the kernel, no ARP answered, the service VMAC derived from the VIP6', async () => {
    expect(lab.vmac).toBe('02:b6:00:00:00:01');
    for (const n of lab.nodes) {
      const rules = await nsRun(n.ns, 'nft', ['list', 'ruleset']);
      expect(rules).toContain('ip6 daddr fd00:200::1');
      expect(rules).not.toMatch(/ ip daddr |arp (daddr|saddr)/);
    }
    const client = lab.clients[0];
    if (!client) throw new Error('no client');
    // A client asking ARP for the would-be IPv4 VIP gets no answer (the ping fails).
    const arping = await nsRun(client.ns, 'ping', ['-c', '1', '-W', '1', lab.vip]).then(() => 'answered', () => 'no answer');
    expect(arping).toBe('no answer');
    const neigh = await run('ip', ['-n', client.ns, '-j', 'neigh', 'show', lab.vip]);
    expect(neigh).not.toContain(lab.vmac);
    for (const n of lab.nodes) {
      const s = await requestControl(loadConfig(n.config).control.socket, { cmd: 'status' }) as DaemonStatus;
      expect(s.vip).toBeNull();
      expect(Object.values(s.arp).reduce((a, b) => a + b, 0)).toBe(0);
    }
  }, 60_000);
});
