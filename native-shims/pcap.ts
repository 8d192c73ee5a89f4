/**
 * The only file that touches the native `cap` package (libpcap): a live capture with a BPF
 * filter plus raw sends, typed as a `PacketPort`.
 *
 * What `cap` 0.2.1 does underneath, and why this wrapper is shaped as it is (checked against
 * its src/binding.cc and on this machine):
 * - It copies every packet into ONE caller-supplied buffer and emits 'packet' synchronously from
 *   a loop that fetches the next packet right after the listener returns, so we copy each frame
 *   out before handing it on.
 * - It always opens in promiscuous mode and, on Linux, switches on immediate mode by looking up
 *   `pcap_set_immediate_mode` in dlopen("libpcap.so") — the unversioned name that only
 *   libpcap-dev installs. Without it, TPACKET_V3 holds packets for up to the 1 s read timeout.
 * - After a FAILED open, its handle is half-built: calling close() — or letting the garbage
 *   collector destroy the object, whose destructor calls close() — aborts the process in
 *   uv_poll_stop. We therefore never close a failed handle and keep it reachable forever.
 * - send() after close() dereferences a null pcap handle (segfault), so we refuse it here.
 * - An exception thrown by a 'packet' listener escapes the native loop as an uncaught
 *   exception, so handlers are called inside try/catch.
 * - Taking the capturing interface DOWN, or deleting it, while a capture is open ABORTS the
 *   process: the packet socket reports ENETDOWN, libuv passes the poll callback an error, and
 *   cap does `assert(status == 0)`. Nothing in JS can catch that. (Carrier loss on the far end
 *   of the link is harmless: capture pauses and resumes.) The fix needs a patched addon or a
 *   capture child process; until then a local link-down is a fail-stop for the daemon.
 * - open() on an interface that is down fails ("That device is not up"); open it once up.
 *   A failed activation leaks no descriptor; a filter that does not compile leaks one live,
 *   unfiltered capture socket per attempt, so filters must be constants, not user input.
 * - libpcap prints "Warning: …: no IPv4 address assigned" on stderr for an interface without an
 *   IPv4 address (cap calls pcap_lookupnet); the capture works regardless.
 */
import { createRequire } from 'node:module';
import type { FrameHandler, PacketPort, Unsubscribe } from '../src/arp/packet-port.js';
import { VmacError } from '../src/util/errors.js';

/** The slice of cap's untyped API that we use. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  send(buffer: Buffer, nBytes?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
type CapConstructor = new () => CapHandle;

/** Failed handles that must never be collected (see the header). One per failed open. */
const quarantined: CapHandle[] = [];
let capConstructor: CapConstructor | undefined;

/** Loads cap on first use, so merely importing this file never needs the native build. */
function loadCap(): CapConstructor {
  if (capConstructor) return capConstructor;
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)('cap');
  } catch (err) {
    throw new VmacError('VMAC_PCAP_FAILED', `cannot load the native 'cap' module: ${String(err)}`, {}, { cause: err });
  }
  const Cap = (mod as { Cap?: unknown } | undefined)?.Cap;
  const proto = typeof Cap === 'function' ? (Cap.prototype as Record<string, unknown>) : {};
  const missing = ['open', 'close', 'send', 'on'].filter((m) => typeof proto[m] !== 'function');
  if (typeof Cap !== 'function' || missing.length > 0) {
    throw new VmacError('VMAC_PCAP_FAILED', `the 'cap' module lacks Cap.${missing.join(', Cap.') || 'constructor'}`, { missing });
  }
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
  readonly state: 'open' | 'closed';
  counters(): PcapPortCounters;
}

/** 64 KiB holds any frame libpcap captures (cap's snaplen is 65535). */
const CAPTURE_BUFFER_BYTES = 65_536;
const DEFAULT_RING_BYTES = 1 << 20;

/** Opens a live capture. Throws `VMAC_PCAP_FAILED` (with the interface) if libpcap refuses. */
export function openPcapPort(options: PcapPortOptions): PcapPort {
  const { ifname, filter } = options;
  const fail = (what: string, err?: unknown): VmacError =>
    new VmacError('VMAC_PCAP_FAILED', `pcap on ${ifname}: ${what}${err === undefined ? '' : `: ${errorText(err)}`}`, { ifname, filter }, { cause: err });
  const Cap = loadCap();
  const cap = new Cap();
  const buffer = Buffer.alloc(CAPTURE_BUFFER_BYTES);
  let linkType: string;
  try {
    linkType = cap.open(ifname, filter, options.ringBytes ?? DEFAULT_RING_BYTES, buffer);
  } catch (err) {
    quarantined.push(cap);
    throw fail('cannot open capture', err);
  }
  if (linkType !== 'ETHERNET') {
    cap.close();
    throw fail(`link type ${linkType} is not Ethernet`);
  }
  return createPort(cap, buffer, options, fail);
}

function createPort(cap: CapHandle, buffer: Buffer, options: PcapPortOptions, fail: (what: string, err?: unknown) => VmacError): PcapPort {
  const handlers = new Set<FrameHandler>();
  const counts = { received: 0, truncated: 0, sent: 0, sendFailed: 0 };
  let state: 'open' | 'closed' = 'open';
  const reportHandlerError = options.onHandlerError ?? ((err: VmacError) => queueMicrotask(() => { throw err; }));

  cap.on('packet', (nbytes, truncated) => {
    if (state === 'closed') return;
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

  return {
    ifname: options.ifname,
    get state() { return state; },
    counters: () => ({ ...counts }),
    send(frame) {
      if (state === 'closed') throw fail('send on a closed port');
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
      cap.close();
      cap.removeAllListeners('packet');
    },
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
