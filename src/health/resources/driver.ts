/**
 * The port to the local service: start it, stop it, ask whether it runs. Three drivers implement
 * it (command-triple.ts, systemd-unit.ts, ocf-agent.ts) and a fake (fake-driver.ts) for tests.
 * Results are named outcomes with a one-line detail for logs and `vmac status`.
 */
import type { ActionOutcome } from './resource-policy.js';

export interface ActionResult { readonly outcome: ActionOutcome; readonly detail: string }

/** running: up; stopped: cleanly not running; failed: in an error state (or the monitor failed). */
export type MonitorState = 'running' | 'stopped' | 'failed';
export interface MonitorResult { readonly state: MonitorState; readonly detail: string }

export interface ResourceDriver {
  readonly kind: 'command' | 'systemd' | 'ocf' | 'fake';
  /** What it drives, for logs: the unit, the agent, the start command. */
  readonly describe: string;
  start(timeoutMs: number): Promise<ActionResult>;
  stop(timeoutMs: number): Promise<ActionResult>;
  monitor(timeoutMs: number): Promise<MonitorResult>;
}
