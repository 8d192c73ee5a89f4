/*
 * Thin N-API shim over libnftables: one context per process, one call.
 *   run(commands: string, json: boolean) -> { rc: number, output: string, error: string }
 * Each call is one nft batch: every command in it commits atomically or not at all.
 * No policy here: retries, parsing and error classification live in TypeScript.
 */
#include <node_api.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

static struct nft_ctx *ctx;

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "VMAC_NFT_SHIM", #call " failed"); return NULL; } } while (0)

static napi_value make_string(napi_env env, const char *s) {
  napi_value v;
  if (napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
  return v;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) { napi_throw_type_error(env, "VMAC_NFT_SHIM", "run(commands, json) needs commands"); return NULL; }
  size_t len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], NULL, 0, &len));
  char *buf = malloc(len + 1);
  if (!buf) { napi_throw_error(env, "VMAC_NFT_SHIM", "out of memory"); return NULL; }
  CHECK(napi_get_value_string_utf8(env, argv[0], buf, len + 1, &len));
  bool json = false;
  if (argc > 1) napi_get_value_bool(env, argv[1], &json);

  if (!ctx) {
    ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) { free(buf); napi_throw_error(env, "VMAC_NFT_SHIM", "nft_ctx_new failed"); return NULL; }
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
  }
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
  CHECK(napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "run", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
