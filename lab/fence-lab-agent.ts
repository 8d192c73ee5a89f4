/**
 * Fences a lab node (test/lab only, never a host): inside the target's network namespace it
 * takes the node's link down and kills every process in that namespace (the daemon and its
 * service), then reads back that the link is down and no process is left. Success only when both
 * hold.
 *
 * The product has no lab agent: the lab configures its daemons with the ordinary `exec` agent
 * (fence-agents convention) pointing at this file run as a program (`labFenceAgentYaml` in
 * ha-lab.ts writes the wrapper): stdin `action=…`, `ifname=…` (device option) and, per target,
 * `plug=<node name>` and `ns=<namespace>`. Exit 0 on success; for `status`, 0 on and 2 off.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AgentAction, AgentResult, FenceAgent } from '../src/fencing/agent.js';
import { runProcess, type ProcessRunner } from '../src/adapters/run-process.js';

export interface LabAgentSpec {
  readonly namespaces: Readonly<Record<string, string>>;
  readonly ifname: string;
}

export function labAgent(spec: LabAgentSpec, run: ProcessRunner = runProcess, kill: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL')): FenceAgent {
  return {
    kind: 'lab',
    describe: 'lab',
    async run(action, target, timeoutMs): Promise<AgentResult> {
      const ns = spec.namespaces[target.name];
      if (ns === undefined) return { outcome: 'failed', detail: `no lab namespace configured for ${target.name}` };
      if (action === 'status' || action === 'monitor') {
        const link = await run('ip', ['-n', ns, '-o', 'link', 'show', spec.ifname], { timeoutMs });
        return { outcome: link.outcome === 'exited' && link.code === 0 ? 'success' : 'failed', detail: link.stdout.includes('state UP') ? 'on' : 'off' };
      }
      const down = await run('ip', ['-n', ns, 'link', 'set', spec.ifname, 'down'], { timeoutMs });
      if (down.outcome !== 'exited' || down.code !== 0) return { outcome: down.outcome === 'timeout' ? 'timeout' : 'failed', detail: `link down: ${down.detail}` };
      const pids = await run('ip', ['netns', 'pids', ns], { timeoutMs });
      if (pids.outcome !== 'exited' || pids.code !== 0) return { outcome: 'failed', detail: `listing processes: ${pids.detail}` };
      const list = pids.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
      for (const pid of list) { try { kill(pid); } catch { /* already gone */ } }
      const check = await run('ip', ['-n', ns, '-o', 'link', 'show', spec.ifname], { timeoutMs });
      if (check.stdout.includes('state UP') || check.stdout.includes(',UP')) return { outcome: 'failed', detail: `link ${spec.ifname} in ${ns} is still up` };
      return { outcome: 'success', detail: `${ns}: ${spec.ifname} down, ${list.length} processes killed (${action})` };
    },
  };
}

/** The fence-agents stdin (`key=value` lines) as the lab agent's inputs, or why not. */
export function parseAgentStdin(stdin: string): { action: AgentAction; target: string; spec: LabAgentSpec } | { error: string } {
  const kv = new Map<string, string>();
  for (const line of stdin.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) kv.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const action = kv.get('action');
  const target = kv.get('plug') ?? kv.get('port');
  const ns = kv.get('ns');
  if (action !== 'off' && action !== 'reboot' && action !== 'on' && action !== 'status' && action !== 'monitor') return { error: `unknown action ${JSON.stringify(action)}` };
  if (target === undefined || ns === undefined) return { error: 'needs plug= (the node) and ns= (its namespace)' };
  return { action, target, spec: { namespaces: { [target]: ns }, ifname: kv.get('ifname') ?? 'eth0' } };
}

async function main(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const req = parseAgentStdin(Buffer.concat(chunks).toString('utf8'));
  if ('error' in req) { process.stderr.write(`fence-lab-agent: ${req.error}\n`); return 1; }
  const r = await labAgent(req.spec).run(req.action, { id: 0, name: req.target }, 10_000);
  process.stdout.write(`${r.detail}\n`);
  if (req.action === 'status' && r.outcome === 'success') return r.detail === 'off' ? 2 : 0;
  return r.outcome === 'success' ? 0 : 1;
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === self) void main().then((code) => process.exit(code));
