import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { isVmacError } from '../../../src/util/errors.js';
import { udpPerFlowPlan } from '../../../src/takeover/udp-flow-plan.js';

const yaml = (extra: string): string => ['service: web', 'interface: eth0', 'vip: 10.0.0.1', 'hash: { seed: 1 }', 'node: { id: 1, name: n1 }', extra, ''].join('\n');
const problems = (extra: string): string => {
  try { parseConfig(yaml(extra), 'x.yaml'); return ''; } catch (e) { return isVmacError(e) ? e.message : String(e); }
};

describe('handover.udpPerFlow (config)', () => {
  it('on by default (a health drain lets its flows go at once); QUIC-sized idle timeout, DNS 5 s on port 53', () => {
    const cfg = parseConfig(yaml(''), 'x.yaml');
    expect(cfg.handover).toEqual({ udpFlowTimeoutMs: 0, udpPerFlow: true, udpIdleMs: 30_000, udpPortIdleMs: { 53: 5000 } });
    expect(udpPerFlowPlan(cfg)).toMatchObject({ idleMs: 30_000, portIdleMs: [{ port: 53, idleMs: 5000 }] });
  });
  it('off when asked, and off under the per-bucket keeper', () => {
    expect(udpPerFlowPlan(parseConfig(yaml('handover: { udpPerFlow: false }'), 'x.yaml'))).toBeNull();
    expect(udpPerFlowPlan(parseConfig(yaml('handover: { udpFlowTimeoutMs: 2000 }'), 'x.yaml'))).toBeNull();
  });
  it('takes per-port timeouts and refuses unusable ones, naming the field', () => {
    expect(udpPerFlowPlan(parseConfig(yaml('handover: { udpPerFlow: true, udpIdleMs: 15000, udpPortIdleMs: { "443": 60000, "53": 2000 } }'), 'x.yaml'))?.portIdleMs).toEqual([{ port: 53, idleMs: 2000 }, { port: 443, idleMs: 60_000 }]);
    expect(problems('handover: { udpPortIdleMs: { "70000": 1000 } }')).toMatch(/handover\.udpPortIdleMs\.70000/);
    expect(problems('handover: { udpPortIdleMs: { "53": 5 } }')).toMatch(/handover\.udpPortIdleMs/);
    expect(problems('handover: { udpIdleMs: 5 }')).toMatch(/handover\.udpIdleMs/);
  });
});
