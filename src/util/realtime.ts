/**
 * Real-time scheduling for the heartbeat path, like corosync: on a busy machine a normal-priority
 * event loop can be late by tens of milliseconds, and with the fast profile (4 ms heartbeats,
 * 32 ms dead time) that is enough to drop the node's own lease, and with the default profile a
 * load spike of 100 ms is. SCHED_FIFO through our thin shim
 * (native-shims/realtime) where permitted (root or CAP_SYS_NICE); refused quietly otherwise, and
 * reported.
 *
 * Locked memory (corosync's mlockall) is not done: any mlockall makes Node 20's V8 abort the
 * first time it makes a code page executable (measured; see native-shims/realtime/realtime_shim.c).
 */

/** The one system call this module needs: the shim in production, a fake in tests. */
export interface RealtimePort {
  setFifo(priority: number): { readonly rc: number; readonly errno: number; readonly threads: number };
}

export type SchedulingOutcome = 'fifo' | 'not-permitted' | 'failed' | 'off';

export interface RealtimeReport {
  readonly scheduling: SchedulingOutcome;
  readonly priority: number;
  readonly threads: number;
  readonly errno: number;
}

const EPERM = 1;

/** SCHED_FIFO priority; 20 is corosync's neighbourhood: above ordinary RT helpers, far below the kernel's own threads (50). */
export const FIFO_PRIORITY = 20;

export function enterRealtime(port: RealtimePort, priority: number | null): RealtimeReport {
  if (priority === null) return { scheduling: 'off', priority: 0, threads: 0, errno: 0 };
  const r = port.setFifo(priority);
  const scheduling: SchedulingOutcome = r.rc === 0 ? 'fifo' : r.errno === EPERM ? 'not-permitted' : 'failed';
  return { scheduling, priority, threads: r.threads, errno: r.errno };
}

/**
 * What `vmac run` asks for: SCHED_FIFO with every profile, as corosync does. The daemon needs a
 * few percent of a core at most, so the service loses nothing measurable, while a starved
 * event loop loses the node's lease. Measured with the default profile on this 2-core VM at
 * load average 12-22 (`npx vitest run test/lab/handover.test.ts`, 3 nodes, 1 ms probes):
 * normal scheduling lost probes in 6 of 7 operations (155-35,525 per hitless restart, 322-16,237
 * per stop + start, up to 2,577 per drain); SCHED_FIFO (entered after start-up) in 6 of 24
 * (none at load 11-12; the six at load 15-22, five of them stop + start or hitless restart; the
 * stop + start losses were reproduced beside another lab's real-time daemons and were all
 * socket-buffer drops of the starved probers, docs/handover.md). VMAC_REALTIME=0 turns it off (e.g. under
 * a debugger).
 */
export function realtimePriority(env: NodeJS.ProcessEnv): number | null {
  return env.VMAC_REALTIME === '0' ? null : FIFO_PRIORITY;
}
