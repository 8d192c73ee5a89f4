import { describe, expect, it } from 'vitest';
import { renderInstall, renderOwnedDelta, renderPhaseChanges, renderRelease, renderRenew, renderTeardown, tableName, type DataPathPlan } from '../../../src/vmac/ruleset.js';
import { parseLease, parseOwned, parsePhaseMap } from '../../../src/vmac/nft-datapath.js';

const plan: DataPathPlan = { table: 'vmac_web', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:bf:0a:00:00:01', buckets: 256, hashExpr: 'jhash ip saddr mod 256 seed 0x0000abcd' };

describe('ruleset rendering', () => {
  it('renders the whole table as one replacing batch, seed explicit, ARP for the VIP dropped', () => {
    expect(renderInstall(plan, [1, 5], 200)).toBe([
      'add table netdev vmac_web',
      'delete table netdev vmac_web',
      'add table netdev vmac_web',
      'add set netdev vmac_web alive { type ifname; flags timeout; }',
      'add map netdev vmac_web owned { typeof numgen inc mod 256 : verdict; counter; }',
      'add chain netdev vmac_web ingress { type filter hook ingress device "eth0" priority -500; policy accept; }',
      'add rule netdev vmac_web ingress ether daddr 02:bf:0a:00:00:01 ip daddr 10.0.0.1 iifname @alive meta pkttype set host jhash ip saddr mod 256 seed 0x0000abcd vmap @owned',
      'add rule netdev vmac_web ingress ether daddr 02:bf:0a:00:00:01 drop',
      'add rule netdev vmac_web ingress arp daddr ip 10.0.0.1 drop',
      'add rule netdev vmac_web ingress arp saddr ip 10.0.0.1 drop',
      'add element netdev vmac_web owned { 1 : accept, 5 : accept }',
      'add table inet vmac_web_ct',
      'delete table inet vmac_web_ct',
      'add table inet vmac_web_ct',
      'add chain inet vmac_web_ct draining',
      'add rule inet vmac_web_ct draining ct state established,related accept',
      'add rule inet vmac_web_ct draining drop',
      'add chain inet vmac_web_ct incoming',
      'add rule inet vmac_web_ct incoming ct state established,related accept',
      'add rule inet vmac_web_ct incoming ct state new tcp flags & (fin|syn|rst|ack) == syn accept',
      'add rule inet vmac_web_ct incoming ct state new meta l4proto udp accept',
      'add rule inet vmac_web_ct incoming drop',
      'add map inet vmac_web_ct phase { typeof numgen inc mod 256 : verdict; }',
      'add chain inet vmac_web_ct pre { type filter hook prerouting priority -160; policy accept; }',
      'add rule inet vmac_web_ct pre iifname "eth0" ip daddr 10.0.0.1 jhash ip saddr mod 256 seed 0x0000abcd vmap @phase',
      'add element netdev vmac_web alive { "eth0" timeout 200ms expires 200ms }',
    ].join('\n'));
  });

  it('omits empty element lists and the lease when asked', () => {
    const text = renderInstall(plan, [], null);
    expect(text).not.toContain('add element');
  });

  it('renews with an explicit expires (same-timeout re-adds do not renew)', () => {
    expect(renderRenew(plan, 20)).toBe('add element netdev vmac_web alive { "eth0" timeout 20ms expires 20ms }');
  });

  it('moves buckets in one batch, deletions first', () => {
    expect(renderOwnedDelta(plan, [7], [1, 2])).toBe('delete element netdev vmac_web owned { 1, 2 }\nadd element netdev vmac_web owned { 7 : accept }');
    expect(renderOwnedDelta(plan, [], [])).toBe('');
  });

  it('release and teardown are idempotent batches', () => {
    expect(renderRelease(plan)).toBe('flush set netdev vmac_web alive');
    expect(renderTeardown(plan)).toBe('add table netdev vmac_web\ndelete table netdev vmac_web\nadd table inet vmac_web_ct\ndelete table inet vmac_web_ct\nadd table ip vmac_web_ct\ndelete table ip vmac_web_ct');
  });

  it('phase changes: owned holds every bucket not none, the phase map the hand-over ones, in one batch', () => {
    expect(renderPhaseChanges(plan, [
      { bucket: 1, from: 'owned', to: 'draining' },
      { bucket: 4, from: 'none', to: 'incoming' },
      { bucket: 5, from: 'incoming', to: 'owned' },
      { bucket: 6, from: 'draining', to: 'none' },
      { bucket: 7, from: 'none', to: 'owned' },
    ])).toBe([
      'delete element inet vmac_web_ct phase { 5, 6 }',
      'add element inet vmac_web_ct phase { 1 : jump draining, 4 : jump incoming }',
      'delete element netdev vmac_web owned { 6 }',
      'add element netdev vmac_web owned { 4 : accept, 7 : accept }',
    ].join('\n'));
    expect(renderPhaseChanges(plan, [{ bucket: 1, from: 'owned', to: 'owned' }])).toBe('');
  });

  it('reads the phase map back from nft JSON', () => {
    const json = '{"nftables": [{"metainfo": {}}, {"map": {"family": "ip", "name": "phase", "elem": [[1, {"jump": {"target": "draining"}}], [4, {"jump": {"target": "incoming"}}]]}}]}';
    expect(parsePhaseMap(json)).toEqual({ incoming: [4], draining: [1] });
  });

  it('derives nft-safe table names', () => {
    expect(tableName('web-front')).toBe('vmac_web_front');
  });
});

describe('reading the table back', () => {
  it('parses owned buckets from nft JSON', () => {
    const json = '{"nftables": [{"metainfo": {}}, {"map": {"elem": [[5, "accept"], [1, {"accept": null}]]}}]}';
    expect(parseOwned(json)).toEqual([1, 5]);
  });

  it('parses lease expiry text in every unit nft prints', () => {
    expect(parseLease('elements = { "eth0" timeout 200ms expires 183ms }')).toBe(183);
    expect(parseLease('elements = { "eth0" timeout 2s expires 1s200ms }')).toBe(1200);
    expect(parseLease('elements = { "eth0" timeout 2m expires 1m1s }')).toBe(61_000);
    expect(parseLease('set alive { type ifname }')).toBeNull();
  });
});
