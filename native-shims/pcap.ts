/**
 * The only file that touches libpcap: a live capture with a BPF filter plus raw sends, typed as
 * a `PacketPort`. It loads OUR patched copy of the `cap` 0.2.1 addon (native-shims/cap/, built
 * by `make setup`; every change is listed in native-shims/cap/PATCHES.md), not the npm package.
 *
 * What the addon does underneath, and why this wrapper is shaped as it is (checked against
 * native-shims/cap/src/binding.cc and on this machine):
 * - It copies every packet into ONE caller-supplied buffer and emits 'packet' synchronously from
 *   a loop that fetches the next packet right after the listener returns, so we copy each frame
 *   out before handing it on. It keeps only a raw pointer to that buffer: the buffer stays
 *   reachable through our 'packet' listener for as long as the capture is open.
 * - It always opens in promiscuous mode and, on Linux, switches on immediate mode by looking up
 *   `pcap_set_immediate_mode` in dlopen("libpcap.so") — the unversioned name that only
 *   libpcap-dev installs. Without it, TPACKET_V3 holds packets for up to the 1 s read timeout.
 * - Taking the capturing interface DOWN, or deleting it, makes the packet socket report
 *   ENETDOWN. Unpatched cap aborted the process there (`assert(status == 0)`); the patched
 *   addon releases the capture and emits 'error' instead. The port then turns 'failed', reports
 *   once through `onLinkError`, and refuses to send; the owner opens a NEW port once the link
 *   is up again (a capture never resumes by itself). Carrier loss on the far end of the link is
 *   not an error: capture pauses and resumes.
 * - A failed open leaves nothing behind (unpatched cap left a half-built handle whose close()
 *   or garbage collection aborted the process, and leaked the socket of a bad filter), and
 *   send() after close() throws instead of dereferencing a null pcap handle.
 * - An exception thrown by a 'packet' listener escapes the native loop as an uncaught
 *   exception, so handlers are called inside try/catch.
 * - open() on an interface that is down fails ("That device is not up"); open it once up.
 * - libpcap prints "Warning: …: no IPv4 address assigned" on stderr for an interface without an
 *   IPv4 address (cap calls pcap_lookupnet); the capture works regardless.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FrameHandler, PacketPort, Unsubscribe } from '../src/arp/packet-port.js';
import { VmacError } from '../src/util/errors.js';

/** The error the patched addon emits when a capture cannot go on; `code` is e.g. 'ENETDOWN'. */
type CaptureError = Error & { code?: string; errno?: number };

/** The slice of the addon's untyped API that we use. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  send(buffer: Buffer, nBytes?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  on(event: 'error', listener: (err: CaptureError) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
type CapConstructor = new () => CapHandle;

let capConstructor: CapConstructor | undefined;

/** Where the addon is built, relative to this file: in the source tree and from dist/. */
const ADDON_CANDIDATES = ['./cap/build/Release/cap.node', '../../native-shims/cap/build/Release/cap.node'];

/** Loads the addon on first use, so merely importing this file never needs the native build. */
export function loadCap(): CapConstructor {
  if (capConstructor) return capConstructor;
  const paths = ADDON_CANDIDATES.map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const path = paths.find((p) => existsSync(p));
  if (path === undefined) {
    throw new VmacError('VMAC_PCAP_FAILED', 'the patched libpcap addon is not built (native-shims/cap): run `make setup`', { candidates: paths });
  }
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(path);
  } catch (err) {
    throw new VmacError('VMAC_PCAP_FAILED', `cannot load the libpcap addon ${path} (rebuild it with \`make setup\`): ${errorText(err)}`, { path }, { cause: err });
  }
  const Cap = (mod as { Cap?: unknown } | undefined)?.Cap;
  const proto = typeof Cap === 'function' ? (Cap.prototype as Record<string, unknown>) : {};
  const missing = ['open', 'close', 'send'].filter((m) => typeof proto[m] !== 'function');
  if (typeof Cap !== 'function' || missing.length > 0) {
    throw new VmacError('VMAC_PCAP_FAILED', `the libpcap addon ${path} lacks Cap.${missing.join(', Cap.') || 'constructor'}: rebuild it with \`make setup\``, { path, missing });
  }
  // What cap's lib/Cap.js does: the native constructor looks up `emit` on the new object.
  Object.setPrototypeOf(Cap.prototype, EventEmitter.prototype);
  capConstructor = Cap as CapConstructor;
  return capConstructor;
}

export interface PcapPortOptions {
  /** The interface to capture on and send from, e.g. the cluster interface. */
  readonly ifname: string;
  /** A pcap-filter(7) expression applied in the kernel, e.g. 'arp'. */
  readonly filter: string;
  /** libpcap's kernel ring size; ARP is tiny, so 1 MiB is plenty. */
  readonly ringBytes?: number;
  /**
   * Receives errors thrown by frame handlers (which the port contract forbids). Default: rethrow
   * on a later microtask, i.e. crash loudly, after every handler has seen the frame.
   */
  readonly onHandlerError?: (err: VmacError) => void;
  /**
   * Called once, with a `VMAC_PCAP_FAILED` error (`details.errno`, e.g. 'ENETDOWN'), when the
   * capture dies — the interface was taken down or deleted. The port is then 'failed': it
   * receives nothing and `send` throws; close it and open a new port once the link is up.
   * Default: rethrow on a later microtask, i.e. crash loudly (a silently deaf port is worse).
   */
  readonly onLinkError?: (err: VmacError) => void;
}

export interface PcapPortCounters {
  readonly received: number;
  /** Frames larger than the capture buffer: delivered cut short (none expected for ARP). */
  readonly truncated: number;
  readonly sent: number;
  readonly sendFailed: number;
}

export interface PcapPort extends PacketPort {
  readonly ifname: string;
  /** 'failed': the capture died (see `onLinkError`); `close()` still moves it to 'closed'. */
  readonly state: 'open' | 'failed' | 'closed';
  counters(): PcapPortCounters;
}

/** 64 KiB holds any frame libpcap captures (cap's snaplen is 65535). */
const CAPTURE_BUFFER_BYTES = 65_536;
const DEFAULT_RING_BYTES = 1 << 20;

/** Opens a live capture. Throws `VMAC_PCAP_FAILED` (with the interface) if libpcap refuses. */
export function openPcapPort(options: PcapPortOptions): PcapPort {
  const { ifname, filter } = options;
  const fail = (what: string, err?: unknown, details: Record<string, unknown> = {}): VmacError =>
    new VmacError('VMAC_PCAP_FAILED', `pcap on ${ifname}: ${what}${err === undefined ? '' : `: ${errorText(err)}`}`, { ifname, filter, ...details }, { cause: err });
  const Cap = loadCap();
  const cap = new Cap();
  const buffer = Buffer.alloc(CAPTURE_BUFFER_BYTES);
  let linkType: string;
  try {
    // The patched addon leaves nothing behind when this throws: `cap` may simply be dropped.
    linkType = cap.open(ifname, filter, options.ringBytes ?? DEFAULT_RING_BYTES, buffer);
  } catch (err) {
    throw fail('cannot open capture', err);
  }
  if (linkType !== 'ETHERNET') {
    cap.close();
    throw fail(`link type ${linkType} is not Ethernet`);
  }
  return createPort(cap, buffer, options, fail);
}

type Fail = (what: string, err?: unknown, details?: Record<string, unknown>) => VmacError;

function createPort(cap: CapHandle, buffer: Buffer, options: PcapPortOptions, fail: Fail): PcapPort {
  const handlers = new Set<FrameHandler>();
  const counts = { received: 0, truncated: 0, sent: 0, sendFailed: 0 };
  let state: 'open' | 'failed' | 'closed' = 'open';
  let failure: VmacError | undefined;
  const crashLoudly = (err: VmacError) => queueMicrotask(() => { throw err; });
  const reportHandlerError = options.onHandlerError ?? crashLoudly;
  const reportLinkError = options.onLinkError ?? crashLoudly;

  cap.on('packet', (nbytes, truncated) => {
    if (state !== 'open') return;
    counts.received += 1;
    if (truncated) counts.truncated += 1;
    // The next packet overwrites `buffer` as soon as we return: every handler gets its own copy.
    const captured = buffer.subarray(0, nbytes);
    for (const handler of [...handlers]) {
      try {
        handler(new Uint8Array(captured));
      } catch (err) {
        reportHandlerError(fail('a frame handler threw', err));
      }
    }
  });

  // The addon has already released the capture when it emits this. The listener stays attached
  // for the object's whole life: an 'error' emitted without a listener would throw.
  cap.on('error', (err) => {
    if (state !== 'open') return;
    state = 'failed';
    failure = fail('capture failed', err, { errno: err.code });
    try {
      reportLinkError(failure);
    } catch (thrown) {
      crashLoudly(fail('the onLinkError callback threw', thrown));
    }
  });

  return {
    ifname: options.ifname,
    get state() { return state; },
    counters: () => ({ ...counts }),
    send(frame) {
      if (state === 'closed') throw fail('send on a closed port');
      if (state === 'failed') throw fail('send on a failed port', failure);
      try {
        cap.send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
        counts.sent += 1;
      } catch (err) {
        counts.sendFailed += 1;
        throw fail('send failed', err);
      }
    },
    onFrame(handler): Unsubscribe {
      const own: FrameHandler = (frame) => handler(frame);
      handlers.add(own);
      return () => { handlers.delete(own); };
    },
    close() {
      if (state === 'closed') return;
      state = 'closed';
      handlers.clear();
      cap.close(); // a no-op for a failed capture, which the addon has released already
      cap.removeAllListeners('packet');
    },
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
