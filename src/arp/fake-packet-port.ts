/**
 * In-memory `PacketPort`s for unit tests and the simulator: a single port that records what was
 * sent and lets a test inject received frames, and a segment (a flooding hub) that wires many
 * ports together the way the lab bridge floods frames for the VMAC to every node.
 * Both copy frames in and out, as the real adapter does, so aliasing bugs show up here too.
 */
import { VmacError } from '../util/errors.js';
import type { FrameHandler, PacketPort, Unsubscribe } from './packet-port.js';

/** A scripted send failure (undici mock style): fail the next `times` sends with `error`. */
export interface SendFault {
  readonly times?: number; // default 1; Infinity = until cleared
  readonly error?: Error; // default VmacError('VMAC_PCAP_FAILED', 'injected send failure')
}

export interface FakePacketPort extends PacketPort {
  /** Copies of every frame successfully sent, oldest first. */
  readonly sent: readonly Uint8Array[];
  /** Delivers a frame to every handler, as if captured. Returns 'closed' if the port is closed. */
  inject(frame: Uint8Array): 'delivered' | 'closed';
  /** Makes upcoming sends throw; faults queue up in order. */
  failSend(fault?: SendFault): void;
  clearFaults(): void;
  /** Forgets recorded frames (between test phases). */
  clearSent(): void;
  readonly state: 'open' | 'closed';
}

interface PendingFault {
  remaining: number;
  readonly error: Error;
}

export interface FakePortHooks {
  /** Called with a copy of each successfully sent frame (the segment uses it to flood). */
  readonly onSend?: (frame: Uint8Array) => void;
}

export function createFakePacketPort(hooks: FakePortHooks = {}): FakePacketPort {
  const handlers = new Set<FrameHandler>();
  const sent: Uint8Array[] = [];
  const faults: PendingFault[] = [];
  let state: 'open' | 'closed' = 'open';

  function takeFault(): Error | undefined {
    const fault = faults[0];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.shift();
    return fault.error;
  }

  return {
    get sent() { return sent; },
    get state() { return state; },
    send(frame) {
      if (state === 'closed') throw new VmacError('VMAC_PCAP_FAILED', 'send on a closed packet port (fake)');
      const error = takeFault();
      if (error !== undefined) throw error;
      const copy = Uint8Array.from(frame);
      sent.push(copy);
      hooks.onSend?.(Uint8Array.from(copy));
    },
    onFrame(handler): Unsubscribe {
      const own: FrameHandler = (frame) => handler(frame);
      handlers.add(own);
      return () => { handlers.delete(own); };
    },
    close() {
      state = 'closed';
      handlers.clear();
    },
    inject(frame) {
      if (state === 'closed') return 'closed';
      for (const handler of [...handlers]) handler(Uint8Array.from(frame));
      return 'delivered';
    },
    failSend(fault = {}) {
      const error = fault.error ?? new VmacError('VMAC_PCAP_FAILED', 'injected send failure (fake)');
      faults.push({ remaining: fault.times ?? 1, error });
    },
    clearFaults() { faults.length = 0; },
    clearSent() { sent.length = 0; },
  };
}

/**
 * A flooding L2 segment: a frame sent on one attached port is delivered to every *other*
 * attached port, synchronously — like a hub, or a switch that never learned the destination.
 * A sender does not receive its own frame (a packet socket does not see what it sent either).
 */
export interface FakeSegment {
  attach(): FakePacketPort;
  /** Every frame sent on the segment, in order, with the index of the port that sent it. */
  readonly log: readonly { readonly from: number; readonly frame: Uint8Array }[];
}

export function createFakeSegment(): FakeSegment {
  const ports: FakePacketPort[] = [];
  const log: { from: number; frame: Uint8Array }[] = [];
  return {
    get log() { return log; },
    attach() {
      const index = ports.length;
      const port = createFakePacketPort({
        onSend: (frame) => {
          log.push({ from: index, frame });
          ports.forEach((other, i) => { if (i !== index) other.inject(frame); });
        },
      });
      ports.push(port);
      return port;
    },
  };
}
