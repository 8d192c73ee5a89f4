/**
 * Real QUIC through planned moves: a `vmac-quic` server (ngtcp2 + GnuTLS, TLS 1.3) on every node
 * on the VIP, long-lived QUIC connections from every client namespace (one per source address,
 * a request every `intervalMs`, the answering node named in each reply), while the lab runs a
 * sequence of operations. Every server derives stateless-reset tokens from one cluster-wide
 * secret, as servers behind one address do: a packet of a connection that reaches a node which
 * does not know it is answered with a stateless reset and the connection dies. Per step: the
 * connections alive and dead, stateless resets received, requests sent and answered.
 *
 * Operations: drain / resume (node 1), restart-hitless (SIGUSR2 + a new daemon adopting the
 * kernel state, node 1), kill-rejoin (kill -9 of node 2's daemon; a batch of new connections
 * opens while it is down, so the survivors hold flows in node 2's buckets when it comes back;
 * then node 2's daemon starts again), join (node 4, configured but started late), weight
 * (node 3 to 50). Connections that node 2 served when it was killed are counted apart: they die
 * with their node (the must-show counts connections of other nodes).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { spawnInNs } from './exec.js';
import { repoRoot, requireBuilt } from './paths.js';
import { control, joinTimes, leaseLapses, startDaemon, waitLog } from './handover.js';
import { isAlive, waitExit } from './faults.js';

/**
 * The default sequence. With the 4th node configured but not started, any one of the three
 * running nodes out (a hitless restart's few seconds, a kill) leaves 2 of 4: no quorum, every
 * node stops. So the join comes before the restart and the kill. Every move after the join must
 * end within the daemon's 30 s drain timeout from the moment node 4 takes its share: the
 * connections that stay with their old owners are held that long at most.
 */
export const QUIC_OPS = ['drain', 'resume', 'join', 'weight', 'restart-hitless', 'kill-rejoin'] as const;
export type QuicOp = (typeof QUIC_OPS)[number];
/** The UDP port the QUIC servers listen on (the echo service has the lab's echo port). */
export const QUIC_PORT = 4433;

export interface QuicConnReport { addr: string; port: number; handshakeMs: number; sent: number; answered: number; outOfOrder: number; maxGapMs: number; maxGapAtMs: number; lastAnswerMs: number; switches: number; resets: number; dead: string | null; deadAtMs: number; nodes: Record<string, number> }
interface Mark { atMs: number; conns: number; handshaken: number; alive: number; dead: number; resets: number; sent: number; answered: number; lastNode: string[] }
interface Death { conn: number; addr: string; reason: string; node: string }

export interface QuicStep {
  op: QuicOp | 'start';
  /** ms from the first client's start to this step's mark. */
  atMs: number;
  /** How long the operation's commands took (the step then runs `stepMs` more). */
  opMs: number;
  alive: number;
  /** Deaths during this step (all clients), by reason and by the node that last answered. */
  died: number;
  deaths: Death[];
  sent: number;
  answered: number;
  /** Live connections by the node that answered their latest request. */
  byNode: Record<string, number>;
}

export interface QuicLabResult {
  perFlow: boolean;
  connections: number;
  handshaken: number;
  /** Connections that died and were not on the node killed by kill-rejoin when it was killed. */
  lost: number;
  /** Of every connection: how many received a stateless reset (counted with the excluded too: see `resetsOnKilledNode`). */
  resets: number;
  /** Connections answered by more than one node over their life (a switch without a death would be a bug of the test). */
  switched: number;
  /** Connections node 2 served when its daemon was killed (they die with it; not in `lost`). */
  onKilledNode: number;
  lostOnKilledNode: number;
  resetsOnKilledNode: number;
  lostByReason: Record<string, number>;
  requestsSent: number;
  requestsAnswered: number;
  /** Longest silence between two answers of one connection that was not lost. */
  maxGapMs: number;
  steps: QuicStep[];
  /** Stateless resets the servers sent, per node. */
  resetsSent: Record<string, number>;
  /** From the first move that starts a drain timer (node 4 serving, a rejoin, a weight change) to the clients' stop: must stay under the daemon's 30 s drain timeout. */
  heldForMs: number | null;
  join: { servingMs: number | null; shareTakenMs: number | null } | null;
  leaseLapses: Record<string, { stopped: number; forgot: number }>;
}

export interface QuicLabOptions {
  /** Connections per client namespace opened at the start (one per source address). */
  perClient: number;
  /** Connections per client namespace opened while node 2 is down (kill-rejoin). */
  latePerClient: number;
  intervalMs: number;
  ops: readonly QuicOp[];
  /** How long each step runs after its operation. */
  stepMs: number;
  /** QUIC max_idle_timeout of clients and servers. */
  idleMs: number;
  perFlow: boolean;
  log?: (msg: string) => void;
  /** A directory to copy the node logs and client/server outputs into when a connection died. */
  keepEvidence?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quicBinary(): string {
  return requireBuilt(join(repoRoot(), 'lab/bin', 'vmac-quic'), 'run `make -C lab/c` (or `make setup`) first');
}

function lines<T>(file: string, event: string): T[] {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').filter((l) => l.includes(`"event":"${event}"`)).map((l) => JSON.parse(l) as T);
}

interface Client { ns: string; pid: number; out: string; first: number }

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`QUIC lab: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** SIGUSR1 to every client, then their fresh marks merged (conn indices offset per client). */
async function markAll(clients: Client[], timeoutMs = 10_000): Promise<Mark & { marks: Mark[] }> {
  const before = clients.map((c) => lines<Mark>(c.out, 'mark').length);
  for (const c of clients) process.kill(c.pid, 'SIGUSR1');
  await waitFor('a mark from every client', () => clients.every((c, i) => lines<Mark>(c.out, 'mark').length > (before[i] ?? 0)), timeoutMs);
  const marks = clients.map((c) => lines<Mark>(c.out, 'mark').at(-1) as Mark);
  const sum = (k: 'conns' | 'handshaken' | 'alive' | 'dead' | 'resets' | 'sent' | 'answered'): number => marks.reduce((a, m) => a + m[k], 0);
  return { atMs: Math.max(...marks.map((m) => m.atMs)), conns: sum('conns'), handshaken: sum('handshaken'), alive: sum('alive'), dead: sum('dead'), resets: sum('resets'), sent: sum('sent'), answered: sum('answered'), lastNode: marks.flatMap((m) => m.lastNode), marks };
}

function byNode(lastNode: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of lastNode) if (n !== '') out[n] = (out[n] ?? 0) + 1;
  return out;
}

export async function quicThroughOperations(lab: LabInfo, o: QuicLabOptions): Promise<QuicLabResult> {
  const log = o.log ?? (() => undefined);
  const bin = quicBinary();
  const [n1, n2, n3, n4] = lab.nodes;
  if (!n1 || !n2) throw new Error('the QUIC lab needs at least 2 nodes');
  if (o.ops.includes('join') && !n4) throw new Error('join needs a 4th node started late (lateNodes: [4])');
  if (o.ops.includes('weight') && !n3) throw new Error('weight needs a 3rd node');
  const logFrom = new Map(lab.nodes.map((n) => [n.name, statSync(n.log).size]));
  // A throwaway certificate, and the cluster-wide stateless-reset secret.
  const cert = join(lab.dir, 'quic-cert.pem');
  const key = join(lab.dir, 'quic-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=vmac.lab'], { stdio: 'ignore' });
  const secret = randomBytes(32).toString('hex');
  const servers = lab.nodes.map((n) => {
    const out = join(lab.dir, `${n.name}-quic.log`);
    const child = spawnInNs(n.ns, bin, ['server', '--name', n.name, '--addr', lab.vip, '--port', String(QUIC_PORT), '--cert', cert, '--key', key, '--reset-secret', secret, '--idle-ms', String(o.idleMs)], out);
    return { node: n, pid: child.pid ?? -1, out };
  });
  await waitFor('every QUIC server ready', () => servers.every((s) => lines(s.out, 'ready').length > 0), 10_000);

  const clients: Client[] = [];
  let nextConn = 0;
  const startClients = (batch: string, from: number, count: number): Client[] => {
    const started = lab.clients.map((c, i) => {
      const addrs = c.addresses.slice(from, from + count);
      if (addrs.length < count) throw new Error(`client ${c.ns} has ${c.addresses.length} addresses, needs ${from + count}`);
      const file = join(lab.dir, `quic-${batch}-c${i + 1}.addrs`);
      writeFileSync(file, `${addrs.join('\n')}\n`);
      const out = join(lab.dir, `quic-${batch}-c${i + 1}.out`);
      // The duration is only a bound: the lab ends the clients with SIGTERM after the last step.
      const child = spawnInNs(c.ns, bin, ['client', '--vip', lab.vip, '--port', String(QUIC_PORT), '--addrs', file, '--interval-ms', String(o.intervalMs), '--duration-ms', '600000', '--idle-ms', String(o.idleMs)], out);
      const cl = { ns: c.ns, pid: child.pid ?? -1, out, first: nextConn };
      nextConn += count;
      return cl;
    });
    clients.push(...started);
    return started;
  };
  const handshaken = async (batch: Client[], count: number): Promise<void> => {
    // Signals only once the client handles them (SIGUSR1's default action ends a process).
    await waitFor('every QUIC client started', () => batch.every((c) => lines(c.out, 'start').length > 0), 10_000);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = await markAll(batch);
      if (m.handshaken + m.dead >= count) return;
      if (Date.now() > deadline) throw new Error(`QUIC lab: ${m.handshaken} of ${count} connections handshaken within 20 s`);
      await sleep(200);
    }
  };

  const t0 = Date.now();
  startClients('start', 0, o.perClient);
  await handshaken(clients, o.perClient * lab.clients.length);
  await sleep(o.stepMs);
  const steps: QuicStep[] = [];
  let deathsSeen = 0;
  const allDeaths = (): Death[] => clients.flatMap((c) => lines<Death>(c.out, 'dead').map((d) => ({ ...d, conn: d.conn + c.first })));
  const record = async (op: QuicOp | 'start', opMs: number): Promise<Mark> => {
    const m = await markAll(clients);
    const deaths = allDeaths();
    const fresh = deaths.slice(deathsSeen);
    deathsSeen = deaths.length;
    const step: QuicStep = { op, atMs: Date.now() - t0, opMs, alive: m.alive, died: fresh.length, deaths: fresh.map((d) => ({ conn: d.conn, addr: d.addr, reason: d.reason, node: d.node })), sent: m.sent, answered: m.answered, byNode: byNode(m.lastNode) };
    steps.push(step);
    log(`[quic] ${op}: ${m.alive} alive, ${fresh.length} died (${[...new Set(fresh.map((d) => d.reason))].join(', ') || 'none'}), by node ${JSON.stringify(step.byNode)}`);
    return m;
  };
  await record('start', 0);

  // Connections served by node 2 when its daemon is killed: they die with their node.
  const onKilled = new Set<number>();
  let heldFrom: number | null = null;
  let joined: QuicLabResult['join'] = null;
  for (const op of o.ops) {
    const opStart = Date.now();
    const victimFrom = (n: LabNodeInfo): number => statSync(n.log).size;
    if (op === 'drain') {
      // A long drain timeout: the old flows never go quiet, so the drain holds them until resume.
      await control(n1, ['drain', '--timeout', '120000']);
    } else if (op === 'resume') {
      await control(n1, ['resume']);
    } else if (op === 'restart-hitless') {
      const from = victimFrom(n1);
      process.kill(n1.daemonPid, 'SIGUSR2');
      await waitExit(n1.daemonPid, 15_000);
      startDaemon(n1);
      await waitLog(n1.log, from, 'serving', 30_000);
    } else if (op === 'kill-rejoin') {
      const m = await markAll(clients);
      m.lastNode.forEach((n, i) => { if (n === n2.name) onKilled.add(i); });
      process.kill(n2.daemonPid, 'SIGKILL');
      await waitExit(n2.daemonPid, 10_000);
      // Let the survivors take node 2's buckets, then open new connections: those in node 2's
      // buckets are now the survivors' and must stay with them when node 2 comes back.
      await sleep(2000);
      if (o.latePerClient > 0) {
        const batch = startClients('late', o.perClient, o.latePerClient);
        await handshaken(batch, o.latePerClient * lab.clients.length);
        await sleep(Math.min(1000, o.stepMs));
      }
      const from = victimFrom(n2);
      heldFrom ??= Date.now();
      startDaemon(n2);
      await waitLog(n2.log, from, 'serving', 30_000);
    } else if (op === 'join' && n4) {
      const started = Date.now();
      startDaemon(n4);
      const deadline = Date.now() + 20_000;
      let j = joinTimes(n4.log, started);
      while (j.shareTakenMs === null && Date.now() < deadline) { await sleep(200); j = joinTimes(n4.log, started); }
      joined = { servingMs: j.servingMs, shareTakenMs: j.shareTakenMs };
      // The old owners' drains toward node 4 (and their timers) start when it takes its share.
      heldFrom ??= started + (j.servingMs ?? j.shareTakenMs ?? 0);
    } else if (op === 'weight' && n3) {
      heldFrom ??= Date.now();
      await control(n3, ['weight', '50']);
    }
    const opMs = Date.now() - opStart;
    await sleep(o.stepMs);
    await record(op, opMs);
  }
  const heldForMs = heldFrom === null ? null : Date.now() - heldFrom;
  if (heldForMs !== null && heldForMs >= 30_000) log(`[quic] the sequence held old flows for ${heldForMs} ms: longer than the daemon's 30 s drain timeout, connections may have died of it (shorter --step-ms)`);

  for (const c of clients) if (isAlive(c.pid)) process.kill(c.pid, 'SIGTERM');
  for (const c of clients) await waitExit(c.pid, 10_000);
  for (const s of servers) if (isAlive(s.pid)) process.kill(s.pid, 'SIGTERM');
  for (const s of servers) await waitExit(s.pid, 10_000).catch(() => undefined);

  // Keep the evidence: a lost connection is a finding, and the lab (and its logs) is gone afterwards.
  const lostAny = clients.some((c) => lines(c.out, 'dead').length > 0);
  if (lostAny && o.keepEvidence !== undefined) {
    const dir = join(o.keepEvidence, `${lab.name}-${o.perFlow ? 'perflow' : 'off'}`);
    mkdirSync(dir, { recursive: true });
    for (const n of lab.nodes) writeFileSync(join(dir, `${n.name}.log`), readFileSync(n.log, 'utf8').slice(logFrom.get(n.name) ?? 0));
    for (const c of [...clients, ...servers]) copyFileSync(c.out, join(dir, basename(c.out)));
    log(`[quic] connections died: node logs and client/server outputs kept in ${dir}`);
  }
  const conns: QuicConnReport[] = clients.flatMap((c) => {
    const r = lines<{ conns: QuicConnReport[] }>(c.out, 'report').at(-1);
    if (!r) throw new Error(`QUIC lab: no report from the client in ${c.ns} (${c.out})`);
    return r.conns;
  });
  const counted = conns.filter((_, i) => !onKilled.has(i));
  const excluded = conns.filter((_, i) => onKilled.has(i));
  const lostByReason: Record<string, number> = {};
  for (const c of counted) if (c.dead !== null) lostByReason[c.dead] = (lostByReason[c.dead] ?? 0) + 1;
  const resetsSent: Record<string, number> = {};
  for (const s of servers) resetsSent[s.node.name] = lines<{ resetsSent: number }>(s.out, 'exit').at(-1)?.resetsSent ?? -1;
  return {
    perFlow: o.perFlow,
    connections: conns.length,
    handshaken: conns.filter((c) => c.handshakeMs >= 0).length,
    lost: counted.filter((c) => c.dead !== null || c.handshakeMs < 0).length,
    resets: counted.filter((c) => c.resets > 0).length,
    switched: counted.filter((c) => Object.keys(c.nodes).length > 1).length,
    onKilledNode: excluded.length,
    lostOnKilledNode: excluded.filter((c) => c.dead !== null).length,
    resetsOnKilledNode: excluded.filter((c) => c.resets > 0).length,
    lostByReason,
    requestsSent: conns.reduce((a, c) => a + c.sent, 0),
    requestsAnswered: conns.reduce((a, c) => a + c.answered, 0),
    maxGapMs: Math.max(0, ...counted.filter((c) => c.dead === null).map((c) => c.maxGapMs)),
    steps,
    resetsSent,
    heldForMs,
    join: joined,
    leaseLapses: leaseLapses(lab, logFrom),
  };
}
