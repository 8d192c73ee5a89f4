// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * vmac's XDP data path: the netdev ingress rules of src/vmac/ruleset.ts, decided in the driver
 * before any socket buffer exists. Built with clang -target bpf (native-shims/xdp/Makefile),
 * loaded and attached by the libbpf shim (xdp_shim.c), driven by src/vmac/xdp-datapath.ts.
 *
 *   frame to the VMAC, IPv4 to the VIP (IPv6 to the VIP6 when set):
 *     bucket = reciprocal_scale(jhash(key, len, seed), buckets), the key exactly as nft's
 *     registers hold it (KERNEL-NOTES "Hash"): address / address & mask / address . th sport;
 *     fragments under address+port hash the address alone (ruleset.ts `fragments`);
 *     lease gone (bpf_ktime_get_ns() >= deadline) or bucket not owned      -> XDP_DROP
 *     owned: Ethernet destination rewritten to the interface's own MAC      -> XDP_PASS
 *            (the nft rule's `meta pkttype set host`: the stack takes it as host traffic)
 *   any other frame to the VMAC                                            -> XDP_DROP
 *   ARP whose sender or target IP is the VIP: the opcode is marked (| 0x8000) -> XDP_PASS.
 *     The kernel's arp_process() ignores every opcode but request and reply, so it never answers
 *     for the VIP; the daemon's packet socket (which, unlike with nft, runs AFTER XDP) still sees
 *     the frame and reads the opcode with the mark cleared (src/vmac/xdp-arp-mark.ts).
 *   NS / NA whose target is the VIP6: type 135/136 -> 200/201 (RFC 4443 private experimentation,
 *     which the kernel's ICMPv6 ignores), checksum adjusted -> XDP_PASS, for the same reason.
 *   everything else -> XDP_PASS (the node's own traffic is untouched).
 *
 * On veth a tc ingress program (vmac_tc_host, below) completes the pass; see there why.
 *
 * Maps (layouts mirrored in src/vmac/xdp-maps.ts):
 *   vmac_cfg    [1]   struct vmac_cfg, written once before attach (a config change = new program)
 *   vmac_state  [2]   u64: [0] lease deadline, CLOCK_MONOTONIC ns (0: no lease); [1] active bank
 *   vmac_owned  [2*B] u32: bank*B + bucket -> 1 owned (any phase but none). A move writes the
 *                     inactive bank, then flips [1]: every packet is decided on one bank (atomic).
 *   vmac_count  [B]   per-CPU {packets, bytes} passed per bucket (metrics)
 *   vmac_stats  [8]   per-CPU u64 per outcome (OUT_* below)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AFF_ADDRESS 0
#define AFF_PORT 1
#define AFF_NETWORK 2

enum outcome { OUT_PASS = 0, OUT_FOREIGN = 1, OUT_LEASE = 2, OUT_OTHER_VMAC = 3, OUT_ARP = 4, OUT_ND = 5, OUT_NO_PORT = 6, OUT_MAX = 8 };

struct vmac_cfg {
  __u8 vmac[6];
  __u8 host_mac[6];
  __u32 vip;          /* network order as stored in the header */
  __u8 vip6[16];
  __u8 mask6[16];     /* network affinity: the /prefixLength6 mask */
  __u32 mask4;        /* network affinity: the /prefixLength mask, network order */
  __u32 has_vip6;
  __u32 buckets;
  __u32 seed;
  __u32 affinity;
  __u32 tag;          /* which service this program serves (xdp-maps.ts serviceTag) */
};

struct counter { __u64 packets; __u64 bytes; };

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct vmac_cfg); } vmac_cfg SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); } vmac_state SEC(".maps");
/* max_entries are set by the loader from the config (2*B and B) before the object is loaded. */
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 512); __type(key, __u32); __type(value, __u32); } vmac_owned SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 256); __type(key, __u32); __type(value, struct counter); } vmac_count SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, OUT_MAX); __type(key, __u32); __type(value, __u64); } vmac_stats SEC(".maps");

static __always_inline void count(__u32 what) {
  __u64 *n = bpf_map_lookup_elem(&vmac_stats, &what);
  if (n) *n += 1;
}

/* include/linux/jhash.h, over whole 32-bit words (every key here is 4, 8, 16 or 20 bytes). */
#define rol32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
#define JHASH_INITVAL 0xdeadbeef
#define jmix(a, b, c) {                  \
  a -= c; a ^= rol32(c, 4); c += b;      \
  b -= a; b ^= rol32(a, 6); a += c;      \
  c -= b; c ^= rol32(b, 8); b += a;      \
  a -= c; a ^= rol32(c, 16); c += b;     \
  b -= a; b ^= rol32(a, 19); a += c;     \
  c -= b; c ^= rol32(b, 4); b += a; }
#define jfinal(a, b, c) {                \
  c ^= b; c -= rol32(b, 14);             \
  a ^= c; a -= rol32(c, 11);             \
  b ^= a; b -= rol32(a, 25);             \
  c ^= b; c -= rol32(b, 16);             \
  a ^= c; a -= rol32(c, 4);              \
  b ^= a; b -= rol32(a, 14);             \
  c ^= b; c -= rol32(b, 24); }

/* jhash(k, 4*n, seed) for n = 1, 2, 4, 5 words (the kernel's byte-wise jhash reads LE words). */
static __always_inline __u32 jhash_words(const __u32 *k, __u32 n, __u32 seed) {
  __u32 a, b, c;
  a = b = c = JHASH_INITVAL + (n << 2) + seed;
  if (n > 3) { a += k[0]; b += k[1]; c += k[2]; jmix(a, b, c); k += 3; n -= 3; }
  /* n is now 1 or 2 (lengths 4, 8, 16 -> 4, 20 -> 8): the tail switch of jhash() */
  if (n == 2) b += k[1];
  a += k[0];
  jfinal(a, b, c);
  return c;
}

static __always_inline __u32 scale(__u32 hash, __u32 buckets) {
  return (__u32)(((__u64)hash * buckets) >> 32);
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b) {
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline int ip6_eq(const struct in6_addr *a, const __u8 *b) {
  const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
  return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Lease, ownership, counters; PASS rewrites the destination to the host's own MAC. */
static __always_inline int decide(struct ethhdr *eth, const struct vmac_cfg *cfg, __u32 hash, __u64 bytes) {
  __u32 bucket = scale(hash, cfg->buckets);
  __u32 k0 = 0, k1 = 1;
  __u64 *deadline = bpf_map_lookup_elem(&vmac_state, &k0);
  __u64 *bank = bpf_map_lookup_elem(&vmac_state, &k1);
  if (!deadline || !bank) return XDP_DROP;
  if (bpf_ktime_get_ns() >= *deadline) { count(OUT_LEASE); return XDP_DROP; }
  __u32 slot = (*bank ? cfg->buckets : 0) + bucket;
  __u32 *owned = bpf_map_lookup_elem(&vmac_owned, &slot);
  if (!owned || !*owned) { count(OUT_FOREIGN); return XDP_DROP; }
  struct counter *c = bpf_map_lookup_elem(&vmac_count, &bucket);
  if (c) { c->packets += 1; c->bytes += bytes; }
  __builtin_memcpy(eth->h_dest, cfg->host_mac, ETH_ALEN);
  count(OUT_PASS);
  return XDP_PASS;
}

/* ARP (Ethernet/IPv4): sender IP at 14, target IP at 24 bytes into the ARP header. */
static __always_inline int arp(void *data, void *end, const struct vmac_cfg *cfg) {
  __u8 *a = data + sizeof(struct ethhdr);
  if (cfg->vip == 0) return XDP_PASS; /* IPv6-only service: never touch ARP (probes come from 0.0.0.0) */
  if ((void *)(a + 28) > end) return XDP_PASS;
  if (a[4] != 6 || a[5] != 4) return XDP_PASS;
  __u32 sip, tip;
  __builtin_memcpy(&sip, a + 14, 4);
  __builtin_memcpy(&tip, a + 24, 4);
  if (sip != cfg->vip && tip != cfg->vip) return XDP_PASS;
  a[6] |= 0x80; /* opcode (big-endian) | 0x8000 */
  count(OUT_ARP);
  return XDP_PASS;
}

static __always_inline int ipv4(struct ethhdr *eth, void *end, const struct vmac_cfg *cfg, __u64 bytes) {
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end || ip->daddr != cfg->vip || ip->version != 4 || ip->ihl < 5) { count(OUT_OTHER_VMAC); return XDP_DROP; }
  __u32 key[2];
  __u32 n = 1;
  key[0] = ip->saddr;
  if (cfg->affinity == AFF_NETWORK) key[0] &= cfg->mask4;
  /* any fragment (MF or an offset) hashes the address alone: non-first fragments carry no ports */
  if (cfg->affinity == AFF_PORT && !(ip->frag_off & bpf_htons(0x3fff))) {
    __u8 *th = (__u8 *)ip + ip->ihl * 4;
    if ((void *)(th + 2) > end) { count(OUT_NO_PORT); return XDP_DROP; }
    __u16 sport;
    __builtin_memcpy(&sport, th, 2);
    key[1] = sport; /* register bytes p_hi p_lo 0 0, read little-endian */
    n = 2;
  }
  return decide(eth, cfg, jhash_words(key, n, cfg->seed), bytes);
}

#define ICMPV6 58
#define NEXTHDR_FRAGMENT 44

static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to) {
  __u32 s = (__u16)~*sum;
  s += (__u16)~from;
  s += to;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  *sum = ~(__u16)s;
}

static __always_inline int ipv6(struct ethhdr *eth, void *end, const struct vmac_cfg *cfg, __u64 bytes, int to_vmac) {
  struct ipv6hdr *ip6 = (void *)(eth + 1);
  if ((void *)(ip6 + 1) > end) return to_vmac ? XDP_DROP : XDP_PASS;
  __u8 *l4 = (__u8 *)(ip6 + 1);
  /* NS/NA for the VIP6, from anyone to anywhere (multicast NS too): hidden from the kernel's ND */
  if (ip6->nexthdr == ICMPV6 && (void *)(l4 + 24) <= end && (l4[0] == 135 || l4[0] == 136) && ip6_eq((struct in6_addr *)(l4 + 8), cfg->vip6)) {
    __u16 before = *(__u16 *)l4;
    l4[0] = l4[0] == 135 ? 200 : 201;
    csum_replace2((__u16 *)(l4 + 2), before, *(__u16 *)l4);
    count(OUT_ND);
    return XDP_PASS;
  }
  if (!to_vmac) return XDP_PASS;
  if (!ip6_eq(&ip6->daddr, cfg->vip6)) { count(OUT_OTHER_VMAC); return XDP_DROP; }
  __u32 key[5];
  const __u32 *s = (const __u32 *)&ip6->saddr;
  const __u32 *m = (const __u32 *)cfg->mask6;
  int net = cfg->affinity == AFF_NETWORK;
  key[0] = net ? s[0] & m[0] : s[0];
  key[1] = net ? s[1] & m[1] : s[1];
  key[2] = net ? s[2] & m[2] : s[2];
  key[3] = net ? s[3] & m[3] : s[3];
  __u32 n = 4;
  if (cfg->affinity == AFF_PORT && ip6->nexthdr != NEXTHDR_FRAGMENT) {
    /* nft's `th` is the transport header after the extension headers; the common ones are walked */
    __u8 nh = ip6->nexthdr;
    __u8 *th = l4;
#pragma unroll
    for (int i = 0; i < 4; i++) {
      if (nh != 0 && nh != 43 && nh != 60) break;
      if ((void *)(th + 2) > end) { count(OUT_NO_PORT); return XDP_DROP; }
      nh = th[0];
      th += (th[1] + 1) * 8;
    }
    if (nh != NEXTHDR_FRAGMENT) {
      if ((void *)(th + 2) > end) { count(OUT_NO_PORT); return XDP_DROP; }
      __u16 sport;
      __builtin_memcpy(&sport, th, 2);
      key[4] = sport;
      n = 5;
    }
  }
  return decide(eth, cfg, jhash_words(key, n, cfg->seed), bytes);
}

SEC("xdp")
int vmac_xdp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_PASS;
  __u32 k0 = 0;
  const struct vmac_cfg *cfg = bpf_map_lookup_elem(&vmac_cfg, &k0);
  if (!cfg || cfg->buckets == 0) return XDP_PASS;
  /* vip 0.0.0.0 (IPv6-only service): IPv4 to the VMAC matches no VIP and is dropped below. */
  __u64 bytes = (__u64)(end - data) - sizeof(struct ethhdr); /* IP length, as nft counts at ingress */
  int to_vmac = mac_eq(eth->h_dest, cfg->vmac);
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    if (to_vmac) return ipv4(eth, end, cfg, bytes);
    return XDP_PASS;
  }
  if (eth->h_proto == bpf_htons(ETH_P_IPV6) && cfg->has_vip6) return ipv6(eth, end, cfg, bytes, to_vmac);
  /* ARP to the VMAC too (a client re-validating its entry by unicast): the daemon must see it,
     and the kernel drops it anyway (PACKET_OTHERHOST). */
  if (eth->h_proto == bpf_htons(ETH_P_ARP)) return arp(data, end, cfg);
  if (to_vmac) { count(OUT_OTHER_VMAC); return XDP_DROP; }
  return XDP_PASS;
}

/*
 * veth only (the lab): veth's receive path re-uses the sender's socket buffer, whose pkt_type
 * was set to OTHERHOST (the VMAC is not the interface's MAC) before XDP ran, and eth_type_trans()
 * after XDP never resets it, so the stack would drop what XDP let in. This tc ingress program
 * restores PACKET_HOST for a frame XDP rewrote to the host's MAC (the only way a frame to our own
 * MAC can be OTHERHOST). A NIC driver builds its socket buffer after XDP: not needed there, and
 * not attached (src/vmac/xdp-datapath.ts).
 */
SEC("tc")
int vmac_tc_host(struct __sk_buff *skb) {
  if (skb->pkt_type != PACKET_OTHERHOST) return TC_ACT_OK;
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return TC_ACT_OK;
  __u32 k0 = 0;
  const struct vmac_cfg *cfg = bpf_map_lookup_elem(&vmac_cfg, &k0);
  if (cfg && mac_eq(eth->h_dest, cfg->host_mac)) bpf_skb_change_type(skb, PACKET_HOST);
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
