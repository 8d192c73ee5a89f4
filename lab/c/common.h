/* Shared helpers for the vmac lab tools (vmac-echo, vmac-prober).
 * Header-only, libc only. */
#ifndef VMAC_LAB_COMMON_H
#define VMAC_LAB_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Probe payload, packed by hand (no struct padding on the wire):
 *   0  u32 magic   (network order)
 *   4  u32 seq     (network order)
 *   8  u32 index   (network order, address index in the prober's list)
 *  12  u64 sendNs  (network order, CLOCK_MONOTONIC of the prober)
 * The echo returns these bytes followed by its node name (no terminator). */
#define VMAC_MAGIC 0x564d4143u /* "VMAC" */
#define VMAC_PROBE_LEN 20
#define VMAC_NAME_MAX 63 /* max node name length in bytes */

static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void put_u32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static inline uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

static inline uint64_t get_u64(const unsigned char *p)
{
    return ((uint64_t)get_u32(p) << 32) | get_u32(p + 4);
}

/* Node names: 1..63 bytes of [A-Za-z0-9._:-]. Keeps JSON/CSV output safe
 * without escaping and rejects garbage replies. */
static inline int valid_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':';
}

static inline int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > VMAC_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!valid_name_char((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Parse a decimal integer in [lo, hi]; returns 0 on success. */
static inline int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Parse an IPv4 or IPv6 literal (no scope ids) into a sockaddr with port. */
static inline int parse_ip(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *len = sizeof(*a4);
        return 0;
    }
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof(*a6);
        return 0;
    }
    return -1;
}

/* Errno to its symbolic name ("ETIMEDOUT"); glibc >= 2.32. */
static inline const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "EUNKNOWN";
}

#endif
