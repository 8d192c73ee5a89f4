/** Dual stack: a draining bucket stays busy while IPv6 connections of its clients live. */
import { describe, expect, it } from 'vitest';
import { busyFromListing, udpFlowsFromListing } from '../../../src/takeover/conntrack-tool.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';

describe('conntrack listing, dual stack', () => {
  const hash = { affinity: 'network' as const, prefixLength: 24, prefixLength6: 48, seed: 0x5eed };
  const text = [
    'tcp      6 431999 ESTABLISHED src=10.200.1.7 dst=10.200.0.1 sport=40000 dport=7 src=10.200.0.1 dst=10.200.1.7 sport=7 dport=40000 [ASSURED] mark=0 use=1',
    'tcp      6 431999 ESTABLISHED src=fd00:200:0:0:1:aa:bb:cc dst=fd00:200::1 sport=40001 dport=7 src=fd00:200::1 dst=fd00:200::1:aa:bb:cc sport=7 dport=40001 [ASSURED] mark=0 use=1',
    'tcp      6 110 TIME_WAIT src=fd00:300::5 dst=fd00:200::1 sport=40002 dport=7 src=fd00:200::1 dst=fd00:300::5 sport=7 dport=40002 [ASSURED] mark=0 use=1',
    'tcp      6 431999 ESTABLISHED src=fd00:400::5 dst=fd00:200::2 sport=40003 dport=7 src=fd00:200::2 dst=fd00:400::5 sport=7 dport=40003 [ASSURED] mark=0 use=1',
  ].join('\n');

  it('hashes IPv6 clients by their own address (prefixLength6) beside the IPv4 ones; VIP6 text compared canonically', () => {
    const got = busyFromListing(text, ['10.200.0.1', 'FD00:200:0::1'], hash, 256);
    expect([...got].sort((a, b) => a - b)).toEqual([bucketOf({ addr: '10.200.1.7' }, hash, 256), bucketOf({ addr: 'fd00:200::1:aa:bb:cc' }, hash, 256)].sort((a, b) => a - b));
  });

  it('without the VIP6 the IPv6 entries are not counted', () => {
    expect([...busyFromListing(text, '10.200.0.1', hash, 256)]).toEqual([bucketOf({ addr: '10.200.1.7' }, hash, 256)]);
  });

  it('UDP flows of the VIP6 (per-flow hand-over): client address canonical, idle time bounded from the entry\'s timeout', () => {
    const udp = [
      'udp      17 25 src=fd00:200:0:0:1:aa:bb:cc dst=fd00:200::1 sport=40001 dport=443 [UNREPLIED] src=fd00:200::1 dst=fd00:200::1:aa:bb:cc sport=443 dport=40001 mark=0 use=1',
      'udp      17 100 src=fd00:300::5 dst=fd00:200::1 sport=40002 dport=53 src=fd00:200::1 dst=fd00:300::5 sport=53 dport=40002 [ASSURED] mark=0 use=1',
      'udp      17 100 src=fd00:300::6 dst=fd00:200::2 sport=40003 dport=53 src=fd00:200::2 dst=fd00:300::6 sport=53 dport=40003 [ASSURED] mark=0 use=1',
    ].join('\n');
    expect(udpFlowsFromListing(udp, 'fd00:200::1')).toEqual([
      { saddr: 'fd00:200::1:aa:bb:cc', sport: 40001, dport: 443, idleAtLeastMs: 4000 },
      { saddr: 'fd00:300::5', sport: 40002, dport: 53, idleAtLeastMs: 19_000 },
    ]);
  });
});
