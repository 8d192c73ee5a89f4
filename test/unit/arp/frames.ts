/** Shared test addresses and hex helpers for the ARP tests. */
export const VIP = '192.0.2.10';
export const VMAC = '02:76:6d:61:63:01';
export const REAL_MAC = '52:54:00:aa:bb:01';
export const CLIENT_MAC = '52:54:00:12:34:56';
export const CLIENT_IP = '192.0.2.77';
export const IDENTITY = { vip: VIP, vmac: VMAC, realMac: REAL_MAC } as const;

/** Bytes from hex written with any whitespace and `|` separators, for readable vectors. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** The Ethernet source MAC of a frame, as text. */
export function ethSource(frame: Uint8Array): string {
  return Array.from(frame.subarray(6, 12), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export const PADDING_18 = '00'.repeat(18);
