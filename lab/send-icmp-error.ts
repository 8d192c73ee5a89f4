/**
 * Crafted ICMP errors about packets the VIP sent, from inside a client namespace (the client
 * stands for a router on the path): for each (client address, port), one IPv4 "fragmentation
 * needed" (type 3 code 4, next-hop MTU 1280) or one ICMPv6 "packet too big" (MTU 1280) whose
 * embedded header is VIP:9000 -> address:port over TCP. The outer source is the namespace's
 * own address for every error, so only the embedded destination tells them apart. Raw sockets
 * through the `raw-socket` package; the kernel adds the outer IP header (and, for ICMPv6, the
 * checksum).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun } from './exec.js';
import { repoRoot } from './paths.js';

const script = (root: string): string => `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
const require = createRequire('${join(root, 'package.json')}');
const raw = require('raw-socket');
const [vip, file] = process.argv.slice(2);
const list = JSON.parse(readFileSync(file, 'utf8'));
const v6 = isIPv6(vip);
const bytes = (ip) => {
  if (!isIPv6(ip)) return Buffer.from(ip.split('.').map(Number));
  const [h, t = ''] = ip.split('::');
  const hs = h ? h.split(':') : []; const ts = t ? t.split(':') : [];
  const g = ip.includes('::') ? [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts] : hs;
  const b = Buffer.alloc(16); g.forEach((x, i) => b.writeUInt16BE(parseInt(x, 16), i * 2)); return b;
};
const sum = (b) => { let s = 0; for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i); while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return ~s & 0xffff; };
const sock = raw.createSocket({ protocol: v6 ? raw.Protocol.ICMPv6 : raw.Protocol.ICMP, addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4 });
let sent = 0;
for (const [addr, port] of list) {
  let m;
  if (v6) {
    m = Buffer.alloc(8 + 40 + 8);
    m[0] = 2; m.writeUInt32BE(1280, 4);
    m.writeUInt32BE(0x60000000, 8); m.writeUInt16BE(1400, 12); m[14] = 6; m[15] = 64;
    bytes(vip).copy(m, 16); bytes(addr).copy(m, 32);
    m.writeUInt16BE(9000, 48); m.writeUInt16BE(port, 50);
  } else {
    m = Buffer.alloc(8 + 20 + 8);
    m[0] = 3; m[1] = 4; m.writeUInt16BE(1280, 6);
    m[8] = 0x45; m.writeUInt16BE(1500, 10); m.writeUInt16BE(0x4000, 14); m[16] = 64; m[17] = 6;
    bytes(vip).copy(m, 20); bytes(addr).copy(m, 24);
    m.writeUInt16BE(sum(m.subarray(8, 28)), 18);
    m.writeUInt16BE(9000, 28); m.writeUInt16BE(port, 30);
    m.writeUInt16BE(sum(m), 2);
  }
  await new Promise((resolve, reject) => sock.send(m, 0, m.length, vip, (err) => (err ? reject(err) : (sent++, resolve()))));
}
sock.close();
process.stdout.write(JSON.stringify({ sent }));
`;

export async function sendIcmpErrors(ns: string, dir: string, vip: string, tuples: readonly (readonly [string, number])[]): Promise<number> {
  const file = join(dir, 'send-icmp-error.mjs');
  const list = join(dir, `icmp-errors-${ns}.json`);
  writeFileSync(file, script(repoRoot()));
  writeFileSync(list, JSON.stringify(tuples));
  const out = await nsRun(ns, process.execPath, [file, vip, list], { timeoutMs: 60_000 });
  return (JSON.parse(out) as { sent: number }).sent;
}
