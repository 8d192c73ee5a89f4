/** The data-path contract against the real kernel: the XDP backend on a veth in a namespace this test makes. */
import { afterAll } from 'vitest';
import { openNftables } from '../../native-shims/nftables.js';
import { openXdp } from '../../native-shims/xdp.js';
import { xdpDataPath } from '../../src/vmac/xdp-datapath.js';
import { dataPathContract } from '../contract/datapath.contract.js';
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
