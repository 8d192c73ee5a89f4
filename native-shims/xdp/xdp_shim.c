/*
 * Thin N-API shim over libbpf for vmac's XDP data path (native-shims/xdp/vmac_xdp.bpf.c).
 *
 *   load(objPath, buckets) -> { prog, progId, tcProg, maps: { vmac_cfg: fd, ... } }
 *       opens the object, sizes vmac_owned (2*buckets) and vmac_count (buckets), loads it
 *       (verifier) and returns duplicated fds; the libbpf object is closed again.
 *   ifInfo(netnsPath|null, ifname) -> { ifindex, mac: Buffer(6), progId, generic, driver }   progId: the
 *       XDP program attached now in either mode (0: none), generic 1 when in skb mode
 *   attach(netnsPath|null, ifname, progFd, oldProgId, generic) -> errno (0 ok)
 *       native (driver) mode, or generic (skb) mode with `generic`. oldProgId 0: only if none is attached (XDP_FLAGS_UPDATE_IF_NOEXIST);
 *       else an atomic replace of exactly that program (XDP_FLAGS_REPLACE): EEXIST / EBUSY when
 *       another one is there.
 *   detach(netnsPath|null, ifname, progId, generic) -> errno     removes exactly that program
 *   tcAttach(netnsPath|null, ifname, tcProgFd) -> { rc, createdQdisc }   tcDetach(ns, ifname,
 *       destroyQdisc) -> errno: the veth-only pkt_type fix-up (vmac_tc_host in the BPF object)
 *   progMaps(progId) -> { name, maps: { <name>: fd } } | null     an attached program's maps
 *       (a restarted daemon adopts them); null: no such program
 *   mapUpdate(fd, keys: Uint32Array, values: Buffer) -> errno     one BPF_MAP_UPDATE_BATCH
 *       (one syscall; ARRAY maps), value i at values[i*valueSize]
 *   mapLookup(fd, key, valueBytes) -> Buffer | null    (per-CPU maps: valueBytes for all CPUs)
 *   closeFd(fd)   possibleCpus() -> number
 *   testRun(progFd, frame) -> { retval, frame }   BPF_PROG_TEST_RUN: the program on one frame (tests)
 *
 * The program is attached through netlink, not a bpf_link: like the nft table it stays when the
 * process dies, so a crashed daemon's node still drops foreign buckets, hides the VIP from the
 * kernel's ARP, and stops answering its own when the lease deadline in vmac_state passes. Stop
 * (and a crash-restart's install, by an atomic replace) removes it. No pinning: an attached
 * program is found again by its interface (ifInfo -> progMaps).
 *
 * netnsPath lets a test drive another namespace's interface: the calling thread enters it only
 * for the netlink call, then returns (maps and programs are not per namespace).
 * No policy here: checks, retries and error names live in TypeScript (native-shims/xdp.ts).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "VMAC_XDP_SHIM", #call " failed"); return NULL; } } while (0)

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *buf = malloc(len + 1);
  if (!buf) return NULL;
  if (napi_get_value_string_utf8(env, v, buf, len + 1, &len) != napi_ok) { free(buf); return NULL; }
  return buf;
}

/* NULL for undefined/null, else the string (caller frees). *ok = 0 on a type error. */
static char *opt_string(napi_env env, napi_value v, int *ok) {
  napi_valuetype t;
  *ok = 1;
  if (napi_typeof(env, v, &t) != napi_ok) { *ok = 0; return NULL; }
  if (t == napi_undefined || t == napi_null) return NULL;
  if (t != napi_string) { *ok = 0; return NULL; }
  char *s = get_string(env, v);
  if (!s) *ok = 0;
  return s;
}

static napi_value num(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

/* Enters the namespace at path (NULL: stays); returns the fd to come back with, -1 none, -2 failed. */
static int enter_netns(const char *path) {
  if (!path) return -1;
  int target = open(path, O_RDONLY | O_CLOEXEC);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (target < 0 || self < 0 || setns(target, CLONE_NEWNET) != 0) {
    if (target >= 0) close(target);
    if (self >= 0) close(self);
    return -2;
  }
  close(target);
  return self;
}

static void leave_netns(int self) {
  if (self < 0) return;
  int back = setns(self, CLONE_NEWNET);
  close(self);
  if (back != 0) abort(); /* never keep running JavaScript in the wrong namespace */
}

static napi_value add_map_fds(napi_env env, struct bpf_object *obj, napi_value maps) {
  struct bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    int fd = dup(bpf_map__fd(m));
    if (fd < 0) return NULL;
    napi_set_named_property(env, maps, bpf_map__name(m), num(env, fd));
  }
  return maps;
}

static napi_value js_load(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = get_string(env, argv[0]);
  uint32_t buckets = 0;
  if (!path || napi_get_value_uint32(env, argv[1], &buckets) != napi_ok || buckets == 0) {
    free(path);
    napi_throw_type_error(env, "VMAC_XDP_SHIM", "load(objPath, buckets)");
    return NULL;
  }
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  free(path);
  int err = libbpf_get_error(obj);
  if (err) { napi_throw_error(env, "VMAC_XDP_LOAD", strerror(-err)); return NULL; }
  struct bpf_map *owned = bpf_object__find_map_by_name(obj, "vmac_owned");
  struct bpf_map *counts = bpf_object__find_map_by_name(obj, "vmac_count");
  struct bpf_program *prog = bpf_object__find_program_by_name(obj, "vmac_xdp");
  struct bpf_program *tc = bpf_object__find_program_by_name(obj, "vmac_tc_host");
  if (!owned || !counts || !prog || !tc) { bpf_object__close(obj); napi_throw_error(env, "VMAC_XDP_LOAD", "the object lacks vmac_xdp, vmac_owned or vmac_count"); return NULL; }
  bpf_map__set_max_entries(owned, 2 * buckets);
  bpf_map__set_max_entries(counts, buckets);
  err = bpf_object__load(obj);
  if (err) { bpf_object__close(obj); napi_throw_error(env, "VMAC_XDP_LOAD", strerror(err < 0 ? -err : err)); return NULL; }
  napi_value out, maps;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_object(env, &maps));
  int pfd = dup(bpf_program__fd(prog));
  int tfd = dup(bpf_program__fd(tc));
  struct bpf_prog_info pinfo;
  __u32 plen = sizeof(pinfo);
  memset(&pinfo, 0, sizeof(pinfo));
  if (pfd < 0 || tfd < 0 || bpf_obj_get_info_by_fd(pfd, &pinfo, &plen) != 0 || !add_map_fds(env, obj, maps)) {
    bpf_object__close(obj);
    napi_throw_error(env, "VMAC_XDP_LOAD", strerror(errno));
    return NULL;
  }
  bpf_object__close(obj);
  napi_set_named_property(env, out, "prog", num(env, pfd));
  napi_set_named_property(env, out, "progId", num(env, pinfo.id));
  napi_set_named_property(env, out, "tcProg", num(env, tfd));
  napi_set_named_property(env, out, "maps", maps);
  return out;
}

static napi_value js_if_info(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int ok;
  char *ns = opt_string(env, argv[0], &ok);
  char *ifname = ok ? get_string(env, argv[1]) : NULL;
  if (!ok || !ifname || strlen(ifname) >= IFNAMSIZ) { free(ns); free(ifname); napi_throw_type_error(env, "VMAC_XDP_SHIM", "ifInfo(netnsPath, ifname)"); return NULL; }
  int self = enter_netns(ns);
  free(ns);
  if (self == -2) { free(ifname); napi_throw_error(env, "VMAC_XDP_NETNS", "cannot enter the network namespace"); return NULL; }
  int ifindex = (int)if_nametoindex(ifname);
  int e = errno;
  unsigned char mac[6] = {0};
  char driver[32] = {0};
  __u32 prog_id = 0;
  __u8 mode = 0;
  if (ifindex > 0) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0 && ioctl(s, SIOCGIFHWADDR, &ifr) == 0) memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    else e = errno;
    struct ethtool_drvinfo drv;
    memset(&drv, 0, sizeof(drv));
    drv.cmd = ETHTOOL_GDRVINFO;
    ifr.ifr_data = (void *)&drv;
    if (s >= 0 && ioctl(s, SIOCETHTOOL, &ifr) == 0) memcpy(driver, drv.driver, sizeof(drv.driver) - 1);
    if (s >= 0) close(s);
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(ifindex, 0, &q) == 0) { prog_id = q.prog_id; mode = q.attach_mode; }
  }
  leave_netns(self);
  free(ifname);
  if (ifindex <= 0) { napi_throw_error(env, "ENODEV", strerror(e)); return NULL; }
  napi_value out, buf;
  void *p;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_buffer_copy(env, 6, mac, &p, &buf));
  napi_set_named_property(env, out, "ifindex", num(env, ifindex));
  napi_set_named_property(env, out, "mac", buf);
  napi_set_named_property(env, out, "progId", num(env, prog_id));
  napi_set_named_property(env, out, "generic", num(env, mode == XDP_ATTACHED_SKB ? 1 : 0));
  napi_value drvname;
  CHECK(napi_create_string_utf8(env, driver, NAPI_AUTO_LENGTH, &drvname));
  napi_set_named_property(env, out, "driver", drvname);
  return out;
}

/* attach(ns, ifname, progFd, oldProgId) / detach(ns, ifname, progId): returns errno. */
static napi_value xdp_set(napi_env env, napi_callback_info info, int attaching) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int ok;
  char *ns = opt_string(env, argv[0], &ok);
  char *ifname = ok ? get_string(env, argv[1]) : NULL;
  int32_t prog_fd = -1;
  uint32_t old_id = 0;
  if (!ok || !ifname) { free(ns); free(ifname); napi_throw_type_error(env, "VMAC_XDP_SHIM", "attach/detach(netnsPath, ifname, ...)"); return NULL; }
  bool generic = false;
  if (attaching) {
    napi_get_value_int32(env, argv[2], &prog_fd);
    napi_get_value_uint32(env, argv[3], &old_id);
    napi_get_value_bool(env, argv[4], &generic);
  } else {
    napi_get_value_uint32(env, argv[2], &old_id);
    napi_get_value_bool(env, argv[3], &generic);
  }
  int old_fd = -1;
  int rc = 0;
  if (old_id != 0) {
    old_fd = bpf_prog_get_fd_by_id(old_id);
    if (old_fd < 0) rc = errno;
  }
  int self = rc == 0 ? enter_netns(ns) : -1;
  free(ns);
  if (self == -2) rc = errno ? errno : EINVAL;
  if (rc == 0) {
    int ifindex = (int)if_nametoindex(ifname);
    if (ifindex <= 0) rc = errno ? errno : ENODEV;
    else {
      LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
      __u32 flags = (generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE) | (old_id != 0 ? XDP_FLAGS_REPLACE : XDP_FLAGS_UPDATE_IF_NOEXIST);
      int r = attaching ? bpf_xdp_attach(ifindex, prog_fd, flags, old_id != 0 ? &opts : NULL)
                        : bpf_xdp_detach(ifindex, flags, old_id != 0 ? &opts : NULL);
      rc = r < 0 ? -r : 0;
    }
    leave_netns(self);
  }
  if (old_fd >= 0) close(old_fd);
  free(ifname);
  return num(env, rc);
}

static napi_value js_attach(napi_env env, napi_callback_info info) { return xdp_set(env, info, 1); }
static napi_value js_detach(napi_env env, napi_callback_info info) { return xdp_set(env, info, 0); }

/*
 * tcAttach(ns, ifname, progFd) -> { rc, createdQdisc }: clsact (created if missing) + our ingress
 * filter (handle TC_HANDLE, priority TC_PRIO), replacing ours if present.
 * tcDetach(ns, ifname, destroyQdisc) -> errno: removes our filter; with destroyQdisc the clsact
 * qdisc too (only when this process created it: another user's filters are never touched).
 */
#define TC_HANDLE 0x564d
#define TC_PRIO 1
static napi_value js_tc(napi_env env, napi_callback_info info, int attaching) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int ok;
  char *ns = opt_string(env, argv[0], &ok);
  char *ifname = ok ? get_string(env, argv[1]) : NULL;
  if (!ok || !ifname) { free(ns); free(ifname); napi_throw_type_error(env, "VMAC_XDP_SHIM", "tcAttach/tcDetach(netnsPath, ifname, ...)"); return NULL; }
  int32_t fd = -1;
  bool destroy = false;
  if (attaching) napi_get_value_int32(env, argv[2], &fd);
  else napi_get_value_bool(env, argv[2], &destroy);
  int rc = 0, created = 0;
  int self = enter_netns(ns);
  free(ns);
  if (self == -2) rc = errno ? errno : EINVAL;
  else {
    int ifindex = (int)if_nametoindex(ifname);
    if (ifindex <= 0) rc = errno ? errno : ENODEV;
    else {
      LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
      if (attaching) {
        int r = bpf_tc_hook_create(&hook);
        if (r == 0) created = 1;
        else if (r != -EEXIST) rc = -r;
        if (rc == 0) {
          LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO, .prog_fd = fd, .flags = BPF_TC_F_REPLACE);
          r = bpf_tc_attach(&hook, &opts);
          if (r < 0) rc = -r;
        }
      } else {
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);
        int r = bpf_tc_detach(&hook, &opts);
        if (r < 0) rc = -r;
        if (destroy) {
          hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
          bpf_tc_hook_destroy(&hook);
        }
      }
    }
    leave_netns(self);
  }
  free(ifname);
  if (!attaching) return num(env, rc);
  napi_value out;
  CHECK(napi_create_object(env, &out));
  napi_set_named_property(env, out, "rc", num(env, rc));
  napi_value c;
  CHECK(napi_get_boolean(env, created, &c));
  napi_set_named_property(env, out, "createdQdisc", c);
  return out;
}
static napi_value js_tc_attach(napi_env env, napi_callback_info info) { return js_tc(env, info, 1); }
static napi_value js_tc_detach(napi_env env, napi_callback_info info) { return js_tc(env, info, 0); }

static napi_value js_prog_maps(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, maps, nul;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t id = 0;
  CHECK(napi_get_value_uint32(env, argv[0], &id));
  CHECK(napi_get_null(env, &nul));
  int pfd = bpf_prog_get_fd_by_id(id);
  if (pfd < 0) return nul;
  __u32 ids[16];
  struct bpf_prog_info pinfo;
  __u32 plen = sizeof(pinfo);
  memset(&pinfo, 0, sizeof(pinfo));
  pinfo.nr_map_ids = 16;
  pinfo.map_ids = (__u64)(unsigned long)ids;
  int r = bpf_obj_get_info_by_fd(pfd, &pinfo, &plen);
  close(pfd);
  if (r != 0) return nul;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_object(env, &maps));
  napi_value name;
  CHECK(napi_create_string_utf8(env, pinfo.name, NAPI_AUTO_LENGTH, &name));
  napi_set_named_property(env, out, "name", name);
  for (__u32 i = 0; i < pinfo.nr_map_ids && i < 16; i++) {
    int mfd = bpf_map_get_fd_by_id(ids[i]);
    if (mfd < 0) continue;
    struct bpf_map_info minfo;
    __u32 mlen = sizeof(minfo);
    memset(&minfo, 0, sizeof(minfo));
    if (bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) != 0) { close(mfd); continue; }
    napi_set_named_property(env, maps, minfo.name, num(env, mfd));
  }
  napi_set_named_property(env, out, "maps", maps);
  return out;
}

static napi_value js_map_update(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  void *keys, *values;
  size_t klen, vlen;
  napi_typedarray_type kt;
  napi_value kab;
  size_t koff;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_typedarray_info(env, argv[1], &kt, &klen, &keys, &kab, &koff));
  CHECK(napi_get_buffer_info(env, argv[2], &values, &vlen));
  if (kt != napi_uint32_array || klen == 0 || vlen % klen != 0) { napi_throw_type_error(env, "VMAC_XDP_SHIM", "mapUpdate(fd, Uint32Array keys, Buffer values)"); return NULL; }
  __u32 count = (__u32)klen;
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY, .flags = 0);
  int r = count == 1 ? bpf_map_update_elem(fd, keys, values, BPF_ANY) : bpf_map_update_batch(fd, keys, values, &count, &opts);
  return num(env, r < 0 ? errno : 0);
}

static napi_value js_map_lookup(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], buf, nul;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t key, size;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[1], &key));
  CHECK(napi_get_value_uint32(env, argv[2], &size));
  void *p;
  CHECK(napi_create_buffer(env, size, &p, &buf));
  if (bpf_map_lookup_elem(fd, &key, p) != 0) { CHECK(napi_get_null(env, &nul)); return nul; }
  return buf;
}

/* testRun(progFd, frame) -> { retval, frame }: BPF_PROG_TEST_RUN (unit tests of the program, no link needed). */
static napi_value js_test_run(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out, buf;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  void *in;
  size_t len;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_buffer_info(env, argv[1], &in, &len));
  unsigned char outbuf[2048];
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len, .data_out = outbuf, .data_size_out = sizeof(outbuf), .repeat = 1);
  if (bpf_prog_test_run_opts(fd, &opts) != 0) { napi_throw_error(env, "VMAC_XDP_TEST_RUN", strerror(errno)); return NULL; }
  void *p;
  CHECK(napi_create_buffer_copy(env, opts.data_size_out, outbuf, &p, &buf));
  CHECK(napi_create_object(env, &out));
  napi_set_named_property(env, out, "retval", num(env, opts.retval));
  napi_set_named_property(env, out, "frame", buf);
  return out;
}

static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (fd >= 0) close(fd);
  return NULL;
}

static napi_value js_possible_cpus(napi_env env, napi_callback_info info) {
  (void)info;
  return num(env, libbpf_num_possible_cpus());
}

static napi_value init(napi_env env, napi_value exports) {
  libbpf_set_print(NULL); /* errors come back as errno; TypeScript names them */
  napi_property_descriptor d[] = {
    {"load", NULL, js_load, NULL, NULL, NULL, napi_default, NULL},
    {"ifInfo", NULL, js_if_info, NULL, NULL, NULL, napi_default, NULL},
    {"attach", NULL, js_attach, NULL, NULL, NULL, napi_default, NULL},
    {"detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL},
    {"tcAttach", NULL, js_tc_attach, NULL, NULL, NULL, napi_default, NULL},
    {"tcDetach", NULL, js_tc_detach, NULL, NULL, NULL, napi_default, NULL},
    {"progMaps", NULL, js_prog_maps, NULL, NULL, NULL, napi_default, NULL},
    {"mapUpdate", NULL, js_map_update, NULL, NULL, NULL, napi_default, NULL},
    {"mapLookup", NULL, js_map_lookup, NULL, NULL, NULL, napi_default, NULL},
    {"testRun", NULL, js_test_run, NULL, NULL, NULL, napi_default, NULL},
    {"closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_default, NULL},
    {"possibleCpus", NULL, js_possible_cpus, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(d) / sizeof(d[0]), d));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
