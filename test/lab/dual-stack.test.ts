/**
 * A dual-stack 3-node lab (3 clients x 100 IPv4 and 100 IPv6 source addresses) on a bridge that
 * snoops MLD: every address answered by exactly the node `vmac which` names, over UDP and TCP,
 * for both families; the clients' neighbour entries for the VIP6 are the VMAC, learned by ND;
 * the switch never learns the VMAC; the nodes are members of the VIP6's solicited-node group;
 * peers' unsolicited NAs are seen on the wire; a drain and resume with >= 200 IPv6 TCP streams
 * resets none.
 */
import { describe, expect, it } from 'vitest';
import type { LabInfo } from '../../lab/lab.js';
import { checkAnswers } from '../../lab/answers.js';
import { run } from '../../lab/exec.js';
import { drainWindow, startDaemon, streamsDuringOperations, waitLog } from '../../lab/handover.js';
import { watchNas } from '../../lab/nd-watch.js';
import { statSync } from 'node:fs';
import { requestControl } from '../../src/daemon/control-socket.js';
import { loadConfig } from '../../src/config/load.js';
import { solicitedNodeGroup } from '../../src/arp/nd-frame.js';
import type { DaemonStatus } from '../../src/daemon/node-daemon.js';
import { uniqueLabName, useLab } from './support.js';

const name = uniqueLabName('ds');
let lab: LabInfo;

async function status(config: string): Promise<DaemonStatus> {
  return await requestControl(loadConfig(config).control.socket, { cmd: 'status' }) as DaemonStatus;
}

describe('dual stack (3 nodes, 300 IPv4 + 300 IPv6 client addresses)', () => {
  useLab(name, (l) => (lab = l), { ipv6: true });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: every address answered by exactly the node vmac which names, UDP and TCP, 0 duplicates`, async () => {
      const r = await checkAnswers(lab, { family });
      process.stdout.write(`[dual-stack] IPv${family}: ${r.clients.length} addresses, ${r.mismatches.length} mismatches, ${r.duplicates} duplicates, ${r.lost} lost, expected per node ${JSON.stringify(r.perNode)}\n`);
      expect(r.clients.length).toBeGreaterThanOrEqual(300);
      expect(r.mismatches).toEqual([]);
      expect(r.duplicates).toBe(0);
      expect(new Set(r.clients.map((c) => c.expected)).size).toBe(3);
    }, 60_000);
  }

  it("the clients' neighbour entries for the VIP6 are the VMAC, learned by ND; the switch never learned the VMAC", async () => {
    for (const c of lab.clients) {
      const entries = JSON.parse(await run('ip', ['-n', c.ns, '-6', '-j', 'neigh', 'show', lab.vip6 ?? ''])) as { lladdr?: string; state?: string[] }[];
      expect(entries).toHaveLength(1);
      expect(entries[0]?.lladdr).toBe(lab.vmac);
      // Learned (REACHABLE/STALE/DELAY/PROBE), never configured by hand.
      expect(entries[0]?.state ?? []).not.toContain('PERMANENT');
    }
    const fdb = await run('ip', ['netns', 'exec', lab.switchNs, 'bridge', 'fdb', 'show', 'br', 'br0']);
    expect(fdb.toLowerCase()).not.toContain(lab.vmac);
    expect(fdb.toLowerCase()).toContain(lab.nodes[0]?.mac ?? 'none');
  });

  it("every node is a member of the VIP6's solicited-node group on the snooping switch and answers ND", async () => {
    const mdb = await run('ip', ['netns', 'exec', lab.switchNs, 'bridge', 'mdb', 'show']);
    const group = solicitedNodeGroup(lab.vip6 ?? '');
    for (const n of lab.nodes) expect(mdb).toMatch(new RegExp(`port ${n.name} grp ${group}\\b`));
    const all = await Promise.all(lab.nodes.map((n) => status(n.config)));
    for (const s of all) {
      expect(s.vip6).toBe(lab.vip6);
      expect(s.nd?.['vip-conflict']).toBe(0);
    }
    // One client namespace's NS per neighbour entry, answered once (and NUD probes afterwards).
    expect(all.reduce((sum, s) => sum + (s.nd?.answered ?? 0), 0)).toBeGreaterThanOrEqual(lab.clients.length);
  });

  it('drain and resume with >= 200 IPv6 TCP streams: 0 resets', async () => {
    const n1 = lab.nodes[0];
    if (!n1) throw new Error('no node 1');
    const from = statSync(n1.log).size;
    const r = await streamsDuringOperations(lab, { streamsPerClient: 70, newPerSec: 5, durationMs: 10_000, lifeMs: '2000:4000', family: 6 });
    process.stdout.write(`[dual-stack] IPv6 streams through drain/resume: ${JSON.stringify(r.total)}, drain ${r.drainMs} ms, lease lapses ${JSON.stringify(r.leaseLapses)}\n`);
    // Node 1 really drained: its buckets went through the draining phase (hand-over via conntrack).
    const w = drainWindow(n1.log, from);
    process.stdout.write(`[dual-stack] node 1 drain: first bucket draining at ${w.startMs}, holding nothing at ${w.endMs}\n`);
    expect(w.startMs).not.toBeNull();
    expect(r.total.opened).toBeGreaterThanOrEqual(210);
    expect(r.total.resets).toBe(0);
    expect(r.total.connect_failed).toBe(0);
  }, 60_000);

  it('a takeover (kill -9 of a node) puts unsolicited NAs for the VIP6 with the VMAC on the wire, sent by the survivors', async () => {
    const [client] = lab.clients;
    const victim = lab.nodes[2];
    if (!client || !victim || !lab.vip6) throw new Error('lab incomplete');
    const watch = watchNas(client.ns, lab.dir, lab.vip6, lab.vmac, 3000);
    await new Promise((r) => setTimeout(r, 1000)); // the capture is open
    const logFrom = statSync(victim.log).size;
    process.kill(victim.daemonPid, 'SIGKILL');
    const seen = await watch.done;
    process.stdout.write(`[dual-stack] NAs seen by ${client.ns} around the takeover: ${JSON.stringify(seen)}\n`);
    expect(seen.unsolicited).toBeGreaterThan(0);
    const survivors = lab.nodes.filter((n) => n !== victim).map((n) => n.mac);
    for (const sender of seen.senders) expect(survivors).toContain(sender);
    startDaemon(victim);
    await waitLog(victim.log, logFrom, 'serving');
  }, 60_000);
});
