/** The in-memory heartbeat network meets the transport contract (the UDP adapter: test/lab/transport-udp.test.ts). */
import { transportContract } from '../../contract/transport.contract.js';
import { createFakeNetwork } from '../../../src/cluster/fake-transport.js';
import { fakeClock } from '../../../src/util/clock.js';

transportContract('in-memory network', () => {
  const clock = fakeClock(0);
  const net = createFakeNetwork(clock);
  net.setDelayMs(1);
  const a = net.attach(['10.9.0.1']);
  const b = net.attach(['10.9.0.2']);
  return Promise.resolve({
    a, b, aAddr: '10.9.0.1', bAddr: '10.9.0.2',
    settle: () => { clock.advance(10); return Promise.resolve(); },
    cleanup: () => { a.close(); b.close(); },
  });
});
