/**
 * The narrow port between ARP logic and a raw link: whole Ethernet frames in and out, nothing
 * else. The real adapter is `native-shims/pcap.ts` (libpcap via `cap`); the fake is
 * `fake-packet-port.ts`. Interface name, MAC and filter are the adapter's construction
 * arguments, not part of the port, so logic cannot depend on how a port was opened.
 */

/** Detaches one frame handler; calling it twice is harmless. */
export type Unsubscribe = () => void;

export type FrameHandler = (frame: Uint8Array) => void;

export interface PacketPort {
  /**
   * Sends one complete Ethernet frame (destination MAC first, no FCS) synchronously.
   * Throws `VmacError('VMAC_PCAP_FAILED')` if the link refuses it or the port is closed.
   * The port does not keep `frame`: callers may reuse it after the call.
   */
  send(frame: Uint8Array): void;

  /**
   * Adds a handler for every received frame. Each frame is the handler's own copy (the native
   * capture buffer is reused for the next packet), so it may be kept beyond the call.
   * Handlers must not throw: they run inside the native receive loop. Several handlers may
   * share one port (the responder and a capture probe), each detached on its own.
   */
  onFrame(handler: FrameHandler): Unsubscribe;

  /** Stops receiving and releases the link. Idempotent; `send` afterwards throws. */
  close(): void;
}
