/**
 * The raw-socket shim for real: ICMP echo to loopback (no namespace, no host interface touched),
 * and the tie-breaker pinger on the system clock seeing 127.0.0.1 reachable.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { openIcmpEcho, type EchoReply } from '../../native-shims/raw-socket.js';
import { startTieBreaker } from '../../src/cluster/quorum-policy-runner.js';
import { systemClock } from '../../src/util/clock.js';

describe('raw-socket ICMP echo (loopback)', () => {
  it('an echo request to 127.0.0.1 is answered with our id and sequence', async () => {
    const port = openIcmpEcho();
    try {
      const got = new Promise<EchoReply>((resolve) => port.onReply((r) => { if (r.id === 0x5a5a) resolve(r); }));
      port.send('127.0.0.1', 0x5a5a, 9);
      const r = await Promise.race([got, new Promise<null>((res) => setTimeout(() => res(null), 2000))]);
      expect(r).toEqual({ source: '127.0.0.1', id: 0x5a5a, seq: 9 });
    } finally {
      port.close();
    }
  });

  it('the tie-breaker pinger calls loopback reachable', async () => {
    const tb = startTieBreaker({ target: '127.0.0.1', intervalMs: 20, timeoutMs: 200, fall: 3, rise: 2 }, openIcmpEcho(), systemClock, pino({ level: 'silent' }));
    try {
      const deadline = Date.now() + 3000;
      while (tb.state().state !== 'reachable' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(tb.state().state).toBe('reachable');
      console.log(`tie-breaker loopback rtt ${tb.state().lastRttMs?.toFixed(3)} ms`);
    } finally {
      tb.close();
    }
  });
});
