import { describe, expect, it } from 'vitest';
import { parseOwnedCounters } from '../../../src/metrics/nft-counters.js';
import { emptyTotals, observeCounters, sumTotals } from '../../../src/metrics/bucket-totals.js';
import { linkLoss, pushSample } from '../../../src/metrics/link-loss.js';

// Verbatim `nft -j list map netdev t owned` (nft 1.0.6) of a map declared with `counter;`.
const NFT_JSON = '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"map": {"family": "netdev", "name": "owned", "table": "t", "type": "integer", "handle": 2, "map": "verdict", "elem": [[{"elem": {"val": 1, "counter": {"packets": 10, "bytes": 290}}}, {"accept": null}], [{"elem": {"val": 2, "counter": {"packets": 0, "bytes": 0}}}, {"accept": null}]], "stmt": [{"counter": null}]}}]}';

const c = (packets: number, bytes = packets * 29) => ({ packets, bytes });

describe('kernel per-bucket counters', () => {
  it('parses per-element counters from nft JSON', () => {
    expect([...parseOwnedCounters(NFT_JSON)]).toEqual([[1, { packets: 10, bytes: 290 }], [2, { packets: 0, bytes: 0 }]]);
  });

  it('ignores elements without counters (a map declared without `counter`)', () => {
    expect(parseOwnedCounters('{"nftables":[{"map":{"elem":[[3,{"accept":null}]]}}]}').size).toBe(0);
  });

  it('accumulates across readings; a re-created element (counter reset) adds its whole reading', () => {
    let t = emptyTotals();
    t = observeCounters(t, new Map([[1, c(10)], [2, c(5)]]));
    t = observeCounters(t, new Map([[1, c(25)], [2, c(5)]]));
    expect(t.total.get(1)).toEqual(c(25));
    // bucket 2 moved away (absent), then came back with a fresh counter
    t = observeCounters(t, new Map([[1, c(30)]]));
    t = observeCounters(t, new Map([[1, c(31)], [2, c(3)]]));
    expect(t.total.get(2)).toEqual(c(8));
    // bucket 1 re-created between two readings: its counter went down
    t = observeCounters(t, new Map([[1, c(4)], [2, c(3)]]));
    expect(t.total.get(1)).toEqual(c(35));
    expect(sumTotals(t)).toEqual(c(43));
  });
});

describe('heartbeat loss per link', () => {
  it('compares heartbeats received per link with what the alive peers should have sent', () => {
    let s = pushSample([], { atMs: 0, perLinkReceived: [0, 0], alivePeers: 2 }, 10_000);
    s = pushSample(s, { atMs: 1000, perLinkReceived: [50, 25], alivePeers: 2 }, 10_000);
    // 1 s at 40 ms from 2 peers = 50 expected per link
    expect(linkLoss(s, 40)).toEqual([{ link: 0, ratio: 0 }, { link: 1, ratio: 0.5 }]);
  });

  it('needs a window of at least four intervals', () => {
    const s = pushSample([{ atMs: 0, perLinkReceived: [0], alivePeers: 1 }], { atMs: 100, perLinkReceived: [1], alivePeers: 1 }, 10_000);
    expect(linkLoss(s, 40)).toEqual([]);
  });

  it('keeps only the window', () => {
    let s = pushSample([], { atMs: 0, perLinkReceived: [0], alivePeers: 1 }, 1000);
    for (let t = 250; t <= 3000; t += 250) s = pushSample(s, { atMs: t, perLinkReceived: [t / 40], alivePeers: 1 }, 1000);
    expect(s[0]?.atMs).toBe(2000);
  });
});
