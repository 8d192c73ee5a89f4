/**
 * Fault injection for the failover lab: each fault is done and undone inside the lab's own
 * namespaces (signals to processes the lab started, a switch port, an nftables table in the
 * victim's namespace). Nothing outside the lab is touched.
 *
 *   kill            kill -9 of the daemon
 *   stop            SIGSTOP of the daemon (SIGCONT to restore)
 *   crash           kill -9 of the daemon and of the echo service (the whole node's software)
 *   link            the victim's switch port goes down (heartbeats and data cut)
 *   partition       heartbeats cut, data kept: an nft table in the victim drops UDP port 5789
 *   partition-data  data cut, heartbeats kept: an nft table in the victim drops everything
 *                   IP except the heartbeat port; the victim's data-path check (dataPathCheck in
 *                   the lab configs) notices and drains it to its peers
 *   loss            a share of the victim's IP packets dropped at random, in and out (nft numgen
 *                   in its namespace; this kernel has no netem, so there is no delay variant)
 *   term            planned stop (SIGTERM); restored by a restart after the probe
 *   restart         planned: SIGTERM, then the daemon starts again, both inside the probe window
 *   rejoin          the victim is killed before the probe; at the fault instant it starts again
 */
import type { LabInfo, LabNodeInfo } from './lab.js';
import { nsRun, run, spawnInNs } from './exec.js';
import { labBinary, vmacCommand } from './paths.js';
import { join } from 'node:path';

export const FAULTS = ['kill', 'stop', 'crash', 'link', 'partition', 'partition-data', 'loss', 'term', 'restart', 'rejoin'] as const;
export type FaultKind = (typeof FAULTS)[number];

/** The heartbeat port of the lab configs (the config default). */
export const HEARTBEAT_PORT = 5789;
/** Default `loss`: 20 % of packets, enough to lose heartbeats now and then without a clean cut. */
export const DEFAULT_LOSS_PERCENT = 20;
const FAULT_TABLE = 'vmac_labfault';

export interface FaultOptions { lossPercent?: number }

/** Probe window per fault: a restart or rejoin needs the daemon's start-up (~1 s) inside it. */
export function probeWindowMs(fault: FaultKind): number {
  // partition-data: the data-path check drains the victim ~0.6-0.8 s after the cut (fall rounds + settle).
  return fault === 'restart' || fault === 'rejoin' ? 5000 : fault === 'partition-data' ? 2500 : 2000;
}

export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export function startDaemon(victim: LabNodeInfo): void {
  const vmac = vmacCommand();
  const child = spawnInNs(victim.ns, vmac.file, [...vmac.args, 'run', victim.config], victim.log);
  victim.daemonPid = child.pid ?? -1;
}

export function startEcho(lab: LabInfo, victim: LabNodeInfo): void {
  const args = ['--name', victim.name, '--addr', lab.vip, '--udp', String(lab.echoPort), '--tcp', String(lab.echoPort)];
  if (lab.echoFreezeMs !== undefined) args.push('--freeze-ms', String(lab.echoFreezeMs));
  const child = spawnInNs(victim.ns, labBinary('vmac-echo'), args, join(lab.dir, `${victim.name}-echo.log`));
  victim.echoPid = child.pid ?? -1;
}

export async function waitExit(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not exit within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** nft ruleset for a partition inside the victim's namespace (inet input/output hooks). */
export function partitionRuleset(kind: 'partition' | 'partition-data' | 'loss', port = HEARTBEAT_PORT, lossPercent = DEFAULT_LOSS_PERCENT): string {
  const rules = kind === 'partition'
    ? [`udp dport ${port} drop`, `udp sport ${port} drop`]
    : kind === 'loss' ? [`numgen random mod 100 < ${lossPercent} drop`]
      : [`udp dport ${port} accept`, `udp sport ${port} accept`, 'meta l4proto { udp, tcp, icmp } drop'];
  return [
    `table inet ${FAULT_TABLE} {`,
    `  chain in { type filter hook input priority -300; policy accept; ${rules.join('; ')}; }`,
    `  chain out { type filter hook output priority -300; policy accept; ${rules.join('; ')}; }`,
    '}',
    '',
  ].join('\n');
}

/** Prepares a fault before the probe starts (only `rejoin`: the node must be down first). */
export async function prepareFault(victim: LabNodeInfo, fault: FaultKind): Promise<void> {
  if (fault !== 'rejoin') return;
  process.kill(victim.daemonPid, 'SIGKILL');
  await waitExit(victim.daemonPid);
}

export async function injectFault(lab: LabInfo, victim: LabNodeInfo, fault: FaultKind, o: FaultOptions = {}): Promise<void> {
  switch (fault) {
    case 'kill': process.kill(victim.daemonPid, 'SIGKILL'); return;
    case 'stop': process.kill(victim.daemonPid, 'SIGSTOP'); return;
    case 'term': process.kill(victim.daemonPid, 'SIGTERM'); return;
    case 'crash':
      process.kill(victim.daemonPid, 'SIGKILL');
      if (isAlive(victim.echoPid)) process.kill(victim.echoPid, 'SIGKILL');
      return;
    case 'link': await run('ip', ['-n', lab.switchNs, 'link', 'set', victim.name, 'down']); return;
    case 'partition':
    case 'partition-data':
      await nsRun(victim.ns, 'nft', ['-f', '-'], { input: partitionRuleset(fault) });
      return;
    case 'loss':
      await nsRun(victim.ns, 'nft', ['-f', '-'], { input: partitionRuleset('loss', HEARTBEAT_PORT, o.lossPercent ?? DEFAULT_LOSS_PERCENT) });
      return;
    case 'restart':
      // Planned: hand over, exit, start again; all while the clients probe.
      process.kill(victim.daemonPid, 'SIGTERM');
      await waitExit(victim.daemonPid);
      startDaemon(victim);
      return;
    case 'rejoin': startDaemon(victim); return;
  }
}

/** Undoes the fault after the probe (the caller then waits until the victim serves again). */
export async function undoFault(lab: LabInfo, victim: LabNodeInfo, fault: FaultKind): Promise<void> {
  switch (fault) {
    case 'stop': process.kill(victim.daemonPid, 'SIGCONT'); break;
    case 'term': await waitExit(victim.daemonPid); break;
    case 'crash': await waitExit(victim.echoPid).catch(() => undefined); startEcho(lab, victim); break;
    case 'link': await run('ip', ['-n', lab.switchNs, 'link', 'set', victim.name, 'up']); break;
    case 'partition':
    case 'partition-data':
    case 'loss': await nsRun(victim.ns, 'nft', ['delete', 'table', 'inet', FAULT_TABLE]); break;
    default: break;
  }
  if (!isAlive(victim.daemonPid)) startDaemon(victim);
}
