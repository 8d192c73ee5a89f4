/**
 * The dataPathCheck section: absent = off, built with its defaults, the schema's default
 * annotations equal to the code's, and every mistake refused naming its field.
 */
import { describe, expect, it } from 'vitest';
import schema from '../../../schema/vmac-config.schema.json' with { type: 'json' };
import { parseConfig } from '../../../src/config/load.js';
import { DATAPATH_DEFAULTS } from '../../../src/config/reachability-config.js';
import { messageAt, problemsOf, yamlWith } from './helpers.js';

describe('dataPathCheck config', () => {
  it('absent: off', () => {
    expect(parseConfig(yamlWith({}), 'web.yaml').dataPathCheck).toBeNull();
  });

  it('builds with defaults; a short interval bounds the default timeout', () => {
    const c = parseConfig(yamlWith({ dataPathCheck: { targets: ['10.200.0.254'] } }), 'web.yaml');
    expect(c.dataPathCheck).toEqual({ targets: ['10.200.0.254'], require: 'any', intervalMs: 100, timeoutMs: 100, fall: 3, rise: 5, drainTimeoutMs: 0 });
    expect(Object.isFrozen(c.dataPathCheck?.targets)).toBe(true);
    const fast = parseConfig(yamlWith({ dataPathCheck: { targets: ['10.200.0.254', '10.200.0.253'], require: 'all', intervalMs: 20, fall: 2 } }), 'web.yaml');
    expect(fast.dataPathCheck).toMatchObject({ require: 'all', intervalMs: 20, timeoutMs: 20, fall: 2 });
  });

  it('the schema\'s defaults are the code\'s', () => {
    const p = schema.properties.dataPathCheck.properties;
    expect([p.require.default, p.intervalMs.default, p.timeoutMs.default, p.fall.default, p.rise.default, p.drainTimeoutMs.default])
      .toEqual([DATAPATH_DEFAULTS.require, DATAPATH_DEFAULTS.intervalMs, DATAPATH_DEFAULTS.timeoutMs, DATAPATH_DEFAULTS.fall, DATAPATH_DEFAULTS.rise, DATAPATH_DEFAULTS.drainTimeoutMs]);
  });

  it.each([
    [{ targets: [] }, 'dataPathCheck.targets', 'fewer than 1'],
    [{ targets: ['gateway'] }, 'dataPathCheck.targets[0]', 'IPv4 address'],
    [{ targets: ['fe80::1'] }, 'dataPathCheck.targets[0]', 'IPv4'],
    [{ targets: ['10.200.0.1'] }, 'dataPathCheck.targets[0]', 'is the VIP'],
    [{ targets: ['10.200.0.12'] }, 'dataPathCheck.targets[0]', 'a cluster node\'s address'],
    [{ targets: ['10.200.0.254', '10.200.0.254'] }, 'dataPathCheck.targets[1]', 'already dataPathCheck.targets[0]'],
    [{ targets: ['10.200.0.254'], intervalMs: 100, timeoutMs: 200 }, 'dataPathCheck.timeoutMs', 'at most intervalMs'],
    [{ targets: ['10.200.0.254'], timeoutMs: 150 }, 'dataPathCheck.timeoutMs', 'at most intervalMs (100)'],
    [{ targets: ['10.200.0.254'], require: 'most' }, 'dataPathCheck.require', 'must be one of'],
    [{ targets: ['10.200.0.254'], fall: 0 }, 'dataPathCheck.fall', 'between 1 and'],
    [{ targets: ['10.200.0.254'], intervalMs: 5 }, 'dataPathCheck.intervalMs', 'between 10 and'],
    [{ target: '10.200.0.254' }, 'dataPathCheck.target', 'did you mean "targets"'],
  ])('refuses %j at %s', (section, path, words) => {
    expect(messageAt(problemsOf(yamlWith({ dataPathCheck: section })), path)).toContain(words);
  });
});
