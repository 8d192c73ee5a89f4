/*
 * Thin N-API shim over ctnetlink (NETLINK_NETFILTER, subsystem CTNETLINK): conntrack dumps
 * without a child process and without text. Raw netlink, no library: the request is a few
 * attributes and the answer is parsed here into fixed 16-byte records that TypeScript reads
 * from one Buffer (no object per entry on the native side).
 *
 *   open(netnsPath | null) -> fd        a netlink socket; with a path, made inside that network
 *                                       namespace (setns on this thread, then back): a netlink
 *                                       socket stays bound to the namespace it was created in.
 *   dump(fd, vipBE, proto) -> Promise<Buffer>
 *                                       IPv4 entries whose original destination is the VIP and
 *                                       whose protocol is `proto` (6 TCP, 17 UDP), filtered by the
 *                                       kernel (CTA_FILTER, Linux >= 5.8). Runs on the libuv pool.
 *   insert(fd, Buffer records, timeoutS) -> count
 *                                       creates entries (tests and benchmarks only: cheap bulk
 *                                       setup of 100,000 entries in a lab namespace).
 *   close(fd)
 *
 * Record (little-endian where numeric, addresses as on the wire):
 *   0  4  saddr (network order)      4 2 sport (host order)   6 2 dport (host order)
 *   8  1  proto   9 1 tcp state (0 if not TCP)   10 1 status bits (bit0 seen reply, bit1 assured)
 *   11 1  0       12 4 remaining timeout in seconds (host order)
 * Errors are thrown as Error with `code` = the errno name (EPERM, ENOENT, ...) and `errno`.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#define RECORD_SIZE 16
/* Kernel-internal filter flag bits (net/netfilter/nf_conntrack_netlink.c). */
#define FILTER_F_IP_DST (1u << 1)
#define FILTER_F_PROTO_NUM (1u << 3)

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "VMAC_CT_SHIM", #call " failed"); return NULL; } } while (0)

static void throw_errno(napi_env env, const char *what, int err) {
  napi_value msg, code, e, no;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  const char *name = err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : err == EINVAL ? "EINVAL" : err == ENOBUFS ? "ENOBUFS" : err == EOPNOTSUPP ? "EOPNOTSUPP" : err == EEXIST ? "EEXIST" : err == EBADF ? "EBADF" : err == EAGAIN ? "EAGAIN" : "EIO";
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &e);
  napi_create_int32(env, err, &no);
  napi_set_named_property(env, e, "errno", no);
  napi_throw(env, e);
}

/* ---- request building ---- */
struct buf { char *p; size_t len, cap; };
static int buf_reserve(struct buf *b, size_t more) {
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap * 2 : 4096;
  while (cap < b->len + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p; b->cap = cap;
  return 0;
}
static size_t put_attr(struct buf *b, uint16_t type, const void *data, uint16_t len) {
  size_t at = b->len, total = NLA_ALIGN(NLA_HDRLEN + len);
  if (buf_reserve(b, total)) return (size_t)-1;
  struct nlattr *a = (struct nlattr *)(b->p + at);
  a->nla_type = type; a->nla_len = NLA_HDRLEN + len;
  if (len) memcpy(b->p + at + NLA_HDRLEN, data, len);
  memset(b->p + at + NLA_HDRLEN + len, 0, total - NLA_HDRLEN - len);
  b->len += total;
  return at;
}
static size_t nest_start(struct buf *b, uint16_t type) { return put_attr(b, type | NLA_F_NESTED, NULL, 0); }
static void nest_end(struct buf *b, size_t at) { ((struct nlattr *)(b->p + at))->nla_len = (uint16_t)(b->len - at); }

static size_t msg_start(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq) {
  size_t at = b->len;
  if (buf_reserve(b, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)))) return (size_t)-1;
  struct nlmsghdr *h = (struct nlmsghdr *)(b->p + at);
  memset(h, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
  h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
  h->nlmsg_seq = seq;
  struct nfgenmsg *g = (struct nfgenmsg *)((char *)h + NLMSG_HDRLEN);
  g->nfgen_family = AF_INET; g->version = NFNETLINK_V0; g->res_id = 0;
  b->len += NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
  return at;
}
static void msg_end(struct buf *b, size_t at) { ((struct nlmsghdr *)(b->p + at))->nlmsg_len = (uint32_t)(b->len - at); }

static size_t put_tuple(struct buf *b, uint16_t which, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport, uint16_t dport, int ports) {
  size_t t = nest_start(b, which);
  size_t ip = nest_start(b, CTA_TUPLE_IP);
  if (src) put_attr(b, CTA_IP_V4_SRC, &src, 4);
  put_attr(b, CTA_IP_V4_DST, &dst, 4);
  nest_end(b, ip);
  size_t pr = nest_start(b, CTA_TUPLE_PROTO);
  put_attr(b, CTA_PROTO_NUM, &proto, 1);
  if (ports) {
    uint16_t s = htons(sport), d = htons(dport);
    put_attr(b, CTA_PROTO_SRC_PORT, &s, 2);
    put_attr(b, CTA_PROTO_DST_PORT, &d, 2);
  }
  nest_end(b, pr);
  nest_end(b, t);
  return b->len;
}

/* ---- answer parsing ---- */
static const struct nlattr *first(const void *data, size_t len, size_t *left) { *left = len; return (const struct nlattr *)data; }
#define ATTR_OK(a, left) ((left) >= NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN && (a)->nla_len <= (left))
static const struct nlattr *attr_next(const struct nlattr *a, size_t *left) {
  size_t step = NLA_ALIGN((size_t)a->nla_len);
  *left = step < *left ? *left - step : 0;
  return (const struct nlattr *)((const char *)a + step);
}
#define ATTR_NEXT(a, left) attr_next((a), &(left))
#define ATTR_TYPE(a) ((a)->nla_type & NLA_TYPE_MASK)
#define ATTR_DATA(a) ((const char *)(a) + NLA_HDRLEN)
#define ATTR_LEN(a) ((size_t)(a)->nla_len - NLA_HDRLEN)

static void parse_tuple(const struct nlattr *t, uint8_t *rec) {
  size_t left;
  for (const struct nlattr *a = first(ATTR_DATA(t), ATTR_LEN(t), &left); ATTR_OK(a, left); a = ATTR_NEXT(a, left)) {
    size_t l2;
    if (ATTR_TYPE(a) == CTA_TUPLE_IP) {
      for (const struct nlattr *x = first(ATTR_DATA(a), ATTR_LEN(a), &l2); ATTR_OK(x, l2); x = ATTR_NEXT(x, l2))
        if (ATTR_TYPE(x) == CTA_IP_V4_SRC && ATTR_LEN(x) == 4) memcpy(rec, ATTR_DATA(x), 4);
    } else if (ATTR_TYPE(a) == CTA_TUPLE_PROTO) {
      for (const struct nlattr *x = first(ATTR_DATA(a), ATTR_LEN(a), &l2); ATTR_OK(x, l2); x = ATTR_NEXT(x, l2)) {
        uint16_t p;
        if (ATTR_TYPE(x) == CTA_PROTO_NUM && ATTR_LEN(x) >= 1) rec[8] = *(const uint8_t *)ATTR_DATA(x);
        else if (ATTR_TYPE(x) == CTA_PROTO_SRC_PORT && ATTR_LEN(x) == 2) { memcpy(&p, ATTR_DATA(x), 2); p = ntohs(p); memcpy(rec + 4, &p, 2); }
        else if (ATTR_TYPE(x) == CTA_PROTO_DST_PORT && ATTR_LEN(x) == 2) { memcpy(&p, ATTR_DATA(x), 2); p = ntohs(p); memcpy(rec + 6, &p, 2); }
      }
    }
  }
}

static void parse_entry(const struct nlmsghdr *h, uint8_t *rec) {
  memset(rec, 0, RECORD_SIZE);
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
  if (h->nlmsg_len < off) return;
  size_t left;
  for (const struct nlattr *a = first((const char *)h + off, h->nlmsg_len - off, &left); ATTR_OK(a, left); a = ATTR_NEXT(a, left)) {
    uint32_t v;
    switch (ATTR_TYPE(a)) {
      case CTA_TUPLE_ORIG: parse_tuple(a, rec); break;
      case CTA_STATUS:
        if (ATTR_LEN(a) == 4) { memcpy(&v, ATTR_DATA(a), 4); v = ntohl(v); rec[10] = (uint8_t)(((v >> 1) & 1) | (((v >> 2) & 1) << 1)); }
        break;
      case CTA_TIMEOUT:
        if (ATTR_LEN(a) == 4) { memcpy(&v, ATTR_DATA(a), 4); v = ntohl(v); memcpy(rec + 12, &v, 4); }
        break;
      case CTA_PROTOINFO: {
        size_t l2, l3;
        for (const struct nlattr *x = first(ATTR_DATA(a), ATTR_LEN(a), &l2); ATTR_OK(x, l2); x = ATTR_NEXT(x, l2))
          if (ATTR_TYPE(x) == CTA_PROTOINFO_TCP)
            for (const struct nlattr *y = first(ATTR_DATA(x), ATTR_LEN(x), &l3); ATTR_OK(y, l3); y = ATTR_NEXT(y, l3))
              if (ATTR_TYPE(y) == CTA_PROTOINFO_TCP_STATE && ATTR_LEN(y) >= 1) rec[9] = *(const uint8_t *)ATTR_DATA(y);
        break;
      }
    }
  }
}

/* ---- dump (on the libuv pool) ---- */
struct dump_job {
  int fd; uint32_t vip; uint8_t proto;
  struct buf out; int err;
  napi_deferred deferred; napi_async_work work;
};

static int send_all(int fd, const struct buf *b) {
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  ssize_t n = sendto(fd, b->p, b->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  return n < 0 ? errno : (size_t)n != b->len ? EIO : 0;
}

static void dump_execute(napi_env env, void *data) {
  (void)env;
  struct dump_job *j = data;
  struct buf req = {0};
  static uint32_t seqs = 1;
  uint32_t seq = __atomic_add_fetch(&seqs, 1, __ATOMIC_RELAXED);
  size_t m = msg_start(&req, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq);
  put_tuple(&req, CTA_TUPLE_ORIG, 0, j->vip, j->proto, 0, 0, 0);
  size_t f = nest_start(&req, CTA_FILTER);
  uint32_t orig = FILTER_F_IP_DST | FILTER_F_PROTO_NUM, reply = 0;
  put_attr(&req, CTA_FILTER_ORIG_FLAGS, &orig, 4);
  put_attr(&req, CTA_FILTER_REPLY_FLAGS, &reply, 4);
  nest_end(&req, f);
  msg_end(&req, m);
  j->err = send_all(j->fd, &req);
  free(req.p);
  if (j->err) return;
  size_t cap = 1 << 17;
  char *rx = malloc(cap);
  if (!rx) { j->err = ENOMEM; return; }
  for (int done = 0; !done;) {
    ssize_t n = recv(j->fd, rx, cap, 0);
    if (n < 0) { if (errno == EINTR) continue; j->err = errno; break; }
    size_t left = (size_t)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue; /* a late answer to an earlier request */
      if (h->nlmsg_type == NLMSG_DONE) { done = 1; break; }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error != 0) { j->err = -e->error; done = 1; break; }
        continue;
      }
      if (buf_reserve(&j->out, RECORD_SIZE)) { j->err = ENOMEM; done = 1; break; }
      parse_entry(h, (uint8_t *)j->out.p + j->out.len);
      j->out.len += RECORD_SIZE;
    }
  }
  free(rx);
}

static void finalize_free(napi_env env, void *data, void *hint) { (void)env; (void)hint; free(data); }

static void dump_complete(napi_env env, napi_status status, void *data) {
  struct dump_job *j = data;
  napi_value v;
  if (status != napi_ok || j->err) {
    napi_value msg, code, e, no;
    char text[120];
    int err = j->err ? j->err : EIO;
    snprintf(text, sizeof text, "conntrack dump: %s", strerror(err));
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, err == EPERM ? "EPERM" : err == ENOBUFS ? "ENOBUFS" : err == EINVAL ? "EINVAL" : "EIO", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &e);
    napi_create_int32(env, err, &no);
    napi_set_named_property(env, e, "errno", no);
    napi_reject_deferred(env, j->deferred, e);
    free(j->out.p);
  } else if (j->out.len == 0) {
    napi_create_buffer(env, 0, NULL, &v);
    napi_resolve_deferred(env, j->deferred, v);
    free(j->out.p);
  } else {
    napi_create_external_buffer(env, j->out.len, j->out.p, finalize_free, NULL, &v);
    napi_resolve_deferred(env, j->deferred, v);
  }
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value dump(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  int32_t fd; uint32_t vip, proto;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[1], &vip) != napi_ok || napi_get_value_uint32(env, argv[2], &proto) != napi_ok) {
    napi_throw_type_error(env, "VMAC_CT_ARG", "dump(fd: number, vipNetworkOrder: number, proto: number)");
    return NULL;
  }
  struct dump_job *j = calloc(1, sizeof *j);
  if (!j) { throw_errno(env, "conntrack dump", ENOMEM); return NULL; }
  j->fd = fd; j->vip = vip; j->proto = (uint8_t)proto;
  CHECK(napi_create_promise(env, &j->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "vmac_conntrack_dump", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, dump_execute, dump_complete, j, &j->work));
  CHECK(napi_queue_async_work(env, j->work));
  return promise;
}

/* ---- open / close ---- */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char path[512] = "";
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t == napi_string) { size_t n; CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &n)); }
  int self = -1, target = -1, fd = -1, err = 0;
  if (path[0]) {
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (self < 0 || target < 0) err = errno;
    else if (setns(target, CLONE_NEWNET) != 0) err = errno;
  }
  if (!err) {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) err = errno;
  }
  if (path[0] && self >= 0 && setns(self, CLONE_NEWNET) != 0 && !err) err = errno;
  if (self >= 0) close(self);
  if (target >= 0) close(target);
  if (!err && fd >= 0) {
    int rcv = 4 << 20; /* large dumps: the kernel fills the socket faster than one recv loop drains it */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    /* A dump that stalls fails (EAGAIN) instead of holding a libuv pool thread, and process exit, forever. */
    struct timeval tv = { .tv_sec = 5, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) err = errno;
  }
  if (err) { if (fd >= 0) close(fd); throw_errno(env, "conntrack netlink socket", err); return NULL; }
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) { napi_throw_type_error(env, "VMAC_CT_ARG", "close(fd: number)"); return NULL; }
  close(fd);
  return NULL;
}

/* ---- insert (tests, benchmarks) ---- */
static napi_value insert(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  int32_t fd; uint32_t timeout;
  void *data; size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || napi_get_value_uint32(env, argv[2], &timeout) != napi_ok || len % RECORD_SIZE != 0) {
    napi_throw_type_error(env, "VMAC_CT_ARG", "insert(fd: number, records: Buffer (16 bytes each), timeoutS: number)");
    return NULL;
  }
  /* Records here: saddr(4, network order) sport(2) dport(2) proto(1) tcpState(1) ... vip at 12..16 (network order). */
  const uint8_t *r = data;
  size_t count = len / RECORD_SIZE, sent = 0;
  int err = 0;
  char *rx = malloc(1 << 16);
  if (!rx) { throw_errno(env, "conntrack insert", ENOMEM); return NULL; }
  while (sent < count && !err) {
    struct buf b = {0};
    size_t batch = count - sent < 256 ? count - sent : 256;
    for (size_t i = 0; i < batch; i++) {
      const uint8_t *e = r + (sent + i) * RECORD_SIZE;
      uint32_t saddr, vip; uint16_t sport, dport;
      memcpy(&saddr, e, 4); memcpy(&sport, e + 4, 2); memcpy(&dport, e + 6, 2); memcpy(&vip, e + 12, 4);
      size_t m = msg_start(&b, IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, (uint32_t)(sent + i + 1));
      put_tuple(&b, CTA_TUPLE_ORIG, saddr, vip, e[8], sport, dport, 1);
      /* The reply tuple of a DNAT-free flow: addresses and ports swapped (src must be set). */
      size_t t = nest_start(&b, CTA_TUPLE_REPLY);
      size_t ip = nest_start(&b, CTA_TUPLE_IP);
      put_attr(&b, CTA_IP_V4_SRC, &vip, 4); put_attr(&b, CTA_IP_V4_DST, &saddr, 4);
      nest_end(&b, ip);
      size_t pr = nest_start(&b, CTA_TUPLE_PROTO);
      uint16_t s = htons(dport), d = htons(sport);
      put_attr(&b, CTA_PROTO_NUM, &e[8], 1); put_attr(&b, CTA_PROTO_SRC_PORT, &s, 2); put_attr(&b, CTA_PROTO_DST_PORT, &d, 2);
      nest_end(&b, pr); nest_end(&b, t);
      uint32_t to = htonl(timeout);
      put_attr(&b, CTA_TIMEOUT, &to, 4);
      if (e[8] == IPPROTO_TCP) {
        size_t pi = nest_start(&b, CTA_PROTOINFO), tcp = nest_start(&b, CTA_PROTOINFO_TCP);
        put_attr(&b, CTA_PROTOINFO_TCP_STATE, &e[9], 1);
        nest_end(&b, tcp); nest_end(&b, pi);
      }
      /* No CTA_STATUS: the kernel refuses to set reply bits on a created entry (EBUSY). */
      msg_end(&b, m);
    }
    err = send_all(fd, &b);
    free(b.p);
    for (size_t acked = 0; !err && acked < batch;) {
      ssize_t n = recv(fd, rx, 1 << 16, 0);
      if (n < 0) { if (errno == EINTR) continue; err = errno; break; }
      size_t left = (size_t)n;
      for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        const struct nlmsgerr *e = NLMSG_DATA(h);
        acked++;
        if (e->error != 0 && -e->error != EEXIST) { err = -e->error; break; }
      }
    }
    sent += batch;
  }
  free(rx);
  if (err) { throw_errno(env, "conntrack insert", err); return NULL; }
  CHECK(napi_create_uint32(env, (uint32_t)sent, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL },
    { "dump", NULL, dump, NULL, NULL, NULL, napi_default, NULL },
    { "insert", NULL, insert, NULL, NULL, NULL, napi_default, NULL },
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
