/**
 * The port to a fencing device. `exec-agent.ts` runs any fence-agents style program,
 * `lab-agent.ts` fences a lab node, `fake-agent.ts` answers what a test scripts.
 */
import type { FenceOutcome } from './fence-machine.js';

export type AgentAction = 'off' | 'reboot' | 'on' | 'status' | 'monitor';

export interface FenceTarget { readonly id: number; readonly name: string }

export interface AgentResult { readonly outcome: FenceOutcome; readonly detail: string }

export interface FenceAgent {
  readonly kind: 'exec' | 'lab' | 'fake';
  readonly describe: string;
  run(action: AgentAction, target: FenceTarget, timeoutMs: number): Promise<AgentResult>;
}
