/**
 * Runs one external program (a resource agent, a check command, a fence agent) with a deadline:
 * never through a shell unless asked, stdin written and closed, output captured up to a bound,
 * the whole process group killed at the deadline. A timeout is its own outcome, never an exit
 * code the caller could mistake for an answer.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  readonly outcome: 'exited' | 'timeout' | 'spawn-failed';
  readonly code: number | null; // exit code when outcome is 'exited' (null if killed by a signal)
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly detail: string; // one line for logs and status
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  readonly cwd?: string;
}

/** Output kept per stream: enough for an agent's meta-data, bounded against a runaway child. */
const MAX_OUTPUT_BYTES = 256 * 1024;

export type ProcessRunner = (file: string, args: readonly string[], opts: RunOptions) => Promise<ProcessResult>;

export const runProcess: ProcessRunner = (file, args, opts) => new Promise((resolve) => {
  let stdout = '';
  let stderr = '';
  let settled = false;
  const child = spawn(file, [...args], { env: opts.env ? { ...opts.env } : process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const finish = (r: Omit<ProcessResult, 'stdout' | 'stderr'>): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve({ ...r, stdout, stderr });
  };
  const timer = setTimeout(() => {
    try { if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    finish({ outcome: 'timeout', code: null, signal: null, detail: `${file} did not finish within ${opts.timeoutMs} ms (killed)` });
  }, opts.timeoutMs);
  child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < MAX_OUTPUT_BYTES) stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < MAX_OUTPUT_BYTES) stderr += d; });
  child.on('error', (err) => finish({ outcome: 'spawn-failed', code: null, signal: null, detail: `${file}: ${err.message}` }));
  child.on('close', (code, signal) => {
    const last = (stderr.trim() || stdout.trim()).split('\n').pop() ?? '';
    finish({ outcome: 'exited', code, signal, detail: `${file} exited ${code ?? signal ?? '?'}${last === '' ? '' : `: ${last.slice(0, 200)}`}` });
  });
  child.stdin.on('error', () => undefined); // a child that does not read stdin
  child.stdin.end(opts.stdin ?? '');
});

/** `sh -c command` for operator-written command lines (check and command-triple resources). */
export function runShell(run: ProcessRunner, command: string, opts: RunOptions): Promise<ProcessResult> {
  return run('/bin/sh', ['-c', command], opts);
}
