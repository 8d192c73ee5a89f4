/**
 * Waits until no lab daemon has a bucket in a hand-over (incoming or draining), read through
 * their control sockets. A node that drained (partition-data through the data-path check) takes
 * its buckets back through the hand-over after it serves again; the next run must not start
 * while that is still going on, or its probes would count the hand-over's UDP overlap as the
 * next fault's duplicates and the moving buckets as false takeovers.
 */
import { join } from 'node:path';
import type { LabInfo } from './lab.js';
import { requestControl } from '../src/daemon/control-socket.js';
import type { DaemonStatus } from '../src/daemon/node-daemon.js';

export async function waitHandoverSettled(lab: LabInfo, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(lab.nodes.map((n) => requestControl(join(lab.dir, `${n.name}.sock`), { cmd: 'status' }).then((s) => s as DaemonStatus, () => null)));
    const busy = all.filter((s) => s === null || s.cluster.handover.incoming.length > 0 || s.cluster.handover.draining.length > 0
      || s.cluster.self.state !== 'active' || (s.dataPath !== undefined && s.dataPath.role !== 'serving'));
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`lab ${lab.name}: a hand-over was still in progress ${timeoutMs} ms after the node served again`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
