/** The fake ICMP echo port meets the contract the raw socket meets (test/lab/icmp-echo-raw.test.ts). */
import { icmpEchoContract } from '../../../contract/icmp-echo.contract.js';
import { fakeIcmpEcho } from '../../../../src/health/reachability/fake-icmp-echo.js';
import { fakeClock } from '../../../../src/util/clock.js';

icmpEchoContract('fake', () => {
  const clock = fakeClock(0);
  const port = fakeIcmpEcho(clock, ['192.0.2.1'], 2);
  return Promise.resolve({
    port, reachable: '192.0.2.1',
    settle: () => { clock.advance(10); return Promise.resolve(); },
    cleanup: () => port.close(),
  });
});
