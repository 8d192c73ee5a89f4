/** Running lab commands (ip, nft, bridge, the C helpers) with errors that say what failed. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { promisify } from 'node:util';
import { VmacError } from '../src/util/errors.js';

const execFileP = promisify(execFile);

export async function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  try {
    if (opts.input !== undefined) return await runWithInput(cmd, args, opts.input, opts.timeoutMs ?? 30_000);
    const { stdout } = await execFileP(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new VmacError('VMAC_LAB_FAILED', `${cmd} ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`, { cmd, args }, { cause: err });
  }
}

function runWithInput(cmd: string, args: readonly string[], input: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let errText = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(Object.assign(new Error(`exit ${code}`), { stderr: errText }))));
    child.stdin.end(input);
  });
}

/** A command inside a lab namespace. */
export function nsRun(ns: string, cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** `ip` batch mode (-b -) in a namespace: hundreds of address changes in one process. */
export function ipBatch(ns: string, lines: readonly string[]): Promise<string> {
  return run('ip', ['-n', ns, '-b', '-'], { input: `${lines.join('\n')}\n` });
}

/** Starts a long-lived process inside a namespace, detached, output to a log file. */
export function spawnInNs(ns: string, cmd: string, args: readonly string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}
