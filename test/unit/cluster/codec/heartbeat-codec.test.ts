import { deepStrictEqual } from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DROP_REASONS, HEADER_SIZE, MAC_SIZE, MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE, PEER_ENTRY_SIZE, decodeHeartbeat, encodeHeartbeat,
  messageSize, type DropReason,
} from '../../../../src/cluster/heartbeat-codec.js';
import type { Heartbeat } from '../../../../src/cluster/heartbeat-types.js';
import { isVmacError } from '../../../../src/util/errors.js';
import { HEARTBEAT, HEARTBEAT_HEX, KEY, LEAVE, LEAVE_HEX, WRONG_KEY, encode, hbWith, toHex } from './vectors.js';
import { mulberry32, randomHeartbeat } from './random.js';

/** Replaces bytes at `at` and re-signs with `key`: forges nothing, it is what a buggy key holder would send. */
function patchAndSign(bytes: Uint8Array, at: number, patch: number[], key = KEY): Uint8Array {
  const body = Uint8Array.from(bytes.subarray(0, bytes.length - MAC_SIZE));
  body.set(patch, at);
  return resign(body, key);
}

function resign(body: Uint8Array, key = KEY): Uint8Array {
  const mac = createHmac('sha256', key).update(body).digest();
  return Uint8Array.from([...body, ...mac]);
}

function reasonOf(bytes: Uint8Array, key = KEY): DropReason | 'ok' {
  const r = decodeHeartbeat(bytes, key);
  return r.ok ? 'ok' : r.reason;
}

describe('heartbeat wire format v1 is byte-exact', () => {
  it('has the documented sizes', () => {
    expect([HEADER_SIZE, PEER_ENTRY_SIZE, MAC_SIZE, MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE]).toEqual([36, 20, 32, 68, 708]);
    expect(messageSize(2)).toBe(108);
  });

  it('encodes a heartbeat with two peers exactly as the hand-written vector', () => {
    expect(toHex(encodeHeartbeat(HEARTBEAT, KEY))).toBe(toHex(HEARTBEAT_HEX));
    expect(HEARTBEAT_HEX.length).toBe(108);
  });

  it('encodes a peerless leave with every field at its maximum exactly as the vector', () => {
    expect(toHex(encodeHeartbeat(LEAVE, KEY))).toBe(toHex(LEAVE_HEX));
  });

  it('decodes the vectors back to the same values', () => {
    expect(decodeHeartbeat(HEARTBEAT_HEX, KEY)).toEqual({ ok: true, hb: HEARTBEAT });
    expect(decodeHeartbeat(LEAVE_HEX, KEY)).toEqual({ ok: true, hb: LEAVE });
  });

  it('decodes from a view into a larger buffer (Node pools small Buffers)', () => {
    const pool = new Uint8Array(1000);
    pool.set(HEARTBEAT_HEX, 123);
    expect(decodeHeartbeat(pool.subarray(123, 123 + HEARTBEAT_HEX.length), KEY)).toEqual({ ok: true, hb: HEARTBEAT });
  });

  it('round-trips 1,000 random valid heartbeats, including 32-peer maximum-size ones', () => {
    const rng = mulberry32(0x5eed);
    for (let i = 0; i < 1000; i++) {
      const hb = randomHeartbeat(rng);
      const bytes = encodeHeartbeat(hb, KEY);
      expect(bytes.length).toBe(messageSize(hb.peers.length));
      // node:assert rather than expect().toEqual in the loop: same strictness, a hundred times faster.
      deepStrictEqual(decodeHeartbeat(bytes, KEY), { ok: true, hb });
    }
    const full: Heartbeat = hbWith({
      senderId: 32,
      peers: Array.from({ length: 32 }, (_, i) => ({ id: i + 1, status: 'alive' as const, incarnationHeard: 1n, lastSeqHeard: 1, ageMs: 1 })).slice(0, 31),
    });
    // 31 peers is the most a 32-node cluster reports (everyone but the sender); 32 entries fit the format.
    expect(decodeHeartbeat(encodeHeartbeat(full, KEY), KEY)).toEqual({ ok: true, hb: full });
  });
});

describe('decodeHeartbeat names every drop reason', () => {
  const cases: [string, () => Uint8Array, DropReason][] = [
    ['empty datagram', () => new Uint8Array(0), 'truncated'],
    ['1 byte', () => HEARTBEAT_HEX.subarray(0, 1), 'truncated'],
    ['shorter than header + MAC', () => LEAVE_HEX.subarray(0, MIN_MESSAGE_SIZE - 1), 'truncated'],
    ['shorter than its 2 declared peers', () => HEARTBEAT_HEX.subarray(0, HEARTBEAT_HEX.length - 1), 'truncated'],
    ['one peer entry cut out', () => resign(Uint8Array.from([...HEARTBEAT_HEX.subarray(0, 56)])), 'truncated'],
    ['longer than 708 bytes', () => Uint8Array.from([...HEARTBEAT_HEX, ...new Uint8Array(MAX_MESSAGE_SIZE)]), 'oversized'],
    ['one byte longer than declared', () => Uint8Array.from([...HEARTBEAT_HEX, 0]), 'oversized'],
    ['declares 33 peers', () => patchAndSign(encode({ senderId: 32, peers: [] }), 33, [33]), 'oversized'],
    ['wrong magic', () => Uint8Array.from([0x57, ...HEARTBEAT_HEX.subarray(1)]), 'bad-magic'],
    ['wrong magic, short', () => Uint8Array.of(0x00), 'bad-magic'],
    ['version 4', () => patchAndSign(HEARTBEAT_HEX, 1, [4]), 'bad-version'],
    ['version 4 larger than any v3 message', () => Uint8Array.from([0x56, 4, ...new Uint8Array(5000)]), 'bad-version'],
    ['a v1 message relabelled version 3 (no hand-over or fingerprint section)', () => patchAndSign(HEARTBEAT_HEX, 1, [3]), 'truncated'],
    ['version 2 without its section', () => patchAndSign(HEARTBEAT_HEX, 1, [2]), 'truncated'],
    ['version 0', () => patchAndSign(HEARTBEAT_HEX, 1, [0]), 'bad-version'],
    ['type 0, correctly signed', () => patchAndSign(HEARTBEAT_HEX, 2, [0]), 'bad-type'],
    ['type 3, correctly signed', () => patchAndSign(HEARTBEAT_HEX, 2, [3]), 'bad-type'],
    ['one bit flipped in the body', () => flip(HEARTBEAT_HEX, 13 * 8), 'bad-mac'],
    ['one bit flipped in the MAC', () => flip(HEARTBEAT_HEX, (HEARTBEAT_HEX.length - 1) * 8), 'bad-mac'],
    ['signed with another key', () => encode({}, WRONG_KEY), 'bad-mac'],
    ['type 3 and not signed: MAC is checked before the type', () => flip(patchAndSign(HEARTBEAT_HEX, 2, [3]), 40), 'bad-mac'],
    ['senderId 0', () => patchAndSign(HEARTBEAT_HEX, 3, [0]), 'malformed'],
    ['senderId 33', () => patchAndSign(HEARTBEAT_HEX, 3, [33]), 'malformed'],
    ['incarnation 0', () => patchAndSign(HEARTBEAT_HEX, 4, [0, 0, 0, 0, 0, 0, 0, 0]), 'malformed'],
    ['state 4', () => patchAndSign(HEARTBEAT_HEX, 16, [4]), 'malformed'],
    ['flag bit 1 set', () => patchAndSign(HEARTBEAT_HEX, 17, [0x03]), 'malformed'],
    ['flag bit 7 set', () => patchAndSign(HEARTBEAT_HEX, 17, [0x80]), 'malformed'],
    ['header reserved set', () => patchAndSign(HEARTBEAT_HEX, 34, [0, 1]), 'malformed'],
    ['peer id 0', () => patchAndSign(HEARTBEAT_HEX, 36, [0]), 'malformed'],
    ['peer id 33', () => patchAndSign(HEARTBEAT_HEX, 56, [33]), 'malformed'],
    ['peer status 4', () => patchAndSign(HEARTBEAT_HEX, 37, [4]), 'malformed'],
    ['peer reserved set', () => patchAndSign(HEARTBEAT_HEX, 58, [0x80, 0]), 'malformed'],
    ['duplicate peer ids', () => patchAndSign(HEARTBEAT_HEX, 56, [1]), 'malformed'],
    ['a peer report about the sender itself', () => patchAndSign(HEARTBEAT_HEX, 56, [3]), 'malformed'],
  ];

  it.each(cases)('%s → %s', (_name, bytes, reason) => {
    expect(reasonOf(bytes())).toBe(reason);
  });

  it('reaches every DropReason', () => {
    const reached = new Set(cases.map(([, , reason]) => reason));
    expect([...reached].sort()).toEqual([...DROP_REASONS].sort());
  });

  it('accepts the neighbours of each boundary', () => {
    expect(reasonOf(patchAndSign(HEARTBEAT_HEX, 3, [32]))).toBe('ok');
    expect(reasonOf(patchAndSign(HEARTBEAT_HEX, 16, [3]))).toBe('ok');
    expect(reasonOf(patchAndSign(HEARTBEAT_HEX, 37, [3]))).toBe('ok');
    expect(reasonOf(patchAndSign(HEARTBEAT_HEX, 4, [0, 0, 0, 0, 0, 0, 0, 1]))).toBe('ok');
  });
});

describe('encodeHeartbeat refuses what peers would reject', () => {
  const bad: [string, Partial<Heartbeat>][] = [
    ['senderId 0', { senderId: 0 }],
    ['senderId 33', { senderId: 33 }],
    ['fractional seq', { seq: 1.5 }],
    ['seq above u32', { seq: 2 ** 32 }],
    ['negative weight', { weight: -1 }],
    ['weight above u16', { weight: 0x10000 }],
    ['mapEpoch above u32', { mapEpoch: 2 ** 32 }],
    ['linkId 256', { linkId: 256 }],
    ['incarnation 0', { incarnation: 0n }],
    ['incarnation above u64', { incarnation: 1n << 64n }],
    ['short digest', { mapDigest: 'abcd' }],
    ['upper-case digest (would not round-trip)', { mapDigest: 'A1B2C3D4E5F60718' }],
    ['unknown state', { state: 'sleeping' as never }],
    ['unknown type', { type: 'join' as never }],
    ['duplicate peer', { peers: [HEARTBEAT.peers[0]!, HEARTBEAT.peers[0]!] }],
    ['peer is the sender', { peers: [{ ...HEARTBEAT.peers[0]!, id: 3 }] }],
    ['peer id 33', { peers: [{ ...HEARTBEAT.peers[0]!, id: 33 }] }],
    ['peer ageMs above u32', { peers: [{ ...HEARTBEAT.peers[0]!, ageMs: 2 ** 32 }] }],
    ['negative incarnationHeard', { peers: [{ ...HEARTBEAT.peers[0]!, incarnationHeard: -1n }] }],
    ['unknown peer status', { peers: [{ ...HEARTBEAT.peers[0]!, status: 'gone' as never }] }],
    ['33 peers', { peers: Array.from({ length: 33 }, (_, i) => ({ ...HEARTBEAT.peers[0]!, id: i + 1 })) }],
  ];

  it.each(bad)('%s → VMAC_HEARTBEAT_INVALID', (_name, overrides) => {
    let caught: unknown;
    try {
      encode(overrides);
    } catch (err) {
      caught = err;
    }
    expect(isVmacError(caught, 'VMAC_HEARTBEAT_INVALID')).toBe(true);
  });
});

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return copy;
}
