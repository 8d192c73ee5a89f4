/**
 * The lifecycle fixes of our patched libpcap addon (native-shims/cap, see its PATCHES.md), which
 * the unpatched cap 0.2.1 turned into aborts and segfaults:
 * - close() after a failed open() aborted (uv_poll_stop on a never-initialised handle);
 * - send() after close() dereferenced a null pcap handle;
 * - a closed capture, once garbage-collected, left a freed poll handle linked into libuv's
 *   handle queue, so open/close churn corrupted the heap within a few hundred rounds.
 * The link-down case (the capture's own error) is in test/lab/pcap-link.test.ts.
 * Opening a real capture needs CAP_NET_RAW, so those cases run as root only (CI runs as root).
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { openPcapPort } from '../../../native-shims/pcap.js';
import { isVmacError } from '../../../src/util/errors.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const isRoot = process.getuid?.() === 0;
const shimPath = fileURLToPath(new URL('../../../native-shims/pcap.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface RawCap {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  send(buffer: Buffer): void;
}

/** The addon itself, as the shim loads it (the shim's own guards would hide these cases). */
function rawCap(): new () => RawCap {
  const addonPath = fileURLToPath(new URL('../../../native-shims/cap/build/Release/cap.node', import.meta.url));
  const { Cap } = createRequire(import.meta.url)(addonPath) as { Cap: new () => RawCap };
  if (!(Cap.prototype instanceof EventEmitter)) Object.setPrototypeOf(Cap.prototype, EventEmitter.prototype);
  return Cap;
}

describe('patched cap addon: lifecycle', () => {
  it('close() after a failed open is a harmless no-op, send() throws, and GC finds nothing to abort on', async () => {
    const Cap = rawCap();
    for (let i = 0; i < 5; i++) {
      const cap = new Cap();
      expect(() => cap.open('vmacnosuch0', 'arp', 1 << 20, Buffer.alloc(64))).toThrow();
      expect(cap.close()).toBe(false);
      expect(cap.close()).toBe(false);
      expect(() => cap.send(Buffer.alloc(60))).toThrow('Not currently capturing/open');
    }
    expect(() => new Cap().send(Buffer.alloc(60))).toThrow('Not currently capturing/open');
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
  });

  it.skipIf(!isRoot)('close() is idempotent, send() after close() throws, and a closed object can be reopened', () => {
    const cap = new (rawCap())();
    const buffer = Buffer.alloc(65_536);
    expect(cap.open('lo', 'udp port 9', 1 << 16, buffer)).toBe('ETHERNET');
    cap.send(Buffer.alloc(60));
    expect(cap.close()).toBe(true);
    expect(cap.close()).toBe(false);
    expect(() => cap.send(Buffer.alloc(60))).toThrow('Not currently capturing/open');
    expect(cap.open('lo', 'udp port 9', 1 << 16, buffer)).toBe('ETHERNET');
    cap.send(Buffer.alloc(60));
    expect(cap.close()).toBe(true);
  });

  it.skipIf(!isRoot)('a bad filter throws without leaking the capture socket', () => {
    const Cap = rawCap();
    const before = openSockets();
    for (let i = 0; i < 5; i++) expect(() => new Cap().open('lo', 'not a filter (', 1 << 16, Buffer.alloc(64))).toThrow(/syntax error/);
    expect(openSockets()).toEqual(before);
  });

  it.skipIf(!isRoot)('the shim: send() after close() throws VMAC_PCAP_FAILED', () => {
    const port = openPcapPort({ ifname: 'lo', filter: 'udp port 9' });
    expect(port.state).toBe('open');
    port.close();
    port.close();
    expect(port.state).toBe('closed');
    let caught: unknown;
    try { port.send(new Uint8Array(60)); } catch (err) { caught = err; }
    expect(isVmacError(caught, 'VMAC_PCAP_FAILED')).toBe(true);
  });

  it.skipIf(!isRoot)('a closed capture hands its poll handle back to libuv (none left in the loop)', async () => {
    // Unpatched cap only stopped the handle and freed it with the object: still listed here.
    const pollHandles = () => (process.report.getReport() as { libuv: { type: string; fd?: number }[] }).libuv.filter((h) => h.type === 'poll');
    const loopTurn = () => new Promise((r) => setTimeout(r, 20)); // uv_close completes on the next turn
    await loopTurn(); // captures closed by the tests above
    const before = pollHandles().length;
    const ports = [1, 2, 3].map(() => openPcapPort({ ifname: 'lo', filter: 'arp', ringBytes: 1 << 16 }));
    expect(pollHandles().length).toBe(before + 3);
    for (const port of ports) port.close();
    await loopTurn();
    expect(pollHandles().length).toBe(before);
  });

  it.skipIf(!isRoot)('open/close churn with garbage collection keeps the process alive (in a child process)', () => {
    // Unpatched cap died here most runs ("corrupted size vs. prev_size", SIGSEGV, SIGABRT).
    const script = `
      const { openPcapPort } = await import(${JSON.stringify(pathToFileURL(shimPath).href)});
      const dgram = await import('node:dgram');
      for (let round = 0; round < 8; round++) {
        for (let i = 0; i < 10; i++) openPcapPort({ ifname: 'lo', filter: 'arp', ringBytes: 1 << 16 }).close();
        globalThis.gc();
        // Churn other libuv handles so the loop's handle queue is relinked around freed memory.
        await Promise.all(Array.from({ length: 30 }, () => new Promise((resolve) => {
          const s = dgram.createSocket('udp4');
          s.bind(0, () => s.close(resolve));
        })));
      }
      process.stdout.write('churn done\\n');
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 25_000 });
    expect({ status: r.status, signal: r.signal, stdout: r.stdout }, r.stderr).toEqual({ status: 0, signal: null, stdout: 'churn done\n' });
  }, 30_000);
});

/** Open sockets of this process (a capture is a packet socket). */
function openSockets(): string[] {
  const links = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
  return links.filter((l) => l.startsWith('socket:')).sort();
}
