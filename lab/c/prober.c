/* vmac-prober: measures which node answers each client address, and gaps.
 *
 *   vmac-prober udp --vip IP --port P --addrs FILE --interval-us N --duration-ms D
 *                   [--max-probes M] [--wait-ms W] [--timeline FILE] [--timeline-max N]
 *   vmac-prober tcp --vip IP --port P --addrs FILE [--timeout-ms T] [--parallel N]
 *
 * FILE: one source address per line (IPv4 or IPv6, same family as --vip),
 * blank lines and lines starting with '#' ignored, at most 4096 addresses.
 * Every address must be configured locally.
 *
 * Result: one JSON object on stdout. Times are microseconds relative to the
 * prober's start (startMonoNs, CLOCK_MONOTONIC, lets a harness align other
 * events). Errors on stderr; bad arguments exit 2, runtime failures exit 1.
 * See lab/c/README.md for the exact output format.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MAX_ADDRS 4096
#define MAX_NODES 64
#define MAX_LINE 128
#define MAX_BITMAP_BYTES (256ull << 20) /* all per-address seq bitmaps together */
#define RX_BATCH 4
#define RX_BUF 256 /* a valid reply is at most 20 + 63 bytes */

static const char *prog = "vmac-prober";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vmac-prober udp --vip IP --port P --addrs FILE --interval-us N --duration-ms D\n"
            "                       [--max-probes M] [--wait-ms W] [--timeline FILE] [--timeline-max N]\n"
            "                       [--shared-socket]\n"
            "       vmac-prober tcp --vip IP --port P --addrs FILE [--timeout-ms T] [--parallel N]\n"
            "  --interval-us 100..10000000   --duration-ms 1..600000   --max-probes 1..100000000\n"
            "  --wait-ms 0..60000 (default 200)   --timeline-max 0..100000000 (default 1000000 lines)\n"
            "  --shared-socket: one socket for all addresses (source set per datagram with\n"
            "    IP_PKTINFO, sendmmsg/recvmmsg batches) instead of one bound socket per address\n"
            "  --timeout-ms 1..60000 (default 1000)   --parallel 1..1024 (default 256)\n"
            "  FILE: one IP per line (max %d), same family as --vip, '#' comments allowed\n",
            MAX_ADDRS);
}

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage(stderr);
    exit(2);
}

static void die_sys(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    exit(1);
}

/* ------------------------------------------------------------------ options */

static struct {
    int udp; /* 1 = udp mode, 0 = tcp mode */
    const char *vip_str, *addrs_file, *timeline_file;
    long long port, interval_us, duration_ms, max_probes, wait_ms, timeline_max;
    long long timeout_ms, parallel;
    int shared; /* --shared-socket */
} opt = { .max_probes = -1, .wait_ms = 200, .timeline_max = 1000000, .timeout_ms = 1000,
          .parallel = 256, .interval_us = -1, .duration_ms = -1, .port = -1 };

static void parse_args(int argc, char **argv)
{
    if (argc < 2)
        die_usage("missing mode (udp or tcp)");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        exit(0);
    }
    if (!strcmp(argv[1], "udp"))
        opt.udp = 1;
    else if (!strcmp(argv[1], "tcp"))
        opt.udp = 0;
    else
        die_usage("unknown mode '%s' (udp or tcp)", argv[1]);

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--shared-socket")) {
            if (!opt.udp)
                die_usage("--shared-socket is only valid in udp mode");
            opt.shared = 1;
            continue;
        }
        if (i + 1 >= argc)
            die_usage("missing value for %s", a);
        const char *v = argv[++i];
#define NUM(flag, field, lo, hi)                                                    \
    else if (!strcmp(a, flag))                                                      \
    {                                                                               \
        if (parse_ll(v, lo, hi, &opt.field))                                        \
            die_usage("bad %s '%s' (%lld..%lld)", flag, v, (long long)(lo),          \
                      (long long)(hi));                                             \
    }
#define UDP_ONLY(flag)                                                              \
    if (!opt.udp && !strcmp(a, flag))                                               \
        die_usage("%s is only valid in udp mode", flag);
#define TCP_ONLY(flag)                                                              \
    if (opt.udp && !strcmp(a, flag))                                                \
        die_usage("%s is only valid in tcp mode", flag);
        UDP_ONLY("--interval-us")
        UDP_ONLY("--duration-ms")
        UDP_ONLY("--max-probes")
        UDP_ONLY("--wait-ms")
        UDP_ONLY("--timeline")
        UDP_ONLY("--timeline-max")
        TCP_ONLY("--timeout-ms")
        TCP_ONLY("--parallel")
        if (!strcmp(a, "--vip"))
            opt.vip_str = v;
        else if (!strcmp(a, "--addrs"))
            opt.addrs_file = v;
        else if (!strcmp(a, "--timeline"))
            opt.timeline_file = v;
        NUM("--port", port, 1, 65535)
        NUM("--interval-us", interval_us, 100, 10000000)
        NUM("--duration-ms", duration_ms, 1, 600000)
        NUM("--max-probes", max_probes, 1, 100000000)
        NUM("--wait-ms", wait_ms, 0, 60000)
        NUM("--timeline-max", timeline_max, 0, 100000000)
        NUM("--timeout-ms", timeout_ms, 1, 60000)
        NUM("--parallel", parallel, 1, 1024)
        else die_usage("unknown option %s", a);
#undef NUM
#undef UDP_ONLY
#undef TCP_ONLY
    }
    if (!opt.vip_str)
        die_usage("--vip is required");
    if (opt.port < 0)
        die_usage("--port is required");
    if (!opt.addrs_file)
        die_usage("--addrs is required");
    if (opt.udp && opt.interval_us < 0)
        die_usage("--interval-us is required");
    if (opt.udp && opt.duration_ms < 0)
        die_usage("--duration-ms is required");
}

/* ---------------------------------------------------------------- addresses */

struct src {
    struct sockaddr_storage sa;
    socklen_t len;
    char str[INET6_ADDRSTRLEN];
};

static struct src *srcs;
static int nsrc;
static struct sockaddr_storage vip;
static socklen_t viplen;

static void load_addrs(void)
{
    FILE *f = fopen(opt.addrs_file, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open --addrs '%s': %s\n", prog, opt.addrs_file, strerror(errno));
        exit(2);
    }
    srcs = calloc(MAX_ADDRS, sizeof(*srcs));
    if (!srcs)
        die_sys("calloc");
    char line[MAX_LINE + 2];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "%s: %s:%d: line too long (max %d)\n", prog, opt.addrs_file, lineno,
                    MAX_LINE);
            exit(2);
        }
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        if (nsrc >= MAX_ADDRS) {
            fprintf(stderr, "%s: %s: more than %d addresses\n", prog, opt.addrs_file, MAX_ADDRS);
            exit(2);
        }
        struct src *p = &srcs[nsrc];
        if (parse_ip(s, 0, &p->sa, &p->len) || p->sa.ss_family != vip.ss_family) {
            fprintf(stderr, "%s: %s:%d: bad address '%s' (must be an %s literal like --vip)\n", prog,
                    opt.addrs_file, lineno, s, vip.ss_family == AF_INET ? "IPv4" : "IPv6");
            exit(2);
        }
        /* canonical text form for the JSON output */
        const void *raw = p->sa.ss_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)&p->sa)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)&p->sa)->sin6_addr;
        inet_ntop(p->sa.ss_family, raw, p->str, sizeof(p->str));
        for (int j = 0; j < nsrc; j++)
            if (!strcmp(srcs[j].str, p->str)) {
                fprintf(stderr, "%s: %s:%d: duplicate address %s\n", prog, opt.addrs_file, lineno,
                        p->str);
                exit(2);
            }
        nsrc++;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: reading %s: %s\n", prog, opt.addrs_file, strerror(errno));
        exit(2);
    }
    fclose(f);
    if (nsrc == 0) {
        fprintf(stderr, "%s: %s: no addresses\n", prog, opt.addrs_file);
        exit(2);
    }
}

static void raise_nofile(long long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die_sys("getrlimit");
    if (rl.rlim_cur >= (rlim_t)need)
        return;
    if (rl.rlim_max < (rlim_t)need) {
        fprintf(stderr, "%s: need %lld file descriptors, hard limit is %llu\n", prog, need,
                (unsigned long long)rl.rlim_max);
        exit(1);
    }
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        die_sys("setrlimit");
}

static uint64_t t0; /* prober start, mono ns */

static long long rel_us(uint64_t ns)
{
    return (long long)((ns - t0) / 1000);
}

/* Socket bound to source address i. */
static int src_socket(int i, int type)
{
    int fd = socket(vip.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die_sys("socket");
    if (type == SOCK_STREAM) {
        int one = 1; /* pick the port at connect(): 4-tuple uniqueness */
        setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    }
    if (bind(fd, (struct sockaddr *)&srcs[i].sa, srcs[i].len) < 0) {
        fprintf(stderr, "%s: bind to source %s: %s (is it configured here?)\n", prog, srcs[i].str,
                strerror(errno));
        exit(1);
    }
    return fd;
}

/* -------------------------------------------------------------------- nodes */

static char node_names[MAX_NODES][VMAC_NAME_MAX + 1];
static uint8_t node_lens[MAX_NODES];
static int nnodes;
static uint64_t unknown_node_replies; /* valid replies from a 65th+ name */

/* Returns node index, or -1 if the table is full. */
static int node_lookup(const char *name, size_t len, int hint)
{
    if (hint >= 0 && node_lens[hint] == len && !memcmp(node_names[hint], name, len))
        return hint;
    for (int i = 0; i < nnodes; i++)
        if (node_lens[i] == len && !memcmp(node_names[i], name, len))
            return i;
    if (nnodes >= MAX_NODES)
        return -1;
    memcpy(node_names[nnodes], name, len);
    node_names[nnodes][len] = '\0';
    node_lens[nnodes] = (uint8_t)len;
    return nnodes++;
}

/* --------------------------------------------------------------------- UDP */

struct paddr {
    int fd;
    int cur_node; /* node of the latest first-time answer, -1 none */
    int dup_node; /* node of the latest duplicate */
    int in_dup;
    uint32_t last_seq;
    uint64_t sent, answered, dups, send_err, icmp_err, bad, foreign;
    uint64_t first_ns, last_ns, last_dup_ns, dup_begin_ns;
    uint64_t max_gap_ns, max_gap_start_ns;
    uint32_t gap_seq_before, gap_seq_after;
    uint64_t rtt_sum_ns, rtt_max_ns;
    uint32_t node_cnt[MAX_NODES];
    uint64_t *seen; /* bitmap over seq */
};

static struct paddr *pa;
/* Rounds (one probe from every address) are scheduled in slots at
 * t0 + k * interval for k < slots (slot times < duration). A slot missed
 * because the prober fell behind is skipped; rounds_planned = min(M, slots)
 * bounds the seq space, and sending stops at M rounds or after the last slot. */
static uint64_t slots, rounds_planned, rounds_sent;
static uint64_t iv_ns;
static FILE *tl;
static uint64_t tl_events, tl_dropped;

static void tl_emit(uint64_t ns, int idx, const char *ev, int node)
{
    if (!tl)
        return;
    if (tl_events >= (uint64_t)opt.timeline_max) {
        tl_dropped++;
        return;
    }
    tl_events++;
    fprintf(tl, "%lld,%d,%s,%s\n", rel_us(ns), idx, ev, node >= 0 ? node_names[node] : "");
}

static void on_reply(int i, const unsigned char *b, size_t len, uint64_t now)
{
    struct paddr *a = &pa[i];
    if (len <= VMAC_PROBE_LEN || len > VMAC_PROBE_LEN + VMAC_NAME_MAX ||
        get_u32(b) != VMAC_MAGIC) {
        a->bad++;
        return;
    }
    uint32_t seq = get_u32(b + 4), idx = get_u32(b + 8);
    uint64_t sent_ns = get_u64(b + 12);
    const char *name = (const char *)b + VMAC_PROBE_LEN;
    size_t nlen = len - VMAC_PROBE_LEN;
    if (idx != (uint32_t)i) {
        a->foreign++; /* e.g. a stale reply to a previous prober on this port */
        return;
    }
    if (seq >= rounds_sent || !valid_name(name, nlen) || sent_ns > now || sent_ns < t0) {
        a->bad++;
        return;
    }
    int node = node_lookup(name, nlen, a->cur_node);
    if (node < 0) {
        unknown_node_replies++;
    } else {
        a->node_cnt[node]++;
    }
    uint64_t bit = 1ull << (seq & 63);
    if (a->seen[seq >> 6] & bit) {
        a->dups++;
        if (!a->in_dup || now - a->last_dup_ns > 3 * iv_ns) {
            if (a->in_dup)
                tl_emit(a->last_dup_ns, i, "dup_end", a->dup_node);
            tl_emit(now, i, "dup_begin", node);
            a->in_dup = 1;
        }
        a->last_dup_ns = now;
        a->dup_node = node;
        return;
    }
    a->seen[seq >> 6] |= bit;
    a->answered++;
    uint64_t rtt = now - sent_ns;
    a->rtt_sum_ns += rtt;
    if (rtt > a->rtt_max_ns)
        a->rtt_max_ns = rtt;
    if (a->answered == 1) {
        a->first_ns = now;
        tl_emit(now, i, "first", node);
    } else {
        uint64_t gap = now - a->last_ns;
        if (gap > a->max_gap_ns) {
            a->max_gap_ns = gap;
            a->max_gap_start_ns = a->last_ns;
            a->gap_seq_before = a->last_seq;
            a->gap_seq_after = seq;
        }
        if (gap > 3 * iv_ns) {
            tl_emit(a->last_ns, i, "gap_begin", a->cur_node);
            tl_emit(now, i, "gap_end", node);
        }
        if (node != a->cur_node)
            tl_emit(now, i, "node", node);
    }
    a->cur_node = node;
    a->last_ns = now;
    a->last_seq = seq;
}

static void udp_recv(int i)
{
    static unsigned char buf[RX_BATCH][RX_BUF];
    static struct iovec iov[RX_BATCH];
    static struct mmsghdr m[RX_BATCH];
    for (;;) {
        for (int k = 0; k < RX_BATCH; k++) {
            iov[k].iov_base = buf[k];
            iov[k].iov_len = RX_BUF;
            memset(&m[k].msg_hdr, 0, sizeof(m[k].msg_hdr));
            m[k].msg_hdr.msg_iov = &iov[k];
            m[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(pa[i].fd, m, RX_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            pa[i].icmp_err++; /* ECONNREFUSED etc. from ICMP errors */
            return;
        }
        uint64_t now = mono_ns();
        for (int k = 0; k < n; k++) {
            if (m[k].msg_hdr.msg_flags & MSG_TRUNC)
                pa[i].bad++;
            else
                on_reply(i, buf[k], m[k].msg_len, now);
        }
        if (n < RX_BATCH)
            return;
    }
}

static uint64_t behind_ticks, skipped_rounds, max_late_ns, max_round_ns, sum_round_ns;

/* ---- --shared-socket: one unbound-address socket, batched syscalls.
 * Each datagram carries its source address in an IP_PKTINFO/IPV6_PKTINFO
 * control message; replies to any of our addresses arrive on the one socket
 * (bound to the wildcard address and an ephemeral port) and are matched by
 * the address index in the payload, checked against the destination address
 * reported by PKTINFO. */
#define SH_BATCH 64
#define SH_SEND_MAX 1024 /* UIO_MAXIOV */
#define PKTINFO_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))
static int shared_fd = -1;
static uint64_t stray_replies; /* not from VIP:PORT, or index out of range */
static unsigned char (*sh_payload)[VMAC_PROBE_LEN];
static union sh_ctl {
    char buf[PKTINFO_SPACE];
    struct cmsghdr align;
} *sh_ctl;
static struct iovec *sh_iov;
static struct mmsghdr *sh_msg;

static void shared_setup(void)
{
    shared_fd = socket(vip.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (shared_fd < 0)
        die_sys("socket");
    int one = 1, big = 8 << 20;
    if (setsockopt(shared_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
        setsockopt(shared_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (setsockopt(shared_fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        setsockopt(shared_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    struct sockaddr_storage any;
    memset(&any, 0, sizeof(any));
    any.ss_family = vip.ss_family;
    socklen_t anylen = vip.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                : sizeof(struct sockaddr_in6);
    if (vip.ss_family == AF_INET) {
        setsockopt(shared_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    } else {
        setsockopt(shared_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        setsockopt(shared_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    }
    if (bind(shared_fd, (struct sockaddr *)&any, anylen) < 0)
        die_sys("bind shared socket");
    sh_payload = calloc((size_t)nsrc, sizeof(*sh_payload));
    sh_ctl = calloc((size_t)nsrc, sizeof(*sh_ctl));
    sh_iov = calloc((size_t)nsrc, sizeof(*sh_iov));
    sh_msg = calloc((size_t)nsrc, sizeof(*sh_msg));
    if (!sh_payload || !sh_ctl || !sh_iov || !sh_msg)
        die_sys("calloc");
    for (int i = 0; i < nsrc; i++) {
        put_u32(sh_payload[i], VMAC_MAGIC);
        put_u32(sh_payload[i] + 8, (uint32_t)i);
        sh_iov[i].iov_base = sh_payload[i];
        sh_iov[i].iov_len = VMAC_PROBE_LEN;
        struct msghdr *h = &sh_msg[i].msg_hdr;
        h->msg_name = &vip;
        h->msg_namelen = viplen;
        h->msg_iov = &sh_iov[i];
        h->msg_iovlen = 1;
        h->msg_control = sh_ctl[i].buf;
        struct cmsghdr *cm = (struct cmsghdr *)sh_ctl[i].buf;
        if (vip.ss_family == AF_INET) {
            struct in_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            pi.ipi_spec_dst = ((struct sockaddr_in *)&srcs[i].sa)->sin_addr;
            cm->cmsg_level = IPPROTO_IP;
            cm->cmsg_type = IP_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
            h->msg_controllen = CMSG_SPACE(sizeof(pi));
        } else {
            struct in6_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            pi.ipi6_addr = ((struct sockaddr_in6 *)&srcs[i].sa)->sin6_addr;
            cm->cmsg_level = IPPROTO_IPV6;
            cm->cmsg_type = IPV6_PKTINFO;
            cm->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
            h->msg_controllen = CMSG_SPACE(sizeof(pi));
        }
    }
}

static void shared_send_round(uint32_t seq)
{
    for (int i = 0; i < nsrc; i++) {
        put_u32(sh_payload[i] + 4, seq);
        put_u64(sh_payload[i] + 12, mono_ns());
    }
    int off = 0;
    while (off < nsrc) {
        int want = nsrc - off < SH_SEND_MAX ? nsrc - off : SH_SEND_MAX;
        int r = sendmmsg(shared_fd, sh_msg + off, (unsigned)want, MSG_DONTWAIT);
        if (r > 0) {
            for (int i = off; i < off + r; i++)
                pa[i].sent++;
            off += r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            for (int i = off; i < nsrc; i++) /* never block: drop the rest */
                pa[i].send_err++;
            return;
        }
        pa[off].send_err++; /* a per-destination error: skip that one */
        off++;
    }
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
                     int with_port)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_addr.s_addr == y->sin_addr.s_addr && (!with_port || x->sin_port == y->sin_port);
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return !memcmp(&x->sin6_addr, &y->sin6_addr, 16) && (!with_port || x->sin6_port == y->sin6_port);
}

static void shared_recv(void)
{
    static unsigned char buf[SH_BATCH][RX_BUF];
    static struct iovec iov[SH_BATCH];
    static struct mmsghdr m[SH_BATCH];
    static struct sockaddr_storage from[SH_BATCH];
    static union sh_ctl ctl[SH_BATCH];
    for (int round = 0; round < 64; round++) {
        for (int k = 0; k < SH_BATCH; k++) {
            iov[k].iov_base = buf[k];
            iov[k].iov_len = RX_BUF;
            memset(&m[k].msg_hdr, 0, sizeof(m[k].msg_hdr));
            m[k].msg_hdr.msg_name = &from[k];
            m[k].msg_hdr.msg_namelen = sizeof(from[k]);
            m[k].msg_hdr.msg_iov = &iov[k];
            m[k].msg_hdr.msg_iovlen = 1;
            m[k].msg_hdr.msg_control = ctl[k].buf;
            m[k].msg_hdr.msg_controllen = sizeof(ctl[k].buf);
        }
        int n = recvmmsg(shared_fd, m, SH_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        uint64_t now = mono_ns();
        for (int k = 0; k < n; k++) {
            struct msghdr *h = &m[k].msg_hdr;
            if (!same_addr(&from[k], &vip, 1) || m[k].msg_len < VMAC_PROBE_LEN) {
                stray_replies++;
                continue;
            }
            uint32_t idx = get_u32(buf[k] + 8);
            if (idx >= (uint32_t)nsrc) {
                stray_replies++;
                continue;
            }
            /* the reply must have been addressed to the index's address */
            struct sockaddr_storage dst;
            memset(&dst, 0, sizeof(dst));
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
                if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
                    struct in_pktinfo pi;
                    memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
                    dst.ss_family = AF_INET;
                    ((struct sockaddr_in *)&dst)->sin_addr = pi.ipi_addr;
                } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
                    struct in6_pktinfo pi;
                    memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
                    dst.ss_family = AF_INET6;
                    ((struct sockaddr_in6 *)&dst)->sin6_addr = pi.ipi6_addr;
                }
            }
            if (!same_addr(&dst, &srcs[idx].sa, 0)) {
                pa[idx].foreign++;
                continue;
            }
            if (h->msg_flags & MSG_TRUNC)
                pa[idx].bad++;
            else
                on_reply((int)idx, buf[k], m[k].msg_len, now);
        }
        if (n < SH_BATCH)
            return;
    }
}

static void udp_send_round(void)
{
    uint32_t seq = (uint32_t)rounds_sent;
    unsigned char p[VMAC_PROBE_LEN];
    put_u32(p, VMAC_MAGIC);
    put_u32(p + 4, seq);
    rounds_sent++; /* before sending: replies may be handled before we return */
    uint64_t start = mono_ns();
    for (int i = 0; i < nsrc && shared_fd < 0; i++) {
        put_u32(p + 8, (uint32_t)i);
        put_u64(p + 12, mono_ns());
        ssize_t r;
        do
            r = send(pa[i].fd, p, sizeof(p), MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r == (ssize_t)sizeof(p))
            pa[i].sent++;
        else if (r < 0 && (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
                           errno == ENETUNREACH || errno == EHOSTDOWN))
            pa[i].icmp_err++, pa[i].send_err++;
        else
            pa[i].send_err++;
    }
    if (shared_fd >= 0)
        shared_send_round(seq);
    uint64_t d = mono_ns() - start;
    sum_round_ns += d;
    if (d > max_round_ns)
        max_round_ns = d;
}

/* Longest run of consecutive rounds this address got no answer for (loss
 * or send error), and the first seq of that run. */
static void miss_run(const struct paddr *a, uint64_t *len_out, uint64_t *first_out)
{
    uint64_t best = 0, best_first = 0, run = 0, run_first = 0;
    for (uint64_t s = 0; s < rounds_sent;) {
        uint64_t w = a->seen[s >> 6];
        if ((s & 63) == 0 && s + 64 <= rounds_sent && (w == ~0ull || w == 0)) {
            if (w == 0) {
                if (run == 0)
                    run_first = s;
                run += 64;
            } else {
                if (run > best)
                    best = run, best_first = run_first;
                run = 0;
            }
            s += 64;
            continue;
        }
        if (w & (1ull << (s & 63))) {
            if (run > best)
                best = run, best_first = run_first;
            run = 0;
        } else {
            if (run == 0)
                run_first = s;
            run++;
        }
        s++;
    }
    if (run > best)
        best = run, best_first = run_first;
    *len_out = best;
    *first_out = best_first;
}

static void print_opt_us(const char *key, uint64_t ns, int valid)
{
    if (valid)
        printf(",\"%s\":%lld", key, rel_us(ns));
    else
        printf(",\"%s\":null", key);
}

static int run_udp(void)
{
    iv_ns = (uint64_t)opt.interval_us * 1000ull;
    uint64_t by_dur = ((uint64_t)opt.duration_ms * 1000ull + (uint64_t)opt.interval_us - 1) /
                      (uint64_t)opt.interval_us;
    slots = by_dur;
    rounds_planned = by_dur;
    if (opt.max_probes > 0 && (uint64_t)opt.max_probes < rounds_planned)
        rounds_planned = (uint64_t)opt.max_probes;
    uint64_t words = (rounds_planned + 63) / 64;
    if (words * 8ull * (uint64_t)nsrc > MAX_BITMAP_BYTES) {
        fprintf(stderr,
                "%s: %d addresses x %llu probes needs %llu MiB of bookkeeping (limit %llu MiB); "
                "use fewer addresses, a shorter --duration-ms or a longer --interval-us\n",
                prog, nsrc, (unsigned long long)rounds_planned,
                (unsigned long long)(words * 8ull * (uint64_t)nsrc >> 20),
                (unsigned long long)(MAX_BITMAP_BYTES >> 20));
        exit(2);
    }
    if (opt.timeline_file) {
        tl = fopen(opt.timeline_file, "w");
        if (!tl) {
            fprintf(stderr, "%s: cannot write --timeline '%s': %s\n", prog, opt.timeline_file,
                    strerror(errno));
            exit(2);
        }
        static char tlbuf[1 << 16];
        setvbuf(tl, tlbuf, _IOFBF, sizeof(tlbuf));
        fputs("t_us,addr_index,event,node\n", tl);
    }
    raise_nofile(opt.shared ? 64 : (long long)nsrc + 32);

    pa = calloc((size_t)nsrc, sizeof(*pa));
    if (!pa)
        die_sys("calloc");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die_sys("epoll_create1");
    for (int i = 0; i < nsrc; i++) {
        struct paddr *a = &pa[i];
        a->seen = calloc(words, 8);
        if (!a->seen)
            die_sys("calloc");
        a->cur_node = -1;
        a->dup_node = -1;
        a->fd = -1;
        if (opt.shared)
            continue;
        a->fd = src_socket(i, SOCK_DGRAM);
        /* connect: the kernel then drops datagrams from anyone but VIP:PORT,
         * caches the route, and reports ICMP errors to us. */
        if (connect(a->fd, (struct sockaddr *)&vip, viplen) < 0) {
            fprintf(stderr, "%s: connect from %s to %s:%lld: %s\n", prog, srcs[i].str,
                    opt.vip_str, opt.port, strerror(errno));
            exit(1);
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i + 1 };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, a->fd, &ev) < 0)
            die_sys("epoll_ctl");
    }
    if (opt.shared) {
        shared_setup();
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, shared_fd, &ev) < 0)
            die_sys("epoll_ctl");
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0)
        die_sys("timerfd_create");
    struct epoll_event tev = { .events = EPOLLIN, .data.u32 = 0 };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
        die_sys("epoll_ctl");

    /* Round r is due at t0 + r * interval; round 0 is sent right away. */
    t0 = mono_ns();
    uint64_t first = t0 + iv_ns;
    struct itimerspec its = {
        .it_value = { (time_t)(first / 1000000000ull), (long)(first % 1000000000ull) },
        .it_interval = { (time_t)(iv_ns / 1000000000ull), (long)(iv_ns % 1000000000ull) },
    };
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        die_sys("timerfd_settime");
    udp_send_round();
    uint64_t next_round = 1; /* schedule index of the next round to send */
    uint64_t send_end = mono_ns(), deadline = 0;
    int sending = rounds_planned > 1 && slots > 1;
    if (!sending)
        deadline = send_end + (uint64_t)opt.wait_ms * 1000000ull;

    static struct epoll_event evs[1024];
    for (;;) {
        int timeout = -1;
        if (!sending) {
            uint64_t now = mono_ns();
            if (now >= deadline)
                break;
            timeout = (int)((deadline - now + 999999) / 1000000);
        }
        int n = epoll_wait(ep, evs, 1024, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die_sys("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            uint32_t id = evs[k].data.u32;
            if (id == UINT32_MAX) {
                shared_recv();
                continue;
            }
            if (id > 0) {
                udp_recv((int)id - 1);
                continue;
            }
            uint64_t exp;
            if (read(tfd, &exp, sizeof(exp)) != (ssize_t)sizeof(exp) || !sending)
                continue;
            uint64_t now = mono_ns();
            uint64_t due = (now - t0) / iv_ns; /* latest round whose time has come */
            if (due < next_round)
                continue;
            uint64_t late = now - (t0 + next_round * iv_ns);
            if (late > max_late_ns)
                max_late_ns = late;
            if (late > iv_ns) {
                /* Fell behind: count it, and skip missed rounds instead of
                 * bursting (a burst would distort per-address pacing). */
                behind_ticks++;
                uint64_t target = due < slots - 1 ? due : slots - 1;
                skipped_rounds += target - next_round;
                next_round = target;
            }
            udp_send_round();
            send_end = mono_ns();
            next_round++;
            if (next_round >= slots || rounds_sent >= rounds_planned) {
                sending = 0;
                struct itimerspec off = { 0 };
                timerfd_settime(tfd, 0, &off, NULL);
                deadline = send_end + (uint64_t)opt.wait_ms * 1000000ull;
            }
        }
    }
    uint64_t end = mono_ns();

    /* Close open timeline periods. */
    uint64_t open_ns = 3 * iv_ns;
    for (int i = 0; i < nsrc; i++) {
        struct paddr *a = &pa[i];
        if (a->answered > 0 && send_end > a->last_ns && send_end - a->last_ns > open_ns)
            tl_emit(a->last_ns, i, "gap_begin", a->cur_node);
        if (a->in_dup)
            tl_emit(a->last_dup_ns, i, "dup_end", a->dup_node);
    }
    if (tl) {
        if (fclose(tl) != 0) {
            fprintf(stderr, "%s: writing --timeline: %s\n", prog, strerror(errno));
            exit(1);
        }
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char maxp[24] = "null";
    if (opt.max_probes > 0)
        snprintf(maxp, sizeof(maxp), "%lld", opt.max_probes);
    printf("{\"mode\":\"udp\",\"socketMode\":\"%s\",\"vip\":\"%s\",\"port\":%lld,\"intervalUs\":%lld,\"durationMs\":%lld,"
           "\"waitMs\":%lld,\"maxProbes\":%s,\"plannedRounds\":%llu,\"startMonoNs\":%llu,\"rounds\":%llu,"
           "\"skippedRounds\":%llu,\"behindTicks\":%llu,\"maxLateUs\":%llu,\"maxRoundUs\":%llu,\"avgRoundUs\":%llu,"
           "\"sendEndUs\":%lld,\"endUs\":%lld,\"cpuUserMs\":%ld,\"cpuSysMs\":%ld,"
           "\"unknownNodeReplies\":%llu,\"strayReplies\":%llu,\"timelineEvents\":%llu,\"timelineDropped\":%llu,"
           "\"addrs\":[",
           opt.shared ? "shared" : "per-addr", opt.vip_str, opt.port, opt.interval_us,
           opt.duration_ms, opt.wait_ms, maxp,
           (unsigned long long)rounds_planned, (unsigned long long)t0, (unsigned long long)rounds_sent,
           (unsigned long long)skipped_rounds, (unsigned long long)behind_ticks,
           (unsigned long long)(max_late_ns / 1000), (unsigned long long)(max_round_ns / 1000),
           (unsigned long long)(rounds_sent ? sum_round_ns / rounds_sent / 1000 : 0),
           rel_us(send_end), rel_us(end),
           (long)(ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000),
           (long)(ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000),
           (unsigned long long)unknown_node_replies, (unsigned long long)stray_replies,
           (unsigned long long)tl_events,
           (unsigned long long)tl_dropped);
    for (int i = 0; i < nsrc; i++) {
        struct paddr *a = &pa[i];
        uint64_t run, run_first;
        miss_run(a, &run, &run_first);
        printf("%s{\"addr\":\"%s\",\"sent\":%llu,\"answered\":%llu,\"lost\":%llu,"
               "\"duplicates\":%llu,\"sendErrors\":%llu,\"icmpErrors\":%llu,\"badReplies\":%llu,"
               "\"foreignReplies\":%llu,\"nodes\":{",
               i ? "," : "", srcs[i].str, (unsigned long long)a->sent,
               (unsigned long long)a->answered,
               (unsigned long long)(a->sent > a->answered ? a->sent - a->answered : 0),
               (unsigned long long)a->dups, (unsigned long long)a->send_err,
               (unsigned long long)a->icmp_err, (unsigned long long)a->bad,
               (unsigned long long)a->foreign);
        int c = 0;
        for (int j = 0; j < nnodes; j++)
            if (a->node_cnt[j])
                printf("%s\"%s\":%u", c++ ? "," : "", node_names[j], a->node_cnt[j]);
        printf("},\"lastNode\":");
        if (a->cur_node >= 0)
            printf("\"%s\"", node_names[a->cur_node]);
        else
            printf("null");
        printf(",\"maxGapUs\":%llu", (unsigned long long)(a->max_gap_ns / 1000));
        int has_gap = a->answered >= 2;
        print_opt_us("maxGapStartUs", a->max_gap_start_ns, has_gap);
        if (has_gap)
            printf(",\"maxGapSeqBefore\":%u,\"maxGapSeqAfter\":%u", a->gap_seq_before,
                   a->gap_seq_after);
        else
            printf(",\"maxGapSeqBefore\":null,\"maxGapSeqAfter\":null");
        printf(",\"maxMissRun\":%llu,\"maxMissRunFirstSeq\":", (unsigned long long)run);
        if (run)
            printf("%llu", (unsigned long long)run_first);
        else
            printf("null");
        print_opt_us("firstUs", a->first_ns, a->answered > 0);
        print_opt_us("lastUs", a->last_ns, a->answered > 0);
        if (a->answered)
            printf(",\"rttAvgUs\":%llu,\"rttMaxUs\":%llu}",
                   (unsigned long long)(a->rtt_sum_ns / a->answered / 1000),
                   (unsigned long long)(a->rtt_max_ns / 1000));
        else
            printf(",\"rttAvgUs\":null,\"rttMaxUs\":null}");
    }
    printf("]}\n");
    if (fflush(stdout) != 0)
        return 1;
    return 0;
}

/* --------------------------------------------------------------------- TCP */

enum { T_IDLE, T_CONNECTING, T_READING, T_DONE };

struct tconn {
    int fd, state, node; /* node: index or -1 */
    const char *err; /* NULL on success */
    uint64_t start_ns, done_ns;
    uint32_t len;
    char buf[VMAC_NAME_MAX + 2];
};

static struct tconn *tc;

static void t_finish(struct tconn *c, const char *err)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = T_DONE;
    c->err = err;
    c->done_ns = mono_ns();
}

static void t_read(struct tconn *c)
{
    for (;;) {
        size_t room = sizeof(c->buf) - c->len;
        ssize_t n = recv(c->fd, c->buf + c->len, room, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            t_finish(c, errname(errno));
            return;
        }
        if (n == 0) {
            t_finish(c, "EOF");
            return;
        }
        c->len += (uint32_t)n;
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t l = (size_t)(nl - c->buf);
            if (l > 0 && c->buf[l - 1] == '\r')
                l--;
            if (!valid_name(c->buf, l)) {
                t_finish(c, "BADNAME");
                return;
            }
            c->node = node_lookup(c->buf, l, -1);
            t_finish(c, c->node < 0 ? "TOOMANYNODES" : NULL);
            return;
        }
        if (c->len >= sizeof(c->buf)) {
            t_finish(c, "BADNAME");
            return;
        }
    }
}

static int run_tcp(void)
{
    raise_nofile(opt.parallel + 32);
    tc = calloc((size_t)nsrc, sizeof(*tc));
    if (!tc)
        die_sys("calloc");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die_sys("epoll_create1");
    t0 = mono_ns();
    uint64_t tmo = (uint64_t)opt.timeout_ms * 1000000ull;
    int next = 0, inflight = 0, done = 0;
    static struct epoll_event evs[1024];
    while (done < nsrc) {
        while (next < nsrc && inflight < opt.parallel) {
            struct tconn *c = &tc[next];
            c->node = -1;
            c->start_ns = mono_ns();
            c->fd = src_socket(next, SOCK_STREAM);
            int r = connect(c->fd, (struct sockaddr *)&vip, viplen);
            if (r < 0 && errno != EINPROGRESS) {
                t_finish(c, errname(errno));
                done++;
                next++;
                continue;
            }
            c->state = r == 0 ? T_READING : T_CONNECTING;
            struct epoll_event ev = { .events = r == 0 ? EPOLLIN : EPOLLOUT,
                                      .data.u32 = (uint32_t)next };
            if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
                die_sys("epoll_ctl");
            inflight++;
            next++;
        }
        if (done >= nsrc)
            break;
        /* Timeout: connections time out in launch order, so the oldest
         * in-flight one has the nearest deadline. */
        uint64_t now = mono_ns(), nearest = UINT64_MAX;
        for (int i = 0; i < next; i++) {
            struct tconn *c = &tc[i];
            if (c->state == T_CONNECTING || c->state == T_READING) {
                if (now - c->start_ns >= tmo) {
                    t_finish(c, "ETIMEDOUT");
                    inflight--;
                    done++;
                } else if (c->start_ns + tmo < nearest) {
                    nearest = c->start_ns + tmo;
                }
            }
        }
        if (inflight == 0)
            continue;
        int timeout = (int)((nearest - now + 999999) / 1000000);
        int n = epoll_wait(ep, evs, 1024, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die_sys("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            struct tconn *c = &tc[evs[k].data.u32];
            if (c->state == T_CONNECTING) {
                int err = 0;
                socklen_t el = sizeof(err);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                    err = errno;
                if (err) {
                    t_finish(c, errname(err));
                } else {
                    c->state = T_READING;
                    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = evs[k].data.u32 };
                    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
                        die_sys("epoll_ctl");
                    t_read(c); /* the greeting may already be there */
                }
            } else if (c->state == T_READING) {
                t_read(c);
            }
            if (c->state == T_DONE) {
                inflight--;
                done++;
            }
        }
    }
    uint64_t end = mono_ns();
    int ok = 0;
    uint32_t cnt[MAX_NODES] = { 0 };
    for (int i = 0; i < nsrc; i++)
        if (!tc[i].err) {
            ok++;
            cnt[tc[i].node]++;
        }
    printf("{\"mode\":\"tcp\",\"vip\":\"%s\",\"port\":%lld,\"timeoutMs\":%lld,\"parallel\":%lld,"
           "\"startMonoNs\":%llu,\"elapsedUs\":%lld,\"ok\":%d,\"failed\":%d,\"nodes\":{",
           opt.vip_str, opt.port, opt.timeout_ms, opt.parallel, (unsigned long long)t0,
           rel_us(end), ok, nsrc - ok);
    int c = 0;
    for (int j = 0; j < nnodes; j++)
        if (cnt[j])
            printf("%s\"%s\":%u", c++ ? "," : "", node_names[j], cnt[j]);
    printf("},\"addrs\":[");
    for (int i = 0; i < nsrc; i++) {
        struct tconn *t = &tc[i];
        printf("%s{\"addr\":\"%s\",\"node\":", i ? "," : "", srcs[i].str);
        if (!t->err)
            printf("\"%s\",\"error\":null", node_names[t->node]);
        else
            printf("null,\"error\":\"%s\"", t->err);
        printf(",\"us\":%llu}", (unsigned long long)((t->done_ns - t->start_ns) / 1000));
    }
    printf("]}\n");
    if (fflush(stdout) != 0)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (parse_ip(opt.vip_str, (uint16_t)opt.port, &vip, &viplen))
        die_usage("bad --vip '%s' (IPv4 or IPv6 literal)", opt.vip_str);
    load_addrs();
    signal(SIGPIPE, SIG_IGN);
    return opt.udp ? run_udp() : run_tcp();
}
