/**
 * A test double of systemd's notify socket, for machines where systemd is not PID 1: a unix
 * datagram socket bound by a small python3 process (Node has no unix datagram sockets) that
 * writes every datagram it receives as one JSON string per line, with a receive timestamp.
 * And a daemon started as systemd would start it: NOTIFY_SOCKET and WATCHDOG_USEC set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const RECEIVER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    d = s.recv(65536)
    print(json.dumps({"atMs": time.time() * 1000, "message": d.decode()}), flush=True)
`;

export interface NotifyDouble {
  readonly socketPath: string;
  messages(): { atMs: number; message: string }[];
  close(): void;
}

export async function startNotifyDouble(dir: string): Promise<NotifyDouble> {
  const socketPath = join(dir, 'notify.sock');
  const out = join(dir, 'notify.log');
  const fd = openSync(out, 'w');
  const child = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  const deadline = Date.now() + 5000;
  while (!existsSync(socketPath)) {
    if (Date.now() > deadline) { child.kill(); throw new Error('notify double did not bind its socket'); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    socketPath,
    messages: () => readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('"message"')).map((l) => JSON.parse(l) as { atMs: number; message: string }),
    close: () => { child.kill(); },
  };
}

/** `<argv...>` inside namespace `ns` with the environment systemd gives a Type=notify unit. */
export function spawnNotified(ns: string, argv: readonly string[], notifySocket: string, watchdogUsec: number, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: String(watchdogUsec) };
    delete env.WATCHDOG_PID; // the pid is not known before the spawn; the daemon then accepts the variable
    return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
}
