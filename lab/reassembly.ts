/**
 * A namespace's IP reassembly and UDP counters (/proc/net/snmp and /proc/net/snmp6 are per
 * network namespace): how many datagrams its stack put back together from fragments, how many
 * it gave up on, and how many whole UDP datagrams reached a port nobody listens on (`noPorts`:
 * UDP sees only reassembled datagrams). The fragment tests read them on every node before and
 * after sending. With conntrack loaded (the hand-over table), IPv6 fragments are reassembled by
 * netfilter's defrag, which does not count in Ip6ReasmOKs: `noPorts` counts for both families.
 */
import { nsRun } from './exec.js';

export interface ReassemblyCounters { readonly oks: number; readonly fails: number; readonly timeouts: number; readonly noPorts: number }

/** Pure: the reassembly counters of one family from the two files' text. */
export function parseReassembly(snmp: string, snmp6: string, family: 4 | 6): ReassemblyCounters {
  if (family === 6) {
    const v = (k: string): number => Number(new RegExp(`^Ip6${k}\\s+(\\d+)`, 'm').exec(snmp6)?.[1] ?? NaN);
    const u = (k: string): number => Number(new RegExp(`^Udp6${k}\\s+(\\d+)`, 'm').exec(snmp6)?.[1] ?? NaN);
    return { oks: v('ReasmOKs'), fails: v('ReasmFails'), timeouts: v('ReasmTimeout'), noPorts: u('NoPorts') };
  }
  const table = (prefix: string): (k: string) => number => {
    const [head, values] = snmp.split('\n').filter((l) => l.startsWith(`${prefix}: `));
    const keys = (head ?? '').split(/\s+/);
    const vals = (values ?? '').split(/\s+/);
    return (k) => Number(vals[keys.indexOf(k)] ?? NaN);
  };
  const v = table('Ip');
  return { oks: v('ReasmOKs'), fails: v('ReasmFails'), timeouts: v('ReasmTimeout'), noPorts: table('Udp')('NoPorts') };
}

export async function readReassembly(ns: string, family: 4 | 6): Promise<ReassemblyCounters> {
  const [snmp, snmp6] = await Promise.all([nsRun(ns, 'cat', ['/proc/net/snmp']), nsRun(ns, 'cat', ['/proc/net/snmp6'])]);
  return parseReassembly(snmp, snmp6, family);
}
