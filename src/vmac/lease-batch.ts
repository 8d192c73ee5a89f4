/**
 * The lease renewal as one prebuilt nfnetlink batch, pure. libnftables re-reads the ruleset
 * (generation, tables, chains, sets, objects: about eight netlink round trips) before every
 * command; this batch goes straight to the kernel through one netfilter socket
 * (native-shims/nftables.ts openNetfilterSocket): one send, one receive.
 *
 * The batch is the one `nft add element netdev <table> alive { "<ifname>" timeout T expires T }`
 * sends (checked byte for byte in test/unit/vmac/lease-batch.test.ts), with two differences:
 * NLM_F_ACK on the element message, so the kernel answers with its verdict instead of nothing,
 * and no NFTA_SET_ELEM_LIST_SET_ID (it names a set created in the same batch; there is none).
 * Timeout and expiration are both written, as KERNEL-NOTES.md requires: re-adding an element
 * with the same timeout alone does not renew it.
 *
 *   nlmsghdr BATCH_BEGIN (0x10)  nfgenmsg { AF_UNSPEC, v0, res_id NFNL_SUBSYS_NFTABLES }
 *   nlmsghdr NEWSETELEM (0x0a0c, REQUEST|ACK|CREATE)  nfgenmsg { NFPROTO_NETDEV, v0, 0 }
 *     NFTA_SET_ELEM_LIST_TABLE  "<table>\0"
 *     NFTA_SET_ELEM_LIST_SET    "alive\0"
 *     NFTA_SET_ELEM_LIST_ELEMENTS (nested)
 *       NFTA_LIST_ELEM (nested)
 *         NFTA_SET_ELEM_TIMEOUT     be64 ms      <- patched per renewal
 *         NFTA_SET_ELEM_EXPIRATION  be64 ms      <- patched per renewal
 *         NFTA_SET_ELEM_KEY (nested)
 *           NFTA_DATA_VALUE  ifname, zero-padded to IFNAMSIZ (the set's `type ifname`)
 *   nlmsghdr BATCH_END (0x11)    nfgenmsg { AF_UNSPEC, v0, res_id NFNL_SUBSYS_NFTABLES }
 *
 * Bucket moves and everything else stay on libnftables: only this one message is hand-built.
 */

const NLMSG_HDRLEN = 16;
const NFGENMSG_LEN = 4;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWSETELEM = 12;
const NFPROTO_NETDEV = 5;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_TIMEOUT = 4;
const NFTA_SET_ELEM_EXPIRATION = 5;
const NFTA_DATA_VALUE = 1;
export const IFNAMSIZ = 16;
/** nft's table and set names are at most this long (NFT_NAME_MAXLEN - 1). */
const NAME_MAX = 255;

export interface LeaseBatch {
  /** The batch (the same buffer on every call) renewing the lease for `leaseMs`, numbered from `seq`. */
  renewal(leaseMs: number, seq: number): Uint8Array;
  /** The sequence number of the element message (the one the kernel answers) of a batch numbered from `seq`. */
  ackSeq(seq: number): number;
  /** How many sequence numbers one batch uses. */
  readonly seqsPerBatch: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** A netlink attribute writer over one buffer (little-endian host, as the kernel expects). */
class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  /** Starts an attribute; returns its offset so `end` can write its length. */
  begin(type: number): number {
    const start = this.at;
    this.view.setUint16(start + 2, type, true);
    this.at += 4;
    return start;
  }
  end(start: number): void {
    this.view.setUint16(start, this.at - start, true);
    this.at = align4(this.at);
  }
  attr(type: number, payload: Uint8Array): number {
    const start = this.begin(type);
    this.bytes.set(payload, this.at);
    this.at += payload.length;
    const valueAt = start + 4;
    this.end(start);
    return valueAt;
  }
  /** A message header + nfgenmsg; returns its offset (the length is written by `endMessage`). */
  message(type: number, flags: number, family: number, resId: number): number {
    const start = this.at;
    this.view.setUint16(start + 4, type, true);
    this.view.setUint16(start + 6, flags, true);
    this.bytes[start + NLMSG_HDRLEN] = family;
    this.bytes[start + NLMSG_HDRLEN + 1] = 0; // NFNETLINK_V0
    this.view.setUint16(start + NLMSG_HDRLEN + 2, resId, false); // res_id is big-endian
    this.at += NLMSG_HDRLEN + NFGENMSG_LEN;
    return start;
  }
  endMessage(start: number): void {
    this.view.setUint32(start, this.at - start, true);
  }
}

function cString(text: string, what: string): Uint8Array {
  const b = new TextEncoder().encode(text);
  if (b.length === 0 || b.length > NAME_MAX || b.includes(0)) throw new RangeError(`${what} ${JSON.stringify(text)} is not a valid nftables name`);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** The renewal batch for the `set` element `ifname` of netdev table `table`. */
export function leaseBatch(table: string, set: string, ifname: string): LeaseBatch {
  const key = new TextEncoder().encode(ifname);
  if (key.length === 0 || key.length >= IFNAMSIZ) throw new RangeError(`interface name ${JSON.stringify(ifname)} must be 1-${IFNAMSIZ - 1} bytes`);
  const ifnameValue = new Uint8Array(IFNAMSIZ);
  ifnameValue.set(key);
  const tableName = cString(table, 'table');
  const setName = cString(set, 'set');
  const w = new Writer(3 * (NLMSG_HDRLEN + NFGENMSG_LEN) + align4(4 + tableName.length) + align4(4 + setName.length) + 4 + 4 + 2 * 12 + 4 + 4 + IFNAMSIZ);
  const begin = w.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES);
  w.endMessage(begin);
  const elem = w.message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, NFPROTO_NETDEV, 0);
  w.attr(NFTA_SET_ELEM_LIST_TABLE, tableName);
  w.attr(NFTA_SET_ELEM_LIST_SET, setName);
  const list = w.begin(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED);
  const item = w.begin(NFTA_LIST_ELEM | NLA_F_NESTED);
  const timeoutAt = w.attr(NFTA_SET_ELEM_TIMEOUT, new Uint8Array(8));
  const expirationAt = w.attr(NFTA_SET_ELEM_EXPIRATION, new Uint8Array(8));
  const keyAttr = w.begin(NFTA_SET_ELEM_KEY | NLA_F_NESTED);
  w.attr(NFTA_DATA_VALUE, ifnameValue);
  w.end(keyAttr);
  w.end(item);
  w.end(list);
  w.endMessage(elem);
  const end = w.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES);
  w.endMessage(end);
  if (w.at !== w.bytes.length) throw new Error(`lease batch size mismatch: wrote ${w.at} of ${w.bytes.length}`);
  const { view, bytes } = w;
  return {
    seqsPerBatch: 3,
    ackSeq: (seq) => (seq + 1) >>> 0,
    renewal(leaseMs, seq) {
      if (!Number.isInteger(leaseMs) || leaseMs < 0) throw new RangeError(`lease ${leaseMs} ms is not a whole number of milliseconds`);
      const ms = BigInt(leaseMs);
      view.setBigUint64(timeoutAt, ms, false);
      view.setBigUint64(expirationAt, ms, false);
      view.setUint32(begin + 8, seq >>> 0, true);
      view.setUint32(elem + 8, (seq + 1) >>> 0, true);
      view.setUint32(end + 8, (seq + 2) >>> 0, true);
      return bytes;
    },
  };
}
