/** Run-time weights kept across a restart where asked (src/daemon/weight-state.ts). */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearPersistedWeight, readPersistedWeight, startWeight, weightStatePath, writePersistedWeight } from '../../../src/daemon/weight-state.js';

describe('persisted run-time weight', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmac-weight-'));
  const path = weightStatePath(join(dir, 'run'), 'web');

  it('no file: the configured weight', () => {
    expect(startWeight(100, readPersistedWeight(path, 'web'))).toEqual({ weight: 100, source: 'config' });
  });
  it('written with --persist: read at the next start, for this service only', () => {
    writePersistedWeight(path, 'web', 0, 1_700_000_000_000);
    expect(startWeight(100, readPersistedWeight(path, 'web'))).toEqual({ weight: 0, source: 'persisted' });
    expect(readPersistedWeight(path, 'mail')).toBeNull();
  });
  it('cleared: back to the configured weight', () => {
    clearPersistedWeight(path);
    expect(startWeight(100, readPersistedWeight(path, 'web')).source).toBe('config');
  });
  it('a malformed or out-of-range file is ignored; an invalid weight is refused before writing', () => {
    writeFileSync(path, '{"version":1,"service":"web","weight":5000,"setAtEpochMs":1}');
    expect(readPersistedWeight(path, 'web')).toBeNull();
    writeFileSync(path, 'not json');
    expect(readPersistedWeight(path, 'web')).toBeNull();
    expect(() => writePersistedWeight(path, 'web', -1, 1)).toThrow(/0\.\.1000/);
  });
});
