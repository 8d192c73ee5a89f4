/**
 * The lab switch configured as real ones are (issue 17). The lab's bridge br0 gets one of these
 * settings, named as a network engineer would:
 *   flood          a plain learning switch: unknown unicast and multicast flooded to every port
 *   no-flood       unknown-unicast flooding off on every access port (`bridge link set … flood off`,
 *                  Cisco `switchport block unicast`), with static MAC entries for the nodes' and
 *                  clients' own MACs as the switch would have learned them (port security pins them);
 *                  multicast and broadcast are still flooded
 *   igmp-snooping  IGMP snooping with the bridge as querier (`mcast_snooping 1 mcast_querier 1`):
 *                  multicast is delivered by membership. The Linux bridge keys its snooping table by
 *                  the packet's IP destination, like IP-keyed hardware: a unicast VIP inside a group
 *                  MAC matches no group and goes to multicast-router ports only
 *   igmp-mrouter   igmp-snooping plus the cluster's ports as static multicast-router ports
 *                  (`bridge link set … mcast_router 2`, Cisco `ip igmp snooping mrouter interface`),
 *                  the configuration such a switch needs for group-MAC clusters
 * A bystander namespace on the same bridge (not a node, not a client) counts the frames for the
 * VIP that reach it: what the cluster's traffic costs the rest of the VLAN.
 */
import { ipBatch, nsRun, run } from './exec.js';

export const SWITCH_MODES = ['flood', 'no-flood', 'igmp-snooping', 'igmp-mrouter'] as const;
export type SwitchMode = (typeof SWITCH_MODES)[number];

/** The `ip link add br0 …` arguments of a setting. */
export function bridgeCreate(sw: SwitchMode): string {
  return sw === 'igmp-snooping' || sw === 'igmp-mrouter' ? 'link add br0 type bridge mcast_snooping 1 mcast_querier 1' : 'link add br0 type bridge';
}

export interface SwitchPort { readonly port: string; readonly mac: string; readonly cluster: boolean }

/** The `ip -batch` lines of a setting applied to the bridge's ports (pure). */
export function switchPortCommands(sw: SwitchMode, ports: readonly SwitchPort[]): string[] {
  if (sw === 'no-flood') return ports.map((p) => `link set dev ${p.port} type bridge_slave flood off`);
  if (sw === 'igmp-mrouter') return ports.filter((p) => p.cluster).map((p) => `link set dev ${p.port} type bridge_slave mcast_router 2`);
  return [];
}

/** Applies a setting in the switch namespace: port flags, then static MAC entries (no-flood). */
export async function configureSwitch(switchNs: string, sw: SwitchMode, ports: readonly SwitchPort[]): Promise<void> {
  const lines = switchPortCommands(sw, ports);
  if (lines.length > 0) await ipBatch(switchNs, lines);
  if (sw === 'no-flood') {
    for (const p of ports) if (p.mac !== '') await run('bridge', ['-n', switchNs, 'fdb', 'replace', p.mac, 'dev', p.port, 'master', 'static']);
  }
}

/** The bystander's counter table: every frame for the VIP (and the VIP6, dual stack) that reaches it. */
export function bystanderRuleset(vip: string, vip6?: string | null): string {
  return [
    'add table netdev vmac_bystander',
    'add chain netdev vmac_bystander ingress { type filter hook ingress device "eth0" priority 0; policy accept; }',
    `add rule netdev vmac_bystander ingress ip daddr ${vip} counter`,
    ...(vip6 !== undefined && vip6 !== null ? [`add rule netdev vmac_bystander ingress ip6 daddr ${vip6} counter`] : []),
  ].join('\n');
}

/** Frames for the VIP (and VIP6) the bystander has received so far: the sum of its counters. */
export async function bystanderFrames(ns: string): Promise<number> {
  const out = await nsRun(ns, 'nft', ['list', 'chain', 'netdev', 'vmac_bystander', 'ingress']);
  return [...out.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1] ?? 0), 0);
}

/** The ports that are members of `group` in the bridge's snooping table (`bridge mdb`). */
export async function groupMembers(switchNs: string, group: string): Promise<string[]> {
  const out = await run('bridge', ['-n', switchNs, '-j', 'mdb', 'show']);
  const doc = JSON.parse(out || '[]') as { mdb?: { port?: string; grp?: string }[] }[];
  return doc.flatMap((d) => d.mdb ?? []).filter((e) => e.grp === group && e.port !== undefined && e.port !== 'br0').map((e) => e.port ?? '').sort();
}
