/**
 * With the XDP backend the kernel's ARP and ND must not answer for the VIP (VIP6), yet the
 * daemon's capture socket runs after XDP and must still see those frames (with nft the filter
 * runs after the capture taps). So the XDP program (native-shims/xdp/vmac_xdp.bpf.c) passes them
 * marked in a way the kernel ignores:
 *   ARP whose sender or target IP is the VIP: opcode | 0x8000 (arp_process() handles only 1 and 2)
 *   NS / NA whose target is the VIP6: ICMPv6 type 135/136 -> 200/201 (private experimentation,
 *     ignored by the kernel), checksum adjusted
 * `unmarkFrame` restores the frame as it was on the wire, so the responders see exactly it; pure.
 */
import type { FrameHandler, PacketPort } from '../arp/packet-port.js';

export const ARP_MARK = 0x8000;
export const ND_MARKED: Readonly<Record<number, number>> = { 200: 135, 201: 136 };
const ETH_HLEN = 14;
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_ICMPV6 = 58;

/** RFC 1624 incremental update: the one's-complement checksum after a 16-bit word went from `from` to `to`. */
export function csumReplace16(sum: number, from: number, to: number): number {
  let s = (~sum & 0xffff) + (~from & 0xffff) + to;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The frame as the client sent it: a copy when the XDP program had marked it, else `frame` itself. */
export function unmarkFrame(frame: Uint8Array): Uint8Array {
  if (frame.length < ETH_HLEN + 8) return frame;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const type = view.getUint16(12);
  if (type === ETH_P_ARP) {
    const op = view.getUint16(ETH_HLEN + 6);
    if ((op & ARP_MARK) === 0) return frame;
    const out = Uint8Array.from(frame);
    new DataView(out.buffer).setUint16(ETH_HLEN + 6, op & ~ARP_MARK);
    return out;
  }
  if (type === ETH_P_IPV6 && frame.length >= ETH_HLEN + 40 + 4 && frame[ETH_HLEN + 6] === IPPROTO_ICMPV6) {
    const at = ETH_HLEN + 40;
    const original = ND_MARKED[frame[at] ?? 0];
    if (original === undefined) return frame;
    const out = Uint8Array.from(frame);
    const v = new DataView(out.buffer);
    const before = v.getUint16(at);
    out[at] = original;
    v.setUint16(at + 2, csumReplace16(v.getUint16(at + 2), before, v.getUint16(at)));
    return out;
  }
  return frame;
}

/** The capture port the responders use with the XDP backend: every frame unmarked first. */
export function unmarkingPort(port: PacketPort): PacketPort {
  return {
    send: (frame) => port.send(frame),
    onFrame: (handler: FrameHandler) => port.onFrame((frame) => handler(unmarkFrame(frame))),
    close: () => port.close(),
  };
}
