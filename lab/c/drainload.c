/* vmac-drainload: many established TCP connections and UDP flows to the VIP, held open until
 * told to end them, for measuring a drain under load (bench/drain-load.ts).
 *
 *   vmac-drainload --vip IP --port P --addrs FILE --tcp N --udp M
 *                  [--tcp-interval-ms 2000] [--udp-interval-ms 1000] [--end-spread-ms 5000]
 *                  [--max-ms 180000] [--ready-timeout-ms 60000]
 *
 * FILE: source addresses (same family as IP, configured in this namespace), one a line, <= 4096.
 * TCP connection i and UDP flow i use address i % addresses (each UDP flow its own socket, so its
 * own source port). Connections are opened in batches of 500 every 50 ms (a listen queue is 4096).
 * Every TCP connection reads the echo's "NODE\n" greeting, then writes 8 bytes every
 * --tcp-interval-ms and expects them back; every UDP flow sends a 20-byte probe (magic, seq, flow,
 * time) every --udp-interval-ms (flows phased evenly over the interval) and counts the answers.
 *
 * stdout, one JSON line each:
 *   {"event":"ready",...}  every connection greeted and every flow answered once (or the ready
 *                          timeout passed: the counts say how many), with where each landed
 *   {"event":"done",...}   after SIGUSR1: each connection and flow ends at a random moment within
 *                          --end-spread-ms (TCP: close after its last echo; UDP: no more
 *                          datagrams), then 1 s for late answers; the totals:
 *     tcp: opened, greeted, resets (ECONNRESET/EPIPE/EOF/error before we closed), stalls (an
 *          echo later than 3 s), connectFailed (no greeting within 10 s), closedOk, nodes
 *          (greetings per node name), switched (echoes never switch: 0 unless a greeting name was
 *          bad)
 *     udp: flows, sent, answered, lost, duplicates, switched (flows answered by two nodes),
 *          errors (ICMP errors reported on the socket), nodes (answers per node name)
 *     endSignalEpochMs, lastTcpEndEpochMs, lastUdpEndEpochMs (the last datagram of the last flow)
 * --max-ms bounds the whole run: at that point everything ends as if signalled.
 * Exit codes: 2 bad arguments, 1 setup failure.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAXADDR 4096
#define MAXNODES 16
#define MAXSEQ 2048 /* probes per UDP flow (bits of its bitmap) */

struct tcpc {
    int fd, greeted, closed, ended, broken, stalled;
    uint64_t opened_ns, sent_ns, end_ns;
    int pending, node;
    char buf[80];
    int blen;
};
struct udpf {
    int fd, ended;
    uint32_t seq;
    uint64_t end_ns;
    uint32_t nodes; /* bitmask of node indexes that answered */
    uint32_t answered;
    unsigned char seen[MAXSEQ / 8];
};
struct tag { int kind; int idx; }; /* kind 1 tcp, 2 udp */

static struct sockaddr_storage addrs[MAXADDR];
static socklen_t addrlens[MAXADDR];
static int naddr;
static struct sockaddr_storage vip;
static socklen_t viplen;
static char node_names[MAXNODES][VMAC_NAME_MAX + 1];
static int nnodes;
static long long tcp_nodes[MAXNODES], udp_nodes[MAXNODES];
static long long tcp_resets, tcp_stalls, tcp_connect_failed, tcp_closed_ok, tcp_opened, tcp_greeted, tcp_bad;
static long long udp_sent, udp_answered, udp_dups, udp_errors, udp_bad;

static uint64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

static int node_index(const char *s, size_t n)
{
    if (!valid_name(s, n))
        return -1;
    for (int i = 0; i < nnodes; i++)
        if (strlen(node_names[i]) == n && !memcmp(node_names[i], s, n))
            return i;
    if (nnodes == MAXNODES)
        return -1;
    memcpy(node_names[nnodes], s, n);
    node_names[nnodes][n] = 0;
    return nnodes++;
}

static void die(const char *what)
{
    fprintf(stderr, "vmac-drainload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void print_nodes(const long long *counts)
{
    printf("{");
    for (int i = 0; i < nnodes; i++)
        printf("%s\"%s\":%lld", i ? "," : "", node_names[i], counts[i]);
    printf("}");
}

static uint64_t last_tcp_end;
static struct tcpc *tc;
static struct udpf *uf;
static struct tag *ttag, *utag;
static long long ntcp, nudp;
static int ep;

static void tcp_fail(struct tcpc *c)
{
    if (!c->closed) {
        if (c->greeted)
            tcp_resets++;
        else
            tcp_connect_failed++;
        c->broken = 1;
        c->closed = 1;
        close(c->fd);
    }
}

static void tcp_open(long long i)
{
    struct tcpc *c = &tc[i];
    int a = (int)(i % naddr);
    c->fd = socket(vip.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket tcp");
    if (bind(c->fd, (struct sockaddr *)&addrs[a], addrlens[a]) < 0)
        die("bind tcp");
    if (connect(c->fd, (struct sockaddr *)&vip, viplen) < 0 && errno != EINPROGRESS)
        die("connect tcp");
    c->opened_ns = mono_ns();
    c->node = -1;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ttag[i] };
    ttag[i] = (struct tag){ 1, (int)i };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll tcp");
    tcp_opened++;
}

static void udp_open(long long i)
{
    struct udpf *f = &uf[i];
    int a = (int)(i % naddr);
    f->fd = socket(vip.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        die("socket udp");
    if (bind(f->fd, (struct sockaddr *)&addrs[a], addrlens[a]) < 0)
        die("bind udp");
    if (connect(f->fd, (struct sockaddr *)&vip, viplen) < 0)
        die("connect udp");
    utag[i] = (struct tag){ 2, (int)i };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &utag[i] };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev) < 0)
        die("epoll udp");
}

static void tcp_read(struct tcpc *c)
{
    for (;;) {
        ssize_t r = read(c->fd, c->buf + c->blen, sizeof c->buf - 1 - (size_t)c->blen);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (r <= 0) {
            static int told;
            if (!told++) fprintf(stderr, "vmac-drainload: first TCP failure: %s\n", r == 0 ? "EOF" : errname(errno));
            tcp_fail(c);
            return;
        }
        c->blen += (int)r;
        if (!c->greeted) {
            char *nl = memchr(c->buf, '\n', (size_t)c->blen);
            if (!nl) {
                if (c->blen >= (int)sizeof c->buf - 1) { tcp_bad++; tcp_fail(c); }
                continue;
            }
            c->node = node_index(c->buf, (size_t)(nl - c->buf));
            if (c->node < 0) { tcp_bad++; tcp_fail(c); return; }
            tcp_nodes[c->node]++;
            c->greeted = 1;
            tcp_greeted++;
            int rest = c->blen - (int)(nl + 1 - c->buf);
            memmove(c->buf, nl + 1, (size_t)rest);
            c->blen = rest;
        }
        if (c->pending && c->blen >= c->pending) {
            c->blen -= c->pending;
            c->pending = 0;
            if (c->ended) { /* its last echo came back: close cleanly */
                c->closed = 1;
                c->end_ns = mono_ns();
                if (c->end_ns > last_tcp_end) last_tcp_end = c->end_ns;
                tcp_closed_ok++;
                close(c->fd);
                return;
            }
        }
    }
}

static void udp_read(long long i)
{
    struct udpf *f = &uf[i];
    unsigned char b[VMAC_PROBE_LEN + VMAC_NAME_MAX + 1];
    for (;;) {
        ssize_t r = recv(f->fd, b, sizeof b, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            udp_errors++; /* an ICMP error on the connected socket */
            continue;
        }
        if (r <= VMAC_PROBE_LEN || get_u32(b) != VMAC_MAGIC || get_u32(b + 8) != (uint32_t)i) { udp_bad++; continue; }
        uint32_t seq = get_u32(b + 4);
        int n = node_index((const char *)b + VMAC_PROBE_LEN, (size_t)r - VMAC_PROBE_LEN);
        if (n < 0 || seq >= f->seq) { udp_bad++; continue; }
        udp_nodes[n]++;
        f->nodes |= 1u << n;
        if (f->seen[seq / 8] & (1u << (seq % 8))) { udp_dups++; continue; }
        f->seen[seq / 8] |= (unsigned char)(1u << (seq % 8));
        f->answered++;
        udp_answered++;
    }
}

static volatile sig_atomic_t end_signal;
static void on_usr1(int s) { (void)s; end_signal = 1; }

int main(int argc, char **argv)
{
    const char *vipstr = NULL, *file = NULL;
    long long port = 0, tcp_iv = 2000, udp_iv = 1000, spread = 5000, max_ms = 180000, ready_ms = 60000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        int bad = 0;
        if (!strcmp(a, "--vip")) vipstr = v;
        else if (!strcmp(a, "--addrs")) file = v;
        else if (!strcmp(a, "--port")) bad = parse_ll(v, 1, 65535, &port);
        else if (!strcmp(a, "--tcp")) bad = parse_ll(v, 0, 60000, &ntcp);
        else if (!strcmp(a, "--udp")) bad = parse_ll(v, 0, 60000, &nudp);
        else if (!strcmp(a, "--tcp-interval-ms")) bad = parse_ll(v, 100, 60000, &tcp_iv);
        else if (!strcmp(a, "--udp-interval-ms")) bad = parse_ll(v, 10, 60000, &udp_iv);
        else if (!strcmp(a, "--end-spread-ms")) bad = parse_ll(v, 0, 600000, &spread);
        else if (!strcmp(a, "--max-ms")) bad = parse_ll(v, 1000, 600000, &max_ms);
        else if (!strcmp(a, "--ready-timeout-ms")) bad = parse_ll(v, 1000, 600000, &ready_ms);
        else { fprintf(stderr, "vmac-drainload: unknown option %s\n", a); return 2; }
        if (bad) { fprintf(stderr, "vmac-drainload: bad value for %s: %s\n", a, v); return 2; }
    }
    if (!vipstr || !file || !port || ntcp + nudp == 0) { fprintf(stderr, "vmac-drainload: --vip, --port, --addrs and --tcp/--udp are required\n"); return 2; }
    if (parse_ip(vipstr, (uint16_t)port, &vip, &viplen)) { fprintf(stderr, "vmac-drainload: bad --vip %s\n", vipstr); return 2; }
    FILE *fp = fopen(file, "r");
    if (!fp) { perror(file); return 2; }
    char line[128];
    while (naddr < MAXADDR && fscanf(fp, "%127s", line) == 1) {
        if (parse_ip(line, 0, &addrs[naddr], &addrlens[naddr]) || addrs[naddr].ss_family != vip.ss_family) { fprintf(stderr, "vmac-drainload: bad address %s\n", line); return 2; }
        naddr++;
    }
    fclose(fp);
    if (!naddr) { fprintf(stderr, "vmac-drainload: no addresses in %s\n", file); return 2; }
    /* Descriptors for every connection and flow (root may raise the hard limit in its namespace's process). */
    struct rlimit rl;
    rlim_t want = (rlim_t)(ntcp + nudp + 64);
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit NOFILE");
    if (rl.rlim_cur < want) {
        if (rl.rlim_max < want) { /* raising the hard limit needs CAP_SYS_RESOURCE */
            struct rlimit up = { .rlim_cur = want, .rlim_max = want };
            if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
                fprintf(stderr, "vmac-drainload: %lld descriptors wanted, the hard limit is %llu: run TCP and UDP in two processes\n", (long long)want, (unsigned long long)rl.rlim_max);
                return 1;
            }
        } else {
            rl.rlim_cur = want;
            if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit NOFILE");
        }
    }
    tc = calloc((size_t)ntcp + 1, sizeof *tc);
    uf = calloc((size_t)nudp + 1, sizeof *uf);
    ttag = calloc((size_t)ntcp + 1, sizeof *ttag);
    utag = calloc((size_t)nudp + 1, sizeof *utag);
    if (!tc || !uf || !ttag || !utag) die("calloc");
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    signal(SIGUSR1, on_usr1);
    srand((unsigned)mono_ns());

    uint64_t t0 = mono_ns(), deadline = t0 + (uint64_t)max_ms * 1000000ull;
    long long topen = 0, uopen = 0;
    uint64_t next_batch = t0, ready_at = 0, end_at = 0, last_udp_end = 0, next_scan = t0;
    uint64_t udp_start = 0, tcp_start = 0;
    long long udp_cursor = 0, tcp_cursor = 0; /* sends so far: flow = cursor % n, round = cursor / n */
    int ready_printed = 0;
    static struct epoll_event evs[512];
    for (;;) {
        uint64_t now = mono_ns();
        if (!end_at && (end_signal || now >= deadline)) {
            end_at = now;
            for (long long i = 0; i < ntcp; i++) tc[i].end_ns = now + (uint64_t)(spread > 0 ? rand() % spread : 0) * 1000000ull;
            for (long long i = 0; i < nudp; i++) uf[i].end_ns = now + (uint64_t)(spread > 0 ? rand() % spread : 0) * 1000000ull;
        }
        /* Open in batches. */
        if ((topen < ntcp || uopen < nudp) && now >= next_batch) {
            for (int k = 0; k < 500 && topen < ntcp; k++) tcp_open(topen++);
            for (int k = 0; k < 500 && uopen < nudp; k++) udp_open(uopen++);
            next_batch = now + 50000000ull;
            if (uopen == nudp && !udp_start) udp_start = now;
        }
        if (!udp_start && nudp == 0) udp_start = now;
        if (!tcp_start && topen == ntcp) tcp_start = now;
        /* UDP sends, phased evenly over the interval. */
        if (udp_start && nudp > 0) {
            for (;;) {
                uint64_t due = udp_start + (uint64_t)((double)udp_cursor * (double)udp_iv * 1e6 / (double)nudp);
                if (due > now) break;
                long long i = udp_cursor % nudp;
                udp_cursor++;
                struct udpf *f = &uf[i];
                if (f->ended) continue;
                if ((end_at && now >= f->end_ns) || f->seq >= MAXSEQ) {
                    f->ended = 1;
                    continue;
                }
                unsigned char b[VMAC_PROBE_LEN];
                put_u32(b, VMAC_MAGIC); put_u32(b + 4, f->seq); put_u32(b + 8, (uint32_t)i); put_u64(b + 12, now);
                if (send(f->fd, b, sizeof b, 0) == (ssize_t)sizeof b) {
                    f->seq++;
                    udp_sent++;
                    if (end_at && now > last_udp_end) last_udp_end = now;
                    if (!end_at) last_udp_end = now;
                } else udp_errors++;
            }
        }
        /* TCP: one echo per connection per interval, phased evenly. */
        if (tcp_start && ntcp > 0) {
            for (;;) {
                uint64_t due = tcp_start + (uint64_t)((double)tcp_cursor * (double)tcp_iv * 1e6 / (double)ntcp);
                if (due > now) break;
                long long i = tcp_cursor % ntcp;
                tcp_cursor++;
                struct tcpc *c = &tc[i];
                if (c->closed || !c->greeted || c->ended) continue;
                if (c->pending) {
                    if (!c->stalled && now > c->sent_ns + 3000000000ull) { c->stalled = 1; tcp_stalls++; }
                    continue;
                }
                if (end_at && now >= c->end_ns) c->ended = 1; /* one last echo, then close */
                if (write(c->fd, "ping1234", 8) != 8) { tcp_fail(c); continue; }
                c->pending = 8;
                c->sent_ns = now;
            }
        }
        /* Connections that never got their greeting (checked every 100 ms). */
        int scan = now >= next_scan;
        if (scan) next_scan = now + 100000000ull;
        for (long long i = 0; scan && i < topen && !ready_at; i++)
            if (!tc[i].closed && !tc[i].greeted && now > tc[i].opened_ns + 10000000000ull) tcp_fail(&tc[i]);
        int n = epoll_wait(ep, evs, 512, 2);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            struct tag *t = evs[k].data.ptr;
            if (t->kind == 1) {
                struct tcpc *c = &tc[t->idx];
                if (!c->closed) tcp_read(c);
            } else udp_read(t->idx);
        }
        now = mono_ns();
        if (scan && !ready_printed && topen == ntcp && uopen == nudp) {
            long long answered_flows = 0;
            for (long long i = 0; i < nudp; i++) answered_flows += uf[i].answered > 0;
            long long settled = 0;
            for (long long i = 0; i < ntcp; i++) settled += tc[i].greeted || tc[i].closed;
            if ((answered_flows == nudp && settled == ntcp) || now - t0 > (uint64_t)ready_ms * 1000000ull) {
                ready_printed = 1;
                ready_at = now;
                printf("{\"event\":\"ready\",\"afterMs\":%llu,\"tcpGreeted\":%lld,\"tcpFailed\":%lld,\"udpFlowsAnswered\":%lld,\"tcpNodes\":", (unsigned long long)((now - t0) / 1000000ull), tcp_greeted, tcp_connect_failed + tcp_resets, answered_flows);
                print_nodes(tcp_nodes);
                printf(",\"udpNodes\":");
                print_nodes(udp_nodes);
                printf("}\n");
                fflush(stdout);
            }
        }
        if (end_at) {
            int open_left = 0;
            for (long long i = 0; i < ntcp && !open_left; i++) open_left = !tc[i].closed;
            for (long long i = 0; i < nudp && !open_left; i++) open_left = !uf[i].ended;
            /* Connections whose last echo never came: give them 3 s, then count and close. */
            if (open_left && now > end_at + (uint64_t)spread * 1000000ull + 2ull * (uint64_t)(tcp_iv > udp_iv ? tcp_iv : udp_iv) * 1000000ull + 3000000000ull) {
                for (long long i = 0; i < ntcp; i++) if (!tc[i].closed) { tcp_stalls++; tc[i].closed = 1; close(tc[i].fd); }
                for (long long i = 0; i < nudp; i++) uf[i].ended = 1;
                open_left = 0;
            }
            if (!open_left) break;
        }
    }
    /* Late answers. */
    uint64_t wait_until = mono_ns() + 1000000000ull;
    while (mono_ns() < wait_until) {
        int n = epoll_wait(ep, evs, 512, 50);
        for (int k = 0; k < n; k++) {
            struct tag *t = evs[k].data.ptr;
            if (t->kind == 2) udp_read(t->idx);
        }
    }
    long long switched = 0, lost = 0;
    for (long long i = 0; i < nudp; i++) {
        switched += __builtin_popcount(uf[i].nodes) > 1;
        lost += (long long)uf[i].seq - (long long)uf[i].answered;
        close(uf[i].fd);
    }
    uint64_t now_mono = mono_ns(), now_real = real_ms();
#define EPOCH(m) ((m) ? (unsigned long long)(now_real - (now_mono - (m)) / 1000000ull) : 0ull)
    printf("{\"event\":\"done\",\"tcp\":{\"opened\":%lld,\"greeted\":%lld,\"resets\":%lld,\"stalls\":%lld,\"connectFailed\":%lld,\"closedOk\":%lld,\"bad\":%lld,\"nodes\":",
           tcp_opened, tcp_greeted, tcp_resets, tcp_stalls, tcp_connect_failed, tcp_closed_ok, tcp_bad);
    print_nodes(tcp_nodes);
    printf("},\"udp\":{\"flows\":%lld,\"sent\":%lld,\"answered\":%lld,\"lost\":%lld,\"duplicates\":%lld,\"switched\":%lld,\"errors\":%lld,\"bad\":%lld,\"nodes\":",
           nudp, udp_sent, udp_answered, lost, udp_dups, switched, udp_errors, udp_bad);
    print_nodes(udp_nodes);
    printf("},\"endSignalEpochMs\":%llu,\"lastTcpEndEpochMs\":%llu,\"lastUdpEndEpochMs\":%llu}\n", EPOCH(end_at), EPOCH(last_tcp_end), EPOCH(last_udp_end));
    return 0;
}
