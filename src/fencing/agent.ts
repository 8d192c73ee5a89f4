/**
 * The port to a fencing device. `exec-agent.ts` runs any fence-agents style program,
 * `fake-agent.ts` answers what a test scripts. (The lab fences its nodes through `exec` with its
 * own program, lab/fence-lab-agent.ts: no lab code in the product.)
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
