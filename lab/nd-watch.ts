/**
 * Counts, on a client's wire, the Neighbor Advertisements for the VIP6 that announce the VMAC:
 * unsolicited (Override, not Solicited: the takeover and start bursts) and solicited (answers
 * to the client's NS). A child process in the client's namespace captures with the project's
 * own pcap shim and decoder for `durationMs`, then prints the counts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun } from './exec.js';
import { repoRoot } from './paths.js';

export interface NaCounts { unsolicited: number; solicited: number; senders: string[] }

const script = (root: string): string => `
import { openPcapPort } from '${join(root, 'dist/native-shims/pcap.js')}';
import { decodeNdFrame } from '${join(root, 'dist/src/arp/nd-frame.js')}';
const [vip6, vmac, ms] = process.argv.slice(2);
const out = { unsolicited: 0, solicited: 0, senders: [] };
const port = openPcapPort({ ifname: 'eth0', filter: 'icmp6 and ip6[40] == 136' });
port.onFrame((f) => {
  const d = decodeNdFrame(f);
  if (!d.ok || d.frame.kind !== 'advertisement' || d.frame.target !== vip6 || d.frame.lladdr !== vmac) return;
  if ((d.frame.flags & 0x40) !== 0) out.solicited++; else if ((d.frame.flags & 0x20) !== 0) out.unsolicited++;
  if (!out.senders.includes(d.frame.ethSrc)) out.senders.push(d.frame.ethSrc);
});
process.stdout.write('ready\\n');
setTimeout(() => { port.close(); process.stdout.write(JSON.stringify(out) + '\\n'); process.exit(0); }, Number(ms));
`;

/** Starts the capture; resolves `ready` once it listens, `done` with the counts after `durationMs`. */
export function watchNas(ns: string, dir: string, vip6: string, vmac: string, durationMs: number): { done: Promise<NaCounts> } {
  const file = join(dir, 'nd-watch.mjs');
  writeFileSync(file, script(repoRoot()));
  const done = nsRun(ns, process.execPath, [file, vip6, vmac, String(durationMs)], { timeoutMs: durationMs + 30_000 })
    .then((text) => JSON.parse(text.trim().split('\n').pop() ?? '{}') as NaCounts);
  return { done };
}
