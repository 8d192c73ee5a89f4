import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { requestControl } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/node-daemon.js';
import { EXIT_BAD_INPUT, printJson, reportError } from './output.js';
import { dataPathLines } from './status-reachability.js';

/** Resources, fencing and the quorum policy (issue 5), when configured. */
export function haLines(s: DaemonStatus): string[] {
  const out: string[] = [];
  const res = s.resources ?? [];
  if (res.length > 0) {
    out.push('', '| resource | driver | state | health | role | last check | failures |', '| --- | --- | --- | --- | --- | --- | ---: |');
    for (const r of res) {
      const last = r.lastCheck === null ? 'none yet' : `${r.lastCheck.outcome} ${r.lastCheck.agoMs} ms ago: ${r.lastCheck.detail}`;
      out.push(`| ${r.name} | ${r.kind} ${r.describe} | ${r.phase} | ${r.health}${r.holdRemainingMs === null ? '' : ` (damped ${r.holdRemainingMs} ms)`} | ${r.role} | ${last} | ${r.failures} |`);
    }
  }
  const f = s.cluster.fencing;
  if (f) {
    out.push('', `fencing: agent ${f.agent}, delay ${f.delayMs} ms; requested ${f.counters.requested}, succeeded ${f.counters.succeeded}, failed ${f.counters.failed}, cancelled ${f.counters.cancelled}`);
    for (const t of f.targets) out.push(`  ${t.name}: ${t.phase}${t.last === null ? '' : `; last fence action ${t.last.action} ${t.last.outcome}: ${t.last.detail}`}`);
  }
  const q = s.cluster.quorumPolicy;
  if (q) out.push(`quorum policy ${q.policy}${q.tieBreaker === null ? '' : `, tie-breaker ${q.tieBreaker}`}${q.verdict === null ? '' : `, verdict ${q.verdict}`}${q.holdBack.length === 0 ? '' : `; waiting for fence before taking over: ${q.holdBack.join(',')}`}`);
  if (s.watchdog) out.push(`watchdog armed, ${s.watchdog.kicks} kicks`);
  return out;
}

/** Config agreement: one line when all agree; else the standing and each differing peer's fields. */
function configLines(c: DaemonStatus['cluster']): string[] {
  const a = c.config;
  if (!a) return [];
  if (a.differing.length === 0) return [`config fingerprint ${a.fingerprint}: every peer heard agrees`];
  return [
    `CONFIG MISMATCH (fingerprint ${a.fingerprint}, standing ${a.standing}${a.standing === 'minority' || a.standing === 'yield' ? ': this node holds no bucket' : ''}):`,
    ...a.differing.map((d) => `  node ${d.id} (fingerprint ${d.digest}, for ${d.sinceMsAgo} ms${d.serving ? ', serving' : ''}): ${d.fields.map((f) => `${f.field} ours ${f.ours}, theirs ${f.theirs}`).join('; ')}`),
  ];
}

function render(s: DaemonStatus): string {
  const c = s.cluster;
  const lines = [
    `service ${s.service}: ${s.vip === null ? `VIP6 ${s.vip6 ?? '?'} (IPv6 only)` : `VIP ${s.vip}${s.vip6 === undefined ? '' : ` and VIP6 ${s.vip6}`}`} as ${s.vmac} (this node's MAC ${s.realMac})`,
    `node ${c.self.name} (id ${c.self.id}): ${c.self.state}; lease: ${c.quorum.lease}; quorum: ${c.quorum.has ? 'yes' : 'NO'} (needs ${c.quorum.size})`,
    `view epoch ${c.view.epoch}, agreed map ${c.view.digest}, absent: ${c.view.absent.length === 0 ? 'none' : c.view.absent.join(',')}; owns ${c.owned.length} buckets${c.view.disagreeing.length === 0 ? '' : `; MAP DISAGREEMENT with node(s) ${c.view.disagreeing.join(',')} (see the log)`}`,
    ...configLines(c),
    '',
    '| id | node | status | state | last heard | per link (ms ago) | map |',
    '| ---: | --- | --- | --- | ---: | --- | --- |',
    ...c.nodes.map((n) => `| ${n.id} | ${n.name} | ${n.status} | ${n.state ?? '-'} | ${n.lastHeardMsAgo === null ? 'never' : `${n.lastHeardMsAgo} ms`} | ${n.links.map((x) => (x === null ? '-' : String(x))).join(' / ') || '-'} | ${n.digest === c.view.digest ? 'same' : (n.digest ?? '-')} |`),
    '',
    `heartbeats sent ${c.heartbeats.sent}; received per link ${c.heartbeats.perLinkReceived.join(' / ')}; ` +
      Object.entries(c.heartbeats.received).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', '),
    s.vip === null ? 'arp: off (IPv6 only: no IPv4 VIP)' : `arp: ${Object.entries(s.arp).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'no requests yet'}`,
    ...(s.nd === undefined ? [] : [`nd: ${Object.entries(s.nd).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'no solicitations yet'}`]),
    ...(s.backend === undefined ? [] : [`data path backend: ${s.backend.kind}${s.backend.frames === undefined ? '' : `; frames ${Object.entries(s.backend.frames).map(([k, v]) => `${k} ${v}`).join(', ')}`}`]),

    ...haLines(s),
    ...dataPathLines(s),
  ];
  return lines.join('\n');
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("ask a running daemon for its view: quorum, lease, nodes, buckets, heartbeat and ARP counters")
    .option('-c, --config <file>', 'service config (finds its control socket)')
    .option('-s, --socket <path>', 'control socket path (instead of --config)')
    .option('--json', 'print the full status object')
    .addHelpText('after', `
Heartbeat counters by outcome: accepted, duplicate (the same message on another link), and every
drop reason (bad-mac, replay, truncated, oversized, unknown-node, …): a forged or broken
heartbeat is counted, never acted on.
Example:
  vmac status -c /etc/vmac/web.yaml --json`)
    .action(async (o: { config?: string; socket?: string; json?: boolean }) => {
      try {
        const path = o.socket ?? (o.config === undefined ? undefined : loadConfig(o.config).control.socket);
        if (path === undefined) {
          process.stderr.write('vmac: status needs --config <file> or --socket <path>\n');
          process.exitCode = EXIT_BAD_INPUT;
          return;
        }
        const s = (await requestControl(path, { cmd: 'status' })) as DaemonStatus;
        if (o.json) printJson(s);
        else process.stdout.write(`${render(s)}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
