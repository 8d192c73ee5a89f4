/**
 * A resource run by three operator-written shell commands. start/stop succeed on exit 0;
 * monitor follows the OCF convention so an agent-style script works unchanged: 0 running,
 * 7 stopped, anything else failed.
 */
import type { ActionResult, MonitorResult, ResourceDriver } from './driver.js';
import { runProcess, runShell, type ProcessResult, type ProcessRunner } from '../../adapters/run-process.js';

export interface CommandTriple { readonly start: string; readonly stop: string; readonly monitor: string }

const OCF_NOT_RUNNING = 7;

export function actionResult(r: ProcessResult): ActionResult {
  if (r.outcome === 'timeout') return { outcome: 'timeout', detail: r.detail };
  return { outcome: r.outcome === 'exited' && r.code === 0 ? 'ok' : 'failed', detail: r.detail };
}

export function commandTriple(cmds: CommandTriple, run: ProcessRunner = runProcess, env?: Readonly<Record<string, string>>): ResourceDriver {
  const opts = (timeoutMs: number): { timeoutMs: number; env?: Readonly<Record<string, string>> } => (env ? { timeoutMs, env } : { timeoutMs });
  return {
    kind: 'command',
    describe: cmds.start.length > 60 ? `${cmds.start.slice(0, 57)}...` : cmds.start,
    async start(timeoutMs) { return actionResult(await runShell(run, cmds.start, opts(timeoutMs))); },
    async stop(timeoutMs) { return actionResult(await runShell(run, cmds.stop, opts(timeoutMs))); },
    async monitor(timeoutMs): Promise<MonitorResult> {
      const r = await runShell(run, cmds.monitor, opts(timeoutMs));
      if (r.outcome !== 'exited') return { state: 'failed', detail: r.detail };
      return { state: r.code === 0 ? 'running' : r.code === OCF_NOT_RUNNING ? 'stopped' : 'failed', detail: r.detail };
    },
  };
}
