import type { Command } from 'commander';
import { labDown, labUp, readLabInfo, type LabInfo } from '../../lab/lab.js';
import { withLabCleanup } from '../../lab/guard.js';
import { answeredBy, checkAnswers, fairShareDeviation, type AnswerReport } from '../../lab/answers.js';
import { HB_LINKS, parseTimingOverrides, TIMING_KEYS, type HbLink, type LabSpec } from '../../lab/plan.js';
import { EXIT_FAILURE, printJson, reportError } from './output.js';
import { failoverSeries, failoverTable, registerLabFailover } from './cmd-lab-failover.js';
import { summarize } from '../../lab/failover.js';
import { registerLabCompare } from './cmd-lab-compare.js';
import { registerLabModes } from './cmd-lab-modes.js';
import { registerLabQuic } from './cmd-lab-quic.js';
import { modeOptionHelp, modeSpecOf } from '../../lab/modes.js';
import { LAB_SUMMARY } from './lab-entry.js';

interface UpOptions { name: string; nodes: string; clients: string; addrs: string; seed?: string; profile: string; buckets: string; json?: boolean; router?: boolean; hbLink?: string; timing?: string; timingScale?: string; ipv6?: boolean; affinity?: string; ipv6Only?: boolean; clientMtu?: string; mode?: string; switch?: string; bystander?: boolean }

function specOf(o: UpOptions): LabSpec {
  return {
    name: o.name,
    nodes: Number(o.nodes),
    clients: Number(o.clients),
    addrs: Number(o.addrs),
    seed: o.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(o.seed),
    buckets: Number(o.buckets),
    profile: o.profile === 'fast' ? 'fast' : 'default',
    affinity: (o.affinity ?? 'address') as LabSpec['affinity'],
    router: o.router === true,
    ...(o.ipv6 === true ? { ipv6: true } : {}),
    ...(o.ipv6Only === true ? { ipv6Only: true } : {}),
    ...(o.clientMtu !== undefined ? { clientMtu: Number(o.clientMtu) } : {}),
    hbLink: (o.hbLink ?? 'data') as HbLink,
    ...(o.timing === undefined ? {} : { timing: parseTimingOverrides(o.timing) }),
    ...(o.timingScale !== undefined ? { timingScale: Number(o.timingScale) } : {}),
    ...modeSpecOf(o),
  };
}

const progress = (msg: string): void => void process.stderr.write(`[lab] ${msg}\n`);

function labOptions(cmd: Command, defaults: { nodes: string; clients: string; addrs: string }): Command {
  return cmd
    .option('--name <prefix>', 'namespace prefix (1-12 lowercase letters/digits)', 'vlab')
    .option('--nodes <n>', 'cluster nodes, 1..32', defaults.nodes)
    .option('--clients <n>', 'client namespaces', defaults.clients)
    .option('--addrs <k>', 'source addresses per client namespace', defaults.addrs)
    .option('--seed <n>', 'seed for addresses and the hash seed (random if omitted)')
    .option('--buckets <n>', 'hash buckets', '256')
    .option('--profile <p>', 'timing profile: default | fast', 'default')
    .option('--timing <k=v,...>', `timing values over the profile's, checked like a config file (keys: ${TIMING_KEYS.join(', ')})`)
    .option('--router', 'clients behind a router namespace: every frame reaches the cluster with the router\'s MAC')
    .option('--hb-link <where>', `heartbeats on: ${HB_LINKS.join(' | ')} (separate: their own bridge; both: two links)`, 'data')
    .option('--timing-scale <k>', 'multiply the profile\'s heartbeat interval, lease and renewal period by k in every node config (large labs on few cores)')
    .option('--ipv6', 'dual stack: the cluster also serves the VIP6 fd00:200::1 and every client gets as many IPv6 source addresses as IPv4 ones (with --router: routed, like the IPv4 ones)')
    .option('--affinity <a>', 'hash affinity written into every node config: address | address+port | network', 'address')
    .option('--ipv6-only', 'with --ipv6: an IPv6-only service (vip6 and no vip in the node configs; nothing serves the IPv4 VIP)')
    .option('--client-mtu <n>', 'with --router: the MTU of every client\'s link to the router, the clients advertising a 1500-byte MSS (a hop with a smaller next link: path-MTU discovery)')
    .option('--mode <m>', modeOptionHelp().mode)
    .option('--switch <s>', modeOptionHelp().switch)
    .option('--bystander', modeOptionHelp().bystander);
}

export function summarizeAnswers(lab: LabInfo, r: AnswerReport): string {
  const lines = [`| node | clients answered | expected share |`, `| --- | ---: | ---: |`];
  const total = r.clients.length;
  for (const n of lab.nodes) {
    const got = r.clients.filter((c) => c.udpNodes.length === 1 && c.udpNodes[0] === n.name).length;
    lines.push(`| ${n.name} | ${got} | ${(((r.perNode[n.name] ?? 0) / total) * 100).toFixed(1)}% |`);
  }
  const dev = fairShareDeviation(answeredBy(r), lab.nodes.map((n) => n.name));
  lines.push('', `${total} client addresses, ${r.mismatches.length} answered by a node other than \`vmac which\` predicts, ${r.duplicates} duplicate answers, ${r.lost} lost probes; the largest share is ${(dev.max * 100).toFixed(1)}% off the fair share 1/${lab.nodes.length}.`);
  return lines.join('\n');
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description(LAB_SUMMARY).addHelpText('after', `
The lab touches only namespaces it creates (all named <prefix>-…): a bridge namespace
<prefix>-sw, nodes <prefix>-n1..nN running the real daemon and an echo service on the VIP,
clients <prefix>-c1..cC with many source addresses. Needs root and \`make setup\`.`);

  labOptions(lab.command('up'), { nodes: '3', clients: '3', addrs: '100' })
    .description('build a lab and leave it running (remove it with `vmac lab down`)')
    .option('--json', 'print VIP, VMAC, namespaces, addresses and node config paths as JSON')
    .action(async (o: UpOptions) => {
      try {
        const info = await withLabCleanup(o.name, () => labUp(specOf(o), { onProgress: progress }), { keep: true });
        if (o.json) printJson(info);
        else process.stdout.write(`lab ${info.name} is up: ${info.ipv6Only === true ? `VIP6 ${info.vip6 ?? '?'} (IPv6 only)` : `VIP ${info.vip}${info.vip6 ? ` and VIP6 ${info.vip6}` : ''}`}, VMAC ${info.vmac}, ${info.nodes.length} nodes, ${info.clients.reduce((s, c) => s + c.addresses.length, 0)} client addresses.\nState and logs: ${info.dir}\nRemove it with: vmac lab down --name ${info.name}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });

  lab.command('down')
    .description('remove every namespace and process of a lab')
    .option('--name <prefix>', 'namespace prefix', 'vlab')
    .action(async (o: { name: string }) => {
      try {
        const { removed } = await labDown(o.name);
        process.stdout.write(removed.length === 0 ? `no namespaces named ${o.name}-… were present\n` : `removed ${removed.join(' ')}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });

  registerLabDemo(lab);
  registerLabFailover(lab);
  registerLabCompare(lab);
  registerLabModes(lab);
  registerLabQuic(lab);

  lab.command('answers')
    .description('probe every client address of a running lab once: who answers, against `vmac which`')
    .option('--name <prefix>', 'namespace prefix', 'vlab')
    .option('--json', 'print the per-address report')
    .option('--family <f>', 'which client addresses probe: 4 | 6 | both (6 and both need a lab built with --ipv6)', '4')
    .action(async (o: { name: string; json?: boolean; family: string }) => {
      try {
        const info = readLabInfo(o.name);
        const families: (4 | 6)[] = o.family === 'both' ? [4, 6] : o.family === '6' ? [6] : [4];
        for (const family of families) {
          const r = await checkAnswers(info, { family });
          if (o.json) printJson({ family, ...r });
          else process.stdout.write(`${families.length > 1 ? `IPv${family}:\n` : ''}${summarizeAnswers(info, r)}\n`);
          if (r.mismatches.length > 0 || r.duplicates > 0) process.exitCode = EXIT_FAILURE;
        }
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}

export function registerLabDemo(lab: Command): void {
  lab.command('demo')
    .description('build a 3-node lab, show which node answers which clients, kill one node, print the failover table, draw it, tear down')
    .option('--name <prefix>', 'namespace prefix', 'vdemo')
    .option('--svg <file>', 'where to write the failover timeline picture', 'vmac-demo-failover.svg')
    .option('--json', 'print the answer report as JSON at the end')
    .action(async (o: { name: string; svg: string; json?: boolean }) => {
      try {
        const spec = specOf({ name: o.name, nodes: '3', clients: '3', addrs: '100', profile: 'default', buckets: '256' });
        const report = await withLabCleanup(o.name, async () => {
          const info = await labUp(spec, { onProgress: progress });
          process.stdout.write(`\nLab up: VIP ${info.vip} shared by ${info.nodes.map((n) => n.name).join(', ')} as VMAC ${info.vmac} (hash seed 0x${info.hashSeed.toString(16)}).\n`);
          progress('probing all 300 client addresses over UDP and TCP');
          const r = await checkAnswers(info);
          process.stdout.write(`\n${summarizeAnswers(info, r)}\n\nA few clients and the node the kernel chose (vmac which gives the same):\n`);
          for (const c of r.clients.slice(0, 6)) process.stdout.write(`  ${c.addr.padEnd(15)} -> ${c.udpNodes.join(',') || '(none)'}   (vmac which: ${c.expected})\n`);
          progress('failover: clients probe every 1 ms, then n1\'s daemon is killed (kill -9)');
          const runs = await failoverSeries(info, { fault: 'kill', runs: 1, perClient: 5, seed: spec.seed, svg: o.svg, profile: 'default', log: progress });
          process.stdout.write(`\nFailover after kill -9 of n1 (the gap: last answer before the kill to first answer from a survivor, per client of n1):\n\n${failoverTable(summarize('kill', runs), 'default')}\n\nTimeline picture: ${o.svg}\n`);
          return r;
        });
        process.stdout.write('\nLab removed.\n');
        if (o.json) printJson(report);
        if (report.mismatches.length > 0 || report.duplicates > 0) process.exitCode = EXIT_FAILURE;
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
