/* vmac-echo: UDP + TCP responder for the vmac lab.
 *
 *   vmac-echo --name NODE --addr IP [--udp PORT] [--tcp PORT]
 *             [--freeze-ms N] [--max-conns N] [--rcvbuf BYTES]
 *
 * UDP: every datagram is answered to its sender with the request bytes
 *      followed by NODE (no terminator).
 * TCP: on accept, "NODE\n" is written; afterwards every byte received is
 *      echoed back unchanged. Nonblocking, many connections, closes on
 *      EOF/error.
 * SIGUSR1: without --freeze-ms toggles "frozen"; with --freeze-ms N freezes
 *      for N ms (a new SIGUSR1 restarts the window). While frozen, UDP
 *      datagrams are read and discarded (not queued), TCP is unaffected.
 * SIGUSR2: print a {"event":"stats",...} line (same counters as "exit").
 * SIGTERM/SIGINT/SIGHUP: exit 0 after printing statistics.
 *
 * stdout carries one JSON object per line:
 *   {"event":"ready",...}, {"event":"freeze",...}, {"event":"thaw",...},
 *   {"event":"stats",...}, {"event":"exit",...}
 * Errors go to stderr; bad arguments exit 2, runtime setup failures exit 1.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define UDP_BATCH 64
#define UDP_BUF 2048 /* largest request we echo; larger ones are dropped */
#define UDP_ROUNDS 16 /* recvmmsg batches per wakeup before yielding */
#define CONN_BUF 16384

enum kind { K_UDP = 1, K_LISTEN, K_SIG, K_CONN };

struct tag {
    enum kind kind;
};

struct conn {
    enum kind kind; /* K_CONN, must be first */
    int fd;
    uint32_t off, len; /* pending output in buf[off..off+len) */
    unsigned char buf[CONN_BUF];
};

static struct {
    char name[VMAC_NAME_MAX + 1];
    size_t namelen;
    const char *addr_str;
    long long udp_port, tcp_port, freeze_ms, max_conns, rcvbuf;
} opt = { .freeze_ms = 0, .max_conns = 4096, .rcvbuf = 4 << 20 };

static struct {
    uint64_t udp_in, udp_out, udp_frozen_drop, udp_send_drop, udp_trunc;
    uint32_t udp_kernel_drops; /* SO_RXQ_OVFL, cumulative in the kernel */
    uint64_t tcp_accepted, tcp_rejected, tcp_closed, tcp_bytes;
    long long conns;
} st;

static int ep = -1;
static int frozen;
static uint64_t frozen_until; /* mono ns; 0 = toggle mode or not frozen */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vmac-echo --name NODE --addr IP [--udp PORT] [--tcp PORT]\n"
            "                 [--freeze-ms N] [--max-conns N] [--rcvbuf BYTES]\n"
            "  NODE: 1..%d chars of [A-Za-z0-9._:-]; IP: IPv4 or IPv6 literal\n"
            "  at least one of --udp/--tcp; --freeze-ms 0..600000 (0 = SIGUSR1 toggles)\n"
            "  --max-conns 1..65536 (default 4096); --rcvbuf 65536..268435456 (default 4 MiB)\n",
            VMAC_NAME_MAX);
}

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vmac-echo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage(stderr);
    exit(2);
}

static void die_sys(const char *what)
{
    fprintf(stderr, "vmac-echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void parse_args(int argc, char **argv)
{
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            die_usage("missing value for %s", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--name"))
            name = v;
        else if (!strcmp(a, "--addr"))
            opt.addr_str = v;
        else if (!strcmp(a, "--udp")) {
            if (parse_ll(v, 1, 65535, &opt.udp_port))
                die_usage("bad --udp port '%s'", v);
        } else if (!strcmp(a, "--tcp")) {
            if (parse_ll(v, 1, 65535, &opt.tcp_port))
                die_usage("bad --tcp port '%s'", v);
        } else if (!strcmp(a, "--freeze-ms")) {
            if (parse_ll(v, 0, 600000, &opt.freeze_ms))
                die_usage("bad --freeze-ms '%s' (0..600000)", v);
        } else if (!strcmp(a, "--max-conns")) {
            if (parse_ll(v, 1, 65536, &opt.max_conns))
                die_usage("bad --max-conns '%s' (1..65536)", v);
        } else if (!strcmp(a, "--rcvbuf")) {
            if (parse_ll(v, 65536, 268435456, &opt.rcvbuf))
                die_usage("bad --rcvbuf '%s' (65536..268435456)", v);
        } else
            die_usage("unknown option %s", a);
    }
    if (!name)
        die_usage("--name is required");
    if (!valid_name(name, strlen(name)))
        die_usage("bad --name '%s' (1..%d chars of [A-Za-z0-9._:-])", name, VMAC_NAME_MAX);
    memcpy(opt.name, name, strlen(name) + 1);
    opt.namelen = strlen(name);
    if (!opt.addr_str)
        die_usage("--addr is required");
    if (!opt.udp_port && !opt.tcp_port)
        die_usage("at least one of --udp / --tcp is required");
}

static void ep_add(int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = { .events = events, .data.ptr = ptr };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die_sys("epoll_ctl add");
}

static int bound_socket(int type, const struct sockaddr_storage *ss, socklen_t len)
{
    int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die_sys("socket");
    int one = 1;
    /* Bind before the VIP exists on an interface. IP_FREEBIND also covers
     * AF_INET6 sockets on Linux. */
    if (setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) < 0)
        die_sys("setsockopt IP_FREEBIND");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        die_sys("setsockopt SO_REUSEADDR");
    if (ss->ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        die_sys("setsockopt IPV6_V6ONLY");
    if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
        fprintf(stderr, "vmac-echo: bind %s %s port %u: %s\n", type == SOCK_DGRAM ? "udp" : "tcp",
                opt.addr_str,
                ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                               : ((const struct sockaddr_in6 *)ss)->sin6_port),
                strerror(errno));
        exit(1);
    }
    return fd;
}

static void conn_close(struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c);
    st.conns--;
    st.tcp_closed++;
}

static void conn_want(struct conn *c, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die_sys("epoll_ctl mod");
}

/* Try to write pending output. Returns -1 if the connection was closed. */
static int conn_flush(struct conn *c)
{
    while (c->len > 0) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->off += (uint32_t)n;
            c->len -= (uint32_t)n;
            st.tcp_bytes += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        conn_close(c);
        return -1;
    }
    c->off = 0;
    return 0;
}

static void on_conn(struct conn *c, uint32_t events)
{
    if (c->len > 0 || (events & EPOLLOUT)) {
        if (conn_flush(c) < 0)
            return;
        if (c->len > 0)
            return; /* still waiting for EPOLLOUT */
        conn_want(c, EPOLLIN);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
        if (n > 0) {
            c->off = 0;
            c->len = (uint32_t)n;
            if (conn_flush(c) < 0)
                return;
            if (c->len > 0)
                conn_want(c, EPOLLOUT); /* stop reading until drained */
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        /* EOF or error. Nothing is pending here (we do not read while
         * output is pending), so everything received was echoed. */
        conn_close(c);
    }
}

static void on_listen(int lfd)
{
    for (int k = 0; k < 256; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                st.tcp_rejected++;
                return; /* retried on the next wakeup */
            }
            return; /* EAGAIN and others */
        }
        if (st.conns >= opt.max_conns) {
            close(fd);
            st.tcp_rejected++;
            continue;
        }
        struct conn *c = malloc(sizeof(*c));
        if (!c) {
            close(fd);
            st.tcp_rejected++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->kind = K_CONN;
        c->fd = fd;
        c->off = 0;
        memcpy(c->buf, opt.name, opt.namelen);
        c->buf[opt.namelen] = '\n';
        c->len = (uint32_t)opt.namelen + 1;
        st.conns++;
        st.tcp_accepted++;
        ep_add(fd, EPOLLIN, c);
        if (conn_flush(c) < 0)
            continue;
        if (c->len > 0)
            conn_want(c, EPOLLOUT);
    }
}

static void emit_event(const char *ev, long long ms)
{
    printf("{\"event\":\"%s\",\"name\":\"%s\",\"monoNs\":%llu", ev, opt.name,
           (unsigned long long)mono_ns());
    if (ms >= 0)
        printf(",\"ms\":%lld", ms);
    printf("}\n");
    fflush(stdout);
}

static int is_frozen(uint64_t now)
{
    if (!frozen)
        return 0;
    if (frozen_until && now >= frozen_until) {
        frozen = 0;
        frozen_until = 0;
        emit_event("thaw", -1);
        return 0;
    }
    return 1;
}

static void print_stats(const char *event)
{
    printf("{\"event\":\"%s\",\"name\":\"%s\",\"monoNs\":%llu,\"udpIn\":%llu,\"udpOut\":%llu,"
           "\"udpFrozenDrops\":%llu,\"udpSendDrops\":%llu,\"udpTooBig\":%llu,"
           "\"udpKernelDrops\":%u,\"tcpAccepted\":%llu,\"tcpRejected\":%llu,\"tcpClosed\":%llu,"
           "\"tcpBytesOut\":%llu,\"tcpOpen\":%lld}\n",
           event, opt.name, (unsigned long long)mono_ns(), (unsigned long long)st.udp_in,
           (unsigned long long)st.udp_out, (unsigned long long)st.udp_frozen_drop,
           (unsigned long long)st.udp_send_drop, (unsigned long long)st.udp_trunc,
           st.udp_kernel_drops, (unsigned long long)st.tcp_accepted,
           (unsigned long long)st.tcp_rejected, (unsigned long long)st.tcp_closed,
           (unsigned long long)st.tcp_bytes, st.conns);
    fflush(stdout);
}

/* UDP batch buffers (static: ~140 KiB). */
static unsigned char ubuf[UDP_BATCH][UDP_BUF + VMAC_NAME_MAX];
static struct sockaddr_storage ufrom[UDP_BATCH];
static struct iovec uiov_in[UDP_BATCH], uiov_out[UDP_BATCH];
static struct mmsghdr umin[UDP_BATCH], umout[UDP_BATCH];
static union {
    char buf[CMSG_SPACE(sizeof(uint32_t))];
    struct cmsghdr align;
} uctl[UDP_BATCH];

static void on_udp(int fd)
{
    for (int round = 0; round < UDP_ROUNDS; round++) {
        for (int i = 0; i < UDP_BATCH; i++) {
            uiov_in[i].iov_base = ubuf[i];
            uiov_in[i].iov_len = UDP_BUF;
            memset(&umin[i].msg_hdr, 0, sizeof(umin[i].msg_hdr));
            umin[i].msg_hdr.msg_name = &ufrom[i];
            umin[i].msg_hdr.msg_namelen = sizeof(ufrom[i]);
            umin[i].msg_hdr.msg_iov = &uiov_in[i];
            umin[i].msg_hdr.msg_iovlen = 1;
            umin[i].msg_hdr.msg_control = uctl[i].buf;
            umin[i].msg_hdr.msg_controllen = sizeof(uctl[i].buf);
        }
        int n = recvmmsg(fd, umin, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return; /* EAGAIN, EINTR or a transient error: epoll will tell us */
        st.udp_in += (uint64_t)n;
        uint64_t now = mono_ns();
        int fr = is_frozen(now);
        int k = 0;
        for (int i = 0; i < n; i++) {
            struct msghdr *h = &umin[i].msg_hdr;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
                    memcpy(&st.udp_kernel_drops, CMSG_DATA(cm), sizeof(uint32_t));
            if (fr) {
                st.udp_frozen_drop++;
                continue;
            }
            if (h->msg_flags & MSG_TRUNC) {
                st.udp_trunc++;
                continue;
            }
            size_t len = umin[i].msg_len;
            memcpy(ubuf[i] + len, opt.name, opt.namelen);
            uiov_out[k].iov_base = ubuf[i];
            uiov_out[k].iov_len = len + opt.namelen;
            memset(&umout[k].msg_hdr, 0, sizeof(umout[k].msg_hdr));
            umout[k].msg_hdr.msg_name = &ufrom[i];
            umout[k].msg_hdr.msg_namelen = h->msg_namelen;
            umout[k].msg_hdr.msg_iov = &uiov_out[k];
            umout[k].msg_hdr.msg_iovlen = 1;
            k++;
        }
        int off = 0;
        while (off < k) {
            int s = sendmmsg(fd, umout + off, (unsigned)(k - off), MSG_DONTWAIT);
            if (s > 0) {
                st.udp_out += (uint64_t)s;
                off += s;
                continue;
            }
            if (s < 0 && errno == EINTR)
                continue;
            /* EAGAIN or a per-destination error on message `off`: drop it and
             * go on with the rest (a UDP responder must never block). */
            st.udp_send_drop++;
            off++;
        }
        if (n < UDP_BATCH)
            return;
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);

    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_ip(opt.addr_str, 0, &ss, &sslen))
        die_usage("bad --addr '%s' (IPv4 or IPv6 literal)", opt.addr_str);

    /* Enough descriptors for --max-conns. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.max_conns + 64) {
        rlim_t want = (rlim_t)opt.max_conns + 64;
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        die_sys("sigprocmask");
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die_sys("signalfd");

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die_sys("epoll_create1");
    static struct tag t_udp = { K_UDP }, t_listen = { K_LISTEN }, t_sig = { K_SIG };
    ep_add(sfd, EPOLLIN, &t_sig);

    int ufd = -1, lfd = -1;
    if (opt.udp_port) {
        struct sockaddr_storage a = ss;
        if (a.ss_family == AF_INET)
            ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)opt.udp_port);
        else
            ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)opt.udp_port);
        ufd = bound_socket(SOCK_DGRAM, &a, sslen);
        int rb = (int)opt.rcvbuf, one = 1;
        /* FORCE ignores net.core.rmem_max (needs CAP_NET_ADMIN); fall back. */
        if (setsockopt(ufd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0)
            setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
        setsockopt(ufd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
        ep_add(ufd, EPOLLIN, &t_udp);
    }
    if (opt.tcp_port) {
        struct sockaddr_storage a = ss;
        if (a.ss_family == AF_INET)
            ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)opt.tcp_port);
        else
            ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)opt.tcp_port);
        lfd = bound_socket(SOCK_STREAM, &a, sslen);
        if (listen(lfd, 4096) < 0)
            die_sys("listen");
        ep_add(lfd, EPOLLIN, &t_listen);
    }

    printf("{\"event\":\"ready\",\"name\":\"%s\",\"addr\":\"%s\",\"udp\":%lld,\"tcp\":%lld,"
           "\"pid\":%ld,\"monoNs\":%llu}\n",
           opt.name, opt.addr_str, opt.udp_port, opt.tcp_port, (long)getpid(),
           (unsigned long long)mono_ns());
    fflush(stdout);

    struct epoll_event evs[256];
    int running = 1;
    while (running) {
        int timeout = -1;
        if (frozen && frozen_until) {
            uint64_t now = mono_ns();
            if (!is_frozen(now))
                timeout = -1;
            else
                timeout = (int)((frozen_until - now + 999999) / 1000000);
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die_sys("epoll_wait");
        }
        if (n == 0 && frozen)
            is_frozen(mono_ns()); /* emits "thaw" on time */
        for (int i = 0; i < n; i++) {
            struct tag *t = evs[i].data.ptr;
            switch (t->kind) {
            case K_UDP:
                on_udp(ufd);
                break;
            case K_LISTEN:
                on_listen(lfd);
                break;
            case K_CONN:
                /* A conn is only ever freed while handling its own event,
                 * and epoll reports each registration at most once per
                 * batch, so no later entry in evs points to freed memory. */
                on_conn((struct conn *)t, evs[i].events);
                break;
            case K_SIG: {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    if (si.ssi_signo == SIGUSR1) {
                        if (opt.freeze_ms > 0) {
                            frozen = 1;
                            frozen_until = mono_ns() + (uint64_t)opt.freeze_ms * 1000000ull;
                            emit_event("freeze", opt.freeze_ms);
                        } else {
                            frozen = !frozen;
                            emit_event(frozen ? "freeze" : "thaw", -1);
                        }
                    } else if (si.ssi_signo == SIGUSR2) {
                        print_stats("stats");
                    } else {
                        running = 0;
                    }
                }
                break;
            }
            }
        }
    }

    print_stats("exit");
    fflush(stdout);
    return 0;
}
