/**
 * Runs inside a namespace holding a veth pair v0/v1 (test/lab/packet-port-pcap.test.ts): every
 * PacketPort contract check against libpcap ports on both ends, fresh ports per check. Prints
 * one JSON line per check: { name, ok, error? }.
 */
import { openPcapPort } from '../../native-shims/pcap.js';
import { PACKET_PORT_CHECKS, type PacketPortSubject } from '../contract/packet-port.contract.js';

const SETTLE_BOUND_MS = 500; // a veth delivers in microseconds; the bound only ends a wait that must fail
const FILTER = 'ether proto 0x88b5'; // the contract's frames only

function subject(): PacketPortSubject {
  const a = openPcapPort({ ifname: 'v0', filter: FILTER });
  const b = openPcapPort({ ifname: 'v1', filter: FILTER });
  return {
    a, b,
    async settle(done) {
      const deadline = Date.now() + SETTLE_BOUND_MS;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    cleanup() { a.close(); b.close(); },
  };
}

for (const c of PACKET_PORT_CHECKS) {
  const s = subject();
  try {
    await c.run(s);
    process.stdout.write(`${JSON.stringify({ name: c.name, ok: true })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ name: c.name, ok: false, error: String(err) })}\n`);
  } finally {
    await s.cleanup();
  }
}
