/**
 * Helpers for the resource and fencing labs (issue 5), on top of a lab built by lab.ts: restart
 * a node's daemon with extra config sections, run the echo service as a managed resource, read a
 * daemon's status, cut the heartbeat path with nftables inside a node's namespace (never the
 * host's). Everything stays inside the lab's own namespaces and state directory.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { nsRun, run, spawnInNs } from './exec.js';
import { labBinary, repoRoot, requireBuilt, vmacCommand } from './paths.js';
import { requestControl } from '../src/daemon/control-socket.js';
import type { DaemonStatus } from '../src/daemon/node-daemon.js';

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM (a planned stop), then SIGKILL after `graceMs`; bounded. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** The echo service as a command-triple resource: pid file and log in the lab's directory. */
/**
 * The `fencing.agent` of a lab node's config: the product's exec agent (fence-agents convention)
 * running the lab's own fence program (fence-lab-agent.ts, built), through a wrapper written into
 * the lab's directory, with each node's namespace as its per-target option. No lab setting in the
 * product's config.
 */
export function labFenceAgentYaml(lab: LabInfo, ifname = 'eth0'): string {
  const program = requireBuilt(join(repoRoot(), 'dist/lab/fence-lab-agent.js'), 'run `npx tsc -p tsconfig.json` first');
  const wrapper = join(lab.dir, 'fence-lab-agent');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(program)}\n`);
  chmodSync(wrapper, 0o755);
  const targets = lab.nodes.map((n) => `${n.name}: { plug: ${n.name}, ns: ${n.ns} }`).join(', ');
  return `{ exec: { path: ${wrapper}, params: { ifname: ${ifname} }, targets: { ${targets} } } }`;
}

export function echoResourceYaml(lab: LabInfo, node: LabNodeInfo, check: { intervalMs: number; timeoutMs: number; rise: number; fall: number }): string {
  const pid = echoPidFile(lab, node);
  const echo = `${labBinary('vmac-echo')} --name ${node.name} --addr ${lab.vip} --udp ${lab.echoPort} --tcp ${lab.echoPort}`;
  // Alive = the pid file names a process that is not a zombie (the service is reparented when
  // its starting shell exits; a killed one may stay a zombie for a while, and kill -0 says yes).
  const up = `p=$(cat ${pid} 2>/dev/null); s=$(awk '{print $3}' /proc/\${p:-0}/stat 2>/dev/null); case x$s in x|xZ) false;; *) true;; esac`;
  return [
    'resources:',
    '  - name: echo',
    '    command:',
    `      start: "${up} || { ${echo} </dev/null >>${join(lab.dir, `${node.name}-echo.log`)} 2>&1 & echo $! > ${pid}; }"`,
    `      stop: "kill $(cat ${pid}) 2>/dev/null; rm -f ${pid}"`,
    `      monitor: "[ -f ${pid} ] || exit 7; ${up}"`,
    // Lab runs flap the service on purpose every few seconds: damping with short holds.
    '    damping: { holdBaseMs: 1000, holdMaxMs: 4000, decayMs: 4000 }',
    'healthChecks:',
    `  - { resource: echo, tcp: { host: ${lab.vip}, port: ${lab.echoPort} }, intervalMs: ${check.intervalMs}, timeoutMs: ${check.timeoutMs}, rise: ${check.rise}, fall: ${check.fall} }`,
    '',
  ].join('\n');
}

export function echoPidFile(lab: LabInfo, node: LabNodeInfo): string {
  return join(lab.dir, `${node.name}-echo.pid`);
}

/** Kills the node's echo service (its daemon stays up): every vmac-echo process in its namespace. */
export async function killEcho(node: LabNodeInfo): Promise<number> {
  const pids = (await run('ip', ['netns', 'pids', node.ns])).split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 0);
  let killed = 0;
  for (const pid of pids) {
    let comm = '';
    try { comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
    if (comm !== 'vmac-echo') continue;
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
    if (state === 'Z') continue;
    try { process.kill(pid, 'SIGKILL'); killed++; } catch { /* gone */ }
  }
  return killed;
}

/** Starts the echo service again exactly as the resource's start command does. */
export async function startEcho(lab: LabInfo, node: LabNodeInfo, resourceYaml: string): Promise<void> {
  const start = /start: "(.*)"\n/.exec(resourceYaml)?.[1] ?? '';
  await nsRun(node.ns, 'sh', ['-c', start]);
}

/**
 * Stops every daemon (and the lab-started echo services), then starts them again with `extra`
 * appended to each node's config (written as <node>-ha.yaml). Returns the nodes with new pids.
 */
export async function restartWith(lab: LabInfo, extra: (node: LabNodeInfo) => string): Promise<LabNodeInfo[]> {
  await Promise.all(lab.nodes.map((n) => stopPid(n.daemonPid)));
  await Promise.all(lab.nodes.map((n) => stopPid(n.echoPid, 1000)));
  const vmac = vmacCommand();
  return lab.nodes.map((n) => {
    const config = join(lab.dir, `${n.name}-ha.yaml`);
    writeFileSync(config, `${readFileSync(n.config, 'utf8')}${extra(n)}`);
    const child = spawnInNs(n.ns, vmac.file, [...vmac.args, 'run', config], n.log);
    return { ...n, config, daemonPid: child.pid ?? -1 };
  });
}

export function controlSocket(node: LabNodeInfo): string {
  const text = readFileSync(node.config, 'utf8');
  return /control: \{ socket: (\S+) \}/.exec(text)?.[1] ?? '';
}

export async function statusOf(node: LabNodeInfo): Promise<DaemonStatus | null> {
  try { return (await requestControl(controlSocket(node), { cmd: 'status' }, 1000)) as DaemonStatus; } catch { return null; }
}

/** Polls until `pred` holds for the nodes' statuses (null for a node that does not answer). */
export async function waitFor(nodes: readonly LabNodeInfo[], pred: (s: (DaemonStatus | null)[]) => boolean, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred(await Promise.all(nodes.map(statusOf)))) return true;
    await sleep(pollMs);
  }
  return false;
}

/** Drops heartbeat datagrams (UDP dport) inside one node's namespace: its own nft table. */
export async function cutHeartbeats(ns: string, port: number): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
    input: `table inet vmac_hbcut {\n  chain in { type filter hook input priority -10; udp dport ${port} drop; }\n  chain out { type filter hook output priority -10; udp dport ${port} drop; }\n}\n`,
  });
}
