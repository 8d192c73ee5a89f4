import type { Command } from 'commander';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { labUp, type LabInfo } from '../../lab/lab.js';
import { withLabCleanup } from '../../lab/guard.js';
import { failoverRun, summarize, type FailoverSummary, type RunResult } from '../../lab/failover.js';
import { FAULTS, DEFAULT_LOSS_PERCENT, probeWindowMs, type FaultKind } from '../../lab/faults.js';
import { failoverRunSvg } from '../../lab/failover-svg.js';
import { predictor } from '../../lab/answers.js';
import { HB_LINKS, parseTimingOverrides, TIMING_KEYS, type HbLink } from '../../lab/plan.js';
import { DEFAULT_TCP_LOAD, type TcpLoad, type StreamsResult } from '../../lab/failover-tcp.js';
import { modeOptionHelp, modeSpecOf } from '../../lab/modes.js';
import { printJson, reportError, EXIT_BAD_INPUT } from './output.js';

interface Options { name: string; nodes: string; fault: string; runs: string; profile: string; perClient: string; json?: boolean; seed?: string; svg?: string; router?: boolean; hbLink: string; lossPercent: string; timing?: string; tcp?: boolean; timingScale?: string; datapathCheck: boolean; udpPerFlow: boolean; udpIdleMs: string; ipv6?: boolean; datapath?: string; mode?: string; switch?: string }

/** The Markdown failover table (one row), as `vmac lab failover` and the demo print it. */
export function failoverTable(s: FailoverSummary, profile: string): string {
  const f1 = (n: number): string => `${n.toFixed(1)} ms`;
  return [
    '| fault | profile | runs | gap p50 | gap p99 | gap max | duplicates | lost (survivors) | lost (victim\'s clients) | false takeovers |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${s.fault} | ${profile} | ${s.runs} | ${f1(s.gapMs.p50)} | ${f1(s.gapMs.p99)} | ${f1(s.gapMs.max)} | ${s.duplicates} | ${s.lostSurvivors} | ${s.lostVictim} | ${s.falseTakeovers} |`,
    ...(s.proberBehind > 0 ? ['', `The prober fell behind its 1 ms schedule ${s.proberBehind} times: gaps carry up to that jitter.`] : []),
    ...(s.leaseWatched > 0 ? ['', `The cut-off node's own lease was gone before a survivor answered in ${s.leaseGoneBeforeTakeover} of ${s.leaseWatched} runs.`] : []),
    ...(s.takeoverDecision.decisions > 0 ? ['', decisionLine(s.takeoverDecision)] : []),
    ...(s.tcp ? ['', tcpTable(s)] : []),
    ...(s.v6 ? ['', `| family | gap p50 | gap p99 | gap max | duplicates | lost (survivors) | lost (victim's clients) | false takeovers |`, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| IPv4 | ${f1(s.gapMs.p50)} | ${f1(s.gapMs.p99)} | ${f1(s.gapMs.max)} | ${s.duplicates} | ${s.lostSurvivors} | ${s.lostVictim} | ${s.falseTakeovers} |`,
      `| IPv6 | ${f1(s.v6.gapMs.p50)} | ${f1(s.v6.gapMs.p99)} | ${f1(s.v6.gapMs.max)} | ${s.v6.duplicates} | ${s.v6.lostSurvivors} | ${s.v6.lostVictim} | ${s.v6.falseTakeovers} |`,
      '', `IPv6 gap p50 / IPv4 gap p50 in the same runs: ${(s.v6.gapMs.p50 / s.gapMs.p50).toFixed(3)}.`] : []),
  ].join('\n');
}

/** Where the takeover time went, from the survivors' logs. */
export function decisionLine(d: FailoverSummary['takeoverDecision']): string {
  const f1 = (n: number): string => n.toFixed(1);
  return `Survivors decided to take over ${f1(d.silentMs.p50)} ms (p50; max ${f1(d.silentMs.max)}) after the last heartbeat they heard from the victim (dead time + agreement); the ruleset transaction took ${f1(d.applyMs.p50)} ms (p50; max ${f1(d.applyMs.max)}). ${d.decisions} decisions.`;
}

/** TCP during the runs (--tcp): one row per side, summed over all runs. */
export function tcpTable(s: FailoverSummary): string {
  const t = s.tcp;
  if (!t) return '';
  const row = (side: string, r: StreamsResult): string => `| ${s.fault} | ${side} | ${r.opened} | ${r.resets} | ${r.stalls} | ${r.max_silent_ms} ms | ${r.new_ok} | ${r.new_failed} | ${r.slow_connects} |`;
  return [
    '| fault | clients of | streams opened | resets | stalled (> 1 s silent) | longest silence | new conns ok | new conns failed | slow connects (SYN retried) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('survivors', t.survivors),
    row('the victim', t.victim),
    '',
    `Survivors' clients saw a reset or a stalled stream in ${t.runsSurvivorsDisturbed} of ${s.runs} runs.`,
  ].join('\n');
}

/** One line per run on stderr, while the series runs. */
export function runLine(r: RunResult, runs: number): string {
  const gaps = r.gapsMs;
  const gap = gaps.length > 0 ? `${Math.min(...gaps).toFixed(0)}-${Math.max(...gaps).toFixed(0)} ms` : 'n/a';
  const v6 = r.v6 ? `; IPv6 gap ${r.v6.gapsMs.length > 0 ? `${Math.min(...r.v6.gapsMs).toFixed(0)}-${Math.max(...r.v6.gapsMs).toFixed(0)} ms` : 'n/a'}, duplicates ${r.v6.duplicates}, lost ${r.v6.lostSurvivors} (victim's clients ${r.v6.lostVictim})` : '';
  return `[failover] run ${r.run}/${runs} ${r.fault} ${r.victim}: gap ${gap}${v6}, duplicates ${r.duplicates}, lost ${r.lostSurvivors} (victim's clients ${r.lostVictim})${r.falseTakeovers > 0 ? `, false takeovers ${r.falseTakeovers}` : ''}${r.proberBehind > 0 ? `, prober behind ${r.proberBehind}x` : ''}${r.leaseStops.length > 0 ? `, lease stopped on ${r.leaseStops.join(',')}` : ''}${r.takeoverLog.length > 0 ? `, decided ${r.takeoverLog.map((l) => `${l.node} ${l.silentMs === null ? '?' : l.silentMs.toFixed(0)} ms silent + ${l.applyMs.toFixed(1)} ms nft`).join(', ')}` : ''}${r.tcp ? `; tcp survivors ${r.tcp.survivors.resets} resets/${r.tcp.survivors.stalls} stalls/${r.tcp.survivors.new_failed} failed new, victim's ${r.tcp.victim.resets} resets/${r.tcp.victim.stalls} stalls/${r.tcp.victim.new_failed} failed new` : ''}`;
}

/** Runs `runs` faults on a live lab, victims in turn; the first run keeps its timeline for --svg. */
export async function failoverSeries(info: LabInfo, o: { fault: FaultKind; runs: number; perClient: number; seed: number; lossPercent?: number; svg?: string; profile: string; tcp?: TcpLoad; timingScale?: number; ipv6?: boolean; log?: (line: string) => void }): Promise<RunResult[]> {
  const out: RunResult[] = [];
  // Slower timers (--timing-scale k) fail over later: 300 ms more of probing per step of k.
  const durationMs = probeWindowMs(o.fault) + ((o.timingScale ?? 1) - 1) * 300;
  for (let i = 1; i <= o.runs; i++) {
    const victim = info.nodes[(i - 1) % info.nodes.length];
    if (!victim) break;
    const r = await failoverRun(info, { run: i, fault: o.fault, victim, perClient: o.perClient, durationMs, seed: o.seed + i, faultOptions: { lossPercent: o.lossPercent ?? DEFAULT_LOSS_PERCENT }, timeline: i === 1 && o.svg !== undefined, ...(o.tcp ? { tcp: o.tcp } : {}), ...(o.ipv6 === true ? { ipv6: true } : {}) });
    out.push(r);
    (o.log ?? ((l: string) => void process.stderr.write(`${l}\n`)))(runLine(r, o.runs));
    if (i === 1 && o.svg !== undefined) {
      const svg = failoverRunSvg(r, { title: `vmac ${info.nodes.length} nodes, ${o.profile} profile: ${o.fault} of ${r.victim} (run 1), one lane per client address`, durationMs, nodes: info.nodes.map((n) => n.name), owner: predictor(info) });
      writeFileSync(o.svg, svg);
    }
  }
  return out;
}

export function registerLabFailover(lab: Command): void {
  lab.command('failover')
    .description('measure failover: probe every 1 ms, inject a fault, repeat; prints gap p50/p99/max')
    .option('--name <prefix>', 'namespace prefix', 'vfail')
    .option('--nodes <n>', 'cluster nodes', '3')
    .option('--fault <kind>', `fault to inject: ${FAULTS.join(' | ')}`, 'kill')
    .option('--runs <n>', 'fault injections (the node is restored between runs)', '20')
    .option('--profile <p>', 'timing profile: default | fast', 'default')
    .option('--timing <k=v,...>', `timing values over the profile's, checked like a config file (keys: ${TIMING_KEYS.join(', ')})`)
    .option('--per-client <k>', 'probed addresses per client namespace, for the victim and for the others each', '5')
    .option('--seed <n>', 'seed for addresses, hash seed and fault timing')
    .option('--loss-percent <p>', 'share of the node\'s packets dropped, in and out, for --fault loss', String(DEFAULT_LOSS_PERCENT))
    .option('--router', 'clients behind a router namespace (every frame carries the router\'s MAC)')
    .option('--hb-link <where>', `heartbeats on: ${HB_LINKS.join(' | ')}`, 'data')
    .option('--tcp', `also run TCP during every run: ${DEFAULT_TCP_LOAD.streamsPerClient} long-lived streams and ${DEFAULT_TCP_LOAD.newPerSec} new connections/s per client namespace, from the victim's and from the survivors' client addresses`)
    .option('--timing-scale <k>', 'multiply the profile\'s heartbeat interval, lease and renewal period by k in every node config (large labs on few cores: see docs/scale.md)')
    .option('--no-datapath-check', 'daemons without dataPathCheck (by default they ping the gateway 10.200.0.254)')
    .option('--udp-idle-ms <ms>', 'handover.udpIdleMs in every node config: short, so a planned stop whose UDP flows end with the probe window finishes within the run', '1000')
    .option('--no-udp-per-flow', 'daemons without the per-flow UDP hand-over (handover.udpPerFlow: false), to show what it prevents')
    .option('--svg <file>', 'draw the first run as an SVG timeline (one lane per client address)')
    .option('--ipv6', 'dual stack: also probe the VIP6 from as many IPv6 client addresses in the same runs, and report both families side by side')
    .option('--datapath <backend>', 'datapath in every node config: nft | xdp (default: the product default, nft)')
    .option('--mode <m>', modeOptionHelp().mode)
    .option('--switch <s>', modeOptionHelp().switch)
    .option('--json', 'print {summary, runs} as JSON')
    .addHelpText('after', `
Each run probes from 3 client namespaces (per-client addresses owned by the victim and as many
owned by the others) every 1 ms for 2 s (2.5 s for partition-data, 5 s for restart/rejoin), injects the fault 300-600 ms
in, then restores the victim and waits until it serves again. Faults:
  kill  kill -9 of the daemon          stop  SIGSTOP of the daemon
  crash daemon and echo service killed link  the node's switch port goes down
  partition       heartbeats cut (nft in the node's namespace drops UDP 5789), data kept
  partition-data  data cut, heartbeats kept: the victim's data-path check (it pings the gateway,
                  10.200.0.254: the router, or an address on the flat segment's switch) fails
                  after fall rounds and the victim drains to its peers (--no-datapath-check: nothing
                  takes over, the victim's clients get no answers)
  loss  --loss-percent of the node's packets dropped at random (nft numgen; no netem here)
  term  planned stop (SIGTERM)
  restart  SIGTERM then start again in the window   rejoin  a killed node starts again
Measures:
  gap             longest silence seen by a client of the victim (p50/p99/max over all runs)
  duplicates      requests answered by two nodes (must be 0 but for term/restart hand-overs)
  lost            probes lost by clients of the surviving nodes (must be 0)
  false takeovers survivors' client addresses answered by a node other than their owner
With --tcp, per side (clients of the survivors / of the victim), summed over the runs:
  resets          streams reset or cut (ECONNRESET, EPIPE, unexpected EOF); survivors: must be 0
  stalled         streams silent > 1 s (8 bytes echoed every 100 ms); survivors: must be 0
  new ok/failed   short connections (connect, greeting, 1 byte echoed); failed = refused, reset
                  or no greeting within 3 s; slow = greeted after > 1 s (a SYN was retried)
  The victim's streams were accepted by a kernel that is gone or cut off: the node taking over
  has no socket for them and resets them (no connection state moves on a failover).
Examples:
  vmac lab failover --nodes 3 --fault kill --runs 20 --json
  vmac lab failover --nodes 3 --fault link --runs 20 --tcp
  vmac lab failover --nodes 32 --fault kill --runs 10 --timing-scale 5`)
    .action(async (o: Options) => {
      try {
        const fault = o.fault as FaultKind;
        const bad = !FAULTS.includes(fault) ? `--fault: ${JSON.stringify(o.fault)} is not one of ${FAULTS.join(', ')}`
          : !HB_LINKS.includes(o.hbLink as HbLink) ? `--hb-link: ${JSON.stringify(o.hbLink)} is not one of ${HB_LINKS.join(', ')}`
          : o.datapath !== undefined && o.datapath !== 'nft' && o.datapath !== 'xdp' ? `--datapath: ${JSON.stringify(o.datapath)} is not one of nft, xdp` : null;
        if (bad) {
          process.stderr.write(`vmac: ${bad}\n`);
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        const seed = o.seed === undefined ? randomInt(1, 2 ** 31) : Number(o.seed);
        const runs = Number(o.runs);
        const timing = o.timing === undefined ? undefined : parseTimingOverrides(o.timing);
        let upMs: LabInfo['upMs'];
        const results = await withLabCleanup(o.name, async () => {
          // arp-steer steers a host by the one address its ARP carries: 12 client namespaces of one address.
          const info = await labUp({ name: o.name, nodes: Number(o.nodes), clients: o.mode === 'arp-steer' ? 12 : 3, addrs: o.mode === 'arp-steer' ? 1 : 60, seed, buckets: 256, profile: o.profile === 'fast' ? 'fast' : 'default', affinity: 'address', router: o.router === true, hbLink: o.hbLink as HbLink, dataPathCheck: o.datapathCheck, ...(o.udpPerFlow === false ? { udpPerFlow: false } : { udpIdleMs: Number(o.udpIdleMs) }), ...(o.ipv6 === true ? { ipv6: true } : {}), ...(o.datapath === 'xdp' || o.datapath === 'nft' ? { datapath: o.datapath } : {}), ...(timing ? { timing } : {}), ...(o.timingScale !== undefined ? { timingScale: Number(o.timingScale) } : {}), ...modeSpecOf(o) }, { onProgress: (m) => void process.stderr.write(`[lab] ${m}\n`) });
          upMs = info.upMs;
          if (upMs) process.stderr.write(`[lab] up: every daemon serving after ${upMs.serving} ms, balanced after ${upMs.balanced} ms\n`);
          return failoverSeries(info, { fault, runs, perClient: Number(o.perClient), seed, lossPercent: Number(o.lossPercent), profile: o.profile, ...(o.svg !== undefined ? { svg: o.svg } : {}), ...(o.tcp === true ? { tcp: DEFAULT_TCP_LOAD } : {}), ...(o.timingScale !== undefined ? { timingScale: Number(o.timingScale) } : {}), ...(o.ipv6 === true ? { ipv6: true } : {}) });
        });
        const s = summarize(fault, results);
        if (o.json) printJson({ summary: { ...s, profile: o.profile, ...(timing ? { timing } : {}), nodes: Number(o.nodes), router: o.router === true, hbLink: o.hbLink, dataPathCheck: o.datapathCheck, ...(o.datapath !== undefined ? { datapath: o.datapath } : {}), ...(upMs ? { upMs } : {}), ...(o.timingScale !== undefined ? { timingScale: Number(o.timingScale) } : {}) }, runs: results });
        else process.stdout.write(`\n${failoverTable(s, o.profile)}\n`);
        if (o.svg !== undefined) process.stderr.write(`timeline of run 1 written to ${o.svg}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
