/** The data-path contract against the real kernel: nftables in a namespace this test makes. */
import { afterAll } from 'vitest';
import { openNetfilterSocket, openNftables } from '../../native-shims/nftables.js';
import { nftDataPath } from '../../src/vmac/nft-datapath.js';
import { dataPathContract } from '../contract/datapath.contract.js';
import { deleteNamespaces, expectNoNamespacesLeft, uniqueLabName, vethPair } from './support.js';

const prefix = uniqueLabName('dp');
let n = 0;

const plan = { table: 'vmac_contract', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01', buckets: 64, hashExpr: 'jhash ip saddr mod 64 seed 0x1' };

// Renewals as nft commands through libnftables, and as prebuilt netlink batches (the daemon's way).
for (const renewals of ['nft commands', 'netlink batches'] as const) {
  dataPathContract(`nftables in a namespace, renewals as ${renewals}`, async () => {
    const a = `${prefix}-a${++n}`;
    const b = `${prefix}-b${n}`;
    await vethPair(a, b);
    const nft = openNftables(`/run/netns/${a}`);
    const socket = renewals === 'netlink batches' ? openNetfilterSocket(`/run/netns/${a}`) : undefined;
    return {
      port: nftDataPath(nft, plan, socket),
      elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
      cleanup: async () => { socket?.close(); await deleteNamespaces(a, b); },
    };
  });
}

afterAll(() => expectNoNamespacesLeft(prefix));
