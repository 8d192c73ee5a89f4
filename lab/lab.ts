/**
 * Builds and removes a lab: network namespaces only, never the host's own interfaces.
 *   <P>-sw       a Linux bridge br0 (the switch; in the flat topology it also carries the gateway
 *                address 10.200.0.254 the daemons' data-path check pings); br1 the heartbeat bridge
 *                with --hb-link separate|both
 *   <P>-n1..nN   nodes: eth0 on br0 (eth1 on br1), the real `vmac run` daemon, the echo service
 *   <P>-c1..cC   clients: eth0 on br0 with K source addresses each, or with --router each on its
 *   <P>-r        own link to the router, whose eth0 is on br0 (clients reach the cluster routed)
 * Every namespace starts with the lab's prefix, so `labDown` finds all of it even after a crash.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { VmacError } from '../src/util/errors.js';
import { ipBatch, nsRun, run, spawnInNs } from './exec.js';
import { labBinary, labStateDir, vmacCommand } from './paths.js';
import { LAB_PREFIX6, nodeConfigYaml, planLab, routedClientLink, routedClientLink6, ROUTER_ADDRESS6, type HbLink, type LabPlan, type LabSpec } from './plan.js';
import { generateKey } from '../src/cluster/key-file.js';
import { bridgeCreate, bystanderRuleset, configureSwitch, type SwitchMode } from './switch.js';
import { waitBalanced } from './balance.js';

/** The bystander's address: on the segment, not a node, client or gateway (lab/switch.ts). */
export const BYSTANDER_ADDRESS = '10.200.0.250';

export interface LabNodeInfo { id: number; name: string; ns: string; address: string; mac: string; config: string; log: string; daemonPid: number; echoPid: number }
export interface LabInfo {
  name: string;
  dir: string;
  vip: string;
  /** Dual stack: the VIP6 (absent or null: IPv4 only). */
  vip6?: string | null;
  /** An IPv6-only service: `vip` is then not served (no node holds it). */
  ipv6Only?: boolean;
  vmac: string;
  echoPort: number;
  hashSeed: number;
  switchNs: string;
  nodes: LabNodeInfo[];
  clients: { ns: string; addresses: string[]; addrFile: string; addresses6?: string[]; addrFile6?: string }[];
  hbLink: HbLink;
  routerNs: string | null;
  /** What the daemons' data-path check pings (null: no check configured). */
  gateway?: string | null;
  echoFreezeMs?: number;
  daemons: boolean;
  /** Modes lab (issue 17): the cluster's mode, the switch setting, the bystander namespace, when the bridge came up (epoch ms). */
  mode?: string;
  switchMode?: SwitchMode;
  bystanderNs?: string | null;
  switchSinceMs?: number;
  /** Build started → every daemon serving → every node holding exactly its buckets (ms). */
  upMs?: { serving: number; balanced: number };
}

export async function listLabNamespaces(name: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${name}-`));
}

/** Removes every namespace and process of lab `name`; safe to call twice and after a partial build. */
export async function labDown(name: string): Promise<{ removed: string[] }> {
  const namespaces = await listLabNamespaces(name);
  // Daemons first, politely, so they tear down their kernel state; then anything left, by force.
  const pidsOf = async (ns: string): Promise<number[]> => (await run('ip', ['netns', 'pids', ns]).catch(() => '')).split('\n').filter(Boolean).map(Number);
  const all = (await Promise.all(namespaces.map(pidsOf))).flat();
  for (const pid of all) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && all.some(alive)) await new Promise((r) => setTimeout(r, 50));
  for (const pid of all) if (alive(pid)) signal(pid, 'SIGKILL');
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  rmSync(labStateDir(name), { recursive: true, force: true });
  return { removed: namespaces };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function addNs(ns: string, ipv6 = false): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  // Quiet lab: no IPv6 autoconf/DAD chatter on the segment. Dual stack: IPv6 on, still quiet
  // (no router advertisements, no autoconf, no DAD; addresses are added with nodad as well).
  const quiet6 = ipv6
    ? ['all', 'default'].flatMap((c) => [`net.ipv6.conf.${c}.accept_ra=0`, `net.ipv6.conf.${c}.autoconf=0`, `net.ipv6.conf.${c}.accept_dad=0`, `net.ipv6.conf.${c}.dad_transmits=0`])
    : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  await nsRun(ns, 'sysctl', ['-qw', ...quiet6]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** A veth from bridge `bridge` in `hostNs` (port `port`) to `ns` (interface `dev`). */
async function plug(hostNs: string, ns: string, port: string, bridge = 'br0', dev = 'eth0'): Promise<void> {
  await run('ip', ['-n', hostNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', dev, 'netns', ns]);
  await ipBatch(hostNs, [`link set ${port} master ${bridge}`, `link set ${port} up`]);
  await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
}

/** The routed topology's router: eth0 on the switch, forwarding on; clients get their own links. */
async function addRouter(plan: LabPlan): Promise<void> {
  const r = plan.router;
  if (!r) return;
  const v6 = plan.vip6 !== null;
  await addNs(r.ns, v6);
  await nsRun(r.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', ...(v6 ? ['net.ipv6.conf.all.forwarding=1'] : [])]);
  // A hop with a smaller next link sends every "fragmentation needed" / "packet too big" (no rate limit): the PMTU test counts on them.
  if (plan.spec.clientMtu !== undefined) await nsRun(r.ns, 'sysctl', ['-qw', 'net.ipv4.icmp_ratelimit=0', ...(v6 ? ['net.ipv6.icmp.ratelimit=0'] : [])]);
  await plug(plan.switchNs, r.ns, 'r0');
  await run('ip', ['-n', r.ns, 'addr', 'add', `${r.address}/${plan.prefixLength}`, 'dev', 'eth0']);
  if (v6) await run('ip', ['-n', r.ns, 'addr', 'add', `${ROUTER_ADDRESS6}/${LAB_PREFIX6}`, 'dev', 'eth0', 'nodad']);
}

/** Dual stack behind the router: client j's IPv6 link, its IPv6 sources on lo, routed both ways. */
async function plugRoutedClient6(routerNs: string, ns: string, j: number, addresses6: readonly string[], mtu?: number): Promise<void> {
  const l = routedClientLink6(j);
  await ipBatch(routerNs, [`addr add ${l.router}/64 dev c${j + 1} nodad`, `route add ${l.net} via ${l.client}`]);
  // As for IPv4: with a client MTU the client still advertises an MSS as if its link were 1500 (1440 = 1500 - 60).
  const defaultRoute = mtu === undefined ? `route add ::/0 via ${l.router}` : `route add ::/0 via ${l.router} advmss 1440`;
  await ipBatch(ns, [`addr add ${l.client}/64 dev eth0 nodad`, defaultRoute, ...addresses6.map((a) => `addr add ${a}/128 dev lo nodad`)]);
}

/** Client j behind the router: a veth link 10.209.(j+1).0/24, its source addresses on lo, routed. */
async function plugRoutedClient(routerNs: string, ns: string, j: number, addresses: readonly string[], mtu?: number): Promise<void> {
  const l = routedClientLink(j);
  const port = `c${j + 1}`;
  await run('ip', ['-n', routerNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await ipBatch(routerNs, [`addr add ${l.router}/24 dev ${port}`, ...(mtu === undefined ? [] : [`link set ${port} mtu ${mtu}`]), `link set ${port} up`, `route add ${l.net} via ${l.client}`]);
  // With a client MTU the client still advertises MSS 1460 (advmss): the servers send full-size packets.
  const defaultRoute = mtu === undefined ? `route add default via ${l.router}` : `route add default via ${l.router} advmss 1460`;
  await ipBatch(ns, [...(mtu === undefined ? [] : [`link set eth0 mtu ${mtu}`]), 'link set eth0 up', `addr add ${l.client}/24 dev eth0`, defaultRoute, ...addresses.map((a) => `addr add ${a}/32 dev lo`)]);
}

async function readMac(ns: string): Promise<string> {
  const out = await run('ip', ['-n', ns, '-j', 'link', 'show', 'eth0']);
  return (JSON.parse(out) as { address: string }[])[0]?.address ?? '';
}

export async function labUp(spec: LabSpec, opts: { onProgress?: (msg: string) => void } = {}): Promise<LabInfo> {
  const plan = planLab(spec);
  const progress = opts.onProgress ?? (() => undefined);
  const vmacCmd = vmacCommand();
  const echo = labBinary('vmac-echo');
  if ((await listLabNamespaces(spec.name)).length > 0) {
    throw new VmacError('VMAC_LAB_FAILED', `a lab named ${spec.name} already exists: run \`vmac lab down --name ${spec.name}\` first`, { name: spec.name });
  }
  const dir = labStateDir(spec.name);
  const t0 = Date.now();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // One heartbeat key for the lab's cluster, readable by root only (the daemon refuses others).
    const keyFile = join(dir, 'cluster.key');
    writeFileSync(keyFile, `${generateKey()}\n`, { mode: 0o600 });
    progress(`switch ${plan.switchNs}`);
    const v6 = plan.vip6 !== null;
    await addNs(plan.switchNs, v6);
    // Dual stack: the switch snoops MLD and is the querier, so a group's frames reach only the
    // ports that joined it: nodes must be members of the VIP6's solicited-node group.
    const bridge0 = spec.switchMode !== undefined ? bridgeCreate(spec.switchMode) : v6 ? 'link add br0 type bridge mcast_snooping 1 mcast_querier 1' : 'link add br0 type bridge';
    const switchSinceMs = Date.now();
    await ipBatch(plan.switchNs, [bridge0, 'link set br0 up', ...(plan.hbLink === 'data' ? [] : ['link add br1 type bridge', 'link set br1 up'])]);
    // Flat topology: the segment's gateway (the data-path check's target) lives on the switch.
    if (!plan.router) await run('ip', ['-n', plan.switchNs, 'addr', 'add', `${plan.gateway}/${plan.prefixLength}`, 'dev', 'br0']);
    await addRouter(plan);
    const withDaemons = spec.daemons !== false;
    const nodes: LabNodeInfo[] = [];
    for (const n of plan.nodes) {
      progress(`node ${n.ns}`);
      await addNs(n.ns, v6);
      await plug(plan.switchNs, n.ns, n.name);
      await run('ip', ['-n', n.ns, 'addr', 'add', `${n.address}/${plan.prefixLength}`, 'dev', 'eth0']);
      if (v6) await run('ip', ['-n', n.ns, 'addr', 'add', `${n.address6}/${LAB_PREFIX6}`, 'dev', 'eth0', 'nodad']);
      if (plan.hbLink !== 'data') {
        await plug(plan.switchNs, n.ns, `h${n.name}`, 'br1', 'eth1');
        await run('ip', ['-n', n.ns, 'addr', 'add', `${n.hbAddress}/${plan.prefixLength}`, 'dev', 'eth1']);
      }
      if (plan.router) await run('ip', ['-n', n.ns, 'route', 'add', plan.router.clientNet, 'via', plan.router.address]);
      if (plan.router && v6) await ipBatch(n.ns, plan.clients.map((_c, j) => `route add ${routedClientLink6(j).net} via ${ROUTER_ADDRESS6}`));
      const config = join(dir, `${n.name}.yaml`);
      writeFileSync(config, nodeConfigYaml(plan, n, keyFile));
      const log = join(dir, `${n.name}.log`);
      const echoArgs = ['--name', n.name, '--addr', plan.vip, '--udp', String(plan.echoPort), '--tcp', String(plan.echoPort)];
      if (spec.echoFreezeMs !== undefined) echoArgs.push('--freeze-ms', String(spec.echoFreezeMs));
      // An IPv6-only service: nothing listens on the IPv4 VIP (no node holds it).
      const echoChild = spec.ipv6Only === true ? null : spawnInNs(n.ns, echo, echoArgs, join(dir, `${n.name}-echo.log`));
      // Dual stack: a second echo on the VIP6 (same port, other family); labDown ends it with the namespace.
      if (plan.vip6 !== null) spawnInNs(n.ns, echo, ['--name', n.name, '--addr', plan.vip6, '--udp', String(plan.echoPort), '--tcp', String(plan.echoPort)], join(dir, `${n.name}-echo6.log`));
      const late = spec.lateNodes?.includes(n.id) === true;
      const daemon = withDaemons && !late ? spawnInNs(n.ns, vmacCmd.file, [...vmacCmd.args, 'run', config], log) : null;
      if (!daemon) writeFileSync(log, '');
      nodes.push({ id: n.id, name: n.name, ns: n.ns, address: n.address, mac: await readMac(n.ns), config, log, daemonPid: daemon?.pid ?? -1, echoPid: echoChild?.pid ?? -1 });
    }
    const clients = [];
    for (const [j, c] of plan.clients.entries()) {
      progress(`client ${c.ns} (${c.addresses.length} addresses)`);
      await addNs(c.ns, v6);
      if (plan.router) await plugRoutedClient(plan.router.ns, c.ns, j, c.addresses, spec.clientMtu);
      else {
        await plug(plan.switchNs, c.ns, `c${j + 1}`);
        await ipBatch(c.ns, c.addresses.map((a) => `addr add ${a}/${plan.prefixLength} dev eth0`));
      }
      const addrFile = join(dir, `c${j + 1}.addrs`);
      writeFileSync(addrFile, `${c.addresses.join('\n')}\n`);
      if (c.addresses6.length > 0) {
        if (plan.router) await plugRoutedClient6(plan.router.ns, c.ns, j, c.addresses6, spec.clientMtu);
        else await ipBatch(c.ns, c.addresses6.map((a) => `addr add ${a}/${LAB_PREFIX6} dev eth0 nodad`));
        const addrFile6 = join(dir, `c${j + 1}.addrs6`);
        writeFileSync(addrFile6, `${c.addresses6.join('\n')}\n`);
        clients.push({ ns: c.ns, addresses: [...c.addresses], addrFile, addresses6: [...c.addresses6], addrFile6 });
      } else clients.push({ ns: c.ns, addresses: [...c.addresses], addrFile });
    }
    const bystanderNs = spec.bystander === true ? `${spec.name}-by` : null;
    if (bystanderNs !== null) {
      progress(`bystander ${bystanderNs}`);
      await addNs(bystanderNs, v6);
      await plug(plan.switchNs, bystanderNs, 'by');
      await run('ip', ['-n', bystanderNs, 'addr', 'add', `${BYSTANDER_ADDRESS}/${plan.prefixLength}`, 'dev', 'eth0']);
      await nsRun(bystanderNs, 'nft', ['-f', '-'], { input: bystanderRuleset(plan.vip, plan.vip6) });
    }
    if (spec.switchMode !== undefined) {
      progress(`switch setting ${spec.switchMode}`);
      const ports = [
        ...nodes.map((n) => ({ port: n.name, mac: n.mac, cluster: true })),
        ...await Promise.all(plan.clients.map(async (c, j) => ({ port: `c${j + 1}`, mac: plan.router ? '' : await readMac(c.ns), cluster: false }))).then((l) => (plan.router ? [] : l)),
        ...(plan.router ? [{ port: 'r0', mac: await readMac(plan.router.ns), cluster: false }] : []),
        ...(bystanderNs !== null ? [{ port: 'by', mac: await readMac(bystanderNs), cluster: false }] : []),
      ];
      await configureSwitch(plan.switchNs, spec.switchMode, ports);
    }
    progress(withDaemons ? 'waiting for the daemons to be ready' : 'no vmac daemons (comparison lab)');
    // Node start-up is CPU bound (one Node.js process each): allow 3 s more per node on a busy machine (32 nodes converge slowly under load).
    const readyBudgetMs = 15_000 + 3000 * nodes.length;
    const started = nodes.filter((n) => !(spec.lateNodes ?? []).includes(n.id));
    const vmac = withDaemons ? await waitReady(started, readyBudgetMs) : '';
    const servingMs = Date.now() - t0;
    // With nodes still to join, nobody holds the final map yet: the scenario waits for itself.
    if (withDaemons && started.length === nodes.length) {
      progress('waiting until every node holds exactly its buckets (the hand-over from the first nodes up)');
      const b = await waitBalanced(nodes, readyBudgetMs);
      if (!b.ok) {
        const off = Object.entries(b.reading.held).filter(([, h]) => h.held !== h.expected || h.incoming + h.draining > 0).map(([n, h]) => `${n} ${h.held}/${h.expected} (incoming ${h.incoming}, draining ${h.draining}${h.serving ? '' : ', not serving'})`);
        throw new VmacError('VMAC_LAB_FAILED', `the lab did not balance within ${readyBudgetMs} ms: ${b.reading.balanced} of ${b.reading.nodes} nodes hold exactly their buckets; off: ${off.join('; ')}`, { name: spec.name });
      }
    }
    const upMs = { serving: servingMs, balanced: Date.now() - t0 };
    const info: LabInfo = { name: spec.name, dir, vip: plan.vip, ...(plan.vip6 !== null ? { vip6: plan.vip6 } : {}), ...(spec.ipv6Only === true ? { ipv6Only: true } : {}), vmac, echoPort: plan.echoPort, hashSeed: plan.hashSeed, switchNs: plan.switchNs, nodes, clients, hbLink: plan.hbLink, routerNs: plan.router?.ns ?? null, gateway: spec.dataPathCheck === false ? null : plan.gateway, daemons: withDaemons, ...(withDaemons ? { upMs } : {}), ...(spec.echoFreezeMs !== undefined ? { echoFreezeMs: spec.echoFreezeMs } : {}),
      ...(spec.mode !== undefined ? { mode: spec.mode } : {}), ...(spec.switchMode !== undefined ? { switchMode: spec.switchMode, switchSinceMs } : {}), bystanderNs };
    writeFileSync(join(dir, 'lab.json'), JSON.stringify(info, null, 2));
    return info;
  } catch (err) {
    await labDown(spec.name);
    throw err;
  }
}

/** Waits until every daemon logged `ready` and then `serving` (a quorum hears it, its lease runs); returns the VMAC. */
async function waitReady(nodes: readonly LabNodeInfo[], timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let vmac = '';
  for (const n of nodes) {
    for (;;) {
      const text = existsSync(n.log) ? readFileSync(n.log, 'utf8') : '';
      const ready = text.split('\n').find((l) => l.includes('"event":"ready"'));
      if (ready && text.includes('"event":"serving"')) { vmac = (JSON.parse(ready) as { vmac?: string }).vmac ?? vmac; break; }
      if (!alive(n.daemonPid)) throw new VmacError('VMAC_LAB_FAILED', `the daemon of ${n.ns} exited during start:\n${text.slice(-2000)}`, { ns: n.ns });
      if (Date.now() > deadline) throw new VmacError('VMAC_LAB_FAILED', `the daemon of ${n.ns} was not ready within ${timeoutMs} ms:\n${text.slice(-2000)}`, { ns: n.ns });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return vmac;
}

export function readLabInfo(name: string): LabInfo {
  const file = join(labStateDir(name), 'lab.json');
  if (!existsSync(file)) throw new VmacError('VMAC_LAB_FAILED', `no lab named ${name} is up (no ${file})`, { name });
  return JSON.parse(readFileSync(file, 'utf8')) as LabInfo;
}
