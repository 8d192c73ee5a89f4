/*
 * Thin N-API shim over libnftables.
 *   open(netnsPath?: string) -> handle      one nft context; its netlink socket is bound to the
 *                                           caller's network namespace, or to netnsPath's
 *   run(handle, commands: string, json: boolean) -> { rc, output, error }
 * Each run is one nft batch: every command in it commits atomically or not at all.
 *
 *   nlOpen(netnsPath?: string) -> socket    one NETLINK_NETFILTER socket (same namespace rule)
 *   nlTalk(socket, batch: Uint8Array, seq: number) -> errno (0: acknowledged)
 * sends one prebuilt nfnetlink batch (src/vmac/lease-batch.ts builds it) and returns the kernel's
 * answer to the message numbered `seq`: 0 for its acknowledgement, else the positive errno.
 * libnftables re-reads the ruleset (about eight netlink round trips) before every command; a
 * lease renewal through this path is one send and one receive. The kernel handles a batch inside
 * sendmsg(), so its answer is queued before send returns: the receive never waits.
 *
 * No policy here: retries, parsing and error classification live in TypeScript.
 *
 * netnsPath (e.g. /run/netns/lab-n1) lets a test or benchmark drive a namespace's ruleset from a
 * process that stays in its own namespace: the calling thread enters the namespace only while
 * the context's socket is created, then returns.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <nftables/libnftables.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "VMAC_NFT_SHIM", #call " failed"); return NULL; } } while (0)

static void finalize_ctx(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  nft_ctx_free((struct nft_ctx *)data);
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *buf = malloc(len + 1);
  if (!buf) return NULL;
  if (napi_get_value_string_utf8(env, v, buf, len + 1, &len) != napi_ok) { free(buf); return NULL; }
  return buf;
}

static struct nft_ctx *new_ctx(void) {
  struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return NULL;
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return ctx;
}

/*
 * Runs make(arg) with the calling thread inside the network namespace at `path` (NULL: where it
 * is), then returns to its own namespace. Sockets keep the namespace they were created in.
 * Returns 0, or -1 when the namespace cannot be entered (nothing was made).
 */
static int in_netns(const char *path, void (*make)(void *), void *arg) {
  if (!path) { make(arg); return 0; }
  int target = open(path, O_RDONLY | O_CLOEXEC);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (target < 0 || self < 0 || setns(target, CLONE_NEWNET) != 0) {
    if (target >= 0) close(target);
    if (self >= 0) close(self);
    return -1;
  }
  make(arg);
  int back = setns(self, CLONE_NEWNET);
  close(target);
  close(self);
  if (back != 0) abort(); /* never keep running JavaScript in the wrong namespace */
  return 0;
}

/* The optional first argument as a string (netns path), or NULL; *bad set on a non-string error. */
static char *optional_path(napi_env env, napi_callback_info info, int *bad) {
  size_t argc = 1;
  napi_value argv[1];
  *bad = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) { *bad = 1; return NULL; }
  napi_valuetype t = napi_undefined;
  if (argc > 0) napi_typeof(env, argv[0], &t);
  if (t != napi_string) return NULL;
  char *path = get_string(env, argv[0]);
  if (!path) *bad = 1;
  return path;
}

static void make_ctx(void *arg) { *(struct nft_ctx **)arg = new_ctx(); }

static napi_value open_ctx(napi_env env, napi_callback_info info) {
  int bad = 0;
  char *path = optional_path(env, info, &bad);
  if (bad) { napi_throw_error(env, "VMAC_NFT_SHIM", "bad netns path"); return NULL; }
  struct nft_ctx *ctx = NULL;
  int entered = in_netns(path, make_ctx, &ctx);
  free(path);
  if (entered != 0) { napi_throw_error(env, "VMAC_NFT_SHIM", "cannot enter the network namespace"); return NULL; }
  if (!ctx) { napi_throw_error(env, "VMAC_NFT_SHIM", "nft_ctx_new failed"); return NULL; }
  napi_value handle;
  CHECK(napi_create_external(env, ctx, finalize_ctx, NULL, &handle));
  return handle;
}

static napi_value make_string(napi_env env, const char *s) {
  napi_value v;
  if (napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
  return v;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) { napi_throw_type_error(env, "VMAC_NFT_SHIM", "run(handle, commands, json)"); return NULL; }
  struct nft_ctx *ctx = NULL;
  CHECK(napi_get_value_external(env, argv[0], (void **)&ctx));
  char *buf = get_string(env, argv[1]);
  if (!buf) { napi_throw_error(env, "VMAC_NFT_SHIM", "bad commands string"); return NULL; }
  bool json = false;
  if (argc > 2) napi_get_value_bool(env, argv[2], &json);
  nft_ctx_output_set_flags(ctx, json ? (NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE) : 0);
  int rc = nft_run_cmd_from_buffer(ctx, buf);
  free(buf);

  napi_value result, rcv;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, rc, &rcv));
  CHECK(napi_set_named_property(env, result, "rc", rcv));
  CHECK(napi_set_named_property(env, result, "output", make_string(env, nft_ctx_get_output_buffer(ctx))));
  CHECK(napi_set_named_property(env, result, "error", make_string(env, nft_ctx_get_error_buffer(ctx))));
  return result;
}

/* ---- one NETLINK_NETFILTER socket for prebuilt batches ---- */

struct nl_sock { int fd; };

static void finalize_nl(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  struct nl_sock *s = data;
  if (s->fd >= 0) close(s->fd);
  free(s);
}

static void make_nl(void *arg) {
  int *fd = arg;
  *fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (*fd < 0) return;
  struct sockaddr_nl local = { .nl_family = AF_NETLINK }; /* nl_pid 0: the kernel picks one */
  /* Error answers carry only the header of the failed message, not the whole request. */
  int one = 1;
  setsockopt(*fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  if (bind(*fd, (struct sockaddr *)&local, sizeof local) != 0) { close(*fd); *fd = -1; }
}

static napi_value nl_open(napi_env env, napi_callback_info info) {
  int bad = 0;
  char *path = optional_path(env, info, &bad);
  if (bad) { napi_throw_error(env, "VMAC_NFT_SHIM", "bad netns path"); return NULL; }
  int fd = -1;
  int entered = in_netns(path, make_nl, &fd);
  free(path);
  if (entered != 0) { napi_throw_error(env, "VMAC_NFT_SHIM", "cannot enter the network namespace"); return NULL; }
  if (fd < 0) { napi_throw_error(env, "VMAC_NFT_SHIM", "cannot open a netfilter netlink socket"); return NULL; }
  struct nl_sock *s = malloc(sizeof *s);
  if (!s) { close(fd); napi_throw_error(env, "VMAC_NFT_SHIM", "out of memory"); return NULL; }
  s->fd = fd;
  napi_value handle;
  if (napi_create_external(env, s, finalize_nl, NULL, &handle) != napi_ok) { finalize_nl(env, s, NULL); napi_throw_error(env, "VMAC_NFT_SHIM", "napi_create_external failed"); return NULL; }
  return handle;
}

static napi_value nl_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct nl_sock *s = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok) { napi_throw_type_error(env, "VMAC_NFT_SHIM", "nlClose(socket)"); return NULL; }
  if (s->fd >= 0) { close(s->fd); s->fd = -1; }
  return NULL;
}

/* No answer to our message was queued (cannot happen for a batch the kernel took in). */
#define NL_NO_ANSWER 1000000

static int nl_answer(int fd, uint32_t seq) {
  /* Answers are small (NETLINK_CAP_ACK): an error or acknowledgement is 36 bytes. */
  char buf[8192] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? NL_NO_ANSWER : errno;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seq) continue; /* a stale answer: skip */
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return EBADMSG;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      return e->error < 0 ? -e->error : e->error;
    }
  }
}

static napi_value nl_talk(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct nl_sock *s = NULL;
  void *data = NULL;
  size_t len = 0;
  uint32_t seq = 0;
  bool is_typed = false;
  if (argc < 3 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok
      || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed
      || napi_get_typedarray_info(env, argv[1], NULL, &len, &data, NULL, NULL) != napi_ok
      || napi_get_value_uint32(env, argv[2], &seq) != napi_ok) {
    napi_throw_type_error(env, "VMAC_NFT_SHIM", "nlTalk(socket, batch: Uint8Array, seq)");
    return NULL;
  }
  int rc;
  if (s->fd < 0) rc = EBADF;
  else {
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t sent;
    do sent = sendto(s->fd, data, len, 0, (struct sockaddr *)&kernel, sizeof kernel); while (sent < 0 && errno == EINTR);
    rc = sent < 0 ? errno : (size_t)sent != len ? EMSGSIZE : nl_answer(s->fd, seq);
  }
  napi_value out;
  CHECK(napi_create_int32(env, rc, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_ctx, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "open", fn));
  CHECK(napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "run", fn));
  CHECK(napi_create_function(env, "nlOpen", NAPI_AUTO_LENGTH, nl_open, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "nlOpen", fn));
  CHECK(napi_create_function(env, "nlTalk", NAPI_AUTO_LENGTH, nl_talk, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "nlTalk", fn));
  CHECK(napi_create_function(env, "nlClose", NAPI_AUTO_LENGTH, nl_close, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "nlClose", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
