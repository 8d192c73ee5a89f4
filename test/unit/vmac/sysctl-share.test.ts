/** Host-wide sysctls shared by several services: restored only when the last one lets go. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireShare, createFileShareStore, EMPTY_SHARE, memoryShareStore, releaseShare } from '../../../src/vmac/sysctl-share.js';
import { prepareHost, restoreHost } from '../../../src/vmac/host-setup.js';
import { fakeSysctl } from '../../../src/vmac/sysctl.js';

const KEY = 'net.ipv4.conf.eth0.arp_announce';
const rtnl = {
  getLink: () => Promise.resolve({ index: 2, name: 'eth0', mac: '02:00:00:00:00:01', up: true, mtu: 1500 }),
  addAddress: () => Promise.resolve('added' as const),
  deleteAddress: () => Promise.resolve('deleted' as const),
};

describe('shared sysctls (pure)', () => {
  const alive = (): boolean => true;
  it('the first holder records the original; the last to let go restores it, in any order', () => {
    let s = acquireShare(EMPTY_SHARE, 'web', 10, '0', alive);
    s = acquireShare(s, 'api', 11, '2', alive);
    expect(s).toEqual({ before: '0', holders: [{ service: 'web', pid: 10 }, { service: 'api', pid: 11 }] });
    const a = releaseShare(s, 'web', alive);
    expect(a.restore).toBe(null);
    expect(releaseShare(a.state, 'api', alive)).toEqual({ state: EMPTY_SHARE, restore: '0' });
  });

  it('a holder whose process is gone (kill -9) no longer pins the setting, and is not taken for the original', () => {
    let s = acquireShare(EMPTY_SHARE, 'web', 10, '1', () => true);
    const deadWeb = (pid: number): boolean => pid !== 10;
    s = acquireShare(s, 'api', 11, '2', deadWeb);
    expect(s).toEqual({ before: '1', holders: [{ service: 'api', pid: 11 }] });
    expect(releaseShare(s, 'api', deadWeb).restore).toBe('1');
  });

  it('a restarted service replaces its own entry', () => {
    const s = acquireShare(acquireShare(EMPTY_SHARE, 'web', 10, '0', () => true), 'web', 12, '2', () => true);
    expect(s.holders).toEqual([{ service: 'web', pid: 12 }]);
  });
});

describe('prepareHost / restoreHost with two services on one interface', () => {
  for (const order of [['web', 'api'], ['api', 'web']] as const) {
    it(`stopping ${order[0]} first leaves arp_announce=2 for ${order[1]}; the last restores the original`, async () => {
      const sysctl = fakeSysctl({ [KEY]: '0' });
      const store = memoryShareStore();
      const share = (service: string, pid: number) => ({ store, service, pid, isAlive: () => true });
      const web = await prepareHost({ rtnl, sysctl, share: share('web', 1) }, 'eth0', '10.0.0.1');
      const api = await prepareHost({ rtnl, sysctl, share: share('api', 2) }, 'eth0', '10.0.0.2');
      expect(sysctl.values.get(KEY)).toBe('2');
      const changes = { web, api };
      await restoreHost({ rtnl, sysctl, share: share(order[0], order[0] === 'web' ? 1 : 2) }, changes[order[0]], '10.0.0.1');
      expect(sysctl.values.get(KEY)).toBe('2');
      await restoreHost({ rtnl, sysctl, share: share(order[1], order[1] === 'web' ? 1 : 2) }, changes[order[1]], '10.0.0.2');
      expect(sysctl.values.get(KEY)).toBe('0');
    });
  }

  it('negative control: without the share, stopping the first service resets it under the second', async () => {
    const sysctl = fakeSysctl({ [KEY]: '0' });
    const web = await prepareHost({ rtnl, sysctl }, 'eth0', '10.0.0.1');
    await prepareHost({ rtnl, sysctl }, 'eth0', '10.0.0.2');
    await restoreHost({ rtnl, sysctl }, web, '10.0.0.1');
    expect(sysctl.values.get(KEY)).toBe('0');
  });

  it('the file store keeps the state between processes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmac-share-'));
    try {
      const a = createFileShareStore(dir);
      a.update(KEY, (s) => ({ state: acquireShare(s, 'web', 1, '0', () => true), result: null }));
      const b = createFileShareStore(dir);
      const r = b.update(KEY, (s) => { const x = releaseShare(s, 'web', () => true); return { state: x.state, result: x.restore }; });
      expect(r).toBe('0');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
