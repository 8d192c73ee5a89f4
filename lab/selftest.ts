/**
 * The harness measuring itself: freeze one node's echo service for a known time (SIGUSR1 with
 * --freeze-ms, nothing else changes: the daemon keeps its lease, nobody takes over) and compare
 * the silence the prober measured with the freeze the echo logged (freeze and thaw instants on
 * the same monotonic clock) and with the nominal length.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabInfo, LabNodeInfo } from './lab.js';
import { predictor } from './answers.js';
import { probeUdp } from './probe.js';
import { listLabNamespaces } from './lab.js';
import { VmacError } from '../src/util/errors.js';

export interface FreezeMeasure {
  node: string;
  nominalMs: number;
  loggedMs: number | null; // thaw - freeze from the echo's own log
  measuredMs: number[]; // per client address of the node: the prober's longest silence
  errorVsNominalMs: number[]; // measured - nominal
  proberBehind: number;
}

interface EchoEvent { event: string; monoNs: number }

/** Pure: the first freeze at or after `fromMonoNs` and the thaw after it, from the echo's log lines. */
export function frozenWindow(logText: string, fromMonoNs: number): { freezeNs: number; thawNs: number } | null {
  const events = logText.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as EchoEvent);
  const freeze = events.find((e) => e.event === 'freeze' && e.monoNs >= fromMonoNs);
  const thaw = freeze ? events.find((e) => e.event === 'thaw' && e.monoNs >= freeze.monoNs) : undefined;
  return freeze && thaw ? { freezeNs: freeze.monoNs, thawNs: thaw.monoNs } : null;
}

export async function measureFreeze(lab: LabInfo, node: LabNodeInfo, o: { perClient: number; seedMs: number }): Promise<FreezeMeasure> {
  const nominalMs = lab.echoFreezeMs;
  if (nominalMs === undefined) throw new VmacError('VMAC_LAB_FAILED', 'the self-test needs a lab built with echoFreezeMs');
  const predict = predictor(lab);
  const files = lab.clients.map((c, i) => {
    const file = join(lab.dir, `st-c${i + 1}.addrs`);
    writeFileSync(file, `${c.addresses.filter((a) => predict(a) === node.name).slice(0, o.perClient).join('\n')}\n`);
    return { ns: c.ns, file };
  });
  const since = process.hrtime.bigint();
  const probes = files.map((f) => probeUdp(f.ns, { vip: lab.vip, port: lab.echoPort, addrFile: f.file, intervalUs: 1000, durationMs: 1000 + nominalMs, waitMs: 300 }));
  await new Promise((r) => setTimeout(r, 300 + o.seedMs));
  process.kill(node.echoPid, 'SIGUSR1');
  const results = await Promise.all(probes);
  const logged = frozenWindow(readFileSync(join(lab.dir, `${node.name}-echo.log`), 'utf8'), Number(since));
  const measuredMs = results.flatMap((r) => r.addrs.map((a) => a.maxGapUs / 1000));
  return {
    node: node.name,
    nominalMs,
    loggedMs: logged ? (logged.thawNs - logged.freezeNs) / 1e6 : null,
    measuredMs,
    errorVsNominalMs: measuredMs.map((m) => m - nominalMs),
    proberBehind: results.reduce((s, r) => s + r.behindTicks, 0),
  };
}

/** Throws when any namespace of lab `name` is still there: a run must leave nothing behind. */
export async function assertNothingLeft(name: string): Promise<void> {
  const left = await listLabNamespaces(name);
  if (left.length > 0) throw new VmacError('VMAC_LAB_FAILED', `lab ${name} left namespaces behind: ${left.join(' ')}`, { left });
}
