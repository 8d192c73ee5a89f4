import { isIPv4, isIPv6 } from 'node:net';
import { VmacError } from './errors.js';

/** An IP address as parsed once: its family and its bytes in network order. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array; // 4 or 16 bytes, network byte order
  readonly text: string; // canonical text form
}

export function parseIp(text: string): IpAddress {
  const t = text.trim();
  if (isIPv4(t)) {
    const bytes = Uint8Array.from(t.split('.').map((p) => Number(p)));
    return { family: 4, bytes, text: formatIp(bytes) };
  }
  if (isIPv6(t)) {
    const bytes = parseIpv6(t);
    return { family: 6, bytes, text: formatIp(bytes) };
  }
  throw new VmacError('VMAC_BAD_ADDRESS', `not an IPv4 or IPv6 address: ${JSON.stringify(text)}`, { value: text });
}

function parseIpv6(t: string): Uint8Array {
  let s = t;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = tail.split('.').map(Number);
    const hex = [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)].map((n) => n.toString(16));
    s = `${s.slice(0, lastColon + 1)}${hex.join(':')}`;
  }
  const [head = '', rest] = s.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  return bytes;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // Longest run of zero groups (length >= 2) becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Zero every bit after the first `prefixLength` bits (network affinity). */
export function maskPrefix(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = (out[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** A MAC address as six bytes. */
export function parseMac(text: string): Uint8Array {
  const m = /^([0-9a-f]{2})([:-][0-9a-f]{2}){5}$/i.exec(text.trim());
  if (!m) throw new VmacError('VMAC_BAD_ADDRESS', `not a MAC address (aa:bb:cc:dd:ee:ff): ${JSON.stringify(text)}`, { value: text });
  return Uint8Array.from(text.trim().split(/[:-]/).map((h) => parseInt(h, 16)));
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
