/**
 * The ICMP echo codec (byte-exact) and the tie-breaker pinger on a fake clock with a fake echo
 * port: answered, lost and late pings, and replies that are not ours.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { echoRequest, inetChecksum, parseEchoReply, type EchoReply, type IcmpEchoPort } from '../../../native-shims/raw-socket.js';
import { startTieBreaker } from '../../../src/cluster/quorum-policy-runner.js';
import { fakeClock } from '../../../src/util/clock.js';

describe('ICMP echo codec', () => {
  it('builds a request with a valid checksum, id and sequence', () => {
    const b = echoRequest(0x1234, 7);
    expect(b.subarray(0, 8).toString('hex')).toBe(`0800${b.readUInt16BE(2).toString(16).padStart(4, '0')}12340007`);
    expect(inetChecksum(b)).toBe(0);
  });

  it('parses a reply inside an IPv4 packet and refuses anything else', () => {
    const icmp = echoRequest(0xbeef, 3);
    icmp[0] = 0; // echo reply
    icmp.writeUInt16BE(0, 2);
    icmp.writeUInt16BE(inetChecksum(icmp), 2);
    const ip = Buffer.concat([Buffer.from('4500002400000000400100007f0000017f000001', 'hex'), icmp]);
    expect(parseEchoReply(ip, '127.0.0.1')).toEqual({ source: '127.0.0.1', id: 0xbeef, seq: 3 });
    const bad = Buffer.from(ip);
    bad.writeUInt8(bad.readUInt8(ip.length - 1) ^ 0xff, ip.length - 1);
    expect(parseEchoReply(bad, '127.0.0.1')).toBeNull();
    expect(parseEchoReply(Buffer.concat([ip.subarray(0, 20), echoRequest(1, 1)]), '127.0.0.1')).toBeNull(); // a request, not a reply
    expect(parseEchoReply(ip.subarray(0, 10), '127.0.0.1')).toBeNull();
  });
});

function fakeEcho(): IcmpEchoPort & { sent: { target: string; id: number; seq: number }[]; reply(r: EchoReply): void } {
  const listeners: ((r: EchoReply) => void)[] = [];
  const port = {
    sent: [] as { target: string; id: number; seq: number }[],
    send(target: string, id: number, seq: number) { port.sent.push({ target, id, seq }); },
    onReply(fn: (r: EchoReply) => void) { listeners.push(fn); },
    close() { /* nothing */ },
    reply(r: EchoReply) { for (const fn of listeners) fn(r); },
  };
  return port;
}

describe('tie-breaker pinger', () => {
  const cfg = { target: '10.0.0.254', intervalMs: 100, timeoutMs: 50, fall: 3, rise: 2 };

  it('answered pings make it reachable, lost ones unreachable; foreign replies are ignored', () => {
    const clock = fakeClock();
    const port = fakeEcho();
    let changes = 0;
    const tb = startTieBreaker(cfg, port, clock, pino({ level: 'silent' }), 42, () => changes++);
    const answerLast = (): void => { const s = port.sent.at(-1)!; clock.advance(2); port.reply({ source: s.target, id: s.id, seq: s.seq }); };
    answerLast();
    clock.advance(98);
    answerLast();
    expect(tb.state().state).toBe('reachable');
    expect(tb.state().lastRttMs).toBe(2);
    // Replies from elsewhere, with another id or an old sequence number change nothing.
    const sentBefore = port.sent.length;
    for (let i = 0; i < 3; i++) {
      clock.advance(98); // the next ping goes out
      const s = port.sent.at(-1)!;
      port.reply({ source: '10.0.0.9', id: s.id, seq: s.seq });
      port.reply({ source: s.target, id: 7, seq: s.seq });
      port.reply({ source: s.target, id: s.id, seq: s.seq - 1 });
      expect(tb.state().state).toBe('reachable');
      clock.advance(2);
    }
    expect(port.sent.length).toBe(sentBefore + 3);
    clock.advance(60); // the third one's timeout
    expect(tb.state().state).toBe('unreachable');
    expect(changes).toBe(2);
    expect(port.sent.every((s) => s.id === 42 && s.target === '10.0.0.254')).toBe(true);
    tb.close();
  });
});
