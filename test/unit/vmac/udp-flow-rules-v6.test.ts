/** Per-flow UDP sets and rules for IPv6 clients: twin sets, every set-naming rule in both families, listings parsed canonically. */
import { describe, expect, it } from 'vitest';
import { familySet, parseFlowSet, renderFlowFill, renderFlowPhaseChains, renderFlowTable, renderListFlows } from '../../../src/vmac/udp-flow-rules.js';
import type { DataPathPlan } from '../../../src/vmac/ruleset.js';

const plan = { table: 'vmac_x', ifname: 'eth0', vip: '10.0.0.1', vmac: '02:00:00:00:00:01', buckets: 4, hashExpr: 'jhash ip saddr mod 4 seed 0x1' } as DataPathPlan;
const p = { idleMs: 30_000, portIdleMs: [{ port: 53, idleMs: 5000 }], marginMs: 100, maxFlows: 1024 };

describe('per-flow UDP rules, IPv6', () => {
  it('every set has an IPv6 twin and every rule naming a v4 set has its v6 twin', () => {
    const lines = [...renderFlowTable(plan, p), ...renderFlowPhaseChains(plan)];
    for (const s of ['keep', 'keepfill', 'listed', 'theirs', 'seen']) {
      expect(lines).toContain(`add set inet vmac_x_ct ${s}6 { typeof ip6 saddr . udp sport . udp dport; flags ${s === 'keep' || s === 'seen' ? 'dynamic,' : ''}timeout; size 1024; }`);
    }
    const v4 = lines.filter((l) => l.startsWith('add rule') && l.includes('ip saddr . udp sport'));
    const v6 = lines.filter((l) => l.startsWith('add rule') && l.includes('ip6 saddr . udp sport'));
    expect(v4.length).toBeGreaterThan(10);
    expect(v6.map((l) => l.replace(/ip6 saddr/g, 'ip saddr').replace(/@(keep|keepfill|listed|theirs|seen)6/g, '@$1'))).toEqual(v4);
  });

  it('fills split by family; listings of both families parsed, IPv6 in canonical text', () => {
    const fill = renderFlowFill(plan, 'listed', [{ saddr: '10.0.0.9', sport: 1, dport: 443, timeoutMs: 500 }, { saddr: 'fd00::9', sport: 2, dport: 443, timeoutMs: 600 }]);
    expect(fill).toEqual([
      'add element inet vmac_x_ct listed { 10.0.0.9 . 1 . 443 timeout 500ms expires 500ms }',
      'add element inet vmac_x_ct listed6 { fd00::9 . 2 . 443 timeout 600ms expires 600ms }',
    ]);
    expect(renderListFlows(plan, 'keep', 6)).toBe('list set inet vmac_x_ct keep6');
    expect(familySet('keep', 'fd00::1')).toBe('keep6');
    const text = 'table inet vmac_x_ct {\n\tset keep6 {\n\t\ttypeof ip6 saddr . udp sport . udp dport\n\t\tsize 1024\n\t\tflags dynamic,timeout\n\t\telements = { fd00:0:0:1::2 . 5000 . 443 timeout 30s expires 29s512ms, ::ffff:10.1.1.1 . 7 . 53 timeout 5s expires 1s }\n\t}\n}\n';
    expect(parseFlowSet(text)).toEqual([
      { saddr: 'fd00:0:0:1::2', sport: 5000, dport: 443, timeoutMs: 29_512 },
      { saddr: '::ffff:a01:101', sport: 7, dport: 53, timeoutMs: 1000 }, // the project's canonical text, as the wire decoder writes it
    ]);
  });
});
