/**
 * The patched libpcap addon (native-shims/cap) under link failure, for real: a capture on a
 * veth end whose link is taken down and deleted. Unpatched cap 0.2.1 aborted the capturing
 * process here (`assert(status == 0)` in its poll callback). Now the process must live on, the
 * port must report through `onLinkError` and turn 'failed', and a NEW port opened once the link
 * is back must capture frames again.
 *
 * The capture runs in a child process inside namespace A (a capture opens in the caller's
 * namespace, and the test runner stays in the host's); it takes commands on stdin and reports
 * JSON lines on stdout. A second child in namespace B broadcasts a UDP datagram every 50 ms, so
 * a working capture sees frames without any ARP resolution.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.js';
import { repoRoot } from '../../lab/paths.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('pl');
const nsA = `${prefix}-a`;
const nsB = `${prefix}-b`;
const BROADCAST = '192.0.2.255';
const PORT = 9;

const shimUrl = pathToFileURL(fileURLToPath(new URL('../../native-shims/pcap.ts', import.meta.url))).href;

/** Runs in nsA: one PcapPort at a time on eth0; commands on stdin, JSON lines on stdout. */
const CAPTURE_CHILD = `
import { createInterface } from 'node:readline';
const { openPcapPort } = await import(${JSON.stringify(shimUrl)});
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let port;
let id = 0;
// A broadcast frame with the local experimental EtherType 0x88b5: harmless to send anywhere.
const frame = new Uint8Array(60).fill(0xff, 0, 6).fill(0x02, 6, 12);
frame[12] = 0x88; frame[13] = 0xb5;
const commands = {
  open() {
    port?.close();
    port = undefined;
    const mine = ++id;
    try {
      const p = openPcapPort({
        ifname: 'eth0',
        filter: 'udp port ${PORT}',
        onLinkError: (err) => out({ event: 'linkError', port: mine, code: err.code, message: err.message, errno: err.details.errno, state: p.state }),
      });
      p.onFrame(() => out({ event: 'frame', port: mine }));
      port = p;
      out({ event: 'opened', port: mine });
    } catch (err) {
      out({ event: 'openFailed', port: mine, code: err.code, message: err.message });
    }
  },
  send() {
    try { port.send(frame); out({ event: 'sent', port: id, ok: true }); }
    catch (err) { out({ event: 'sent', port: id, ok: false, code: err.code, message: err.message }); }
  },
  status() { out({ event: 'status', port: id, state: port?.state ?? 'none', counters: port?.counters() }); },
  // Exits by itself only if nothing native is left holding the event loop.
  exit() { port?.close(); out({ event: 'bye' }); rl.close(); process.stdin.destroy(); },
};
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => commands[line.trim()]?.());
out({ event: 'ready' });
commands.open();
`;

/** Runs in nsB: a UDP broadcast every 50 ms; errors while the link is down or gone are ignored. */
const SENDER_CHILD = `
const s = require('node:dgram').createSocket('udp4');
s.on('error', () => {});
s.bind(() => { s.setBroadcast(true); setInterval(() => s.send('vmac', ${PORT}, ${JSON.stringify(BROADCAST)}, () => {}), 50); });
`;

interface Report { event: string; port?: number; [key: string]: unknown }

/** A child in a namespace that reports JSON lines; tests wait for the reports they expect. */
class ReportingChild {
  readonly reports: Report[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private waiters: (() => void)[] = [];

  constructor(ns: string, nodeArgs: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeArgs], { cwd: repoRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      try { this.reports.push(JSON.parse(line) as Report); } catch { this.stderr += `(not JSON) ${line}\n`; }
      this.wake();
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => { resolve({ code, signal }); this.wake(); }));
  }

  get alive(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }

  command(cmd: 'open' | 'send' | 'status' | 'exit'): void { this.proc.stdin.write(`${cmd}\n`); }

  /** The first report from index `from` on that matches, or a failure naming what was seen. */
  async waitFor(what: string, match: (r: Report) => boolean, from = 0, timeoutMs = 5000): Promise<Report> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.reports.slice(from).find(match);
      if (found) return found;
      if (!this.alive) throw new Error(`child exited while waiting for ${what}; stderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; reports: ${JSON.stringify(this.reports.slice(from))}; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Sends `cmd` and waits for the report it produces. */
  async ask(cmd: 'open' | 'send' | 'status', what: string, match: (r: Report) => boolean): Promise<Report> {
    const from = this.reports.length;
    this.command(cmd);
    return this.waitFor(what, match, from);
  }

  kill(): void { if (this.alive) this.proc.kill('SIGKILL'); }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** (Re)creates the veth pair (vethPair's layout) with B's broadcast address. */
async function linkUp(): Promise<void> {
  await run('ip', ['-n', nsA, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsB]);
  await run('ip', ['-n', nsB, 'addr', 'add', '192.0.2.2/24', 'brd', '+', 'dev', 'eth0']);
  for (const ns of [nsA, nsB]) await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
}

describe('pcap port when its link goes down or away', () => {
  let capture: ReportingChild | undefined;
  let sender: ReportingChild | undefined;

  beforeAll(async () => {
    await vethPair(nsA, nsB);
    await run('ip', ['-n', nsB, 'addr', 'add', '192.0.2.2/24', 'brd', '+', 'dev', 'eth0']);
    sender = new ReportingChild(nsB, ['-e', SENDER_CHILD]);
  });

  afterAll(async () => {
    capture?.kill();
    sender?.kill();
    await Promise.all([capture?.exited, sender?.exited]);
    await deleteNamespaces(nsA, nsB);
    await expectNoNamespacesLeft(prefix);
  });

  it('survives link down and deletion, reports onLinkError, and a new port captures again', async () => {
    const child = new ReportingChild(nsA, ['--import', 'tsx', '--input-type=module', '-e', CAPTURE_CHILD]);
    capture = child;
    const isFrame = (port: number) => (r: Report) => r.event === 'frame' && r.port === port;
    const isLinkError = (port: number) => (r: Report) => r.event === 'linkError' && r.port === port;

    // 1. A working capture.
    await child.waitFor('port 1 opened', (r) => r.event === 'opened' && r.port === 1, 0, 15_000);
    await child.waitFor('a frame on port 1', isFrame(1));
    expect(await child.ask('send', 'send on port 1', (r) => r.event === 'sent')).toMatchObject({ ok: true });

    // 2. Link down: the port fails and says so; the process lives on.
    await run('ip', ['-n', nsA, 'link', 'set', 'eth0', 'down']);
    const down = await child.waitFor('onLinkError after link down', isLinkError(1));
    expect(down).toMatchObject({ code: 'VMAC_PCAP_FAILED', errno: 'ENETDOWN', state: 'failed' });
    expect(down.message).toContain('pcap on eth0: capture failed');
    expect(await child.ask('status', 'status', (r) => r.event === 'status')).toMatchObject({ port: 1, state: 'failed' });
    expect(await child.ask('send', 'send on the failed port', (r) => r.event === 'sent')).toMatchObject({ ok: false, code: 'VMAC_PCAP_FAILED' });
    // Opening while the link is down fails cleanly, as before.
    expect(await child.ask('open', 'open while down', (r) => r.event === 'openFailed' || r.event === 'opened')).toMatchObject({ event: 'openFailed', port: 2, code: 'VMAC_PCAP_FAILED' });

    // 3. The downed link is deleted: nothing more to report, and still alive.
    await run('ip', ['-n', nsA, 'link', 'del', 'eth0']);
    expect(await child.ask('status', 'status after delete', (r) => r.event === 'status')).toMatchObject({ event: 'status' });

    // 4. The link is back: a new port captures and sends again.
    await linkUp();
    expect(await child.ask('open', 'port 3 opened', (r) => r.event === 'opened' || r.event === 'openFailed')).toMatchObject({ event: 'opened', port: 3 });
    await child.waitFor('a frame on port 3', isFrame(3), 0, 10_000);
    expect(await child.ask('send', 'send on port 3', (r) => r.event === 'sent')).toMatchObject({ port: 3, ok: true });

    // 5. The link is deleted while up (no admin down first): the same report.
    await run('ip', ['-n', nsA, 'link', 'del', 'eth0']);
    expect(await child.waitFor('onLinkError after delete', isLinkError(3))).toMatchObject({ code: 'VMAC_PCAP_FAILED', errno: 'ENETDOWN', state: 'failed' });

    // 6. Back once more, then a clean exit: no handle left to keep the process alive, no abort.
    await linkUp();
    expect(await child.ask('open', 'port 4 opened', (r) => r.event === 'opened' || r.event === 'openFailed')).toMatchObject({ event: 'opened', port: 4 });
    await child.waitFor('a frame on port 4', isFrame(4), 0, 10_000);
    child.command('exit');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.reports.filter((r) => r.event === 'linkError').map((r) => r.port)).toEqual([1, 3]);
    expect(child.stderr).not.toMatch(/Assertion|Aborted|Segmentation/);
  }, 60_000);
});
