/**
 * The packaged unit under a real systemd: a Debian 12 root (test/systemd/make-root.sh: debootstrap
 * once, then Node 20 and the freshly built .deb installed with dpkg) boots with systemd as PID 1
 * in systemd-nspawn, inside node 3's network namespace of a 3-node lab (its eth0 is on the lab
 * bridge; nodes 1 and 2 run the source tree's daemon). Then, with `systemctl` inside:
 *   1. start vmac@lab       Type=notify: `systemctl start` returns once READY=1 came (serving)
 *   2. reload               hitless restart: SIGUSR2, exit 75, restarted at once, adopts the table
 *   3. SIGSTOP the daemon   WatchdogSec=3s: systemd aborts it and Restart= starts a new one
 *   4. stop                 planned stop: buckets handed over (drain), nothing left in the kernel
 * Run by `make test-systemd` (root; ~1-2 min after the root exists). Prints one line per step.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { labDown, labUp, type LabInfo, type LabNodeInfo } from '../../lab/lab.js';
import { nsRun } from '../../lab/exec.js';
import { nodeBalanced, readBalance } from '../../lab/balance.js';
import { loadConfig } from '../../src/config/load.js';
import { ownedBuckets, staticMap } from '../../src/daemon/ownership.js';
import type { DaemonStatus } from '../../src/daemon/node-daemon.js';

const ROOT = resolve(process.env.VMAC_SYSTEMD_ROOT ?? '.cache/systemd-test/bookworm');
const NAME = `${process.env.VMAC_LAB_TAG ?? ''}sdct`.slice(0, 10);
const results: { step: string; ok: boolean; detail: string }[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function record(step: string, ok: boolean, detail: string): void {
  results.push({ step, ok, detail });
  console.log(`[systemd] ${ok ? 'ok  ' : 'FAIL'} ${step}: ${detail}`);
}

/** Runs a command inside the container (every namespace of its PID 1). */
function inCt(pid1: number, args: string[], allowFail = false): string {
  try {
    return execFileSync('nsenter', ['-t', String(pid1), '-a', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (allowFail) return `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    throw err;
  }
}

function show(pid1: number, props: string[]): Record<string, string> {
  const out = inCt(pid1, ['systemctl', 'show', 'vmac@lab', ...props.map((p) => `-p${p}`)]);
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function waitFor<T>(what: string, fn: () => T | null, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function journal(pid1: number, since: string): string {
  return inCt(pid1, ['journalctl', '-u', 'vmac@lab', '--no-pager', '-o', 'cat', '--since', since], true);
}

function ctNow(pid1: number): string {
  return inCt(pid1, ['date', '+%Y-%m-%d %H:%M:%S']).trim();
}

/** Node 3's lab config, made the container's /etc/vmac/lab.yaml with its key beside it. */
function installConfig(n3: LabNodeInfo, lab: LabInfo): void {
  mkdirSync(join(ROOT, 'etc/vmac'), { recursive: true });
  copyFileSync(join(lab.dir, 'cluster.key'), join(ROOT, 'etc/vmac/lab.key'));
  chmodSync(join(ROOT, 'etc/vmac/lab.key'), 0o600);
  const yaml = readFileSync(n3.config, 'utf8')
    .replace(/keyFile: \S+ \}/, 'keyFile: /etc/vmac/lab.key }')
    .replace(/^control: .*\n/m, ''); // the default, /run/vmac/lab.sock
  writeFileSync(join(ROOT, 'etc/vmac/lab.yaml'), yaml);
}

/** Nodes holding exactly their buckets: n1, n2 through their control sockets, n3 through `vmac status` inside. */
async function balance(lab: LabInfo, pid1: number): Promise<number> {
  const outside = await readBalance(lab.nodes.slice(0, 2));
  const map = staticMap(loadConfig(lab.nodes[0]!.config));
  let n3: DaemonStatus | null = null;
  try { n3 = JSON.parse(inCt(pid1, ['vmac', 'status', '-c', '/etc/vmac/lab.yaml', '--json'])) as DaemonStatus; } catch { n3 = null; }
  return outside.balanced + (nodeBalanced(n3, ownedBuckets(map, 3)) ? 1 : 0);
}

async function main(): Promise<void> {
  let lab: LabInfo | null = null;
  let nspawn: ChildProcess | null = null;
  let ct = 0;
  const t0 = Date.now();
  try {
    lab = await labUp({ name: NAME, nodes: 3, clients: 1, addrs: 10, seed: 99, buckets: 256, profile: 'default', affinity: 'address', lateNodes: [3] });
    const n3 = lab.nodes[2]!;
    installConfig(n3, lab);
    nspawn = spawn('systemd-nspawn', ['-D', ROOT, '--boot', '--register=no', '--keep-unit', '--capability=CAP_NET_ADMIN', '--console=pipe', `--network-namespace-path=/run/netns/${n3.ns}`, '-M', NAME], { stdio: ['ignore', 'ignore', 'pipe'] });
    let nspawnErr = '';
    nspawn.stderr?.on('data', (c: Buffer) => (nspawnErr += c.toString()));
    const bootAt = Date.now();
    const pid1 = await waitFor('container PID 1', () => {
      let kids: string[] = [];
      try { kids = execFileSync('pgrep', ['-P', String(nspawn?.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean); } catch { /* none yet */ }
      return kids.length > 0 ? Number(kids[0]) : null;
    }, 20_000).catch((err: unknown) => { throw new Error(`${(err as Error).message}\n${nspawnErr}`); });
    const state = await waitFor('systemd running', () => {
      const s = inCt(pid1, ['systemctl', 'is-system-running'], true).trim();
      return s === 'running' || s === 'degraded' ? s : null;
    }, 60_000);
    ct = pid1;
    record('boot', true, `systemd is PID 1 in the container (${state}) after ${Date.now() - bootAt} ms; ${inCt(pid1, ['node', '--version']).trim()}, vmac ${inCt(pid1, ['dpkg-query', '-W', '-f=${Version}', 'vmac'])}`);

    // 1. Type=notify: `systemctl start` returns when READY=1 arrived.
    let since = ctNow(pid1);
    let t = Date.now();
    inCt(pid1, ['systemctl', 'start', 'vmac@lab']);
    const startMs = Date.now() - t;
    const s1 = show(pid1, ['ActiveState', 'SubState', 'MainPID', 'StatusText', 'NRestarts']);
    const j1 = journal(pid1, since);
    const served = j1.includes('"event":"serving"');
    record('start (Type=notify)', s1.ActiveState === 'active' && served, `systemctl start returned after ${startMs} ms, ${s1.ActiveState}/${s1.SubState}, MainPID ${s1.MainPID}, STATUS "${s1.StatusText}"; serving logged before READY: ${served}`);
    await sleep(3000);
    const b1 = await balance(lab, pid1);
    record('cluster with the container node', b1 === 3, `${b1}/3 nodes hold exactly their buckets`);

    // 2. Reload: hitless restart under Restart=.
    since = ctNow(pid1);
    const before = show(pid1, ['MainPID', 'NRestarts']);
    t = Date.now();
    inCt(pid1, ['systemctl', 'reload', 'vmac@lab']);
    const s2 = await waitFor('restarted after reload', () => {
      const s = show(pid1, ['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'ExecMainStatus']);
      return s.ActiveState === 'active' && s.SubState === 'running' && s.MainPID !== before.MainPID && s.MainPID !== '0' ? s : null;
    }, 30_000);
    const reloadMs = Date.now() - t;
    const j2 = journal(pid1, since);
    const adopted = j2.includes('"event":"adopted"');
    record('reload (hitless restart)', adopted, `new MainPID ${s2.MainPID} (was ${before.MainPID}) active after ${reloadMs} ms, NRestarts ${before.NRestarts} -> ${s2.NRestarts}; the new process adopted the kernel table: ${adopted}`);
    await sleep(2000);
    const b2 = await balance(lab, pid1);
    record('cluster after reload', b2 === 3, `${b2}/3 nodes hold exactly their buckets`);

    // 3. Watchdog: a SIGSTOPped daemon is aborted and restarted by systemd.
    since = ctNow(pid1);
    const w0 = show(pid1, ['MainPID', 'NRestarts']);
    t = Date.now();
    inCt(pid1, ['kill', '-STOP', w0.MainPID!]);
    const w1 = await waitFor('restarted by the watchdog', () => {
      const s = show(pid1, ['ActiveState', 'SubState', 'MainPID', 'NRestarts']);
      return s.ActiveState === 'active' && s.SubState === 'running' && s.MainPID !== w0.MainPID && s.MainPID !== '0' ? s : null;
    }, 60_000);
    const wdMs = Date.now() - t;
    const j3 = journal(pid1, since);
    const wdLine = inCt(pid1, ['journalctl', '--no-pager', '-o', 'cat', '--since', since], true).split('\n').find((l) => /[Ww]atchdog/.test(l)) ?? '(no watchdog line)';
    record('watchdog (SIGSTOP)', Number(w1.NRestarts) > Number(w0.NRestarts), `restarted as MainPID ${w1.MainPID} ${wdMs} ms after SIGSTOP (NRestarts ${w0.NRestarts} -> ${w1.NRestarts}); systemd: "${wdLine.trim()}"; serving again: ${j3.includes('"event":"serving"')}`);
    await sleep(3000);

    // 4. Planned stop: buckets handed over, nothing left.
    since = ctNow(pid1);
    t = Date.now();
    inCt(pid1, ['systemctl', 'stop', 'vmac@lab']);
    const stopMs = Date.now() - t;
    const j4 = journal(pid1, since);
    const nft = (await nsRun(n3.ns, 'nft', ['list', 'ruleset'])).trim();
    const vip = (await nsRun(n3.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).includes(`${lab.vip}/32`);
    await sleep(500);
    const b4 = await readBalance(lab.nodes.slice(0, 2));
    const survivorsHold = Object.values(b4.held).reduce((n, h) => n + h.held, 0);
    const s4 = show(pid1, ['ActiveState', 'Result']);
    const clean = j4.includes('nothing of ours is left in the kernel') && nft === '' && !vip && survivorsHold === 256;
    record('stop (drain)', clean && s4.ActiveState === 'inactive', `systemctl stop returned after ${stopMs} ms, ${s4.ActiveState} (${s4.Result}); handed over: ${j4.includes('"event":"stopping"') ? 'yes' : 'no'}; ruleset in n3 afterwards: ${nft === '' ? 'empty' : nft.slice(0, 80)}; VIP left: ${vip}; the two survivors hold ${survivorsHold}/256 buckets`);
    inCt(pid1, ['systemctl', 'poweroff'], true);
    await waitFor('container exit', () => (nspawn?.exitCode !== null ? true : null), 30_000).catch(() => nspawn?.kill('SIGKILL'));
  } catch (err) {
    record('run', false, (err as Error).message);
    if (ct > 0) console.log(inCt(ct, ['journalctl', '-u', 'vmac@lab', '--no-pager', '-n', '40', '-o', 'short-monotonic'], true));
    if (nspawn && nspawn.exitCode === null) nspawn.kill('SIGKILL');
  } finally {
    await labDown(NAME);
    console.log(`[systemd] ${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length} failed (${Math.round((Date.now() - t0) / 1000)} s)`);
    process.exitCode = results.every((r) => r.ok) ? 0 : 1;
  }
}

void main();
