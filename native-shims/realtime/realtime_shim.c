/*
 * Thin N-API shim for the heartbeat path's scheduling, as corosync does it.
 *   setFifo(priority) -> { rc, errno, threads }
 *       SCHED_FIFO | SCHED_RESET_ON_FORK for every thread of the process (/proc/self/task), as
 *       `chrt -a` does; threads made later inherit it; child processes (ip, the service) do not.
 *
 * No mlockall here, on purpose: with any locked mapping (MCL_CURRENT, with or without
 * MCL_FUTURE and MCL_ONFAULT) Node 20's V8 aborts ("Check failed: 0 == ret" in
 * OS::SetPermissions) as soon as it makes a code page executable, because V8's code range is
 * one big reservation that mlockall locks. Seen here within seconds of a daemon's start.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <string.h>
#include <dirent.h>
#include <sched.h>
#include <stdlib.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "VMAC_RT_SHIM", #call " failed"); return NULL; } } while (0)

static napi_value outcome(napi_env env, int rc, int err) {
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_int32(env, rc, &v));
  CHECK(napi_set_named_property(env, obj, "rc", v));
  CHECK(napi_create_int32(env, err, &v));
  CHECK(napi_set_named_property(env, obj, "errno", v));
  return obj;
}

static napi_value set_fifo(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t prio = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &prio) != napi_ok) { napi_throw_type_error(env, "VMAC_RT_ARG", "setFifo(priority: number)"); return NULL; }
  struct sched_param sp;
  memset(&sp, 0, sizeof sp);
  sp.sched_priority = prio;
  int rc = 0, err = 0, threads = 0;
  DIR *d = opendir("/proc/self/task");
  if (!d) { rc = -1; err = errno; }
  else {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      pid_t tid = (pid_t)atoi(e->d_name);
      if (sched_setscheduler(tid, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0) { rc = -1; err = errno; break; }
      threads++;
    }
    closedir(d);
  }
  napi_value obj = outcome(env, rc, err), v;
  CHECK(napi_create_int32(env, threads, &v));
  CHECK(napi_set_named_property(env, obj, "threads", v));
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "setFifo", NULL, set_fifo, NULL, NULL, NULL, napi_default, NULL },
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
