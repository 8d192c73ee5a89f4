/**
 * The pcap shim's failure path, which needs no privileges: opening a missing interface must
 * raise VMAC_PCAP_FAILED naming the interface, and must not leave behind a half-built native
 * handle that aborts the process when the garbage collector finds it (unpatched cap 0.2.1 did
 * that: its destructor called uv_poll_stop on a poll handle that a failed open never
 * initialised; our copy in native-shims/cap is patched, see pcap-addon.test.ts).
 * libpcap prints "Warning: SIOCGIFADDR: … No such device" on stderr here; that is expected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { openPcapPort } from '../../../native-shims/pcap.js';
import { isVmacError } from '../../../src/util/errors.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('pcap shim: failed open', () => {
  it('throws VMAC_PCAP_FAILED with the interface name, and survives garbage collection', async () => {
    for (let i = 0; i < 5; i++) {
      let caught: unknown;
      try { openPcapPort({ ifname: 'vmacnosuch0', filter: 'arp' }); } catch (err) { caught = err; }
      expect(isVmacError(caught, 'VMAC_PCAP_FAILED')).toBe(true);
      if (isVmacError(caught)) {
        expect(caught.message).toContain('vmacnosuch0');
        expect(caught.details).toMatchObject({ ifname: 'vmacnosuch0', filter: 'arp' });
      }
    }
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    // The collector has run the destructors of the five failed handles (an unpatched cap aborts
    // the process there, and this worker dies). The addon must still work afterwards:
    let after: unknown;
    try { openPcapPort({ ifname: 'vmacnosuch1', filter: 'arp' }); } catch (err) { after = err; }
    expect(isVmacError(after, 'VMAC_PCAP_FAILED') && after.message.includes('vmacnosuch1')).toBe(true);
  });
});
