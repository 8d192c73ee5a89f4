/**
 * Any fence-agents program (fence_ipmilan, fence_virsh, …, or an operator's own script) by the
 * standard calling convention: no arguments, `key=value` lines on stdin — `action=<off|reboot|
 * on|status|monitor>`, the device's own options (ip, username, password, …) and per target the
 * options that select it (usually `plug=` or `port=`). Exit 0 is success; for `status`, 0 means
 * on and 2 means off. Anything else, or no answer in time, is a failure: never a guess.
 */
import type { AgentAction, AgentResult, FenceAgent, FenceTarget } from './agent.js';
import { runProcess, type ProcessRunner } from '../adapters/run-process.js';

export interface ExecAgentSpec {
  readonly path: string;
  readonly params: Readonly<Record<string, string>>; // device options, the same for every target
  readonly targets: Readonly<Record<string, Readonly<Record<string, string>>>>; // node name -> its options
}

/** One `key=value` per line; newlines in values would forge keys, so they are refused earlier (config). */
export function stdinFor(spec: ExecAgentSpec, action: AgentAction, target: FenceTarget): string {
  const lines = [`action=${action}`];
  for (const [k, v] of Object.entries(spec.params)) lines.push(`${k}=${v}`);
  for (const [k, v] of Object.entries(spec.targets[target.name] ?? { plug: target.name })) lines.push(`${k}=${v}`);
  return `${lines.join('\n')}\n`;
}

/** Lines to log: the options sent, with anything that looks like a secret masked. */
export function redacted(stdin: string): string {
  return stdin.replace(/^((?:password|passwd|pass|secret|key)[^=]*)=.*$/gim, '$1=***').trim().replace(/\n/g, ' ');
}

export const EXEC_STATUS_OFF = 2;

export function execAgent(spec: ExecAgentSpec, run: ProcessRunner = runProcess): FenceAgent {
  return {
    kind: 'exec',
    describe: spec.path,
    async run(action, target, timeoutMs): Promise<AgentResult> {
      const stdin = stdinFor(spec, action, target);
      const r = await run(spec.path, [], { timeoutMs, stdin });
      if (r.outcome === 'timeout') return { outcome: 'timeout', detail: r.detail };
      const ok = r.outcome === 'exited' && (r.code === 0 || (action === 'status' && r.code === EXEC_STATUS_OFF));
      return { outcome: ok ? 'success' : 'failed', detail: `${r.detail} [${redacted(stdin)}]` };
    },
  };
}
