/**
 * Issue 19 in a real 3-node lab: a group `svc` of two ordered singletons — a floating VIP
 * (10.200.0.50, built-in driver) then the echo service bound to it (command driver) — with the
 * lab fence agent. kill -9 of the daemon and the service of the node that runs them: the node
 * is fenced, the group starts on one survivor (VIP first, from its log), the UDP prober on the
 * floating VIP sees the gap and never two answers to one probe. One run; not yet in `make test`:
 * on a loaded machine a daemon that restarts more slowly than its peers is fenced by the
 * cluster's startup fencing for buckets (`fencing:` with delayMs 0, "never heard since our
 * start") before it joins, and the run is void. Run it with VMAC_CRM_LAB=1 (docs/crm.md).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { labDown, labUp, type LabInfo, type LabNodeInfo } from '../../lab/lab.js';
import { probeUdp } from '../../lab/probe.js';
import { killEcho, labFenceAgentYaml, restartWith, statusOf, waitFor } from '../../lab/ha-lab.js';
import { labBinary } from '../../lab/paths.js';
import { expectNoNamespacesLeft, uniqueLabName } from './support.js';

const name = uniqueLabName('cs');
const FIP = '10.200.0.50';
const PORT = 7070;
let lab: LabInfo | null = null;

/** Singletons are part of the agreed config: the same text on every node (the namespace names the node at run time). */
function crmYaml(l: LabInfo): string {
  const self = '$(ip netns identify)';
  const pid = join(l.dir, `fecho-${self}.pid`);
  const up = `p=$(cat ${pid} 2>/dev/null); s=$(awk '{print $3}' /proc/\${p:-0}/stat 2>/dev/null); case x$s in x|xZ) false;; *) true;; esac`;
  const echo = `${labBinary('vmac-echo')} --name ${self} --addr ${FIP} --udp ${PORT} --tcp ${PORT}`;
  return [
    'fencing:',
    '  timeoutMs: 5000',
    '  retryBaseMs: 500',
    '  retryMaxMs: 2000',
    `  agent: ${labFenceAgentYaml(l)}`,
    'resources:',
    `  - { name: fip, kind: singleton, vip: { address: ${FIP}/16 } }`,
    '  - name: fecho',
    '    kind: singleton',
    '    command:',
    `      start: "${up} || { ${echo} </dev/null >>${join(l.dir, `fecho-${self}.log`)} 2>&1 & echo $! > ${pid}; }"`,
    `      stop: "kill $(cat ${pid}) 2>/dev/null; rm -f ${pid}"`,
    `      monitor: "[ -f ${pid} ] || exit 7; ${up}"`,
    '  - { name: svc, kind: group, members: [fip, fecho] }',
    '',
  ].join('\n');
}

const holder = (s: Awaited<ReturnType<typeof statusOf>>): string | null => {
  const rs = s?.crm?.resources ?? [];
  const on = rs.map((r) => (r.phases[r.runningOn[0] ?? ''] === 'started' && r.runningOn.length === 1 ? r.runningOn[0] : null));
  return on.length === 2 && on[0] !== null && on[0] === on[1] ? on[0] ?? null : null;
};

describe('cluster resources lab (3 nodes, floating VIP + service as an ordered group, lab fence agent)', () => {
  afterAll(async () => {
    await labDown(name);
    await expectNoNamespacesLeft(name);
  }, 60_000);

  it.skipIf(process.env.VMAC_CRM_LAB !== '1')('kill -9 of the node that runs the group: fenced, then started on one survivor in order; never two answers', async () => {
    lab = await labUp({ name, nodes: 3, clients: 1, addrs: 8, seed: randomInt(1, 2 ** 31), buckets: 30, profile: 'default', affinity: 'address' });
    const l = lab;
    const nodes = await restartWith(l, () => crmYaml(l));
    const ready = await waitFor(nodes, (s) => s.every((x) => x !== null && holder(x) !== null && holder(x) === holder(s[0] ?? null)), 45_000, 200);
    // On failure: when each daemon was ready and whom it fenced (a node slower than the startup-fence delay is fenced: correct, but the run is void).
    if (!ready) for (const n of nodes) console.log(`${n.name} log: ${readFileSync(n.log, 'utf8').split('\n').filter((x) => /"event":"(ready|crm-fence|crm-view|fence-[a-z]+)"/.test(x)).map((x) => x.slice(0, 220)).join('\n')}`);
    if (!ready) for (const n of nodes) { const st = await statusOf(n); console.log(`${n.name}: ${JSON.stringify({ q: st?.crm?.quorate, m: st?.crm?.members, r: st?.crm?.resources.map((x) => [x.name, x.runningOn, x.phases, x.target, x.stoppedBecause]), u: st?.crm?.unclean, c: st?.crm?.counters })}`); }
    expect(ready).toBe(true);
    const first = holder(await statusOf(nodes[0]!));
    const victim = nodes.find((n) => n.name === first)!;
    const file = join(l.dir, 'fip.addrs');
    writeFileSync(file, `${l.clients[0]!.addresses.slice(0, 4).join('\n')}\n`);
    const probe = probeUdp(l.clients[0]!.ns, { vip: FIP, port: PORT, addrFile: file, intervalUs: 10_000, durationMs: 12_000, waitMs: 300 });
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    process.kill(victim.daemonPid, 'SIGKILL');
    await killEcho(victim);
    const survivors = nodes.filter((n) => n !== victim);
    const moved = await waitFor(survivors, (s) => s.every((x) => holder(x) !== null && holder(x) !== victim.name && holder(x) === holder(s[0] ?? null)), 20_000, 100);
    const r = await probe;
    const second = holder(await statusOf(survivors[0]!));
    const newNode = survivors.find((n) => n.name === second);
    const events = (n: LabNodeInfo): { event: string; resource?: string; target?: string; time?: number }[] => readFileSync(n.log, 'utf8').split('\n').filter((x) => x.startsWith('{')).map((x) => JSON.parse(x) as { event: string });
    const starts = newNode ? events(newNode).filter((e) => e.event === 'crm-start-done').map((e) => e.resource) : [];
    const fences = survivors.flatMap((n) => events(n).filter((e) => e.event === 'crm-fence' || e.event === 'fence-succeeded' || e.event === 'fenced'));
    const dup = r.addrs.reduce((a, x) => a + x.duplicates, 0);
    const gapMs = Math.max(...r.addrs.map((a) => a.maxGapUs / 1000));
    const nsName = new Map(nodes.map((n) => [n.ns, n.name]));
    const answeredBy = [...new Set(r.addrs.flatMap((a) => Object.keys(a.nodes)))].map((x) => nsName.get(x) ?? x).sort();
    console.log(`crm lab: ${victim.name} killed; group on ${second} (moved: ${moved}, ${Date.now() - killedAt} ms to observe); start order on ${second}: ${starts.join(' → ')}; probe gap ${gapMs.toFixed(0)} ms, duplicates ${dup}, answered by ${answeredBy.join(', ')}; fence events ${fences.length}`);
    expect(moved).toBe(true);
    expect(dup).toBe(0);
    expect(second).not.toBe(victim.name);
    expect(starts).toEqual(['fip', 'fecho']);
    expect(answeredBy.every((n) => n === victim.name || n === second)).toBe(true);
    expect(r.addrs.every((a) => nsName.get(a.lastNode ?? '') === second)).toBe(true);
  }, 180_000);
});
