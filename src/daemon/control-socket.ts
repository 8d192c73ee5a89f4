/**
 * The daemon's local control socket: one JSON request per line, one JSON answer per line.
 * `status`, and the operations `drain` (optional timeoutMs), `resume`, `weight` (weight),
 * `resource` (op move|ban|clear|cleanup|standby with resource / node / on: docs/crm.md).
 * Unix-domain and mode 0600: local root only, nothing on the network.
 */
import { createServer, createConnection, type Server } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { VmacError } from '../util/errors.js';

export type ControlRequest =
  | { readonly cmd: 'status' }
  | { readonly cmd: 'drain'; readonly timeoutMs?: number }
  | { readonly cmd: 'resume' }
  | { readonly cmd: 'weight'; readonly weight: number; readonly persist?: boolean }
  | { readonly cmd: 'reload' }
  /** Cluster resources (docs/crm.md): move|ban (resource, node), clear|cleanup (resource), standby (node, on). */
  | { readonly cmd: 'resource'; readonly op: string; readonly resource?: string; readonly node?: string; readonly on?: boolean };

/** A request from the wire, checked field by field; a string says what is wrong. */
export function parseControlRequest(raw: unknown): ControlRequest | string {
  const r = raw as { cmd?: unknown; timeoutMs?: unknown; weight?: unknown; persist?: unknown } | null;
  switch (r?.cmd) {
    case 'status': return { cmd: 'status' };
    case 'resume': return { cmd: 'resume' };
    case 'drain':
      if (r.timeoutMs === undefined) return { cmd: 'drain' };
      return Number.isInteger(r.timeoutMs) && (r.timeoutMs as number) >= 0 && (r.timeoutMs as number) <= 86_400_000 ? { cmd: 'drain', timeoutMs: r.timeoutMs as number } : 'drain: timeoutMs must be a whole number of ms, 0..86400000';
    case 'weight':
      if (r.persist !== undefined && typeof r.persist !== 'boolean') return 'weight: persist must be true or false';
      return Number.isInteger(r.weight) && (r.weight as number) >= 0 && (r.weight as number) <= 1000 ? { cmd: 'weight', weight: r.weight as number, ...(r.persist === true ? { persist: true } : {}) } : 'weight: must be a whole number 0..1000';
    case 'reload': return { cmd: 'reload' };
    case 'resource': {
      const x = raw as { op?: unknown; resource?: unknown; node?: unknown; on?: unknown };
      if (typeof x.op !== 'string') return 'resource: op must be move, ban, clear, cleanup or standby';
      return { cmd: 'resource', op: x.op, ...(typeof x.resource === 'string' ? { resource: x.resource } : {}), ...(typeof x.node === 'string' ? { node: x.node } : {}), ...(typeof x.on === 'boolean' ? { on: x.on } : {}) };
    }
    default: return `unknown command ${JSON.stringify(r?.cmd)}`;
  }
}

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
        const req = parseControlRequest(JSON.parse(buf.slice(0, nl)));
        answer = typeof req === 'string' ? { ok: false, error: req } : { ok: true, status: handle(req) };
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
