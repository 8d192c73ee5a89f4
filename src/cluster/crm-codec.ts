/**
 * Resource report wire format (cluster resources, docs/crm.md): each node tells the others what
 * its singletons and group members are doing (transition.ts NodeReport: phases, unexpired failure
 * counts, bans, claims and grants, the newest operator constraints). Its own message type beside
 * the heartbeat (whose layout is unchanged), on the same sockets, authenticated with the same key
 * (heartbeat-auth.ts), like the flow publications (flow-codec.ts). Pure, big-endian.
 *
 * ```
 * off  size  field
 * 0    1     magic 0x52 ('R'; heartbeats are 0x56, flow publications 0x46)
 * 1    1     version: 1
 * 2    1     senderId 1..32
 * 3    1     reserved 0
 * 4    8     epoch u64 (≥ 1): the sender's start (ms since the Unix epoch); a restart supersedes
 * 12   4     seq u32: the report's number within the epoch (a report is sent again unchanged
 *            until the next one; the receiver keeps the newest (epoch, seq) and drops older ones)
 * 16   8     config fingerprint digest (8 bytes): a report is taken only from a node of our
 *            fingerprint, so every member places the same model
 * 24   2     body length n (1..MAX_CRM_BODY = 1,988: the whole datagram within the transport's 2,048)
 * 26   2     reserved 0
 * 28   n     body: UTF-8 JSON of the rest of the report (phases, failures, banned, claims, acks,
 *            operator), checked field by field after the MAC
 * 28+n 32    HMAC-SHA256(key, bytes[0 .. 28+n))
 * ```
 * A node of a build without cluster resources drops the datagram as `bad-magic` in its heartbeat
 * counters. Decoding never throws; a bad datagram is a named outcome. Lengths are checked before
 * the MAC, fields only after it.
 */
import { MAC_SIZE, checkMac, computeMac, type HeartbeatKey } from './heartbeat-auth.js';
import { MAX_DATAGRAM_BYTES } from './transport.js';
import type { LocalPhase, NodeReport, OperatorScores } from '../crm/transition.js';

export const CRM_MAGIC = 0x52;
export const CRM_VERSION = 1;
export const CRM_HEADER_SIZE = 28;
/**
 * Largest JSON body: the heartbeat transport drops datagrams over 2,048 bytes (transport.ts), so
 * a whole message stays within that: about 25 resources all claimed at once with long names, more
 * in practice (a stopped resource takes no room). A larger report is not sent (logged).
 */
export const MAX_CRM_BODY = MAX_DATAGRAM_BYTES - 28 - MAC_SIZE;
export const MAX_CRM_MESSAGE_SIZE = CRM_HEADER_SIZE + MAX_CRM_BODY + MAC_SIZE;
const MAX_NODE_ID = 32;

export interface CrmMessage {
  readonly senderId: number;
  /** The sender's config fingerprint digest (16 hex digits). */
  readonly fingerprint: string;
  readonly report: NodeReport;
}

export type CrmDropReason = 'truncated' | 'oversized' | 'bad-magic' | 'bad-version' | 'bad-length' | 'bad-mac' | 'malformed';
export type CrmDecode = { readonly ok: true; readonly msg: CrmMessage } | { readonly ok: false; readonly reason: CrmDropReason };

/** Is this datagram a resource report (by its first byte)? The transport carries several kinds. */
export function isCrmMessage(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === CRM_MAGIC;
}

/** Throws if the report does not fit one message (more than MAX_CRM_BODY bytes of JSON). */
export function encodeCrmMessage(m: CrmMessage, key: HeartbeatKey): Uint8Array {
  const r = m.report;
  const body = Buffer.from(JSON.stringify({ phases: r.phases, failures: r.failures, banned: r.banned, claims: r.claims, acks: r.acks, operator: r.operator }), 'utf8');
  if (body.length > MAX_CRM_BODY) throw new Error(`resource report of ${body.length} bytes exceeds ${MAX_CRM_BODY}`);
  if (!/^[0-9a-f]{16}$/.test(m.fingerprint)) throw new Error(`fingerprint ${m.fingerprint} is not 16 hex digits`);
  const head = Buffer.alloc(CRM_HEADER_SIZE);
  head[0] = CRM_MAGIC;
  head[1] = CRM_VERSION;
  head[2] = m.senderId;
  head.writeBigUInt64BE(BigInt(r.epoch), 4);
  head.writeUInt32BE(r.seq >>> 0, 12);
  Buffer.from(m.fingerprint, 'hex').copy(head, 16);
  head.writeUInt16BE(body.length, 24);
  const data = Buffer.concat([head, body]);
  return Buffer.concat([data, computeMac(key, data)]);
}

const PHASES: readonly LocalPhase[] = ['stopped', 'claiming', 'starting', 'started', 'failed', 'stopping', 'stop-failed'];
const NAME = /^@?[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function recordOf<T>(v: unknown, item: (x: unknown) => x is T): Record<string, T> | null {
  if (!isRecord(v)) return null;
  const out: Record<string, T> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!NAME.test(k) || !item(x)) return null;
    out[k] = x;
  }
  return out;
}

const isPhase = (x: unknown): x is LocalPhase => typeof x === 'string' && (PHASES as readonly string[]).includes(x);
const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 1_000_000;
const isScore = (x: unknown): x is number => Number.isInteger(x) && Math.abs(x as number) <= 1_000_000;
const isId = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 128;

function operatorOf(v: unknown): OperatorScores | null {
  if (!isRecord(v) || !Number.isSafeInteger(v.version) || (v.version as number) < 0) return null;
  const scores = recordOf(v.scores, (x): x is Record<string, number> => recordOf(x, isScore) !== null);
  return scores === null ? null : { version: v.version as number, scores };
}

export function decodeCrmMessage(bytes: Uint8Array, key: HeartbeatKey): CrmDecode {
  if (bytes.length < CRM_HEADER_SIZE + 1 + MAC_SIZE) return { ok: false, reason: 'truncated' };
  if (bytes.length > MAX_CRM_MESSAGE_SIZE) return { ok: false, reason: 'oversized' };
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] !== CRM_MAGIC) return { ok: false, reason: 'bad-magic' };
  if (b[1] !== CRM_VERSION) return { ok: false, reason: 'bad-version' };
  const n = b.readUInt16BE(24);
  if (n < 1 || n > MAX_CRM_BODY || bytes.length !== CRM_HEADER_SIZE + n + MAC_SIZE) return { ok: false, reason: 'bad-length' };
  const end = CRM_HEADER_SIZE + n;
  if (checkMac(key, b.subarray(0, end), b.subarray(end)) !== 'authentic') return { ok: false, reason: 'bad-mac' };
  const senderId = b[2] as number;
  const epoch = b.readBigUInt64BE(4);
  if (senderId < 1 || senderId > MAX_NODE_ID || b[3] !== 0 || b.readUInt16BE(26) !== 0 || epoch === 0n || epoch > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'malformed' };
  let body: unknown;
  try { body = JSON.parse(b.subarray(CRM_HEADER_SIZE, end).toString('utf8')); } catch { return { ok: false, reason: 'malformed' }; }
  if (!isRecord(body)) return { ok: false, reason: 'malformed' };
  const phases = recordOf(body.phases, isPhase);
  const failures = recordOf(body.failures, isCount);
  const claims = recordOf(body.claims, isId);
  const acks = recordOf(body.acks, isId);
  const operator = operatorOf(body.operator);
  const banned = Array.isArray(body.banned) && body.banned.every((x) => typeof x === 'string' && NAME.test(x)) ? (body.banned as string[]) : null;
  if (phases === null || failures === null || claims === null || acks === null || operator === null || banned === null) return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    msg: { senderId, fingerprint: b.subarray(16, 24).toString('hex'), report: { epoch: Number(epoch), seq: b.readUInt32BE(12), phases, failures, banned, claims, acks, operator } },
  };
}
