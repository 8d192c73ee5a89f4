/**
 * `vmac lab quic`: real QUIC connections (lab/c/quic.c over ngtcp2 + GnuTLS) through a sequence
 * of planned moves, with the per-flow UDP hand-over and, with --both, without it (lab/quic-lab.ts).
 */
import type { Command } from 'commander';
import { randomInt } from 'node:crypto';
import { QUIC_OPS } from '../../lab/quic-lab.js';
import { parseOps, quicRun, quicStepsTable, quicSummary } from '../../lab/quic-report.js';
import { printJson, reportError, EXIT_BAD_INPUT } from './output.js';

interface Options { name: string; ops: string; clients: string; perClient: string; latePerClient: string; intervalMs: string; stepMs: string; idleMs: string; seed?: string; keepEvidence?: string; udpPerFlow: boolean; both?: boolean; json?: boolean }

function count(text: string, flag: string, lo: number, hi: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${flag} must be an integer ${lo}..${hi}, got ${JSON.stringify(text)}`);
  return n;
}

export function registerLabQuic(lab: Command): void {
  lab.command('quic')
    .description('long-lived QUIC connections through drain, resume, hitless restart, kill -9 + rejoin, join and weight change: connections lost, stateless resets')
    .option('--name <prefix>', 'namespace prefix', 'vquic')
    .option('--ops <list>', `the sequence: ${QUIC_OPS.join(',')}`, QUIC_OPS.join(','))
    .option('--clients <n>', 'client namespaces', '3')
    .option('--per-client <n>', 'connections per client namespace at the start (one per source address)', '40')
    .option('--late-per-client <n>', 'connections per client namespace opened while node 2 is down (kill-rejoin)', '10')
    .option('--interval-ms <ms>', 'one request per connection every this many ms', '50')
    .option('--step-ms <ms>', 'how long each step runs after its operation', '1500')
    .option('--idle-ms <ms>', 'QUIC max_idle_timeout of clients and servers', '10000')
    .option('--seed <n>', 'seed for addresses and the hash seed')
    .option('--no-udp-per-flow', 'run with handover.udpPerFlow: false (the negative control)')
    .option('--both', 'run twice: per-flow hand-over on, then off (same seed)')
    .option('--keep-evidence <dir>', 'when a connection died: copy the node logs and client/server outputs there')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', `
Every node runs a QUIC server (TLS 1.3, stateless-reset tokens from one cluster-wide secret) on
the VIP, port 4433; every connection sends a request every --interval-ms and the reply names the
node. A connection that dies (stateless reset, idle timeout) is lost; those served by node 2 when
its daemon is killed are counted apart. Node 4 is configured but started by the join: before
it, one node out of three leaves no quorum, so restart and kill come after it. Every move from
node 4 serving to the end must fit in the daemon's 30 s drain timeout: old flows that never go
quiet are held that long at most. Needs lab/bin/vmac-quic (make -C lab/c). Example (docs/quic.md):
  vmac lab quic --both`)
    .action(async (o: Options) => {
      try {
        let spec;
        try {
          spec = {
            name: `${process.env.VMAC_LAB_TAG ?? ''}${o.name}`.slice(0, 12), ops: parseOps(o.ops, QUIC_OPS), clients: count(o.clients, '--clients', 1, 8),
            perClient: count(o.perClient, '--per-client', 1, 500), latePerClient: count(o.latePerClient, '--late-per-client', 0, 500),
            intervalMs: count(o.intervalMs, '--interval-ms', 1, 60_000), stepMs: count(o.stepMs, '--step-ms', 0, 60_000), idleMs: count(o.idleMs, '--idle-ms', 100, 600_000),
            ...(o.keepEvidence !== undefined ? { keepEvidence: o.keepEvidence } : {}),
            seed: o.seed !== undefined ? count(o.seed, '--seed', 1, 2 ** 31 - 1) : randomInt(1, 2 ** 31),
          };
        } catch (err) {
          process.stderr.write(`vmac: ${(err as Error).message}\n`); process.exitCode = EXIT_BAD_INPUT; return;
        }
        const log = (line: string): void => { process.stderr.write(`${line}\n`); };
        const modes = o.both === true ? [true, false] : [o.udpPerFlow];
        const results = [];
        for (const perFlow of modes) results.push(await quicRun(spec, perFlow, log));
        if (o.json === true) { printJson({ spec, results }); return; }
        for (const r of results) process.stdout.write(`${quicSummary(r)}\n${quicStepsTable(r)}\n\n`);
        process.stdout.write(`seed ${spec.seed}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
