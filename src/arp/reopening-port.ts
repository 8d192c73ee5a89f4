/**
 * A packet port that survives its link going down: when the capture reports a link error, the
 * inner port is closed and reopened every `retryMs` until the link is back; frame handlers stay
 * attached across reopenings. Sends while the link is down throw VMAC_PCAP_FAILED (the
 * responder counts them as `send-failed`).
 */
import type { Logger } from 'pino';
import { VmacError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import type { FrameHandler, PacketPort, Unsubscribe } from './packet-port.js';

export type OpenPort = (onLinkError: (err: VmacError) => void) => PacketPort;

export function reopeningPort(open: OpenPort, clock: Clock, log: Logger, retryMs = 200): PacketPort {
  const handlers = new Set<FrameHandler>();
  let inner: PacketPort | null = null;
  let innerUnsubs: Unsubscribe[] = [];
  let closed = false;
  let failures = 0;

  const attach = (): void => {
    innerUnsubs = [...handlers].map((h) => inner?.onFrame(h) ?? (() => undefined));
  };
  const onLinkError = (err: VmacError): void => {
    log.warn({ err, event: 'capture-lost' }, 'capture lost (link down?): reopening until the link is back');
    drop();
    schedule();
  };
  const drop = (): void => {
    for (const u of innerUnsubs) u();
    innerUnsubs = [];
    try { inner?.close(); } catch { /* already failed */ }
    inner = null;
  };
  const tryOpen = (): boolean => {
    try {
      inner = open(onLinkError);
      attach();
      if (failures > 0) log.info({ event: 'capture-restored', attempts: failures }, 'capture reopened');
      failures = 0;
      return true;
    } catch (err) {
      failures++;
      if ((failures & (failures - 1)) === 0) log.warn({ err, event: 'capture-reopen-failed', attempts: failures }, 'capture still down');
      return false;
    }
  };
  const schedule = (): void => {
    if (closed) return;
    clock.setTimer(retryMs, () => { if (!closed && inner === null && !tryOpen()) schedule(); });
  };

  inner = open(onLinkError); // the first open fails loudly: a bad interface is a config error
  attach();
  return {
    send(frame) {
      if (inner === null) throw new VmacError('VMAC_PCAP_FAILED', 'capture is down (link down), retrying');
      inner.send(frame);
    },
    onFrame(h) {
      handlers.add(h);
      const u = inner?.onFrame(h);
      if (u) innerUnsubs.push(u);
      return () => { handlers.delete(h); u?.(); };
    },
    close() {
      closed = true;
      drop();
    },
  };
}
