/** `vmac resources` text (src/cli/cmd-resources.ts) from a status projection. */
import { describe, expect, it } from 'vitest';
import { resourcesText } from '../../../src/cli/cmd-resources.js';
import type { CrmStatus } from '../../../src/node/crm-view.js';

describe('vmac resources', () => {
  it('lists every resource with its state, placement, failures and pending actions, unclean nodes and constraints', () => {
    const st: CrmStatus = {
      self: 'n2', quorate: true, members: ['n2', 'n3'], standby: ['n3'],
      resources: [
        { name: 'ip', kind: 'singleton', group: null, target: 'n2', stoppedBecause: null, runningOn: ['n2'], phases: { n2: 'started' }, failures: { n1: 2 }, pending: [], bannedOn: [] },
        { name: 'q', kind: 'member', group: 'mail', target: 'n2', stoppedBecause: null, runningOn: ['n2'], phases: { n2: 'starting' }, failures: {}, pending: [{ node: 'n2', phase: 'starting' }], bannedOn: [] },
        { name: 'm', kind: 'member', group: 'mail', target: null, stoppedBecause: 'blocked-by-order', runningOn: [], phases: {}, failures: {}, pending: [], bannedOn: [] },
      ],
      unclean: [{ node: 'n1', fence: 'failed', stopFailed: false }], fenced: [],
      operator: { version: 7, scores: { ip: { n1: -1_000_000 }, '@standby': { n3: 1 } } },
    };
    expect(resourcesText(st)).toBe([
      'node n2: quorate; members n2, n3; standby n3',
      'RESOURCE  STATE           PLACED ON             FAILURES  PENDING',
      'ip        started on n2   n2                    n1:2      -',
      'mail/q    starting on n2  n2                    -         starting on n2',
      'mail/m    Stopped         - (blocked-by-order)  -         -',
      'unclean: n1 (fence failed): what it may run starts nowhere else until it is fenced',
      'operator constraints (version 7): ip: n1 -INFINITY',
      '',
    ].join('\n'));
  });
});
