/**
 * `npm run bench -- modes`: the kernel receive cost of each mode (issue 17), side by side in one
 * run, as ratios to the unicast mode. trafgen in `tx` sends 60-byte UDP frames from 64 sources to
 * the VIP over a veth; a counter at `ip prerouting` (priority -300) in `rx` counts what the IP
 * stack received; all 256 buckets owned, so every frame is accepted. Cases alternate round by round:
 *   plain              frames to rx's own MAC and IP, no vmac table (context)
 *   unicast            the unicast VMAC 02:bf:…, the product's netdev ingress rules
 *   multicast          the group VMAC 03:bf:…, the same rules (the mode's choice: netdev ingress)
 *   multicast-pre      the group VMAC, the filter at `ip prerouting` (priority -400) instead: the
 *                      alternative Pacemaker's nft IPaddr2 clone uses, measured to choose
 *   igmp               the group VMAC 01:00:5e:7f:…, the product's rules
 *   arp-steer          frames to rx's own MAC, the product's arp-steer rules (`meta pkttype host`)
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openNftables } from '../native-shims/nftables.js';
import { renderInstall, renderTeardown, type DataPathPlan } from '../src/vmac/ruleset.js';
import { nftHashExpr } from '../src/hash/bucket-of.js';
import { autoVmacFor } from '../src/model/mode-addresses.js';
import { nsRun, run } from '../lab/exec.js';
import { median, withPair, type Pair } from './netns-pair.js';

const RX_IP = '10.212.0.2';
const TX_IP = '10.212.0.3';
const VIP = '10.212.0.100';
const BUCKETS = 256;

export const MODE_CASES = ['plain', 'unicast', 'multicast', 'multicast-pre', 'igmp', 'arp-steer'] as const;
export type ModeCase = (typeof MODE_CASES)[number];

/** ratioToUnicast: of the medians; pairedToUnicast: the median over rounds of the case's pps over unicast's in the same round (steadier when the load drifts). */
export interface ModesBenchResult { rounds: Record<ModeCase, number[]>; pps: Record<ModeCase, number>; ratioToUnicast: Record<ModeCase, number>; pairedToUnicast: Record<ModeCase, number> }

const hashExpr = nftHashExpr({ affinity: 'address', prefixLength: 24, prefixLength6: 64, seed: 0x5eed }, 4, BUCKETS);
const allBuckets = Array.from({ length: BUCKETS }, (_, b) => b);
const planFor = (mode: 'unicast' | 'multicast' | 'igmp' | 'arp-steer'): DataPathPlan => ({ table: 'vmac_bench', ifname: 'eth0', vip: VIP, vmac: autoVmacFor(mode, VIP), buckets: BUCKETS, hashExpr, ...(mode === 'unicast' ? {} : { mode }) });

/** The multicast filter at ip prerouting: same decision, after the IP stack took the frame in. */
function preroutingTable(vmac: string): string {
  return [
    'add table ip vmac_pre',
    `add map ip vmac_pre owned { typeof numgen inc mod ${BUCKETS} : verdict; counter; }`,
    'add chain ip vmac_pre pre { type filter hook prerouting priority -400; policy accept; }',
    `add rule ip vmac_pre pre ether daddr ${vmac} ip daddr ${VIP} meta pkttype set host ${hashExpr} vmap @owned`,
    `add rule ip vmac_pre pre ether daddr ${vmac} drop`,
    `add element ip vmac_pre owned { ${allBuckets.map((b) => `${b} : accept`).join(', ')} }`,
  ].join('\n');
}

function dstMac(c: ModeCase, rxMac: string): string {
  if (c === 'plain' || c === 'arp-steer') return rxMac;
  return autoVmacFor(c === 'multicast-pre' ? 'multicast' : c, VIP);
}

function trafgenConfig(mac: string, ip: string): string {
  return `${Array.from({ length: 64 }, (_, i) => `{ eth(da=${mac}), ipv4(sa=10.213.0.${i + 1}, da=${ip}), udp(sp=${1024 + i}, dp=9), fill(0x00, 18) }`).join('\n')}\n`;
}

function setCase(nft: ReturnType<typeof openNftables>, c: ModeCase): void {
  const script = [renderTeardown({ table: 'vmac_bench' }), 'add table ip vmac_pre', 'delete table ip vmac_pre'];
  if (c === 'multicast-pre') script.push(preroutingTable(autoVmacFor('multicast', VIP)));
  else if (c !== 'plain') script.push(renderInstall(planFor(c), allBuckets, 600_000));
  const r = nft.run(script.join('\n'));
  if (r.rc !== 0) throw new Error(`nft: ${r.error}`);
}

async function trial(p: Pair, nft: ReturnType<typeof openNftables>, conf: string, seconds: number): Promise<number> {
  const read = (): number => Number(/packets (\d+)/.exec(nft.run('list chain ip bench pre').output)?.[1] ?? 0);
  const before = read();
  const started = process.hrtime.bigint();
  await nsRun(p.tx, 'timeout', ['-s', 'INT', String(seconds), 'trafgen', '--dev', 'eth0', '--conf', conf, '--cpus', '1', '-q']).catch(() => undefined);
  return (read() - before) / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function benchModes(o: { rounds: number; secondsPerTrial: number; log: (line: string) => void }): Promise<ModesBenchResult> {
  return withPair('bmd', async (p) => {
    const dir = mkdtempSync(join(tmpdir(), 'vmac-bench-modes-'));
    try {
      await run('ip', ['-n', p.rx, 'addr', 'add', `${RX_IP}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', p.rx, 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
      await run('ip', ['-n', p.tx, 'addr', 'add', `${TX_IP}/24`, 'dev', 'eth0']);
      const nft = openNftables(`/run/netns/${p.rx}`);
      const counter = nft.run('add table ip bench\nadd chain ip bench pre { type filter hook prerouting priority -300; }\nadd rule ip bench pre meta l4proto udp udp dport 9 counter drop');
      if (counter.rc !== 0) throw new Error(`nft: ${counter.error}`);
      const confs = new Map<ModeCase, string>();
      for (const c of MODE_CASES) {
        const f = join(dir, `${c}.cfg`);
        writeFileSync(f, trafgenConfig(dstMac(c, p.rxMac), c === 'plain' ? RX_IP : VIP));
        confs.set(c, f);
      }
      const rounds = Object.fromEntries(MODE_CASES.map((c) => [c, [] as number[]])) as Record<ModeCase, number[]>;
      for (let r = 1; r <= o.rounds; r++) {
        for (const c of MODE_CASES) {
          setCase(nft, c);
          const pps = await trial(p, nft, confs.get(c) ?? '', o.secondsPerTrial);
          rounds[c].push(pps);
          o.log(`modes round ${r}/${o.rounds} ${c.padEnd(13)} ${(pps / 1000).toFixed(0)} kpps`);
        }
      }
      const pps = Object.fromEntries(MODE_CASES.map((c) => [c, median(rounds[c])])) as Record<ModeCase, number>;
      const ratioToUnicast = Object.fromEntries(MODE_CASES.map((c) => [c, pps[c] / pps.unicast])) as Record<ModeCase, number>;
      const pairedToUnicast = Object.fromEntries(MODE_CASES.map((c) => [c, median(rounds[c].map((x, i) => x / (rounds.unicast[i] ?? NaN)))])) as Record<ModeCase, number>;
      return { rounds, pps, ratioToUnicast, pairedToUnicast };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export function modesBenchTable(r: ModesBenchResult, rounds: number): string {
  return [
    '', `## modes (medians of ${rounds} alternated rounds; 60-byte UDP frames, trafgen over a veth, all buckets owned)`, '',
    '| receive path at the node | pps | ratio to unicast mode | paired ratio | ns per packet vs unicast mode |', '| --- | ---: | ---: | ---: | ---: |',
    ...MODE_CASES.map((c) => `| ${c} | ${(r.pps[c] / 1000).toFixed(0)} kpps | ${r.ratioToUnicast[c].toFixed(2)} | ${r.pairedToUnicast[c].toFixed(2)} | ${((1 / r.pps[c] - 1 / r.pps.unicast) * 1e9).toFixed(0)} |`), '',
    '(paired ratio: the median over rounds of the path\'s pps over unicast mode\'s in the same round)', '',
  ].join('\n');
}
