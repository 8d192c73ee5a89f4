/**
 * Structural checks (types, ranges, enums, unknown keys) by the published JSON Schema, so the
 * schema editors use and the loader cannot drift apart. ajv's errors are rewritten into
 * `field: message` problems an operator can act on: what is wrong and what is allowed.
 */
import { isIPv6 } from 'node:net';
import { Ajv2020, type DefinedError } from 'ajv/dist/2020.js';
import schema from '../../schema/vmac-config.schema.json' with { type: 'json' };
import { type ConfigProblem, describeValue, fieldPath, genericPath, pointerSegments } from './problems.js';
import type { RawConfig } from './raw.js';

/** The seed explanation is the one message operators most need; the issue fixes its wording. */
export const SEED_REQUIRED =
  'required — without an explicit seed the kernel picks a random one per rule and nodes disagree on buckets';

/** Why a required field matters, keyed by generic path (`peers[].id`). */
const REQUIRED: Readonly<Record<string, string>> = {
  service: 'required — the service name, e.g. web (it names the nft table)',
  interface: 'required — the cluster interface the VIP lives on, e.g. eth0',
  vip: 'required — the shared IPv4 address, e.g. 10.200.0.1',
  hash: `required — it must at least hold seed: without an explicit seed the kernel picks a random one per rule and nodes disagree on buckets`,
  'hash.seed': SEED_REQUIRED,
  node: 'required — this node, e.g. { id: 1, name: n1 }',
  'node.id': 'required — a node id 1..32, unique in the cluster',
  'peers[].id': 'required — a node id 1..32, unique in the cluster',
  'node.name': 'required — a node name, unique in the cluster',
  'peers[].name': 'required — a node name, unique in the cluster',
};

/** "must be <allowed>, got <value>": the shape of most structural messages. */
const must = (allowed: string) => (value: unknown): string => `must be ${allowed}, got ${describeValue(value)}`;

const nodeName = must('a node name: a letter or digit, then up to 62 letters, digits, ".", "_" or "-"');

/** Whole messages for fields where "must match pattern …" would mean nothing to an operator. */
const MESSAGES: Readonly<Record<string, (value: unknown) => string>> = {
  '': must('a YAML mapping of settings (service, interface, vip, hash, node, …)'),
  service: must('a service name: a lowercase letter, then up to 23 lowercase letters, digits or "-" (it becomes part of nft table names)'),
  interface: must('a Linux interface name: 1..15 characters, no "/", ":" or whitespace, not "." or ".."'),
  vip: (v) =>
    typeof v === 'string' && isIPv6(v.trim())
      ? `${JSON.stringify(v)} is IPv6: vip holds the IPv4 VIP; put an IPv6 VIP in vip6 (both for dual stack)`
      : must('an IPv4 address like 10.200.0.1')(v),
  vmac: must('"auto" or a MAC address like 02:bf:0a:c8:00:01'),
  'hash.seed': must('a u32: a number 0..4294967295 or a hex string "0x0".."0xffffffff"'),
  'node.name': nodeName,
  'peers[].name': nodeName,
  'metrics.listen': must('"off" or a local address and port like 127.0.0.1:9789 or [::1]:9789'),
};

/** Extra words for enum values that are known but not (yet) accepted. */
const ENUM_NOTES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
};

/** Why a range is what it is, where the bound is not obvious. */
const RANGE_WHY: Readonly<Record<string, string>> = {
  'timing.leaseMs': 'below 12 ms a kernel lease is not meaningful: set timeouts tick every 4 ms and may fire 8 ms early, so even a 12 ms lease may live only 4 ms',
  'node.id': 'a cluster has at most 32 nodes',
  'peers[].id': 'a cluster has at most 32 nodes',
  peers: 'a cluster has at most 32 nodes: this one and 31 peers',
  'node.extraAddresses': 'at most 4 heartbeat links: address and 3 extraAddresses',
  'peers[].extraAddresses': 'at most 4 heartbeat links: address and 3 extraAddresses',
};

const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
const validate = ajv.compile<RawConfig>(schema);

/** Every structural problem of `data` (the parsed YAML), or [] when it has the schema's shape. */
export function schemaProblems(data: unknown): ConfigProblem[] {
  if (validate(data)) return [];
  const problems = ((validate.errors ?? []) as DefinedError[]).map(toProblem);
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function toProblem(e: DefinedError): ConfigProblem {
  const at = pointerSegments(e.instancePath);
  const path = fieldPath(at);
  const special = MESSAGES[genericPath(path)];
  switch (e.keyword) {
    case 'required': {
      const missing = fieldPath([...at, e.params.missingProperty]);
      return { path: missing, message: REQUIRED[genericPath(missing)] ?? 'required' };
    }
    case 'additionalProperties':
      return unknownKey(at, e.params.additionalProperty, e.parentSchema);
    case 'type':
    case 'pattern':
    case 'minimum':
    case 'maximum':
      if (special) return { path, message: special(e.data) };
      return { path, message: e.keyword === 'type' ? typeMessage(e.params.type, e.data) : rangeMessage(path, e.parentSchema, e.data) };
    case 'enum':
      return { path, message: enumMessage(path, e.params.allowedValues, e.data) };
    case 'maxItems':
      return { path, message: withWhy(path, `must have at most ${e.params.limit} entries, got ${countOf(e.data)}`) };
    default:
      return { path, message: e.message ?? 'invalid' };
  }
}

function unknownKey(at: (string | number)[], key: string, parentSchema: unknown): ConfigProblem {
  const known = Object.keys(readObject(parentSchema, 'properties') ?? {});
  const guess = closest(key, known);
  const hint = guess === undefined ? '' : ` — did you mean "${guess}"?`;
  return { path: fieldPath([...at, key]), message: `unknown key${hint} (allowed here: ${known.join(', ')})` };
}

function typeMessage(type: string | string[], data: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).map((t) => (t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : `a${/^[aeiou]/.test(t) ? 'n' : ''} ${t}`));
  return `must be ${types.join(' or ')}, got ${describeValue(data)}`;
}

function rangeMessage(path: string, parentSchema: unknown, data: unknown): string {
  const min = readNumber(parentSchema, 'minimum');
  const max = readNumber(parentSchema, 'maximum');
  const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
  return withWhy(path, `must be ${range}, got ${describeValue(data)}`);
}

function enumMessage(path: string, allowedValues: readonly unknown[], data: unknown): string {
  const note = typeof data === 'string' ? ENUM_NOTES[genericPath(path)]?.[data] : undefined;
  const list = allowedValues.map((v) => JSON.stringify(v)).join(', ');
  const base = allowedValues.length === 1 ? `must be ${list}` : `must be one of ${list}`;
  return `${base}, got ${describeValue(data)}${note ? ` — ${note}` : ''}`;
}

function withWhy(path: string, message: string): string {
  const why = RANGE_WHY[genericPath(path)];
  return why ? `${message} (${why})` : message;
}

function countOf(data: unknown): string {
  return Array.isArray(data) ? String(data.length) : describeValue(data);
}

/** The known key a typo most likely meant: same letters ignoring case, or ≤ 2 edits away. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function readObject(obj: unknown, key: string): Record<string, unknown> | undefined {
  const v = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

function readNumber(obj: unknown, key: string): number | undefined {
  const v = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : undefined;
}
