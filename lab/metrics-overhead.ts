/**
 * CPU cost of the operator surface (metrics + dashboard poll), measured: a 3-node lab where
 * node 3's daemon is restarted with `metrics: { listen: off }`; the CPU time (utime+stime from
 * /proc) of every daemon is compared over the same window, idle and while a browser-less client
 * holds the event stream open and Prometheus-style scrapes run every second.
 *   npx tsx lab/metrics-overhead.ts [seconds]
 */
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { labDown, labUp } from './lab.js';
import { nsRun, spawnInNs } from './exec.js';
import { vmacCommand } from './paths.js';

const seconds = Number(process.argv[2] ?? 20);
const name = `ov${randomBytes(2).toString('hex')}`;
const ticks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
};
const lab = await labUp({ name, nodes: 3, clients: 1, addrs: 4, seed: 99, buckets: 256, profile: 'default', affinity: 'address' });
try {
  const n3 = lab.nodes[2]!;
  process.kill(n3.daemonPid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  const off = join(lab.dir, 'n3-off.yaml');
  copyFileSync(n3.config, off);
  appendFileSync(off, 'metrics: { listen: "off" }\n');
  const vmac = vmacCommand();
  const child = spawnInNs(n3.ns, vmac.file, [...vmac.args, 'run', off], join(lab.dir, 'n3-off.log'));
  await new Promise((r) => setTimeout(r, 3000));
  const pids = { n1: lab.nodes[0]!.daemonPid, n2: lab.nodes[1]!.daemonPid, n3off: child.pid ?? -1 };
  const measure = async (label: string, during: () => Promise<void>): Promise<void> => {
    const t0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, ticks(p)]));
    await during();
    const used = Object.entries(pids).map(([k, p]) => `${k} ${((ticks(p) - (t0[k] ?? 0)) * 10 / seconds).toFixed(1)} ms/s`);
    console.log(`${label}: CPU per second of wall time over ${seconds} s: ${used.join(', ')}`);
  };
  await measure('idle cluster', () => new Promise((r) => setTimeout(r, seconds * 1000)));
  await measure('n1 scraped every 1 s + its event stream open', async () => {
    const stream = nsRun(lab.nodes[0]!.ns, 'curl', ['-sN', '--max-time', String(seconds), 'http://127.0.0.1:9789/events']).catch(() => '');
    for (let i = 0; i < seconds; i++) {
      await nsRun(lab.nodes[0]!.ns, 'curl', ['-s', '-o', '/dev/null', 'http://127.0.0.1:9789/metrics']);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await stream;
  });
} finally {
  await labDown(name);
}
