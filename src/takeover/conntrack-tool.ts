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
import { parseIp } from '../util/ip.js';
import type { ConntrackPort, UdpFlowEntry } from './conntrack-port.js';
import type { UdpCtTimeouts } from './conntrack-netlink.js';

/** The kernel's default UDP conntrack timeouts (nf_conntrack_udp_timeout, _stream), as the netlink reader's. */
const KERNEL_UDP_TIMEOUTS: UdpCtTimeouts = { unrepliedS: 30, streamS: 120 };

/**
 * UDP flows to one of `vips` in `conntrack -L -p udp` output, with a lower bound of their idle time
 * (the entry's remaining seconds against its timeout, minus one for the rounding), as the netlink
 * reader computes it. The per-flow hand-over reads the VIP6's flows this way.
 */
export function udpFlowsFromListing(text: string, vip: string | readonly string[], t: UdpCtTimeouts = KERNEL_UDP_TIMEOUTS): UdpFlowEntry[] {
  const vips = new Set((typeof vip === 'string' ? [vip] : vip).map((v) => canonical(v)));
  const out: UdpFlowEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^udp\s+\d+\s+(\d+)\s+src=(\S+)\s+dst=(\S+)\s+sport=(\d+)\s+dport=(\d+)/.exec(line);
    if (!m || !vips.has(canonical(m[3] ?? ''))) continue;
    const saddr = canonical(m[2] ?? '');
    if (saddr === null) continue;
    const idleS = Math.max(0, (line.includes('[ASSURED]') ? t.streamS : t.unrepliedS) - Number(m[1]) - 1);
    out.push({ saddr, sport: Number(m[4]), dport: Number(m[5]), idleAtLeastMs: idleS * 1000 });
  }
  return out;
}

/** TCP states that still carry a connection (TIME_WAIT and CLOSE are over: their packets are late). */
const LIVE = new Set(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'SYN_SENT2']);

function canonical(text: string): string | null {
  try { return parseIp(text).text; } catch { return null; }
}

/**
 * Buckets of the clients in `conntrack -L` output lines (orig direction: src = client, dst = VIP).
 * `vip`: the VIP, or with dual stack the VIP and the VIP6 (IPv6 clients hash by their own address).
 */
export function busyFromListing(text: string, vip: string | readonly string[], hash: HashConfig, buckets: number): Set<number> {
  const vips = new Set((typeof vip === 'string' ? [vip] : vip).map((v) => canonical(v)));
  const busy = new Set<number>();
  for (const line of text.split('\n')) {
    const m = /^tcp\s+\d+\s+\d+\s+(\S+)\s+src=(\S+)\s+dst=(\S+)\s+sport=(\d+)\s+dport=(\d+)/.exec(line);
    if (!m || !vips.has(canonical(m[3] ?? '')) || !LIVE.has(m[1] ?? '')) continue;
    busy.add(bucketOf({ addr: m[2] as string, sport: Number(m[4]) }, hash, buckets));
  }
  return busy;
}

/** `vip`: the VIP, or with dual stack the VIP and the VIP6 (one listing per family, `-f ipv6` for the VIP6). */
export function conntrackTool(vip: string | readonly string[], hash: HashConfig, buckets: number, bin = 'conntrack', timeoutMs = 2000): ConntrackPort {
  const vips = typeof vip === 'string' ? [vip] : [...vip];
  const list = (v: string, proto: 'tcp' | 'udp' = 'tcp'): Promise<string> => new Promise((resolve, reject) => {
    const family = v.includes(':') ? ['-f', 'ipv6'] : [];
    execFile(bin, ['-L', ...family, '-p', proto, '-d', v], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- execFile passes an Error (ExecFileException)
      if (err) reject(err);
      else resolve(stdout);
    });
  });
  return {
    busyBuckets: async () => busyFromListing((await Promise.all(vips.map((v) => list(v)))).join('\n'), vips, hash, buckets),
    udpFlows: async () => udpFlowsFromListing((await Promise.all(vips.map((v) => list(v, 'udp')))).join('\n'), vips),
  };
}
