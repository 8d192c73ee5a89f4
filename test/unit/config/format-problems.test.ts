import { describe, expect, it } from 'vitest';
import { formatConfigError, formatProblem, formatProblems } from '../../../src/config/format-problems.js';
import { parseConfig } from '../../../src/config/load.js';
import { VmacError } from '../../../src/util/errors.js';
import { yamlWith } from './helpers.js';

describe('formatProblems', () => {
  it('renders FILE: FIELD: message, and FILE: message for whole-file problems', () => {
    expect(formatProblem('web.yaml', { path: 'peers[1].id', message: 'bad' })).toBe('web.yaml: peers[1].id: bad');
    expect(formatProblem('web.yaml', { path: '', message: 'the file is empty' })).toBe('web.yaml: the file is empty');
    expect(formatProblems('w', [{ path: 'a', message: 'x' }, { path: 'b', message: 'y' }])).toBe('w: a: x\nw: b: y');
  });

  it('renders a config error from its details (in file order), the same text as its message', () => {
    let err: unknown;
    try {
      parseConfig(yamlWith({ buckets: 0, hash: {} }), 'web.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VmacError);
    const text = formatConfigError(err as VmacError);
    expect(text).toBe((err as VmacError).message);
    expect(text.split('\n')).toEqual([
      'web.yaml: hash.seed: required — without an explicit seed the kernel picks a random one per rule and nodes disagree on buckets',
      'web.yaml: buckets: must be between 1 and 1024, got 0',
    ]);
  });

  it('falls back to the message for errors without problem details', () => {
    expect(formatConfigError(new VmacError('VMAC_NFT_FAILED', 'nft exploded'))).toBe('nft exploded');
  });
});
