/**
 * The daemon's local control socket: one JSON request per line, one JSON answer per line.
 * Only `status` for now. Unix-domain and mode 0600: local root only, nothing on the network.
 */
import { createServer, createConnection, type Server } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { VmacError } from '../util/errors.js';

export type ControlRequest = { readonly cmd: 'status' };

export async function serveControl(path: string, handle: (req: ControlRequest) => unknown): Promise<{ close(): void }> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true }); // a stale socket from a crashed daemon
  const server: Server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 4096) { conn.destroy(); return; }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let answer: unknown;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as Partial<ControlRequest>;
        answer = req.cmd === 'status' ? { ok: true, status: handle({ cmd: 'status' }) } : { ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` };
      } catch (err) {
        answer = { ok: false, error: `bad request: ${(err as Error).message}` };
      }
      conn.end(`${JSON.stringify(answer, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  chmodSync(path, 0o600);
  return {
    close() {
      server.close();
      rmSync(path, { force: true });
    },
  };
}

export function requestControl(path: string, req: ControlRequest, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => { conn.destroy(); reject(new VmacError('VMAC_CONTROL_FAILED', `no answer from ${path} within ${timeoutMs} ms`, { path })); }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (c: string) => (buf += c));
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        const a = JSON.parse(buf) as { ok: boolean; status?: unknown; error?: string };
        if (a.ok) resolve(a.status);
        else reject(new VmacError('VMAC_CONTROL_FAILED', a.error ?? 'request refused', { path }));
      } catch (err) {
        reject(new VmacError('VMAC_CONTROL_FAILED', `bad answer from ${path}: ${(err as Error).message}`, { path }));
      }
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(new VmacError('VMAC_CONTROL_FAILED', `cannot reach the daemon at ${path}: ${err.message} (is \`vmac run\` running for this service?)`, { path }, { cause: err }));
    });
  });
}
