/**
 * The conntrack port over the `conntrack` tool (conntrack-tools): lists the node's TCP entries
 * to the VIP and hashes each client exactly as the kernel rule does.
 *
 * Why the tool and not conntrack netlink: Node has no conntrack netlink binding among our
 * native shims, and one reading per 100 ms, only while a bucket drains, costs a few ms of a
 * child process; the tool is already a dependency of the lab (scripts/setup.sh). It runs in the
 * daemon's network namespace, so it sees exactly the entries of this node's kernel.
 */
import { execFile } from 'node:child_process';
import type { HashConfig } from '../config/types.js';
import { bucketOf } from '../hash/bucket-of.js';
import type { ConntrackPort } from './conntrack-port.js';

/** TCP states that still carry a connection (TIME_WAIT and CLOSE are over: their packets are late). */
const LIVE = new Set(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'SYN_SENT2']);

/** Buckets of the clients in `conntrack -L` output lines (orig direction: src = client, dst = VIP). */
export function busyFromListing(text: string, vip: string, hash: HashConfig, buckets: number): Set<number> {
  const busy = new Set<number>();
  for (const line of text.split('\n')) {
    const m = /^tcp\s+\d+\s+\d+\s+(\S+)\s+src=(\S+)\s+dst=(\S+)\s+sport=(\d+)\s+dport=(\d+)/.exec(line);
    if (!m || m[3] !== vip || !LIVE.has(m[1] ?? '')) continue;
    busy.add(bucketOf({ addr: m[2] as string, sport: Number(m[4]) }, hash, buckets));
  }
  return busy;
}

export function conntrackTool(vip: string, hash: HashConfig, buckets: number, bin = 'conntrack', timeoutMs = 2000): ConntrackPort {
  return {
    busyBuckets: () => new Promise((resolve, reject) => {
      execFile(bin, ['-L', '-p', 'tcp', '-d', vip], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- execFile passes an Error (ExecFileException)
        if (err) reject(err);
        else resolve(busyFromListing(stdout, vip, hash, buckets));
      });
    }),
  };
}
