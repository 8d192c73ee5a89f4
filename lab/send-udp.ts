/**
 * One UDP datagram from each (source address, source port) to the VIP, from inside a client
 * namespace: the lab's way to put chosen 5-tuples through the daemon's own kernel rule (each
 * owned bucket counts what it accepts). Run as a child (`node send-udp.mjs VIP PORT LIST`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun } from './exec.js';

const SCRIPT = `
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
const [vip, port, file, size = '1'] = process.argv.slice(2);
const payload = Buffer.alloc(Number(size), 0x78);
const list = JSON.parse(readFileSync(file, 'utf8'));
let sent = 0;
for (const [addr, sport] of list) {
  await new Promise((resolve, reject) => {
    const s = createSocket(addr.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(sport, addr, () => s.send(payload, Number(port), vip, (err) => { s.close(); if (err) reject(err); else { sent++; resolve(); } }));
  });
}
process.stdout.write(JSON.stringify({ sent }));
`;

/** `size`: payload bytes (default 1); above the link MTU the client's kernel fragments each datagram. */
export async function sendUdpFrom(ns: string, dir: string, vip: string, port: number, tuples: readonly (readonly [string, number])[], size = 1): Promise<number> {
  const script = join(dir, 'send-udp.mjs');
  const list = join(dir, `send-udp-${ns}.json`);
  writeFileSync(script, SCRIPT);
  writeFileSync(list, JSON.stringify(tuples));
  const out = await nsRun(ns, process.execPath, [script, vip, String(port), list, String(size)], { timeoutMs: 60_000 });
  return (JSON.parse(out) as { sent: number }).sent;
}
