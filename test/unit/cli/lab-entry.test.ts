/** The product CLI loads the lab only when asked for it (issue: the lab apart from the product). */
import { describe, expect, it } from 'vitest';
import { wantsLab } from '../../../src/cli/lab-entry.js';

describe('wantsLab', () => {
  it.each([
    [['lab', 'up', '--nodes', '3'], true],
    [['lab'], true],
    [['help', 'lab'], true],
    [['--no-color', 'lab', 'failover'], true],
    [['run', '/etc/vmac/lab.yaml'], false],
    [['status', '-c', 'lab'], false],
    [['help'], false],
    [['--help'], false],
    [[], false],
  ])('%j -> %s', (args, expected) => {
    expect(wantsLab(args)).toBe(expected);
  });
});
