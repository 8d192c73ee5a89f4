/**
 * The conntrack contract: what the hand-over relies on from any ConntrackPort. Run against the
 * fake in the unit suite and against the kernel (ctnetlink shim) in a lab namespace.
 */
import { describe, expect, it } from 'vitest';
import type { ConntrackPort } from '../../src/takeover/conntrack-port.js';
import type { HashConfig } from '../../src/config/types.js';
import { bucketOf } from '../../src/hash/bucket-of.js';

export const CT_VIP = '10.77.0.10';
export const CT_OTHER_VIP = '10.77.0.11';
export const CT_BUCKETS = 64;
export const CT_HASH: HashConfig = { affinity: 'address', seed: 0x5eed, prefixLength: 24, prefixLength6: 64 };

export interface CtSeed { readonly proto: 'tcp' | 'udp'; readonly vip: string; readonly saddr: string; readonly sport: number; readonly dport: number; readonly tcpState?: 'ESTABLISHED' | 'SYN_RECV' | 'FIN_WAIT' | 'TIME_WAIT' | 'CLOSE' }

export interface ConntrackSubject {
  readonly port: ConntrackPort;
  /** Adds entries as if their last packet was just seen. */
  add(entries: readonly CtSeed[]): Promise<void> | void;
  cleanup(): Promise<void> | void;
}

const b = (addr: string): number => bucketOf({ addr }, CT_HASH, CT_BUCKETS);

export function conntrackContract(name: string, make: () => Promise<ConntrackSubject>): void {
  describe(`ConntrackPort contract: ${name}`, () => {
    const withSubject = async (fn: (s: ConntrackSubject) => Promise<void>): Promise<void> => {
      const s = await make();
      try { await fn(s); } finally { await s.cleanup(); }
    };

    it('an empty table: no busy bucket, no UDP flow', () => withSubject(async ({ port }) => {
      expect([...await port.busyBuckets()]).toEqual([]);
      expect(await port.udpFlows?.()).toEqual([]);
    }));

    it('TCP: live states make their client\'s bucket busy; TIME_WAIT, CLOSE, UDP and another VIP do not', () => withSubject(async (s) => {
      await s.add([
        { proto: 'tcp', vip: CT_VIP, saddr: '10.78.0.1', sport: 40001, dport: 80, tcpState: 'ESTABLISHED' },
        { proto: 'tcp', vip: CT_VIP, saddr: '10.78.0.2', sport: 40002, dport: 80, tcpState: 'FIN_WAIT' },
        { proto: 'tcp', vip: CT_VIP, saddr: '10.78.0.3', sport: 40003, dport: 80, tcpState: 'TIME_WAIT' },
        { proto: 'tcp', vip: CT_VIP, saddr: '10.78.0.4', sport: 40004, dport: 80, tcpState: 'CLOSE' },
        { proto: 'tcp', vip: CT_OTHER_VIP, saddr: '10.78.0.5', sport: 40005, dport: 80, tcpState: 'ESTABLISHED' },
        { proto: 'udp', vip: CT_VIP, saddr: '10.78.0.6', sport: 40006, dport: 443 },
      ]);
      const want = new Set([b('10.78.0.1'), b('10.78.0.2')]);
      const got = await s.port.busyBuckets();
      expect([...got].sort((x, y) => x - y)).toEqual([...want].sort((x, y) => x - y));
    }));

    it('UDP: every flow to the VIP with its ports, a fresh one idle under a second; TCP and another VIP left out', () => withSubject(async (s) => {
      await s.add([
        { proto: 'udp', vip: CT_VIP, saddr: '10.78.1.1', sport: 50001, dport: 443 },
        { proto: 'udp', vip: CT_VIP, saddr: '10.78.1.2', sport: 50002, dport: 53 },
        { proto: 'udp', vip: CT_OTHER_VIP, saddr: '10.78.1.3', sport: 50003, dport: 443 },
        { proto: 'tcp', vip: CT_VIP, saddr: '10.78.1.4', sport: 50004, dport: 443, tcpState: 'ESTABLISHED' },
      ]);
      const flows = await s.port.udpFlows?.();
      expect(flows).toBeDefined();
      const sorted = [...(flows ?? [])].sort((x, y) => x.sport - y.sport);
      expect(sorted.map((f) => [f.saddr, f.sport, f.dport])).toEqual([['10.78.1.1', 50001, 443], ['10.78.1.2', 50002, 53]]);
      for (const f of sorted) expect(f.idleAtLeastMs).toBe(0);
    }));

    it('many entries: every one is read (no truncated dump)', () => withSubject(async (s) => {
      const seeds: CtSeed[] = [];
      for (let i = 0; i < 3000; i++) seeds.push({ proto: 'udp', vip: CT_VIP, saddr: `10.79.${i >> 8}.${i & 255}`, sport: 1024 + i, dport: 443 });
      for (let i = 0; i < 3000; i++) seeds.push({ proto: 'tcp', vip: CT_VIP, saddr: `10.80.${i >> 8}.${i & 255}`, sport: 1024 + i, dport: 80, tcpState: 'ESTABLISHED' });
      await s.add(seeds);
      expect((await s.port.udpFlows?.())?.length).toBe(3000);
      const want = new Set(seeds.filter((x) => x.proto === 'tcp').map((x) => b(x.saddr)));
      expect((await s.port.busyBuckets()).size).toBe(want.size);
    }));
  });
}
