import { describe, expect, it } from 'vitest';
import { decodeFlowMessage, encodeFlowMessage, flowParts, isFlowMessage, MAX_FLOW_MESSAGE_SIZE, MAX_FLOWS_PER_MESSAGE, MAX_FLOWS_PER_MESSAGE_V6, type FlowMessage } from '../../../src/cluster/flow-codec.js';

const key = Buffer.alloc(32, 7);
const msg: FlowMessage = { type: 'flows', senderId: 2, incarnation: 99n, seq: 5, toId: 3, bucket: 200, generation: 7, part: 0, parts: 1, flows: [{ saddr: '10.1.2.3', sport: 40000, dport: 443, remainingMs: 29_500 }] };

describe('flow publication codec', () => {
  it('round-trips, byte-exact header', () => {
    const bytes = encodeFlowMessage(msg, key);
    expect(bytes.length).toBe(32 + 12 + 32);
    expect(Buffer.from(bytes.subarray(0, 32)).toString('hex')).toBe('4601010200000000000000630000000503000' + '0c8000000070000000100010000');
    expect(Buffer.from(bytes.subarray(32, 44)).toString('hex')).toBe('0a0102039c4001bb0000733c');
    expect(isFlowMessage(bytes)).toBe(true);
    expect(decodeFlowMessage(bytes, key)).toEqual({ ok: true, msg });
  });
  it('names what is wrong and never throws', () => {
    const bytes = encodeFlowMessage(msg, key);
    expect(decodeFlowMessage(bytes.subarray(0, 40), key)).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeFlowMessage(encodeFlowMessage(msg, Buffer.alloc(32, 8)), key)).toEqual({ ok: false, reason: 'bad-mac' });
    const flipped = Uint8Array.from(bytes); flipped[35] = (flipped[35] ?? 0) ^ 1;
    expect(decodeFlowMessage(flipped, key)).toEqual({ ok: false, reason: 'bad-mac' });
    const hb = Uint8Array.from(bytes); hb[0] = 0x56;
    expect(decodeFlowMessage(hb, key)).toEqual({ ok: false, reason: 'bad-magic' });
    expect(decodeFlowMessage(encodeFlowMessage({ ...msg, toId: 2 }, key), key)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeFlowMessage(encodeFlowMessage({ ...msg, part: 1 }, key), key)).toEqual({ ok: false, reason: 'malformed' });
    const short = Uint8Array.from(bytes.subarray(0, bytes.length - 1));
    expect(decodeFlowMessage(short, key)).toEqual({ ok: false, reason: 'bad-length' });
  });
  it('splits a bucket\'s flows into single-datagram parts', () => {
    const flows = Array.from({ length: 250 }, (_, i) => ({ saddr: '10.0.0.1', sport: 1000 + i, dport: 443, remainingMs: 1 }));
    const parts = flowParts(flows);
    expect(parts.map((p) => p.length)).toEqual([MAX_FLOWS_PER_MESSAGE, MAX_FLOWS_PER_MESSAGE, 26]);
    expect(flowParts([])).toEqual([[]]);
    expect(encodeFlowMessage({ ...msg, flows: parts[0] ?? [] }, key).length).toBe(MAX_FLOW_MESSAGE_SIZE);
  });
  it('IPv6 flows: version 2, 24-byte entries, one family per part; a reading of both families splits by family', () => {
    const m6: FlowMessage = { ...msg, flows: [{ saddr: 'fd00:200::1:aa:bb:cc', sport: 40000, dport: 443, remainingMs: 29_500 }] };
    const bytes = encodeFlowMessage(m6, key);
    expect(bytes.length).toBe(32 + 24 + 32);
    expect(bytes[1]).toBe(2);
    expect(Buffer.from(bytes.subarray(32, 56)).toString('hex')).toBe('fd000200000000000001' + '00aa00bb00cc' + '9c4001bb0000733c');
    expect(decodeFlowMessage(bytes, key)).toEqual({ ok: true, msg: m6 });
    expect(() => encodeFlowMessage({ ...msg, flows: [...msg.flows, ...m6.flows] }, key)).toThrow(/both address families/);
    const mixed = [...Array.from({ length: 120 }, (_, i) => ({ saddr: 'fd00::5', sport: 1000 + i, dport: 443, remainingMs: 1 })), ...Array.from({ length: 3 }, (_, i) => ({ saddr: '10.0.0.1', sport: 1000 + i, dport: 443, remainingMs: 1 }))];
    const parts = flowParts(mixed);
    expect(parts.map((p) => [p.length, p[0]?.saddr])).toEqual([[3, '10.0.0.1'], [MAX_FLOWS_PER_MESSAGE_V6, 'fd00::5'], [MAX_FLOWS_PER_MESSAGE_V6, 'fd00::5'], [8, 'fd00::5']]);
    expect(encodeFlowMessage({ ...msg, flows: parts[1] ?? [] }, key).length).toBe(MAX_FLOW_MESSAGE_SIZE);
    // A version-2 header with IPv4-sized entries is refused by its length.
    const wrong = Uint8Array.from(encodeFlowMessage(msg, key)); wrong[1] = 2;
    expect(decodeFlowMessage(wrong, key)).toEqual({ ok: false, reason: 'bad-length' });
  });
});
