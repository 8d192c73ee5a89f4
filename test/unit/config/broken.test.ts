/**
 * Broken service files: each must be refused with VMAC_CONFIG_INVALID, name the field, and say
 * what is wrong and what is allowed. Messages are asserted in full where the wording matters.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { isVmacError } from '../../../src/util/errors.js';
import { MAX_WIRE_BUCKETS } from '../../../src/cluster/heartbeat-codec.js';
import { BASE, messageAt, problemsOf, yamlWith } from './helpers.js';

describe('whole-file problems', () => {
  it('YAML syntax error: reports line and column', () => {
    const problems = problemsOf('service: web\ninterface: [eth0\nvip: 10.0.0.1\n');
    expect(problems[0]?.path).toBe('');
    expect(problems[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(problems[0]?.line).toBeTypeOf('number');
  });

  it('duplicate YAML key: reported at the second occurrence', () => {
    const [p] = problemsOf(`${yamlWith({})}buckets: 1\nbuckets: 2\n`);
    expect(p?.message).toMatch(/^YAML syntax error at line \d+, column 1: Map keys must be unique/);
  });

  it('empty file (and comment-only file)', () => {
    for (const text of ['', '   \n', '# only a comment\n']) {
      expect(problemsOf(text)[0]?.message).toMatch(/^the file is empty; it needs at least service, interface, vip, hash.seed and node/);
    }
  });

  it('a list instead of a mapping', () => {
    expect(problemsOf('- service: web\n')[0]).toEqual({ path: '', message: 'must be a YAML mapping of settings (service, interface, vip, hash, node, …), got a list' });
  });
});

describe('structural problems', () => {
  it('hash.seed missing: explains why it is required', () => {
    const problems = problemsOf(yamlWith({ hash: { affinity: 'address' } }));
    expect(messageAt(problems, 'hash.seed')).toBe('required — without an explicit seed the kernel picks a random one per rule and nodes disagree on buckets');
  });

  it('the whole hash section missing still asks for the seed', () => {
    expect(messageAt(problemsOf(yamlWith({ hash: undefined })), 'hash')).toMatch(/^required — it must at least hold seed: without an explicit seed/);
  });

  it('unknown key: suggests the likely spelling and lists what is allowed', () => {
    const problems = problemsOf(yamlWith({ peers: [{ id: 2, name: 'n2', adress: '10.0.0.2' }] }));
    expect(messageAt(problems, 'peers[0].adress')).toBe('unknown key — did you mean "address"? (allowed here: id, name, weight, address, extraAddresses)');
    // The misspelt address is not reported a second time as a missing one.
    expect(problems.map((p) => p.path)).toEqual(['peers[0].adress']);
  });

  it('unknown top-level key without a close match', () => {
    expect(messageAt(problemsOf(yamlWith({ colour: 'blue' })), 'colour')).toMatch(/^unknown key \(allowed here: service, interface, vip, /);
  });

  it('node id out of range', () => {
    const problems = problemsOf(yamlWith({ peers: [{ id: 33, name: 'n33' }] }));
    expect(messageAt(problems, 'peers[0].id')).toBe('must be between 1 and 32, got 33 (a cluster has at most 32 nodes)');
  });

  it('more than 32 nodes', () => {
    const peers = Array.from({ length: 32 }, (_, i) => ({ id: (i % 31) + 2, name: `p${i}` }));
    expect(messageAt(problemsOf(yamlWith({ peers })), 'peers')).toBe('must have at most 31 entries, got 32 (a cluster has at most 32 nodes: this one and 31 peers)');
  });

  it('buckets out of range', () => {
    expect(messageAt(problemsOf(yamlWith({ buckets: 0 })), 'buckets')).toBe('must be between 1 and 1024, got 0');
    expect(messageAt(problemsOf(yamlWith({ buckets: 5000 })), 'buckets')).toBe('must be between 1 and 1024, got 5000');
  });

  it('the largest bucket count the config accepts is what a heartbeat carries (4096 used to crash the daemon at start)', () => {
    expect(parseConfig(yamlWith({ buckets: MAX_WIRE_BUCKETS }), 'web.yaml').buckets).toBe(MAX_WIRE_BUCKETS);
    expect(messageAt(problemsOf(yamlWith({ buckets: MAX_WIRE_BUCKETS + 1 })), 'buckets')).toMatch(/must be between 1 and 1024/);
  });

  it('bad affinity: lists the allowed values', () => {
    const problems = problemsOf(yamlWith({ hash: { seed: 1, affinity: 'source' } }));
    expect(messageAt(problems, 'hash.affinity')).toBe('must be one of "address", "address+port", "network", got "source"');
  });

  it('wrong type: a quoted number', () => {
    expect(messageAt(problemsOf(yamlWith({ buckets: '256' })), 'buckets')).toBe('must be an integer, got "256"');
  });

  it('wrong type: a fraction where an integer is needed', () => {
    expect(messageAt(problemsOf(yamlWith({ arp: { garpIntervalMs: 2.5 } })), 'arp.garpIntervalMs')).toBe('must be an integer, got 2.5');
  });

  it('bad interface names', () => {
    for (const name of ['eth0/1', 'abcdefghijklmnop', 'eth 0', '..', '', 'eth0:1']) {
      expect(messageAt(problemsOf(yamlWith({ interface: name })), 'interface')).toMatch(/^must be a Linux interface name: 1\.\.15 characters/);
    }
  });

  it('bad service name', () => {
    expect(messageAt(problemsOf(yamlWith({ service: 'Web_1' })), 'service')).toMatch(/^must be a service name: a lowercase letter.*got "Web_1"$/);
  });

  it('IPv6 address in vip: points at vip6', () => {
    expect(messageAt(problemsOf(yamlWith({ vip: 'fd00::1' })), 'vip')).toBe('"fd00::1" is IPv6: vip holds the IPv4 VIP; put an IPv6 VIP in vip6 (both for dual stack)');
  });

  it('VIP that is not an address at all', () => {
    expect(messageAt(problemsOf(yamlWith({ vip: '10.0.0.256' })), 'vip')).toBe('must be an IPv4 address like 10.200.0.1, got "10.0.0.256"');
  });

  it('unknown mode', () => {
    expect(messageAt(problemsOf(yamlWith({ mode: 'broadcast' })), 'mode')).toBe('must be one of "unicast", "multicast", "igmp", "arp-steer", got "broadcast"');
  });

  it('seed out of u32 range or not hex', () => {
    for (const seed of [-1, 2 ** 32, '0x123456789', 'random', 1.5]) {
      expect(messageAt(problemsOf(yamlWith({ hash: { seed } })), 'hash.seed')).toMatch(/^must be a u32: a number 0\.\.4294967295 or a hex string/);
    }
  });

  it('leaseMs below 12 explains why', () => {
    expect(messageAt(problemsOf(yamlWith({ timing: { leaseMs: 10, renewMs: 2 } })), 'timing.leaseMs')).toMatch(/^must be between 12 and 60000, got 10 \(below 12 ms a kernel lease is not meaningful/);
  });

  it('more than three extra heartbeat links', () => {
    const node = { ...BASE.node, extraAddresses: ['10.1.0.11', '10.2.0.11', '10.3.0.11', '10.4.0.11'] };
    expect(messageAt(problemsOf(yamlWith({ node })), 'node.extraAddresses')).toBe('must have at most 3 entries, got 4 (at most 4 heartbeat links: address and 3 extraAddresses)');
  });
});

describe('cross-field problems', () => {
  it('duplicate node id across node and peers', () => {
    const problems = problemsOf(yamlWith({ peers: [{ id: 2, name: 'n2' }, { id: 1, name: 'n3' }] }));
    expect(messageAt(problems, 'peers[1].id')).toBe('1 is already used by node; node ids must be unique across node and peers');
  });

  it('duplicate node name', () => {
    const problems = problemsOf(yamlWith({ peers: [{ id: 2, name: 'n2' }, { id: 3, name: 'n2' }] }));
    expect(messageAt(problems, 'peers[1].name')).toBe('"n2" is already used by peers[0]; node names must be unique across node and peers');
  });

  it('renewMs too large for the lease (renewMs >= leaseMs/2): one message, with the bound that applies', () => {
    const problems = problemsOf(yamlWith({ timing: { leaseMs: 100, renewMs: 50 } }));
    expect(messageAt(problems, 'timing.renewMs')).toBe(
      'must be at most 46 with leaseMs 100 (2 × renewMs + 8 ≤ leaseMs), got 50: the daemon needs at least two chances to renew before the kernel lease expires, and kernel set timeouts may fire up to 8 ms early',
    );
    expect(problems).toHaveLength(1);
  });

  it('renewMs below leaseMs/2 but two renewals do not fit in a lease that expires 8 ms early', () => {
    expect(messageAt(problemsOf(yamlWith({ timing: { leaseMs: 100, renewMs: 47 } })), 'timing.renewMs')).toMatch(/^must be at most 46 with leaseMs 100 \(2 × renewMs \+ 8 ≤ leaseMs\), got 47: /);
    expect(messageAt(problemsOf(yamlWith({ timing: { profile: 'fast', leaseMs: 12, renewMs: 3 } })), 'timing.renewMs')).toMatch(/^must be at most 2 with leaseMs 12 /);
    expect(messageAt(problemsOf(yamlWith({ timing: { profile: 'fast', renewMs: 5 } })), 'timing.renewMs')).toMatch(/^must be at most 4 with leaseMs 16, the "fast" profile's default /);
  });

  it('leaseMs too short for the profile renewMs', () => {
    expect(messageAt(problemsOf(yamlWith({ timing: { leaseMs: 40 } })), 'timing.leaseMs')).toMatch(/^must be at least 48 with renewMs 20, the "default" profile's default \(2 × renewMs \+ 8 ≤ leaseMs\), got 40: .*; raise leaseMs or set timing.renewMs$/);
  });

  it('dead time too short for the lease: names timing.deadAfter and how far to raise it', () => {
    const problems = problemsOf(yamlWith({ timing: { leaseMs: 200 } }));
    expect(messageAt(problems, 'timing.deadAfter')).toBe(
      'dead time 240 ms (intervalMs 40 × deadAfter 6) must exceed leaseMs 200 + marginMs 10 by at least three heartbeat intervals (120 ms): a node\'s lease must run out before any peer may call it dead; raise deadAfter (to at least 9 with these values) or intervalMs, or lower leaseMs or marginMs',
    );
    expect(problems).toHaveLength(1);
    // One interval of room is not enough either: 40 × 6 - 150 - 51 = 39 < 80.
    expect(messageAt(problemsOf(yamlWith({ timing: { marginMs: 31 } })), 'timing.deadAfter')).toMatch(/^dead time 240 ms/);
    expect(messageAt(problemsOf(yamlWith({ timing: { profile: 'fast', deadAfter: 6 } })), 'timing.deadAfter')).toMatch(/^dead time 24 ms \(intervalMs 4 × deadAfter 6\) must exceed leaseMs 16 \+ marginMs 2 /);
  });

  it('suspectAfter not below deadAfter', () => {
    expect(messageAt(problemsOf(yamlWith({ timing: { suspectAfter: 6 } })), 'timing.suspectAfter')).toBe('must be less than deadAfter (6), got 6: a peer is suspect before it is dead');
    expect(messageAt(problemsOf(yamlWith({ timing: { suspectAfter: 9, deadAfter: 8 } })), 'timing.suspectAfter')).toMatch(/^must be less than deadAfter \(8\), got 9/);
  });

  it('multicast VMAC in unicast mode', () => {
    expect(messageAt(problemsOf(yamlWith({ vmac: '01:00:5e:00:00:01' })), 'vmac')).toMatch(/^01:00:5e:00:00:01 is a multicast MAC .*unicast mode needs a unicast VMAC/);
    expect(messageAt(problemsOf(yamlWith({ vmac: 'ff:ff:ff:ff:ff:ff' })), 'vmac')).toMatch(/is a multicast MAC/);
  });

  it('malformed VMAC', () => {
    expect(messageAt(problemsOf(yamlWith({ vmac: '02:bf:0a:c8:00' })), 'vmac')).toBe('must be "auto" or a MAC address like 02:bf:0a:c8:00:01, got "02:bf:0a:c8:00"');
  });

  it('VIP that no client can send to', () => {
    for (const vip of ['127.0.0.1', '0.0.0.0', '224.0.0.18', '255.255.255.255']) {
      expect(messageAt(problemsOf(yamlWith({ vip })), 'vip')).toMatch(/^must be a unicast IPv4 address a client can reach/);
    }
  });

  it('peer address that is not an IP', () => {
    const problems = problemsOf(yamlWith({ peers: [{ id: 2, name: 'n2', address: 'n2.example' }] }));
    expect(messageAt(problems, 'peers[0].address')).toBe('must be an IPv4 or IPv6 address (the node\'s heartbeat address), got "n2.example"');
  });

  it('heartbeat.keyFile missing while there are peers', () => {
    const problems = problemsOf(yamlWith({ heartbeat: undefined }));
    expect(messageAt(problems, 'heartbeat.keyFile')).toBe(
      'required when there are peers — heartbeats are authenticated with HMAC-SHA256; generate a key with `vmac keygen > /etc/vmac/web.key` and chmod 600 (the same key on every node)',
    );
    expect(problems).toHaveLength(1);
    expect(messageAt(problemsOf(yamlWith({ heartbeat: { port: 5789 } })), 'heartbeat.keyFile')).toMatch(/^required when there are peers/);
    expect(messageAt(problemsOf(yamlWith({ heartbeat: undefined, service: 'Bad' })), 'heartbeat.keyFile')).toContain('/etc/vmac/<service>.key');
  });

  it('a peer, or this node, without a heartbeat address while there are peers', () => {
    const problems = problemsOf(yamlWith({ node: { id: 1, name: 'n1' }, peers: [{ id: 2, name: 'n2', address: '10.200.0.12' }, { id: 3, name: 'n3' }] }));
    expect(problems.map((p) => p.path)).toEqual(['node.address', 'peers[1].address']);
    expect(messageAt(problems, 'peers[1].address')).toBe('required when there are peers — a node without a heartbeat address cannot be heard: its IPv4 or IPv6 address on heartbeat link 0, e.g. 10.200.0.11');
  });

  it('extraAddresses without address', () => {
    const problems = problemsOf(yamlWith({ node: { id: 1, name: 'n1', extraAddresses: ['10.201.0.11'] }, peers: [], heartbeat: undefined }));
    expect(messageAt(problems, 'node.address')).toBe('required with extraAddresses — address is the heartbeat address on link 0, extraAddresses those on links 1 and up');
  });

  it('nodes with different numbers of heartbeat links: one message naming the first mismatch', () => {
    const problems = problemsOf(yamlWith({
      node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['10.201.0.11'] },
      peers: [
        { id: 2, name: 'n2', address: '10.200.0.12', extraAddresses: ['10.201.0.12'] },
        { id: 3, name: 'n3', address: '10.200.0.13' },
        { id: 4, name: 'n4', address: '10.200.0.14', extraAddresses: ['10.201.0.14', '10.202.0.14'] },
      ],
    }));
    expect(problems).toEqual([expect.objectContaining({
      path: 'peers[1].extraAddresses',
      message: 'peers[1] (n3) lists 1 heartbeat link but node (n1) lists 2 heartbeat links; every node must list the same links (address for link 0, then extraAddresses), link i of each node on the same network; 1 more node differs from node too',
    })]);
  });

  it('extra heartbeat address that is not an IP, used twice, or the VIP', () => {
    const problems = problemsOf(yamlWith({
      node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['10.201.0.11'] },
      peers: [
        { id: 2, name: 'n2', address: '10.200.0.12', extraAddresses: ['10.201.0.11'] },
        { id: 3, name: 'n3', address: '10.200.0.13', extraAddresses: ['n3.example'] },
        { id: 4, name: 'n4', address: '10.200.0.14', extraAddresses: ['10.200.0.1'] },
        { id: 5, name: 'n5', address: '10.201.0.15', extraAddresses: ['10.200.0.12'] },
      ],
    }));
    expect(problems.map((p) => p.path)).toEqual(['peers[0].extraAddresses[0]', 'peers[1].extraAddresses[0]', 'peers[2].extraAddresses[0]', 'peers[3].extraAddresses[0]']);
    expect(messageAt(problems, 'peers[0].extraAddresses[0]')).toBe('10.201.0.11 is already used by node.extraAddresses[0]; each node needs its own heartbeat address on every link');
    expect(messageAt(problems, 'peers[1].extraAddresses[0]')).toBe('must be an IPv4 or IPv6 address (the node\'s heartbeat address on link 1), got "n3.example"');
    expect(messageAt(problems, 'peers[2].extraAddresses[0]')).toBe('10.200.0.1 is the VIP; a heartbeat address must be the node\'s own address');
    // Unique across links too: peer 5's link 1 address is peer 2's link 0 address.
    expect(messageAt(problems, 'peers[3].extraAddresses[0]')).toBe('10.200.0.12 is already used by peers[0]; each node needs its own heartbeat address on every link');
  });

  it('one node listing the same address on two links', () => {
    const problems = problemsOf(yamlWith({
      node: { id: 1, name: 'n1', address: '10.200.0.11', extraAddresses: ['10.200.0.11'] },
      peers: [{ id: 2, name: 'n2', address: '10.200.0.12', extraAddresses: ['10.201.0.12'] }],
    }));
    expect(problems.map((p) => p.path)).toEqual(['node.extraAddresses[0]']);
    expect(messageAt(problems, 'node.extraAddresses[0]')).toMatch(/^10\.200\.0\.11 is already used by node;/);
  });

  it('two nodes with one heartbeat address, or the VIP as one', () => {
    const problems = problemsOf(yamlWith({
      node: { id: 1, name: 'n1', address: '10.200.0.12' },
      peers: [{ id: 2, name: 'n2', address: '10.200.0.12' }, { id: 3, name: 'n3', address: '10.200.0.1' }],
    }));
    expect(messageAt(problems, 'peers[0].address')).toMatch(/^10\.200\.0\.12 is already used by node/);
    expect(messageAt(problems, 'peers[1].address')).toMatch(/^10\.200\.0\.1 is the VIP/);
  });

  it('refreshMs between 0 and 1000', () => {
    expect(messageAt(problemsOf(yamlWith({ arp: { refreshMs: 50 } })), 'arp.refreshMs')).toMatch(/^must be 0 \(off\) or at least 1000, got 50/);
  });
});

describe('the error as a whole', () => {
  const text = [
    'service: web',
    'interface: eth0',
    'vip: 10.200.0.1',
    'buckets: 9999',
    'hash: { affinity: adress }',
    'node: { id: 1, name: n1, address: 10.200.0.11 }',
    'peers:',
    '  - { id: 1, name: n2, address: 10.200.0.12 }',
    'timing: { leaseMs: 100, renewMs: 60 }',
    'heartbeat: { keyFile: /etc/vmac/web.key }',
    '',
  ].join('\n');

  it('lists every problem, in file order, one line each as FILE: FIELD: message', () => {
    let caught: unknown;
    try {
      parseConfig(text, '/etc/vmac/web.yaml');
    } catch (err) {
      caught = err;
    }
    expect(isVmacError(caught, 'VMAC_CONFIG_INVALID')).toBe(true);
    const err = caught as Error & { details: { file: string; problems: { path: string; line?: number }[] } };
    expect(err.details.file).toBe('/etc/vmac/web.yaml');
    expect(err.details.problems.map((p) => p.path)).toEqual(['buckets', 'hash.seed', 'hash.affinity', 'peers[0].id', 'timing.renewMs']);
    expect(err.details.problems.map((p) => p.line)).toEqual([4, 5, 5, 8, 9]);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('/etc/vmac/web.yaml: buckets: must be between 1 and 1024, got 9999');
    expect(lines[1]).toBe('/etc/vmac/web.yaml: hash.seed: required — without an explicit seed the kernel picks a random one per rule and nodes disagree on buckets');
    for (const line of lines) expect(line).toMatch(/^\/etc\/vmac\/web\.yaml: [a-zA-Z[\].0-9]+: \S/);
  });

  it('does not repeat a structural mistake as a follow-on cross-field error', () => {
    // renewMs out of range must not also be reported as "renewMs >= leaseMs/2".
    const problems = problemsOf(yamlWith({ timing: { leaseMs: 100, renewMs: 0 } }));
    expect(problems.map((p) => p.path)).toEqual(['timing.renewMs']);
  });
});
