/*
 * Thin N-API shim over libnftables.
 *   open(netnsPath?: string) -> handle      one nft context; its netlink socket is bound to the
 *                                           caller's network namespace, or to netnsPath's
 *   run(handle, commands: string, json: boolean) -> { rc, output, error }
 * Each run is one nft batch: every command in it commits atomically or not at all.
 * No policy here: retries, parsing and error classification live in TypeScript.
 *
 * netnsPath (e.g. /run/netns/lab-n1) lets a test or benchmark drive a namespace's ruleset from a
 * process that stays in its own namespace: the calling thread enters the namespace only while
 * the context's socket is created, then returns.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <nftables/libnftables.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
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

static napi_value open_ctx(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t = napi_undefined;
  if (argc > 0) napi_typeof(env, argv[0], &t);
  struct nft_ctx *ctx = NULL;
  if (t == napi_string) {
    char *path = get_string(env, argv[0]);
    if (!path) { napi_throw_error(env, "VMAC_NFT_SHIM", "bad netns path"); return NULL; }
    int target = open(path, O_RDONLY | O_CLOEXEC);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    free(path);
    if (target < 0 || self < 0 || setns(target, CLONE_NEWNET) != 0) {
      if (target >= 0) close(target);
      if (self >= 0) close(self);
      napi_throw_error(env, "VMAC_NFT_SHIM", "cannot enter the network namespace");
      return NULL;
    }
    ctx = new_ctx();
    int back = setns(self, CLONE_NEWNET);
    close(target);
    close(self);
    if (back != 0) abort(); /* never keep running JavaScript in the wrong namespace */
  } else {
    ctx = new_ctx();
  }
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

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_ctx, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "open", fn));
  CHECK(napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "run", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
