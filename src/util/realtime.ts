/**
 * Real-time scheduling for the heartbeat path, like corosync: on a busy machine a normal-priority
 * event loop can be late by tens of milliseconds, and with the fast profile (4 ms heartbeats,
 * 32 ms dead time) that is enough to drop the node's own lease. SCHED_FIFO through util-linux's
 * `chrt` (all of the process's threads), where permitted (root or CAP_SYS_NICE).
 */
import { execFileSync } from 'node:child_process';

export type RealtimeOutcome = 'fifo' | 'not-permitted';

export function enterRealtime(priority = 20): RealtimeOutcome {
  try {
    execFileSync('chrt', ['-a', '-f', '-p', String(priority), String(process.pid)], { stdio: 'ignore', timeout: 2000 });
    return 'fifo';
  } catch {
    return 'not-permitted';
  }
}
