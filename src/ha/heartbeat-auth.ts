/**
 * HMAC-SHA256 over heartbeat bytes. Kept apart from the codec so the one place that touches
 * key material and constant-time comparison is small enough to review at a glance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 output length, and the length of the MAC trailer on the wire. */
export const MAC_SIZE = 32;

/** Named result of a MAC check, so callers and counters say `bad-mac` rather than `false`. */
export type MacCheck = 'authentic' | 'bad-mac';

/** HMAC-SHA256(key, data): 32 bytes. */
export function computeMac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Compares the received MAC with the expected one in constant time, so an attacker timing
 * our replies (or our CPU) learns nothing about how many leading bytes of a forgery were right.
 */
export function checkMac(key: Uint8Array, data: Uint8Array, mac: Uint8Array): MacCheck {
  const expected = computeMac(key, data);
  // timingSafeEqual throws on a length mismatch; a wrong-length MAC is simply not authentic.
  if (mac.length !== expected.length) return 'bad-mac';
  return timingSafeEqual(expected, mac) ? 'authentic' : 'bad-mac';
}
