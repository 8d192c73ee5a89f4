/*
 * Thin N-API shim for systemd's notify protocol (sd_notify(3)): Node has no unix *datagram*
 * sockets, and the protocol is one datagram to $NOTIFY_SOCKET. Without libsystemd: the protocol
 * is a documented stable interface, and this keeps the package free of a libsystemd dependency.
 *   send(socketPath: string, message: string) -> bytes sent; throws Error with .code = errno name
 * A path starting with '@' is in the abstract namespace (systemd uses both forms).
 * No policy here: when to send READY=1 / WATCHDOG=1 is decided in TypeScript.
 */
#include <node_api.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "VMAC_SDNOTIFY_SHIM", #call " failed"); return NULL; } } while (0)

static int get_string(napi_env env, napi_value v, char *buf, size_t cap, size_t *len) {
  return napi_get_value_string_utf8(env, v, buf, cap, len) == napi_ok;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == ENOENT ? "ENOENT" : err == ECONNREFUSED ? "ECONNREFUSED" : err == EACCES ? "EACCES" : err == EAGAIN ? "EAGAIN" : "EIO";
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value send_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) { napi_throw_type_error(env, NULL, "send(socketPath, message)"); return NULL; }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  char path[sizeof addr.sun_path + 1];
  size_t plen = 0;
  if (!get_string(env, argv[0], path, sizeof path, &plen) || plen == 0 || plen >= sizeof addr.sun_path) {
    napi_throw_type_error(env, NULL, "socketPath must be a non-empty string shorter than sun_path");
    return NULL;
  }
  memcpy(addr.sun_path, path, plen);
  if (path[0] == '@') addr.sun_path[0] = '\0'; /* abstract namespace */
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '@' ? 0 : 1));
  size_t mlen = 0;
  CHECK(napi_get_value_string_utf8(env, argv[1], NULL, 0, &mlen));
  char *msg = malloc(mlen + 1);
  if (!msg) return throw_errno(env, "malloc", ENOMEM);
  if (!get_string(env, argv[1], msg, mlen + 1, &mlen)) { free(msg); napi_throw_type_error(env, NULL, "message must be a string"); return NULL; }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { int e = errno; free(msg); return throw_errno(env, "socket", e); }
  ssize_t n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
  int e = errno;
  close(fd);
  free(msg);
  if (n < 0) return throw_errno(env, "sendto", e);
  napi_value out;
  CHECK(napi_create_int64(env, (int64_t)n, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  CHECK(napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_notify, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "send", fn));
  return exports;
}
