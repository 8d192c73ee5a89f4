/**
 * TCP downloads through the echo service, from chosen client source addresses inside a client
 * namespace: connect to the VIP from the address, read the node's greeting, send `bytes`, and
 * wait for all of them to come back (the node's answer travels in full-size segments). Each
 * transfer either completes or times out (a path-MTU black hole: the node keeps resending
 * segments the path cannot carry).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsRun } from './exec.js';

export interface DownloadResult { addr: string; node: string | null; ok: boolean; ms: number; received: number }

const SCRIPT = `
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
const [vip, port, file, bytes, timeoutMs] = process.argv.slice(2);
const addrs = JSON.parse(readFileSync(file, 'utf8'));
const one = (addr) => new Promise((resolve) => {
  const t0 = Date.now();
  let node = null; let buf = ''; let received = 0; let done = false;
  const finish = (ok) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); resolve({ addr, node, ok, ms: Date.now() - t0, received }); };
  const s = connect({ host: vip, port: Number(port), localAddress: addr });
  const timer = setTimeout(() => finish(false), Number(timeoutMs));
  s.on('error', () => finish(false));
  s.on('data', (d) => {
    if (node === null) {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\\n');
      if (nl < 0) return;
      node = buf.slice(0, nl);
      received = buf.length - nl - 1;
      s.write(Buffer.alloc(Number(bytes), 0x61));
    } else received += d.length;
    if (received >= Number(bytes)) finish(true);
  });
});
const results = await Promise.all(addrs.map(one));
process.stdout.write(JSON.stringify(results));
`;

export async function downloads(ns: string, dir: string, vip: string, port: number, addrs: readonly string[], o: { bytes: number; timeoutMs: number }): Promise<DownloadResult[]> {
  const script = join(dir, 'download.mjs');
  const list = join(dir, `download-${ns}.json`);
  writeFileSync(script, SCRIPT);
  writeFileSync(list, JSON.stringify(addrs));
  const out = await nsRun(ns, process.execPath, [script, vip, String(port), list, String(o.bytes), String(o.timeoutMs)], { timeoutMs: o.timeoutMs + 30_000 });
  return JSON.parse(out) as DownloadResult[];
}
