/*
 * vmac-streams: long-lived TCP streams plus a steady rate of new connections to the VIP, from
 * many source addresses; counts what an operation would break.
 *
 *   vmac-streams --vip IP --port P --addrs FILE --streams N --duration-ms D
 *                [--life-ms MIN:MAX] [--new-per-sec R]
 *
 * IP is an IPv4 or IPv6 literal; FILE's addresses are of the same family.
 * Each stream connects from one of the addresses (round robin), reads the echo service's
 * "NODE\n" greeting, then writes 8 bytes every 100 ms and expects them back; it closes after a
 * random lifetime in MIN..MAX ms and is replaced by a new one. Besides, R short connections per
 * second (connect, greeting, 1 byte echoed, close). Output, one JSON line:
 *   opened, closed_ok, resets (ECONNRESET/EPIPE/unexpected EOF), stalls (a stream silent > 1 s),
 *   max_silent_ms, new_ok, new_failed (refused, reset, or no greeting within 3 s: TCP retransmits
 *   a lost SYN after 1 s, so a SYN dropped once is late, not failed), slow_connects (greeting
 *   after more than 1 s: a SYN was lost once), connect_failed (streams that never connected).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 4096
enum kind { STREAM, SHORT };
struct c {
    int fd; enum kind kind; int connected; int greeted; int stalled;
    long long opened_ms, last_echo_ms, next_write_ms, close_at_ms; int pending; char buf[256]; int blen;
};
static struct c cs[MAXC];
static long long now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000LL + t.tv_nsec / 1000000; }
static char addrs[4096][64]; static int naddr, next_addr;
static struct sockaddr_storage vip; static socklen_t viplen; static int family;
static long long opened, closed_ok, resets, stalls, max_silent, new_ok, new_failed, slow_connects, connect_failed;
static long long life_min = 2000, life_max = 6000;

static int open_conn(enum kind k) {
    int i; for (i = 0; i < MAXC && cs[i].fd > 0; i++) {}
    if (i == MAXC) return -1;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage src; memset(&src, 0, sizeof src); socklen_t srclen;
    const char *a = addrs[next_addr++ % naddr];
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src; s6->sin6_family = AF_INET6; srclen = sizeof *s6;
        if (inet_pton(AF_INET6, a, &s6->sin6_addr) != 1) { close(fd); return -1; }
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&src; s4->sin_family = AF_INET; srclen = sizeof *s4;
        if (inet_pton(AF_INET, a, &s4->sin_addr) != 1) { close(fd); return -1; }
    }
    int one = 1; setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, srclen) < 0) { close(fd); return -1; }
    connect(fd, (struct sockaddr *)&vip, viplen);
    long long t = now_ms();
    cs[i] = (struct c){ .fd = fd, .kind = k, .opened_ms = t, .last_echo_ms = t, .next_write_ms = t + 100,
        .close_at_ms = k == STREAM ? t + life_min + rand() % (life_max - life_min + 1) : t + 3000 };
    if (k == STREAM) opened++;
    return i;
}
static void finish(struct c *c, int broken) {
    if (c->kind == STREAM) { if (broken) resets++; else closed_ok++; }
    else { if (broken) new_failed++; else new_ok++; }
    close(c->fd); c->fd = 0;
}
int main(int argc, char **argv) {
    const char *vipstr = NULL, *file = NULL; int port = 0, streams = 0; long long dur = 0, rate = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--vip")) vipstr = argv[i + 1];
        else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--addrs")) file = argv[i + 1];
        else if (!strcmp(argv[i], "--streams")) streams = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration-ms")) dur = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--new-per-sec")) rate = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--life-ms")) { if (sscanf(argv[i + 1], "%lld:%lld", &life_min, &life_max) != 2 || life_min < 1 || life_max < life_min) { fprintf(stderr, "bad --life-ms\n"); return 2; } }
        else { fprintf(stderr, "unknown %s\n", argv[i]); return 2; }
    }
    if (!vipstr || !file || port <= 0 || streams <= 0 || streams > MAXC / 2 || dur <= 0 || dur > 600000) { fprintf(stderr, "usage: see source\n"); return 2; }
    FILE *f = fopen(file, "r"); if (!f) { perror(file); return 2; }
    while (naddr < 4096 && fscanf(f, "%63s", addrs[naddr]) == 1) naddr++;
    fclose(f); if (!naddr) return 2;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&vip; struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&vip;
    if (inet_pton(AF_INET, vipstr, &v4->sin_addr) == 1) { family = AF_INET; v4->sin_family = AF_INET; v4->sin_port = htons(port); viplen = sizeof *v4; }
    else if (inet_pton(AF_INET6, vipstr, &v6->sin6_addr) == 1) { family = AF_INET6; v6->sin6_family = AF_INET6; v6->sin6_port = htons(port); viplen = sizeof *v6; }
    else { fprintf(stderr, "bad --vip %s (IPv4 or IPv6 literal)\n", vipstr); return 2; }
    srand((unsigned)now_ms());
    long long start = now_ms(), end = start + dur, next_new = start;
    for (int i = 0; i < streams; i++) open_conn(STREAM);
    static struct pollfd pf[MAXC]; static int idx[MAXC];
    while (now_ms() < end) {
        long long t = now_ms();
        while (rate > 0 && next_new <= t) { open_conn(SHORT); next_new += 1000 / rate; }
        int n = 0;
        for (int i = 0; i < MAXC; i++) {
            struct c *c = &cs[i]; if (c->fd <= 0) continue;
            if (c->kind == STREAM && c->greeted) {
                long long silent = t - c->last_echo_ms;
                if (silent > max_silent) max_silent = silent;
                if (silent > 1000 && !c->stalled) { c->stalled = 1; stalls++; }
                if (t >= c->close_at_ms && !c->pending) { finish(c, 0); open_conn(STREAM); continue; }
            }
            if (!c->greeted && t - c->opened_ms > 3000) {
                if (c->kind == STREAM) { connect_failed++; close(c->fd); c->fd = 0; open_conn(STREAM); }
                else finish(c, 1);
                continue;
            }
            short ev = POLLIN;
            if (!c->connected || (c->greeted && c->kind == STREAM && t >= c->next_write_ms && !c->pending)) ev |= POLLOUT;
            pf[n] = (struct pollfd){ .fd = c->fd, .events = ev }; idx[n++] = i;
        }
        if (poll(pf, n, 10) < 0 && errno != EINTR) { perror("poll"); return 1; }
        t = now_ms();
        for (int k = 0; k < n; k++) {
            struct c *c = &cs[idx[k]]; if (c->fd <= 0) continue;
            if (pf[k].revents & (POLLERR | POLLHUP)) { int e = 0; socklen_t l = sizeof e; getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l); (void)e; finish(c, 1); if (c->kind == STREAM) open_conn(STREAM); continue; }
            if (pf[k].revents & POLLOUT) {
                c->connected = 1;
                if (c->greeted && !c->pending) {
                    if (write(c->fd, "ping1234", 8) != 8) { finish(c, 1); if (c->kind == STREAM) open_conn(STREAM); continue; }
                    c->pending = 8; c->next_write_ms = t + 100;
                }
            }
            if (pf[k].revents & POLLIN) {
                ssize_t r = read(c->fd, c->buf + c->blen, sizeof c->buf - 1 - c->blen);
                if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; finish(c, 1); if (c->kind == STREAM) open_conn(STREAM); continue; }
                c->blen += (int)r; c->buf[c->blen] = 0;
                if (!c->greeted) {
                    char *nl = memchr(c->buf, '\n', c->blen); if (!nl) continue;
                    c->greeted = 1; c->connected = 1; c->last_echo_ms = t;
                    if (t - c->opened_ms > 1000) slow_connects++;
                    int rest = c->blen - (int)(nl + 1 - c->buf); memmove(c->buf, nl + 1, rest); c->blen = rest;
                    if (c->kind == SHORT) { if (write(c->fd, "x", 1) != 1) { finish(c, 1); continue; } c->pending = 1; }
                    continue;
                }
                if (c->pending && c->blen >= c->pending) {
                    c->blen -= c->pending; c->pending = 0; c->last_echo_ms = t;
                    if (c->kind == SHORT) { finish(c, 0); continue; }
                }
            }
        }
    }
    long long open_now = 0;
    for (int i = 0; i < MAXC; i++) if (cs[i].fd > 0) { if (cs[i].kind == STREAM) open_now++; close(cs[i].fd); }
    printf("{\"opened\":%lld,\"closed_ok\":%lld,\"open_at_end\":%lld,\"resets\":%lld,\"stalls\":%lld,\"max_silent_ms\":%lld,\"new_ok\":%lld,\"new_failed\":%lld,\"slow_connects\":%lld,\"connect_failed\":%lld}\n",
        opened, closed_ok, open_now, resets, stalls, max_silent, new_ok, new_failed, slow_connects, connect_failed);
    return 0;
}
