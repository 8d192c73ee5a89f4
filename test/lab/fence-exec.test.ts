/**
 * The exec fence agent against a real program from Debian's fence-agents package: fence_dummy,
 * driven purely by the stdin key=value convention (no arguments). type=file: off succeeds and
 * status answers (exit 2: off); type=fail: off fails with the agent's own message.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execAgent } from '../../src/fencing/exec-agent.js';

const FENCE_DUMMY = '/usr/sbin/fence_dummy';

describe('exec agent with fence-agents\' fence_dummy', () => {
  it('off succeeds, status answers, a failing device fails', async () => {
    expect(existsSync(FENCE_DUMMY)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'vmac-fd-'));
    try {
      const ok = execAgent({ path: FENCE_DUMMY, params: { type: 'file', status_file: join(dir, 'status') }, targets: {} });
      const off = await ok.run('off', { id: 2, name: 'n2' }, 20_000);
      expect(off.outcome).toBe('success');
      expect(await ok.run('status', { id: 2, name: 'n2' }, 20_000)).toMatchObject({ outcome: 'success' });
      const bad = execAgent({ path: FENCE_DUMMY, params: { type: 'fail' }, targets: {} });
      const r = await bad.run('off', { id: 2, name: 'n2' }, 30_000);
      expect(r.outcome).toBe('failed');
      expect(r.detail).toContain('Timed out waiting to power OFF');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
