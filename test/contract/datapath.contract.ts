/**
 * The data-path contract: what the daemon relies on from any DataPathPort. Run against the
 * in-memory fake in the unit suite and against nftables in a lab namespace (test/lab).
 */
import { describe, expect, it } from 'vitest';
import type { DataPathPort } from '../../src/vmac/datapath-port.js';
import { isVmacError } from '../../src/util/errors.js';

export interface DataPathSubject {
  port: DataPathPort;
  /** Lets lease time pass: advances a fake clock, or waits for real. */
  elapse(ms: number): Promise<void>;
  cleanup(): Promise<void> | void;
}

export function dataPathContract(name: string, make: () => Promise<DataPathSubject>): void {
  describe(`DataPathPort contract: ${name}`, () => {
    const withSubject = async (fn: (s: DataPathSubject) => Promise<void> | void): Promise<void> => {
      const s = await make();
      try { await fn(s); } finally { await s.cleanup(); }
    };

    it('install creates the filter with the given buckets and a live lease', () => withSubject(({ port }) => {
      port.install([3, 1, 2], 2000);
      const st = port.inspect();
      expect(st.installed).toBe(true);
      expect(st.owned).toEqual([1, 2, 3]);
      expect(st.leaseRemainingMs).toBeGreaterThan(1000);
      expect(st.leaseRemainingMs).toBeLessThanOrEqual(2000);
    }));

    it('install is idempotent: a second install replaces the first atomically', () => withSubject(({ port }) => {
      port.install([1, 2], 2000);
      port.install([7], 2000);
      expect(port.inspect().owned).toEqual([7]);
    }));

    it('move adds and removes buckets in one step', () => withSubject(({ port }) => {
      port.install([1, 2, 3], 2000);
      port.move([4, 5], [1]);
      expect(port.inspect().owned).toEqual([2, 3, 4, 5]);
    }));

    it('a lease without renewal expires; renewal extends it', () => withSubject(async (s) => {
      const { port } = s;
      const elapse = (ms: number): Promise<void> => s.elapse(ms);
      port.install([1], 100);
      await elapse(40);
      port.renew(100);
      await elapse(70);
      expect(port.inspect().leaseRemainingMs).not.toBeNull();
      await elapse(60);
      expect(port.inspect().leaseRemainingMs).toBeNull();
      expect(port.inspect().owned).toEqual([1]);
      port.renew(1000);
      expect(port.inspect().leaseRemainingMs).toBeGreaterThan(500);
    }));

    it('renewals keep the lease alive many times its length; it ends within a lease of the last one', () => withSubject(async (s) => {
      const { port } = s;
      port.install([1], null);
      expect(port.inspect().leaseRemainingMs).toBeNull();
      // A 100 ms lease renewed every 25 ms for 500 ms: never gone in between.
      for (let i = 0; i < 20; i++) {
        port.renew(100);
        const left = port.inspect().leaseRemainingMs;
        expect(left).not.toBeNull();
        expect(left as number).toBeGreaterThan(60);
        expect(left as number).toBeLessThanOrEqual(100);
        await s.elapse(25);
      }
      expect(port.inspect().leaseRemainingMs).not.toBeNull();
      // Renewals stop: gone one lease (and the kernel's 4 ms tick) later, the buckets still recorded.
      await s.elapse(110);
      expect(port.inspect()).toMatchObject({ installed: true, owned: [1], leaseRemainingMs: null });
    }));

    it('a renewal after release brings the lease back', () => withSubject(({ port }) => {
      port.install([1], 5000);
      port.release();
      port.renew(2000);
      expect(port.inspect().leaseRemainingMs).toBeGreaterThan(1000);
    }));

    it('release drops the lease at once and keeps the buckets', () => withSubject(({ port }) => {
      port.install([1, 2], 5000);
      port.release();
      expect(port.inspect()).toMatchObject({ installed: true, owned: [1, 2], leaseRemainingMs: null });
    }));

    it('teardown removes everything and is idempotent', () => withSubject(({ port }) => {
      port.install([1], 5000);
      port.teardown();
      port.teardown();
      expect(port.inspect()).toEqual({ installed: false, owned: [], incoming: [], draining: [], leaseRemainingMs: null });
    }));

    it('setPhases moves buckets through the hand-over phases in one step', () => withSubject(({ port }) => {
      port.install([1, 2, 3], 5000);
      port.setPhases([{ bucket: 1, from: 'owned', to: 'draining' }, { bucket: 4, from: 'none', to: 'incoming' }, { bucket: 3, from: 'owned', to: 'none' }]);
      let st = port.inspect();
      expect([st.owned, st.incoming, st.draining]).toEqual([[1, 2, 4], [4], [1]]);
      port.setPhases([{ bucket: 1, from: 'draining', to: 'none' }, { bucket: 4, from: 'incoming', to: 'owned' }, { bucket: 2, from: 'owned', to: 'incoming' }]);
      st = port.inspect();
      expect([st.owned, st.incoming, st.draining]).toEqual([[2, 4], [2], []]);
      port.teardown();
      expect(port.inspect().installed).toBe(false);
    }));

    it('changes on a missing filter fail with VMAC_NFT_FAILED and change nothing', () => withSubject(({ port }) => {
      let err: unknown;
      try { port.move([1], []); } catch (e) { err = e; }
      expect(isVmacError(err, 'VMAC_NFT_FAILED')).toBe(true);
      expect(port.inspect().installed).toBe(false);
    }));

    it('a renewal of a missing filter fails with VMAC_NFT_FAILED and creates nothing', () => withSubject(({ port }) => {
      let err: unknown;
      try { port.renew(1000); } catch (e) { err = e; }
      expect(isVmacError(err, 'VMAC_NFT_FAILED')).toBe(true);
      port.install([1], null);
      port.teardown();
      try { port.renew(1000); } catch (e) { err = e; }
      expect(isVmacError(err, 'VMAC_NFT_FAILED')).toBe(true);
      expect(port.inspect().installed).toBe(false);
    }));

    it('a failed move (bucket not owned) leaves the owned set unchanged', () => withSubject(({ port }) => {
      port.install([1, 2], 5000);
      expect(() => port.move([9], [5])).toThrow();
      expect(port.inspect().owned).toEqual([1, 2]);
    }));
  });
}
