/**
 * `npm run bench -- [datapath|modes|heartbeat|conntrack|drain|drain-load|idle] [--json] [--rounds N]`: benchmarks that print ratios
 * measured side by side in one run. The machine is shared and noisy: absolute numbers are context.
 * idle: `[--nodes 3,8,32] [--profiles default,fast] [--seconds S] [--datapath-check]` (bench/idle.ts).
 * datapath ends with the modes table (the receive path of each mode, bench/datapath-modes.ts); `--no-modes` skips it.
 */
import { benchDatapath } from './datapath.js';
import { benchHeartbeatCost } from './heartbeat-cost.js';
import { benchConntrack } from './conntrack.js';
import { benchDrain } from './drain.js';
import { benchDrainLoad, drainLoadTable, type DrainLoadReader } from './drain-load.js';
import { benchIdle, idleTable } from './idle.js';
import { benchModes, modesBenchTable } from './datapath-modes.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const roundsArg = args.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 5;
const valueFlags = ['--rounds', '--nodes', '--seconds', '--profiles', '--tcp', '--udp', '--readers'];
const which = args.filter((a, i) => !a.startsWith('--') && !valueFlags.includes(args[i - 1] ?? ''));
const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const selected = which.length === 0 ? ['datapath'] : which;
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

for (const name of selected) {
  if (name === 'heartbeat') {
    // Per-node CPU of the cluster protocol at N nodes (real codec and HMAC, fake network and clock).
    const rows = [3, 8, 16, 32].map((nodes) => benchHeartbeatCost({ nodes, seconds: 3 }));
    if (json) { process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`); continue; }
    process.stdout.write(['', '## heartbeat (default profile, 256 buckets; CPU of the protocol alone, no sockets, no kernel)', '', '| nodes | heartbeats received per node per s | CPU ms per node per s | µs per heartbeat received | all nodes, cores |', '| ---: | ---: | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.nodes} | ${(r.received / r.nodes / r.simSeconds).toFixed(0)} | ${r.cpuMsPerNodePerSecond.toFixed(1)} | ${r.cpuUsPerReceived.toFixed(0)} | ${((r.cpuMsPerNodePerSecond * r.nodes) / 1000).toFixed(2)} |`), ''].join('\n'));
    continue;
  }
  if (name === 'drain') {
    // A drain of node 1 with 10,000 TCP and 10,000 UDP conntrack entries: netlink vs `conntrack -L`.
    const rows = await benchDrain({ connections: 10_000, tcpLifeS: 8, log });
    if (json) { process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`); continue; }
    process.stdout.write(['', '## drain with 10,000 TCP + 10,000 UDP conntrack entries (TCP entries expire after 8 s)', '', '| reader | drain | daemon CPU during the drain |', '| --- | ---: | ---: |',
      ...rows.map((r) => `| ${r.reader} | ${r.drainMs === null ? 'not ended' : `${r.drainMs} ms`} | ${r.daemonCpuMs} ms |`), ''].join('\n'));
    continue;
  }
  if (name === 'drain-load') {
    // A drain of node 1 serving 10,000 real TCP connections and 10,000 real UDP flows: ctnetlink vs the old `conntrack -L` polling.
    const readers = (flag('--readers') ?? 'netlink,tool-unpaced').split(',') as DrainLoadReader[];
    const tcp = Number(flag('--tcp') ?? 10_000);
    const udp = Number(flag('--udp') ?? 10_000);
    if (readers.some((r) => r !== 'netlink' && r !== 'tool-unpaced') || !(tcp >= 0 && tcp <= 30_000 && udp >= 0 && udp <= 30_000)) {
      process.stderr.write('drain-load: --readers netlink,tool-unpaced; --tcp and --udp 0..30000\n');
      process.exit(2);
    }
    const rows = await benchDrainLoad({ tcp, udp, endSpreadMs: 5000, udpIdleMs: 5000, readers, log });
    process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : drainLoadTable(rows));
    continue;
  }
  if (name === 'conntrack') {
    // The drain poll's conntrack reading: ctnetlink shim vs a `conntrack -L` child, 100 to 100,000 entries.
    const rows = await benchConntrack({ sizes: [100, 10_000, 100_000], rounds, log });
    if (json) { process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`); continue; }
    process.stdout.write(['', `## conntrack reading (medians of ${rounds}; TCP entries to the VIP, as many UDP ones and 10 % to another address in the same table)`, '', '| connections | netlink: TCP busy buckets, ms | netlink CPU ms | netlink: UDP flow list, ms | `conntrack -L`: TCP busy buckets, ms | `conntrack -L` CPU ms (with child) | wall ratio | CPU ratio |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.connections} | ${r.netlinkTcpMs.toFixed(2)} | ${r.netlinkCpuMs.toFixed(2)} | ${r.netlinkUdpMs.toFixed(2)} | ${r.toolTcpMs.toFixed(2)} | ${r.toolCpuMs.toFixed(2)} | ${(r.toolTcpMs / r.netlinkTcpMs).toFixed(1)} | ${(r.toolCpuMs / r.netlinkCpuMs).toFixed(1)} |`), ''].join('\n'));
    continue;
  }
  if (name === 'idle') {
    const nodes = (flag('--nodes') ?? '3,8,32').split(',').map(Number);
    const seconds = Number(flag('--seconds') ?? 10);
    if (nodes.some((n) => !Number.isInteger(n) || n < 2 || n > 32) || !(seconds > 0 && seconds <= 120)) {
      process.stderr.write('idle: --nodes wants node counts 2..32 (e.g. 3,8,32), --seconds 1..120\n');
      process.exit(2);
    }
    const profiles = (flag('--profiles') ?? 'default,fast').split(',');
    if (profiles.some((p) => p !== 'default' && p !== 'fast')) {
      process.stderr.write('idle: --profiles wants default, fast or both (default,fast)\n');
      process.exit(2);
    }
    const dataPathCheck = args.includes('--datapath-check');
    const rows = await benchIdle({ nodes, profiles: profiles as ('default' | 'fast')[], seconds, dataPathCheck, log });
    process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : `\n${idleTable(rows, seconds, dataPathCheck)}`);
    continue;
  }
  if (name === 'modes') {
    // The kernel receive cost of each mode (issue 17), as ratios to the unicast mode in one run.
    const r = await benchModes({ rounds, secondsPerTrial: 2, log });
    process.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : modesBenchTable(r, rounds));
    continue;
  }
  if (name !== 'datapath') {
    process.stderr.write(`unknown benchmark ${JSON.stringify(name)}; available: datapath, modes, heartbeat, conntrack, drain, drain-load, idle\n`);
    process.exit(2);
  }
  const r = await benchDatapath({ rounds, secondsPerTrial: 2, tcpRounds: 5, tcpSeconds: 3, log });
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    continue;
  }
  const k = (v: number): string => `${(v / 1000).toFixed(0)} kpps`;
  process.stdout.write([
    '',
    `## datapath (medians of ${rounds} alternated rounds; 60-byte UDP frames, trafgen over a veth)`,
    '',
    '| receive path at the node | pps | ratio to plain | paired ratio |',
    '| --- | ---: | ---: | ---: |',
    `| plain unicast to the node's own MAC/IP | ${k(r.pps.plain)} | 1.00 | 1.00 |`,
    `| plain unicast, vmac table present | ${k(r.pps['plain+table'])} | ${(r.pps['plain+table'] / r.pps.plain).toFixed(2)} | ${r.pairedRatio['plain+table'].toFixed(2)} |`,
    `| VMAC, one-rule netdev chain (the floor of any ingress filter) | ${k(r.pps.floor)} | ${(r.pps.floor / r.pps.plain).toFixed(2)} | ${r.pairedRatio.floor.toFixed(2)} |`,
    `| VMAC + jhash + verdict map (all buckets owned) | ${k(r.pps.vmac)} | ${r.ppsRatio.toFixed(2)} | ${r.pairedRatio.vmac.toFixed(2)} |`,
    `| plain unicast, XDP program attached | ${k(r.pps['plain+xdp'])} | ${(r.pps['plain+xdp'] / r.pps.plain).toFixed(2)} | ${r.pairedRatio['plain+xdp'].toFixed(2)} |`,
    `| VMAC + jhash + owned bank, XDP backend (all buckets owned) | ${k(r.pps.xdp)} | ${r.xdpPpsRatio.toFixed(2)} | ${r.pairedRatio.xdp.toFixed(2)} |`,
    `| the same, XDP in generic (skb) mode | ${k(r.pps['xdp-generic'])} | ${r.xdpGenericPpsRatio.toFixed(2)} | ${r.pairedRatio['xdp-generic'].toFixed(2)} |`,
    '',
    '(paired ratio: the median over rounds of the mode\'s pps over plain\'s in the same round)',
    '',
    '| foreign-bucket frame (dropped), whole path | frames/s | ns per frame |',
    '| --- | ---: | ---: |',
    `| nft backend (netdev chain) | ${k(r.pps['drop-nft'])} | ${r.dropNs.nft.toFixed(0)} |`,
    `| XDP backend | ${k(r.pps['drop-xdp'])} | ${r.dropNs.xdp.toFixed(0)} |`,
    `| XDP backend, generic mode | ${k(r.pps['drop-xdp-generic'])} | ${r.dropNs.xdpGeneric.toFixed(0)} |`,
    '',
    `XDP backend: owned frames ${r.xdpPpsRatio.toFixed(3)}x plain (paired ${r.pairedRatio.xdp.toFixed(3)}; target >= 0.90); a dropped frame costs ${r.dropNs.ratio.toFixed(3)}x the nft backend's (paired ${(r.pairedRatio['drop-nft'] / r.pairedRatio['drop-xdp']).toFixed(3)})`,
    `TCP through the VIP, XDP backend: ${Math.max(...r.tcpGbps['vip-xdp']).toFixed(1)} Gbit/s best; ratio of medians ${r.tcpXdpRatio.toFixed(3)} (target >= 0.95); generic mode ${Math.max(...r.tcpGbps['vip-xdp-generic']).toFixed(1)} Gbit/s best, ratio ${r.tcpXdpGenericRatio.toFixed(3)}`,
    `dropped frame, generic mode: ${r.dropNs.genericRatio.toFixed(3)}x the nft backend's cost`,
    `filter cost: ${r.filterNsPerPacket.toFixed(0)} ns per packet; pps ratio ${r.ppsRatio.toFixed(3)} (target >= 0.85); vmac/floor ${(r.pps.vmac / r.pps.floor).toFixed(3)}`,
    `TCP through the VIP: ${Math.max(...r.tcpGbps.vip).toFixed(1)} Gbit/s best vs ${Math.max(...r.tcpGbps.plain).toFixed(1)} plain; ratio of medians ${r.tcpRatio.toFixed(3)} (target >= 0.95)`,
    '',
  ].join('\n'));
  // The receive path of every mode (issue 17): unicast, multicast (and its prerouting
  // alternative), igmp and arp-steer side by side, as ratios to the unicast mode in one run.
  if (!args.includes('--no-modes')) process.stdout.write(modesBenchTable(await benchModes({ rounds, secondsPerTrial: 2, log }), rounds));
}
