/** The data-path contract against the real kernel: the XDP backend on a veth in a namespace this test makes. */
import { afterAll, describe, expect, it } from 'vitest';
import { openNftables } from '../../native-shims/nftables.js';
import { openXdp } from '../../native-shims/xdp.js';
import { xdpDataPath } from '../../src/vmac/xdp-datapath.js';
import { dataPathContract } from '../contract/datapath.contract.js';
import { isVmacError } from '../../src/util/errors.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('dx');
let n = 0;

const plan = { table: 'vmac_contract', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01', buckets: 64, hashExpr: 'jhash ip saddr mod 64 seed 0x1' };
const hash = { affinity: 'address', prefixLength: 24, prefixLength6: 64, seed: 1 } as const;

dataPathContract('XDP in a namespace', async () => {
  const a = `${prefix}-a${++n}`;
  const b = `${prefix}-b${n}`;
  await vethPair(a, b);
  const netnsPath = `/run/netns/${a}`;
  const port = xdpDataPath(openXdp(), openNftables(netnsPath), plan, { hash, netnsPath });
  return {
    port,
    elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
    cleanup: async () => { port.teardown(); await deleteNamespaces(a, b); },
  };
});

afterAll(() => expectNoNamespacesLeft(prefix));

describe('XDP backend across processes (crash-restart, hitless restart) and beside another service', () => {
  it('a fresh adapter (a restarted daemon) adopts the attached program, renews it, replaces it atomically, removes it', async () => {
    const a = `${prefix}-r1`;
    const b = `${prefix}-r2`;
    await vethPair(a, b);
    const netnsPath = `/run/netns/${a}`;
    const xdp = openXdp();
    try {
      const first = xdpDataPath(xdp, openNftables(netnsPath), plan, { hash, netnsPath });
      first.install([1, 2, 3], 5000);
      first.setPhases([{ bucket: 3, from: 'owned', to: 'draining' }]);
      const idBefore = xdp.ifInfo(netnsPath, 'eth0').progId;
      // The successor process: nothing in memory, everything read from the kernel.
      const next = xdpDataPath(xdp, openNftables(netnsPath), plan, { hash, netnsPath });
      expect(next.inspect()).toMatchObject({ installed: true, owned: [1, 2, 3], draining: [3] });
      next.renew(200);
      expect(next.inspect().leaseRemainingMs).toBeLessThanOrEqual(200);
      next.move([9], [1]);
      expect(first.inspect().owned).toEqual([2, 3, 9]); // the same kernel state, seen by both
      // A rebuild (crash-restart without adoption): one atomic replace, never two programs or none.
      next.install([5], 5000);
      const idAfter = xdp.ifInfo(netnsPath, 'eth0').progId;
      expect(idAfter).not.toBe(idBefore);
      expect(idAfter).not.toBe(0);
      expect(next.inspect().owned).toEqual([5]);
      next.teardown();
      expect(xdp.ifInfo(netnsPath, 'eth0').progId).toBe(0);
      expect(first.inspect().installed).toBe(false);
    } finally {
      await deleteNamespaces(a, b);
    }
  });

  it('another service\'s XDP program on the interface: install refuses with VMAC_XDP_BUSY and leaves it alone', async () => {
    const a = `${prefix}-f1`;
    const b = `${prefix}-f2`;
    await vethPair(a, b);
    const netnsPath = `/run/netns/${a}`;
    const xdp = openXdp();
    try {
      const other = xdpDataPath(xdp, openNftables(netnsPath), { ...plan, table: 'vmac_other' }, { hash, netnsPath });
      other.install([1], 5000);
      const id = xdp.ifInfo(netnsPath, 'eth0').progId;
      const ours = xdpDataPath(xdp, openNftables(netnsPath), plan, { hash, netnsPath });
      let err: unknown;
      try { ours.install([2], 5000); } catch (e) { err = e; }
      expect(isVmacError(err, 'VMAC_XDP_BUSY')).toBe(true);
      expect(ours.inspect().installed).toBe(false);
      ours.teardown(); // not ours: untouched
      expect(xdp.ifInfo(netnsPath, 'eth0').progId).toBe(id);
      expect(other.inspect().owned).toEqual([1]);
      other.teardown();
    } finally {
      await deleteNamespaces(a, b);
    }
  });
});
