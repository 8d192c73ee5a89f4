/**
 * A systemd unit through `systemctl`: start/stop, and its state read back with
 * `systemctl show -p ActiveState,SubState` (active → running; inactive → stopped; failed,
 * activating, deactivating … → failed for health purposes). The systemctl path is a parameter so
 * a lab without systemd as PID 1 can drive a test double of it (test/lab/helpers/systemctl-double.sh).
 */
import type { MonitorResult, ResourceDriver } from './driver.js';
import { actionResult } from './command-triple.js';
import { runProcess, type ProcessRunner } from '../../adapters/run-process.js';

export interface SystemdUnit { readonly unit: string; readonly systemctl: string }

/** `Key=value` lines → map. */
export function parseShow(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

export function systemdUnit(u: SystemdUnit, run: ProcessRunner = runProcess): ResourceDriver {
  return {
    kind: 'systemd',
    describe: u.unit,
    async start(timeoutMs) { return actionResult(await run(u.systemctl, ['start', u.unit], { timeoutMs })); },
    async stop(timeoutMs) { return actionResult(await run(u.systemctl, ['stop', u.unit], { timeoutMs })); },
    async monitor(timeoutMs): Promise<MonitorResult> {
      const r = await run(u.systemctl, ['show', '-p', 'ActiveState,SubState', u.unit], { timeoutMs });
      if (r.outcome !== 'exited' || r.code !== 0) return { state: 'failed', detail: r.detail };
      const props = parseShow(r.stdout);
      const active = props.get('ActiveState') ?? 'unknown';
      const detail = `${u.unit}: ${active}/${props.get('SubState') ?? '?'}`;
      return { state: active === 'active' ? 'running' : active === 'inactive' ? 'stopped' : 'failed', detail };
    },
  };
}
