/**
 * The simulator's heartbeat codec: a message travels as a 4-byte handle to the Heartbeat object
 * the sender built (one registry per simulated cluster), instead of being serialised, signed,
 * parsed and checked by every receiver. Encoding and decoding were a fifth of a simulated run and
 * test nothing the simulator is for: the wire format has its own byte-exact, round-trip and
 * fuzzing tests. Everything after decoding is the daemon's own path (replay window, duplicates
 * across links, membership, takeover). `--wire-codec` (RunOptions.wireCodec) runs the real codec
 * instead, and a test shows both give the same run, state for state, millisecond for millisecond.
 *
 * Sharing the object is sound because heartbeats are immutable values (readonly throughout) and
 * the real decoder returns exactly the fields the encoder was given (its round-trip tests).
 */
import type { HeartbeatCodec } from '../../src/cluster/heartbeat-codec.js';
import type { Heartbeat } from '../../src/cluster/heartbeat-types.js';

const HANDLE_SIZE = 4;

export function byReferenceCodec(): HeartbeatCodec {
  const sent: Heartbeat[] = [];
  return {
    encode(hb) {
      const i = sent.push(hb) - 1;
      return Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
    },
    decode(bytes) {
      const i = bytes.length === HANDLE_SIZE ? (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0 : -1;
      const hb = sent[i];
      return hb === undefined ? { ok: false, reason: 'malformed' } : { ok: true, hb };
    },
  };
}
