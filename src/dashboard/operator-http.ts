/**
 * The operator HTTP endpoint: GET /metrics (Prometheus), / (dashboard page), /api/state (JSON
 * snapshot) and /events (server-sent events: `state` snapshots and `timeline` entries). Read-only:
 * nothing here changes the cluster. Bounded: at most MAX_STREAMS live event streams.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { VmacError } from '../util/errors.js';
import { DASHBOARD_HTML } from './page.js';

export interface OperatorHandlers {
  metrics(): Promise<{ contentType: string; body: string }>;
  state(): unknown;
  timeline(): readonly unknown[];
}

export interface OperatorHttp {
  readonly port: number;
  broadcast(event: 'state' | 'timeline', data: unknown): void;
  streams(): number;
  close(): Promise<void>;
}

/** Browsers reconnect an event stream by themselves; a handful of viewers is the use case. */
const MAX_STREAMS = 16;
/** Comment lines keep idle streams open through proxies that cut silent connections (~30-60 s). */
const KEEPALIVE_MS = 15_000;

export async function serveOperatorHttp(host: string, port: number, h: OperatorHandlers): Promise<OperatorHttp> {
  const streams = new Set<ServerResponse>();
  const send = (res: ServerResponse, event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') { res.writeHead(405, { allow: 'GET' }).end(); return; }
    if (path === '/metrics') {
      h.metrics().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
      );
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(DASHBOARD_HTML);
    } else if (path === '/api/state') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ state: h.state(), timeline: h.timeline() }));
    } else if (path === '/events') {
      if (streams.size >= MAX_STREAMS) { res.writeHead(503, { 'retry-after': '5' }).end('too many event streams\n'); return; }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      streams.add(res);
      send(res, 'state', h.state());
      for (const e of h.timeline()) send(res, 'timeline', e);
      req.on('close', () => streams.delete(res));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /, /metrics, /events, /api/state\n');
    }
  });
  const keepalive = setInterval(() => { for (const s of streams) s.write(': keepalive\n\n'); }, KEEPALIVE_MS);
  keepalive.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new VmacError('VMAC_METRICS_LISTEN_FAILED', `cannot listen on ${host}:${port} for metrics/dashboard: ${err.message} (another service on this host? set metrics.listen to another port, or "off")`, { host, port }, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : port,
    broadcast(event, data) { for (const s of streams) send(s, event, data); },
    streams: () => streams.size,
    close() {
      clearInterval(keepalive);
      for (const s of streams) s.end();
      streams.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
