import { describe, expect, it } from 'vitest';
import { enterRealtime, realtimePriority, type RealtimePort } from '../../../src/util/realtime.js';

function fakePort(rc: number, errno: number): RealtimePort & { calls: number[] } {
  const calls: number[] = [];
  return { calls, setFifo: (p) => { calls.push(p); return { rc, errno, threads: rc === 0 ? 7 : 0 }; } };
}

describe('realtime scheduling', () => {
  it('asks for SCHED_FIFO whatever the profile (as corosync does), unless turned off', () => {
    expect(realtimePriority({})).toBe(20);
    expect(realtimePriority({ VMAC_REALTIME: '0' })).toBeNull();
  });

  it('reports what was granted', () => {
    const port = fakePort(0, 0);
    expect(enterRealtime(port, 20)).toEqual({ scheduling: 'fifo', priority: 20, threads: 7, errno: 0 });
    expect(port.calls).toEqual([20]);
  });

  it('names a refusal instead of failing (no CAP_SYS_NICE)', () => {
    expect(enterRealtime(fakePort(-1, 1), 20)).toMatchObject({ scheduling: 'not-permitted', errno: 1 });
    expect(enterRealtime(fakePort(-1, 22), 20)).toMatchObject({ scheduling: 'failed', errno: 22 });
  });

  it('does nothing it was not asked to', () => {
    const port = fakePort(0, 0);
    expect(enterRealtime(port, null).scheduling).toBe('off');
    expect(port.calls).toEqual([]);
  });
});
