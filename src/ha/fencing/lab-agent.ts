/**
 * Fences a lab node (test/lab only, never a host): inside the target's network namespace it
 * takes the node's link down and kills every process in that namespace (the daemon and its
 * service), then reads back that the link is down and no process is left. Success only when both
 * hold. The namespaces are named in the config (fencing.agent.lab.namespaces: node name -> ns).
 */
import type { AgentResult, FenceAgent } from './agent.js';
import { runProcess, type ProcessRunner } from '../resources/run-process.js';

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
