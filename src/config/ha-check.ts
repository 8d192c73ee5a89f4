/**
 * Cross-field rules for the resources, healthChecks, fencing and quorum sections, each problem
 * naming its field: one driver per resource and one kind per check, checks naming a configured
 * resource, fence targets naming configured nodes, the two-node policy only
 * for two nodes and with a tie-breaker, timeouts inside their intervals.
 */
import { parseIp } from '../util/ip.js';
import type { ConfigProblem } from './problems.js';
import type { RawHaSections } from './ha-raw.js';
import { crmProblems } from './crm-config.js';

type Clean = (prefix: string) => boolean;

function exactlyOne(obj: object, keys: readonly string[], path: string, what: string): ConfigProblem[] {
  const present = keys.filter((k) => (obj as Record<string, unknown>)[k] !== undefined);
  if (present.length === 1) return [];
  return [{ path, message: present.length === 0 ? `needs one of ${keys.join(', ')} (${what})` : `has ${present.join(' and ')}: choose one (${what})` }];
}

function resourceProblems(raw: RawHaSections): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  (raw.resources ?? []).forEach((r, i) => {
    if (r.kind !== 'group') out.push(...exactlyOne(r, r.kind === 'singleton' ? ['command', 'systemd', 'ocf', 'vip'] : ['command', 'systemd', 'ocf'], `resources[${i}]`, 'how the service is started, stopped and monitored'));
    const first = seen.get(r.name);
    if (first !== undefined) out.push({ path: `resources[${i}].name`, message: `"${r.name}" is already used by resources[${first}]; resource names must be unique` });
    else seen.set(r.name, i);
    if (r.damping?.holdBaseMs !== undefined && r.damping.holdMaxMs !== undefined && r.damping.holdBaseMs > r.damping.holdMaxMs) {
      out.push({ path: `resources[${i}].damping.holdMaxMs`, message: `must be at least holdBaseMs (${r.damping.holdBaseMs}), got ${r.damping.holdMaxMs}` });
    }
  });
  return out;
}

function checkProblems(raw: RawHaSections): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const names = new Set((raw.resources ?? []).map((r) => r.name));
  (raw.healthChecks ?? []).forEach((c, i) => {
    const at = `healthChecks[${i}]`;
    out.push(...exactlyOne(c, ['http', 'tcp', 'command', 'monitor'], at, 'what the check does'));
    if (!names.has(c.resource)) out.push({ path: `${at}.resource`, message: `"${c.resource}" is not a configured resource (resources: ${[...names].join(', ') || 'none'})` });
    else if ((raw.resources ?? []).some((r) => r.name === c.resource && (r.kind ?? 'clone') !== 'clone')) out.push({ path: `${at}.resource`, message: `"${c.resource}" is not a clone: health checks gate this node's buckets; a singleton or group is watched by its driver's monitor (docs/crm.md)` });
    if (c.timeoutMs !== undefined && c.intervalMs !== undefined && c.timeoutMs > c.intervalMs) out.push({ path: `${at}.timeoutMs`, message: `must be at most intervalMs (${c.intervalMs}), got ${c.timeoutMs}: checks never overlap` });
    if (c.monitor === false) out.push({ path: `${at}.monitor`, message: 'must be true when given (it selects the driver\'s monitor action as the check)' });
    if (c.http) {
      if (!/^http:\/\/[^/\s]+/.test(c.http.url)) out.push({ path: `${at}.http.url`, message: `must be an http:// URL, got ${JSON.stringify(c.http.url)}` });
      if (c.http.bodyMatch !== undefined) {
        try { new RegExp(c.http.bodyMatch); } catch (err) { out.push({ path: `${at}.http.bodyMatch`, message: `not a valid regular expression: ${(err as Error).message}` }); }
      }
    }
  });
  return out;
}

function nodeNames(raw: { node?: { name?: unknown }; peers?: unknown }): Set<string> {
  const out = new Set<string>();
  if (typeof raw.node?.name === 'string') out.add(raw.node.name);
  if (Array.isArray(raw.peers)) for (const p of raw.peers as { name?: unknown }[]) if (typeof p?.name === 'string') out.add(p.name);
  return out;
}

function fencingProblems(raw: RawHaSections, nodes: Set<string>): ConfigProblem[] {
  const f = raw.fencing;
  if (!f) return [];
  const out = exactlyOne(f.agent, ['exec'], 'fencing.agent', 'the fencing device');
  const known = [...nodes].join(', ');
  const exec = f.agent.exec;
  if (exec) {
    for (const [k, v] of Object.entries(exec.params ?? {})) if (/[\n\r=]/.test(k) || /[\n\r]/.test(v)) out.push({ path: `fencing.agent.exec.params.${k}`, message: 'keys and values go to the agent as key=value lines: no newlines (and no = in keys)' });
    for (const [name, opts] of Object.entries(exec.targets ?? {})) {
      if (!nodes.has(name)) out.push({ path: `fencing.agent.exec.targets.${name}`, message: `"${name}" is not a configured node (nodes: ${known})` });
      for (const [k, v] of Object.entries(opts)) if (/[\n\r=]/.test(k) || /[\n\r]/.test(v)) out.push({ path: `fencing.agent.exec.targets.${name}.${k}`, message: 'no newlines (and no = in keys)' });
    }
  }
  if (f.retryBaseMs !== undefined && f.retryMaxMs !== undefined && f.retryBaseMs > f.retryMaxMs) out.push({ path: 'fencing.retryMaxMs', message: `must be at least retryBaseMs (${f.retryBaseMs}), got ${f.retryMaxMs}` });
  return out;
}

function quorumProblems(raw: RawHaSections, nodeCount: number): ConfigProblem[] {
  const q = raw.quorum;
  if (!q) return [];
  const out: ConfigProblem[] = [];
  if (q.policy === 'two-node') {
    if (nodeCount !== 2) out.push({ path: 'quorum.policy', message: `"two-node" is for exactly two nodes (node and one peer), this file has ${nodeCount}; with three or more the majority rule needs no tie-breaker` });
    if (q.tieBreaker === undefined) out.push({ path: 'quorum.tieBreaker', message: 'required with policy "two-node": the address both nodes ping; the side that cannot reach it gives up' });
  } else if (q.tieBreaker !== undefined) {
    out.push({ path: 'quorum.tieBreaker', message: 'only used with policy "two-node"' });
  }
  const t = q.tieBreaker;
  if (t) {
    let v4 = false;
    try { v4 = parseIp(t.ping).family === 4; } catch { v4 = false; }
    if (!v4) out.push({ path: 'quorum.tieBreaker.ping', message: `must be an IPv4 address (ICMP echo), got ${JSON.stringify(t.ping)}` });
    if (t.timeoutMs !== undefined && t.intervalMs !== undefined && t.timeoutMs > t.intervalMs) out.push({ path: 'quorum.tieBreaker.timeoutMs', message: `must be at most intervalMs (${t.intervalMs}), got ${t.timeoutMs}` });
  }
  return out;
}

/** Problems in the issue-5 sections; each section only when it passed the structural check. */
export function haProblems(raw: RawHaSections & { node?: { name?: unknown }; peers?: unknown }, clean: Clean): ConfigProblem[] {
  const nodes = nodeNames(raw);
  const nodeCount = 1 + (Array.isArray(raw.peers) ? raw.peers.length : 0);
  return [
    ...(clean('resources') ? resourceProblems(raw) : []),
    ...(clean('resources') && clean('node') && clean('peers') ? crmProblems(raw.resources ?? [], nodes) : []),
    ...(clean('healthChecks') && clean('resources') ? checkProblems(raw) : []),
    ...(clean('fencing') && clean('node') && clean('peers') ? fencingProblems(raw, nodes) : []),
    ...(clean('quorum') && clean('peers') ? quorumProblems(raw, nodeCount) : []),
  ];
}
