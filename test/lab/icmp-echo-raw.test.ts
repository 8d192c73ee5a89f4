/** The raw-socket ICMP echo port meets the contract, pinging this host's loopback (needs CAP_NET_RAW: root). */
import { icmpEchoContract } from '../contract/icmp-echo.contract.js';
import { openIcmpEcho } from '../../native-shims/raw-socket.js';

const SETTLE_BOUND_MS = 300; // loopback answers in microseconds; the bound only ends a wait that must fail

icmpEchoContract('raw socket on loopback', () => {
  const port = openIcmpEcho((err) => { throw err; });
  let closed = false;
  return Promise.resolve({
    port, reachable: '127.0.0.1',
    async settle(done) {
      const deadline = Date.now() + SETTLE_BOUND_MS;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    cleanup: () => { if (!closed) { closed = true; port.close(); } },
  });
});
