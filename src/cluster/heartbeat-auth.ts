/**
 * HMAC-SHA256 over heartbeat bytes. Kept apart from the codec so the one place that touches
 * key material and constant-time comparison is small enough to review at a glance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 output length, and the length of the MAC trailer on the wire. */
export const MAC_SIZE = 32;

/** Named result of a MAC check, so callers and counters say `bad-mac` rather than `false`. */
export type MacCheck = 'authentic' | 'bad-mac';

/**
 * Another MAC scheme with the same 32-byte trailer. Only the deterministic simulator uses one
 * (test/sim: thousands of nodes' heartbeats per simulated second, no attacker), to spend its
 * time on membership and takeover rather than on SHA-256.
 */
export interface MacScheme {
  compute(data: Uint8Array): Uint8Array;
}

/** The key material a codec call takes: the service key (HMAC-SHA256), or another scheme. */
export type HeartbeatKey = Uint8Array | MacScheme;

/** HMAC-SHA256(key, data): 32 bytes. */
export function computeMac(key: HeartbeatKey, data: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array)) return key.compute(data);
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Compares the received MAC with the expected one in constant time, so an attacker timing
 * our replies (or our CPU) learns nothing about how many leading bytes of a forgery were right.
 */
export function checkMac(key: HeartbeatKey, data: Uint8Array, mac: Uint8Array): MacCheck {
  const expected = computeMac(key, data);
  // timingSafeEqual throws on a length mismatch; a wrong-length MAC is simply not authentic.
  if (mac.length !== expected.length) return 'bad-mac';
  return timingSafeEqual(expected, mac) ? 'authentic' : 'bad-mac';
}
