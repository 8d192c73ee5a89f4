/**
 * The config fingerprint, pure: everything of a service file that must be equal on every node of
 * a cluster, as one digest plus one 4-byte slot per field, so a receiver can name what differs.
 *
 * Layout 1, then 2 (the order is the wire order; never reorder, only append under a new layout number):
 * a slot holds the field's value itself where the value is a u32 (numbers, an IPv4 VIP, an enum
 * code), so both nodes' logs can print the peer's value; otherwise the first 4 bytes of
 * SHA-256 over the field's canonical text (node list, VMAC, hand-over, key identity). The key
 * itself is never in a slot or a log: only the first 8 bytes of SHA-256("vmac-key-id\0" + key),
 * shown as `key-id`, which says two files name different keys without revealing either.
 *
 * The overall digest (8 bytes) is SHA-256 over every field's full canonical text, so two configs
 * whose slots collide still differ in the digest (the mismatch is then reported as `unknown`).
 */
import { createHash } from 'node:crypto';
import type { VmacConfig } from './types.js';
import { crmText } from './crm-config.js';
import { EMPTY_MODEL } from '../crm/model.js';

/**
 * Layout 2 = layout 1's fields, `resources` (the cluster resource model, issue 19) appended to them,
 * then one slot per configured node in id order (`nodeSlot`), so a receiver can tell which node
 * entries two lists differ in (a rolling add or removal, see src/cluster/roll-compat.ts). A layout-1
 * peer is reported as differing in `fingerprint layout`.
 */
export const FINGERPRINT_LAYOUT = 2;

/** How a slot is filled and shown. */
type SlotKind = 'u32' | 'ipv4' | 'enum' | 'digest';

interface FieldSpec {
  readonly name: string; // the config path an operator edits
  readonly kind: SlotKind;
  readonly value: (c: VmacConfig, keyId: string) => string | number;
  readonly codes?: readonly string[]; // for `enum`: the code is the index
}

const AFFINITIES = ['address', 'address+port', 'network'];
// Codes are positions: append only (src/model/mode-addresses.ts MODES is the same list).
const MODES = ['unicast', 'multicast', 'arp-steer', 'igmp'];
const PROFILES = ['default', 'fast'];
const POLICIES = ['majority', 'two-node'];

/** Layout 1, in wire order. */
/** The hand-over settings both sides of a move must share (the per-flow UDP rules meet in two kernels). */
function handoverText(c: VmacConfig): string {
  const h = c.handover;
  const ports = Object.entries(h?.udpPortIdleMs ?? {}).sort(([a], [b]) => Number(a) - Number(b)).map(([p, ms]) => `${p}:${ms}`).join(',');
  return `udpFlowTimeoutMs=${h?.udpFlowTimeoutMs ?? 0};udpPerFlow=${String(h?.udpPerFlow ?? true)};udpIdleMs=${h?.udpIdleMs ?? 0};udpPortIdleMs=${ports}`;
}

export const FINGERPRINT_FIELDS: readonly FieldSpec[] = [
  { name: 'service', kind: 'digest', value: (c) => c.service },
  // An IPv6-only service: 0.0.0.0, never a valid VIP (semantic-check.ts refuses 0.0.0.0/8).
  { name: 'vip', kind: 'ipv4', value: (c) => c.vip ?? '0.0.0.0' },
  { name: 'vip6', kind: 'digest', value: (c) => c.vip6 ?? '' },
  { name: 'vmac', kind: 'digest', value: (c) => c.vmac },
  { name: 'mode', kind: 'enum', codes: MODES, value: (c) => c.mode },
  { name: 'buckets', kind: 'u32', value: (c) => c.buckets },
  { name: 'hash.affinity', kind: 'enum', codes: AFFINITIES, value: (c) => c.hash.affinity },
  { name: 'hash.seed', kind: 'u32', value: (c) => c.hash.seed },
  { name: 'hash.prefixLength', kind: 'u32', value: (c) => c.hash.prefixLength },
  { name: 'hash.prefixLength6', kind: 'u32', value: (c) => c.hash.prefixLength6 },
  { name: 'timing.profile', kind: 'enum', codes: PROFILES, value: (c) => c.timing.profile },
  { name: 'timing.leaseMs', kind: 'u32', value: (c) => c.timing.leaseMs },
  { name: 'timing.renewMs', kind: 'u32', value: (c) => c.timing.renewMs },
  { name: 'timing.intervalMs', kind: 'u32', value: (c) => c.timing.intervalMs },
  { name: 'timing.suspectAfter', kind: 'u32', value: (c) => c.timing.suspectAfter },
  { name: 'timing.deadAfter', kind: 'u32', value: (c) => c.timing.deadAfter },
  { name: 'timing.marginMs', kind: 'u32', value: (c) => c.timing.marginMs },
  { name: 'nodes', kind: 'digest', value: (c) => nodesText(c) },
  { name: 'handover', kind: 'digest', value: (c) => handoverText(c) },
  { name: 'quorum.policy', kind: 'enum', codes: POLICIES, value: (c) => c.quorum?.policy ?? 'majority' },
  { name: 'heartbeat.keyFile (key identity)', kind: 'digest', value: (_c, keyId) => keyId },
  { name: 'resources', kind: 'digest', value: (c) => crmText(c.crm ?? EMPTY_MODEL) },
];

export const FINGERPRINT_FIELD_COUNT = FINGERPRINT_FIELDS.length;

/**
 * One node entry as a slot: bits 31..24 the node id (1..32), bit 23 set when its configured weight
 * is 0, bits 22..0 SHA-256 of the entry's other parts (name, addresses). Two entries of one id
 * with equal slots agree on everything but possibly a non-zero weight (the `nodes` field's digest
 * still covers the weight).
 */
export function nodeSlot(n: VmacConfig['nodes'][number]): number {
  const rest = sha(`node\0${n.id} ${n.name} ${n.addresses.join(',')}`).readUInt32BE(0) & 0x7fffff;
  return (((n.id & 0xff) << 24) >>> 0) + (n.weight === 0 ? 0x800000 : 0) + rest;
}

/** The per-node slots of a fingerprint (layout 2), as id -> slot. Empty for layout 1. */
export function nodeSlotsOf(f: Fingerprint): Map<number, number> {
  const out = new Map<number, number>();
  if (f.layout < 2) return out;
  for (const s of f.slots.slice(FINGERPRINT_FIELD_COUNT)) out.set(s >>> 24, s);
  return out;
}
/** The node list as one canonical line per node, sorted by id: id, name, weight, addresses. */
export function nodesText(c: Pick<VmacConfig, 'nodes'>): string {
  return [...c.nodes].sort((a, b) => a.id - b.id).map((n) => `${n.id} ${n.name} w=${n.weight} ${n.addresses.join(',')}`).join('; ');
}

/** A fingerprint as carried in heartbeats: layout, overall digest (16 hex), one u32 per field. */
export interface Fingerprint {
  readonly layout: number;
  readonly digest: string;
  readonly slots: readonly number[];
}

/** A fingerprint plus this node's own readable values (never sent; for logs, status, `vmac check`). */
export interface LocalFingerprint extends Fingerprint {
  readonly values: readonly string[]; // index = slot; the key's identity, never the key
}

/** Identity of a heartbeat key: 16 hex digits, safe to log. `none` when the node has no key file. */
export function keyIdentity(key: Uint8Array | null): string {
  if (key === null) return 'none';
  return createHash('sha256').update('vmac-key-id\0').update(key).digest('hex').slice(0, 16);
}

function sha(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function ipv4ToU32(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return sha(ip).readUInt32BE(0);
  return (((parts[0] ?? 0) << 24) >>> 0) + ((parts[1] ?? 0) << 16) + ((parts[2] ?? 0) << 8) + (parts[3] ?? 0);
}

function slotOf(f: FieldSpec, text: string, raw: string | number): number {
  switch (f.kind) {
    case 'u32': return typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw <= 0xffffffff ? raw : sha(text).readUInt32BE(0);
    case 'ipv4': return ipv4ToU32(text);
    case 'enum': { const i = f.codes?.indexOf(text) ?? -1; return i >= 0 ? i : sha(text).readUInt32BE(0); }
    case 'digest': return sha(`${f.name}\0${text}`).readUInt32BE(0);
  }
}

/** The fingerprint of one service file (`keyId`: keyIdentity of its key). */
export function fingerprintOf(c: VmacConfig, keyId: string): LocalFingerprint {
  const values = FINGERPRINT_FIELDS.map((f) => String(f.value(c, keyId)));
  const nodeSlots = [...c.nodes].sort((a, b) => a.id - b.id).map(nodeSlot);
  const slots = [...FINGERPRINT_FIELDS.map((f, i) => slotOf(f, values[i] ?? '', f.value(c, keyId))), ...nodeSlots];
  const all = createHash('sha256').update(`vmac-fingerprint-${FINGERPRINT_LAYOUT}\0`);
  FINGERPRINT_FIELDS.forEach((f, i) => all.update(`${f.name}=${values[i] ?? ''}\0`));
  return { layout: FINGERPRINT_LAYOUT, digest: all.digest('hex').slice(0, 16), slots, values };
}

/** One field that differs: its name, our value, and the peer's value where its slot carries one. */
export interface FieldDifference {
  readonly field: string;
  readonly ours: string;
  readonly theirs: string; // the value, or `digest 0x…` for fields carried as a digest
}

/** How a peer's slot reads in a log: the value for value slots, else the 4-byte digest. */
export function showSlot(index: number, slot: number): string {
  const f = FINGERPRINT_FIELDS[index];
  if (f === undefined) return `0x${slot.toString(16).padStart(8, '0')}`;
  switch (f.kind) {
    case 'u32': return String(slot);
    case 'ipv4': return [slot >>> 24, (slot >>> 16) & 255, (slot >>> 8) & 255, slot & 255].join('.');
    case 'enum': return f.codes?.[slot] ?? `code ${slot}`;
    case 'digest': return `digest 0x${slot.toString(16).padStart(8, '0')}`;
  }
}

/**
 * The fields in which a peer's fingerprint differs from ours. Empty when the digests are equal.
 * A peer on another layout is reported as one difference, `fingerprint layout`; equal slots
 * under different digests (a 4-byte collision) as `unknown`.
 */
export function differingFields(ours: LocalFingerprint, theirs: Fingerprint): FieldDifference[] {
  if (theirs.digest === ours.digest && theirs.layout === ours.layout) return [];
  if (theirs.layout !== ours.layout) return [{ field: 'fingerprint layout', ours: String(ours.layout), theirs: String(theirs.layout) }];
  const out: FieldDifference[] = [];
  ours.slots.slice(0, FINGERPRINT_FIELD_COUNT).forEach((s, i) => {
    const t = theirs.slots[i];
    if (t === s) return;
    const f = FINGERPRINT_FIELDS[i];
    out.push({ field: f?.name ?? `slot ${i}`, ours: f?.kind === 'digest' ? `${ours.values[i] ?? ''} (digest 0x${s.toString(16).padStart(8, '0')})` : (ours.values[i] ?? ''), theirs: t === undefined ? 'absent' : showSlot(i, t) });
  });
  if (theirs.slots.length < FINGERPRINT_FIELD_COUNT) out.push({ field: 'fingerprint field count', ours: String(ours.slots.length), theirs: String(theirs.slots.length) });
  return out.length > 0 ? out : [{ field: 'unknown', ours: ours.digest, theirs: theirs.digest }];
}
