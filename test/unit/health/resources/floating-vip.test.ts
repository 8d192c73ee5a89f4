/** The floating-VIP driver (src/health/resources/floating-vip.ts) against a fake rtnetlink and packet port. */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { floatingVip } from '../../../../src/health/resources/floating-vip.js';
import { createFakePacketPort } from '../../../../src/arp/fake-packet-port.js';
import { decodeArpFrame } from '../../../../src/arp/arp-frame.js';
import { formatIp } from '../../../../src/util/ip.js';
import type { Schedule } from '../../../../src/arp/garp-burst.js';

const MAC = '02:00:00:00:00:01';

function fakeRtnl() {
  const addrs = new Set<string>();
  return {
    addrs,
    getLink: (name: string) => Promise.resolve({ index: 7, name, mac: MAC, up: true }),
    addAddress: (_i: number, b: Uint8Array, p: number) => { const k = `${formatIp(b)}/${p}`; const had = addrs.has(k); addrs.add(k); return Promise.resolve(had ? 'already-present' as const : 'added' as const); },
    deleteAddress: (_i: number, b: Uint8Array, p: number) => Promise.resolve(addrs.delete(`${formatIp(b)}/${p}`) ? 'deleted' as const : 'already-absent' as const),
    listAddresses: () => Promise.resolve([...addrs].map((k) => { const [a = '', p = '0'] = k.split('/'); return { index: 7, family: a.includes(':') ? 6 as const : 4 as const, bytes: Uint8Array.from(a.split('.').map(Number)), prefixLength: Number(p) }; })),
  };
}

const now: Schedule = (fn) => { fn(); return () => undefined; };

describe('floating VIP driver', () => {
  it('adds the address, announces it with gratuitous ARPs from the node MAC, removes it on stop; monitor sees it', async () => {
    const rtnl = fakeRtnl();
    const port = createFakePacketPort();
    const d = floatingVip({ spec: { kind: 'vip', address: '10.0.0.50', prefixLength: 24, interface: 'eth0' }, rtnl, openPacketPort: () => port, schedule: now, log: pino({ level: 'silent' }), garpCount: 3, garpIntervalMs: 100 });
    expect((await d.monitor(1000)).state).toBe('stopped');
    expect((await d.start(1000)).outcome).toBe('ok');
    expect([...rtnl.addrs]).toEqual(['10.0.0.50/24']);
    expect(port.sent).toHaveLength(3);
    const f = decodeArpFrame(port.sent[0] ?? new Uint8Array());
    expect(f.ok && f.frame.senderIp === '10.0.0.50' && f.frame.targetIp === '10.0.0.50' && f.frame.senderMac === MAC && f.frame.ethDst === 'ff:ff:ff:ff:ff:ff').toBe(true);
    expect((await d.monitor(1000)).state).toBe('running');
    rtnl.addrs.clear(); // someone removed it
    expect((await d.monitor(1000)).state).toBe('failed');
    expect((await d.stop(1000)).outcome).toBe('ok');
    expect((await d.monitor(1000)).state).toBe('stopped');
    d.close();
  });

  it('a failing rtnetlink is a failed action, not an exception', async () => {
    const rtnl = { ...fakeRtnl(), addAddress: () => Promise.reject(new Error('EPERM')) };
    const d = floatingVip({ spec: { kind: 'vip', address: '10.0.0.50', prefixLength: 24, interface: 'eth0' }, rtnl, openPacketPort: () => createFakePacketPort(), schedule: now, log: pino({ level: 'silent' }), garpCount: 1, garpIntervalMs: 0 });
    expect(await d.start(1000)).toEqual({ outcome: 'failed', detail: 'adding the address: EPERM' });
  });
});
