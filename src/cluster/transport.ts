/**
 * The heartbeat transport port: datagrams on one or more links. The UDP adapter binds one socket
 * per link to this node's address on that link; the fake wires many nodes in one process with
 * scripted loss, delay and partitions (test/sim).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { VmacError } from '../util/errors.js';

export type DatagramHandler = (bytes: Uint8Array, linkId: number, from: string) => void;

export interface HeartbeatTransport {
  send(linkId: number, address: string, bytes: Uint8Array): void;
  onMessage(handler: DatagramHandler): void;
  close(): void;
}

/** Datagrams larger than this are not heartbeats: the socket never delivers more. */
export const MAX_DATAGRAM_BYTES = 2048;

export async function openUdpTransport(localAddresses: readonly string[], port: number, onError: (err: VmacError) => void): Promise<HeartbeatTransport> {
  const handlers: DatagramHandler[] = [];
  const sockets: Socket[] = [];
  try {
    for (const [linkId, address] of localAddresses.entries()) {
      const sock = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', reuseAddr: false, recvBufferSize: 1 << 20 });
      sock.on('message', (msg, rinfo) => {
        if (msg.length > MAX_DATAGRAM_BYTES) return;
        for (const h of handlers) h(msg, linkId, rinfo.address);
      });
      sock.on('error', (err) => onError(new VmacError('VMAC_NETLINK_FAILED', `heartbeat socket on ${address}:${port}: ${err.message}`, { address, port }, { cause: err })));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address, port, exclusive: true }, () => { sock.off('error', reject); resolve(); });
      });
      sockets.push(sock);
    }
  } catch (err) {
    for (const s of sockets) s.close();
    throw new VmacError('VMAC_NETLINK_FAILED', `cannot bind the heartbeat socket: ${(err as Error).message}`, { localAddresses, port }, { cause: err });
  }
  let closed = false;
  return {
    send(linkId, address, bytes) {
      // After close (a timer that fired during shutdown) there is nothing to send with: dgram
      // would throw ERR_SOCKET_DGRAM_NOT_RUNNING. The socket reads `bytes` only later, from the
      // event loop: send a copy, so the caller may reuse its buffer at once (the port contract).
      if (closed) return;
      sockets[linkId]?.send(Buffer.from(bytes), port, address);
    },
    onMessage: (h) => void handlers.push(h),
    close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.close();
    },
  };
}
