/**
 * Hand-written heartbeat vectors. The MACs were computed outside this codebase:
 *   printf '<body hex>' | xxd -r -p | openssl dgst -sha256 -hmac 'vmac-test-key-0123456789'
 */
import type { Heartbeat } from '../../../../src/cluster/heartbeat-types.js';
import { encodeHeartbeat } from '../../../../src/cluster/heartbeat-codec.js';

export const KEY = new TextEncoder().encode('vmac-test-key-0123456789');
export const WRONG_KEY = new TextEncoder().encode('wrong-key-0123456789abcdef');

/** Bytes from hex written with any whitespace and `|` separators; `#` starts a comment to end of line. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, '').replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A heartbeat from node 3 with two peer reports. */
export const HEARTBEAT: Heartbeat = {
  version: 1,
  type: 'heartbeat',
  senderId: 3,
  incarnation: 1718000000123n,
  seq: 4242,
  state: 'draining',
  hasQuorum: true,
  weight: 100,
  mapEpoch: 7,
  mapDigest: 'a1b2c3d4e5f60718',
  linkId: 1,
  peers: [
    { id: 1, status: 'alive', incarnationHeard: 1717999999000n, lastSeqHeard: 4240, ageMs: 120 },
    { id: 5, status: 'dead', incarnationHeard: 0n, lastSeqHeard: 0, ageMs: 0xffffffff },
  ],
};

export const HEARTBEAT_HEX = hex(`
  56                  # 0  magic 'V'
  01                  # 1  version 1
  01                  # 2  type 1 = heartbeat
  03                  # 3  senderId 3
  0000019000c79c7b    # 4  incarnation 1718000000123
  00001092            # 12 seq 4242
  01                  # 16 state 1 = draining
  01                  # 17 flags: bit0 hasQuorum
  0064                # 18 weight 100
  00000007            # 20 mapEpoch 7
  a1b2c3d4e5f60718    # 24 mapDigest
  01                  # 32 linkId 1
  02                  # 33 peerCount 2
  0000                # 34 reserved
  # peer 0 @36: id 1, alive, reserved, incarnationHeard 1717999999000, lastSeqHeard 4240, ageMs 120
  01 | 01 | 0000 | 0000019000c79818 | 00001090 | 00000078
  # peer 1 @56: id 5, dead, reserved, never heard (0), 0, ageMs 0xffffffff (never)
  05 | 03 | 0000 | 0000000000000000 | 00000000 | ffffffff
  # @76: HMAC-SHA256(KEY, bytes 0..75)
  e08a35d5b0781824cd6fb028493fb56e710f1cc450d67615cc3a055f48bd7dd6
`);

/** A leave announcement with no peers and every numeric field at its maximum. */
export const LEAVE: Heartbeat = {
  version: 1,
  type: 'leave',
  senderId: 32,
  incarnation: 1n,
  seq: 0xffffffff,
  state: 'leaving',
  hasQuorum: false,
  weight: 0xffff,
  mapEpoch: 0xffffffff,
  mapDigest: '00ff00ff00ff00ff',
  linkId: 255,
  peers: [],
};

export const LEAVE_HEX = hex(`
  56 01 02 20            # magic, version 1, type 2 = leave, senderId 32
  0000000000000001       # incarnation 1
  ffffffff               # seq
  03 00                  # state 3 = leaving, flags 0
  ffff ffffffff          # weight, mapEpoch
  00ff00ff00ff00ff       # mapDigest
  ff 00 0000             # linkId 255, peerCount 0, reserved
  44449f32906c448e25e40276114b5adb8383ae6ea89835a45abbe99813768029   # HMAC-SHA256
`);

/** A heartbeat with overrides, e.g. `hbWith({ senderId: 4, seq: 1 })`. */
export function hbWith(overrides: Partial<Heartbeat>): Heartbeat {
  return { ...HEARTBEAT, ...overrides };
}

export function encode(overrides: Partial<Heartbeat> = {}, key: Uint8Array = KEY): Uint8Array {
  return encodeHeartbeat(hbWith(overrides), key);
}
