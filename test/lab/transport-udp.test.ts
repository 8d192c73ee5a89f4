/** The UDP heartbeat transport meets the transport contract, on two loopback addresses of this host. */
import { randomInt } from 'node:crypto';
import { transportContract } from '../contract/transport.contract.js';
import { openUdpTransport } from '../../src/cluster/transport.js';

const SETTLE_BOUND_MS = 1000; // loopback delivers in microseconds; the bound only ends a failing wait

transportContract('UDP on loopback', async () => {
  const port = randomInt(20_000, 60_000);
  const fail = (err: Error): void => { throw err; };
  const a = await openUdpTransport(['127.0.0.2'], port, fail);
  const b = await openUdpTransport(['127.0.0.3'], port, fail).catch((err: unknown) => { a.close(); throw err; });
  return {
    a, b, aAddr: '127.0.0.2', bAddr: '127.0.0.3',
    async settle(done) {
      const deadline = Date.now() + SETTLE_BOUND_MS;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    cleanup: () => { a.close(); b.close(); },
  };
});
