/* vmac-quic client (included by quic.c). */

struct cconn {
  struct qc q;
  char addr[64];
  int port;                       /* local port the kernel chose */
  uint64_t started_ns, handshake_ns, next_req_ns, last_answer_ns, max_gap_ns, max_gap_at_ns;
  uint64_t sent, answered, out_of_order, dead_ns;
  const char *dead_reason;
  char nodes[MAX_NODES][64];
  uint64_t node_counts[MAX_NODES];
  int nnodes, last_node, switches;
};

static struct cconn *g_cc;
static int g_ncc;
static uint64_t g_t0;

static int c_handshake_done(ngtcp2_conn *conn, void *ud) {
  struct cconn *k = ud;
  k->handshake_ns = now_ns();
  if (ngtcp2_conn_open_bidi_stream(conn, &k->q.sid, NULL) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  k->next_req_ns = k->handshake_ns;
  k->last_answer_ns = k->handshake_ns;
  return 0;
}

static int c_stateless_reset(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr, void *ud) {
  (void)conn; (void)sr;
  ((struct cconn *)ud)->q.reset = 1;
  return 0;
}

static int c_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *ud) {
  (void)conn; (void)ud;
  rand_bytes(cid->data, cidlen);
  cid->datalen = cidlen;
  rand_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
  return 0;
}

static void answer(struct cconn *k, const char *line) {
  char node[64];
  unsigned long long seq;
  if (sscanf(line, "%llu %63s", &seq, node) != 2) return;
  uint64_t t = now_ns();
  if (seq != k->answered) k->out_of_order++;
  k->answered++;
  if (t - k->last_answer_ns > k->max_gap_ns) { k->max_gap_ns = t - k->last_answer_ns; k->max_gap_at_ns = k->last_answer_ns; }
  k->last_answer_ns = t;
  int i = 0;
  while (i < k->nnodes && strcmp(k->nodes[i], node) != 0) i++;
  if (i == k->nnodes) {
    if (k->nnodes == MAX_NODES) i = MAX_NODES - 1;
    else { snprintf(k->nodes[i], sizeof k->nodes[i], "%s", node); k->nnodes++; }
  }
  k->node_counts[i]++;
  if (k->last_node >= 0 && k->last_node != i) k->switches++;
  k->last_node = i;
}

static int c_recv_stream(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t offset, const uint8_t *data, size_t len, void *ud, void *sud) {
  (void)flags; (void)offset; (void)sud;
  struct cconn *k = ud;
  struct qc *c = &k->q;
  ngtcp2_conn_extend_max_stream_offset(conn, sid, len);
  ngtcp2_conn_extend_max_offset(conn, len);
  for (size_t i = 0; i < len; i++) {
    char ch = (char)data[i];
    if (ch != '\n') { if (c->rxlen < sizeof c->rx - 1) c->rx[c->rxlen++] = ch; continue; }
    c->rx[c->rxlen] = '\0';
    answer(k, c->rx);
    c->rxlen = 0;
  }
  return 0;
}

static double ms_since_t0(uint64_t t) { return t == 0 ? -1 : (double)(t - g_t0) / 1e6; }

static void kill_conn(struct cconn *k, const char *reason) {
  if (k->q.dead) return;
  k->q.dead = 1;
  k->dead_reason = reason;
  k->dead_ns = now_ns();
  printf("{\"event\":\"dead\",\"conn\":%d,\"addr\":\"%s\",\"port\":%d,\"reason\":\"%s\",\"atMs\":%.1f,\"node\":\"%s\",\"sent\":%llu,\"answered\":%llu}\n",
         (int)(k - g_cc), k->addr, k->port, reason, ms_since_t0(k->dead_ns), k->last_node >= 0 ? k->nodes[k->last_node] : "", (unsigned long long)k->sent, (unsigned long long)k->answered);
}

static const char *read_error_reason(struct cconn *k, int rv) {
  if (k->q.reset) return "stateless_reset";
  if (rv == NGTCP2_ERR_DRAINING) return "closed_by_peer";
  if (rv == NGTCP2_ERR_CRYPTO) return "handshake_failed";
  return "error";
}

static void client_mark(void) {
  uint64_t sent = 0, answered = 0;
  int alive = 0, dead = 0, resets = 0, handshaken = 0;
  for (int i = 0; i < g_ncc; i++) {
    struct cconn *k = &g_cc[i];
    sent += k->sent; answered += k->answered;
    if (k->q.dead) dead++; else alive++;
    if (k->q.reset) resets++;
    if (k->handshake_ns) handshaken++;
  }
  printf("{\"event\":\"mark\",\"atMs\":%.1f,\"monoNs\":%llu,\"conns\":%d,\"handshaken\":%d,\"alive\":%d,\"dead\":%d,\"resets\":%d,\"sent\":%llu,\"answered\":%llu,\"lastNode\":[",
         ms_since_t0(now_ns()), (unsigned long long)now_ns(), g_ncc, handshaken, alive, dead, resets, (unsigned long long)sent, (unsigned long long)answered);
  for (int i = 0; i < g_ncc; i++) printf("%s\"%s\"", i ? "," : "", g_cc[i].last_node >= 0 && !g_cc[i].q.dead ? g_cc[i].nodes[g_cc[i].last_node] : "");
  printf("]}\n");
}

static void client_report(void) {
  printf("{\"event\":\"report\",\"t0MonoNs\":%llu,\"endMs\":%.1f,\"conns\":[", (unsigned long long)g_t0, ms_since_t0(now_ns()));
  for (int i = 0; i < g_ncc; i++) {
    struct cconn *k = &g_cc[i];
    printf("%s{\"addr\":\"%s\",\"port\":%d,\"handshakeMs\":%.1f,\"sent\":%llu,\"answered\":%llu,\"outOfOrder\":%llu,\"maxGapMs\":%.1f,\"maxGapAtMs\":%.1f,\"lastAnswerMs\":%.1f,\"switches\":%d,\"resets\":%d,\"dead\":%s%s%s,\"deadAtMs\":%.1f,\"nodes\":{",
           i ? "," : "", k->addr, k->port, k->handshake_ns ? (double)(k->handshake_ns - k->started_ns) / 1e6 : -1, (unsigned long long)k->sent, (unsigned long long)k->answered,
           (unsigned long long)k->out_of_order, (double)k->max_gap_ns / 1e6, ms_since_t0(k->max_gap_at_ns), ms_since_t0(k->last_answer_ns), k->switches, k->q.reset,
           k->dead_reason ? "\"" : "", k->dead_reason ? k->dead_reason : "null", k->dead_reason ? "\"" : "", ms_since_t0(k->dead_ns));
    for (int n = 0; n < k->nnodes; n++) printf("%s\"%s\":%llu", n ? "," : "", k->nodes[n], (unsigned long long)k->node_counts[n]);
    printf("}}");
  }
  printf("]}\n");
}

static void client_open(struct cconn *k, const struct sockaddr_storage *vip, socklen_t viplen, int vport, uint64_t idle_ms) {
  struct sockaddr_storage local;
  socklen_t local_len = parse_addr(k->addr, 0, &local);
  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  if (bind(fd, (struct sockaddr *)&local, local_len) != 0) die("bind %s: %s", k->addr, strerror(errno));
  if (connect(fd, (const struct sockaddr *)vip, viplen) != 0) die("connect: %s", strerror(errno));
  local_len = sizeof local;
  getsockname(fd, (struct sockaddr *)&local, &local_len);
  k->port = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port : ((struct sockaddr_in6 *)&local)->sin6_port);
  (void)vport;
  struct qc *c = &k->q;
  c->fd = fd;
  c->sid = -1;
  memcpy(&c->remote, vip, viplen);
  c->remote_len = viplen;
  k->last_node = -1;
  ngtcp2_callbacks cb;
  common_callbacks(&cb);
  cb.client_initial = ngtcp2_crypto_client_initial_cb;
  cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
  cb.get_new_connection_id = c_new_cid;
  cb.handshake_completed = c_handshake_done;
  cb.recv_stream_data = c_recv_stream;
  cb.recv_stateless_reset = c_stateless_reset;
  ngtcp2_settings st;
  ngtcp2_settings_default(&st);
  st.initial_ts = now_ns();
  st.handshake_timeout = 10 * NGTCP2_SECONDS;
  ngtcp2_transport_params p;
  common_params(&p, idle_ms);
  ngtcp2_cid dcid, scid;
  dcid.datalen = 16; rand_bytes(dcid.data, 16);
  scid.datalen = 8; rand_bytes(scid.data, 8);
  ngtcp2_path path = { { (ngtcp2_sockaddr *)&local, local_len }, { (ngtcp2_sockaddr *)&c->remote, c->remote_len }, NULL };
  if (ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &st, &p, NULL, k) != 0) die("ngtcp2_conn_client_new");
  tls_setup(c, 0);
  ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
  k->started_ns = now_ns();
  if (flush(c, 1) != 0) kill_conn(k, "error");
}

static int client_main(int argc, char **argv) {
  const char *vip_s = need(argc, argv, "--vip"), *file = need(argc, argv, "--addrs");
  int port = (int)num(argc, argv, "--port", 0, 1, 65535);
  if (port == 0) { fprintf(stderr, "vmac-quic: missing --port\n"); return 2; }
  uint64_t interval_ns = (uint64_t)num(argc, argv, "--interval-ms", 50, 1, 60000) * 1000000ull;
  uint64_t duration_ns = (uint64_t)num(argc, argv, "--duration-ms", 0, 1, 3600000) * 1000000ull;
  if (duration_ns == 0) { fprintf(stderr, "vmac-quic: missing --duration-ms\n"); return 2; }
  uint64_t idle_ms = (uint64_t)num(argc, argv, "--idle-ms", 30000, 100, 600000);
  uint64_t stagger_ns = (uint64_t)num(argc, argv, "--stagger-us", 2000, 0, 1000000) * 1000ull;
  if (gnutls_certificate_set_x509_system_trust(g_cred) < 0) { /* not verified in the lab: any certificate is accepted */ }
  struct sockaddr_storage vip;
  socklen_t viplen = parse_addr(vip_s, port, &vip);
  FILE *f = fopen(file, "r");
  if (!f) { fprintf(stderr, "vmac-quic: cannot open %s: %s\n", file, strerror(errno)); return 2; }
  char line[128];
  int cap = 0;
  while (fgets(line, sizeof line, f)) {
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    s[strcspn(s, " \t\r\n#")] = '\0';
    if (*s == '\0') continue;
    if (strlen(s) >= sizeof g_cc[0].addr) { fprintf(stderr, "vmac-quic: %s: address too long: %s\n", file, s); return 2; }
    if (g_ncc == cap) { cap = cap ? cap * 2 : 64; g_cc = realloc(g_cc, (size_t)cap * sizeof *g_cc); if (!g_cc) die("out of memory"); }
    memset(&g_cc[g_ncc], 0, sizeof g_cc[g_ncc]);
    memcpy(g_cc[g_ncc].addr, s, strlen(s) + 1);
    g_ncc++;
  }
  fclose(f);
  if (g_ncc == 0 || g_ncc > 4096) { fprintf(stderr, "vmac-quic: %s: 1..4096 addresses\n", file); return 2; }
  g_t0 = now_ns();
  printf("{\"event\":\"start\",\"conns\":%d,\"pid\":%d,\"monoNs\":%llu}\n", g_ncc, (int)getpid(), (unsigned long long)g_t0);
  struct pollfd *pf = calloc((size_t)g_ncc, sizeof *pf);
  if (!pf) die("out of memory");
  int opened = 0;
  uint64_t end_ns = g_t0 + duration_ns;
  uint8_t buf[65536];
  for (;;) {
    uint64_t now = now_ns();
    if (g_stop || now >= end_ns) break;
    if (g_mark) { g_mark = 0; client_mark(); }
    while (opened < g_ncc && now >= g_t0 + (uint64_t)opened * stagger_ns) { client_open(&g_cc[opened], &vip, viplen, port, idle_ms); pf[opened].fd = g_cc[opened].q.fd; pf[opened].events = POLLIN; opened++; }
    uint64_t next = end_ns;
    if (opened < g_ncc && g_t0 + (uint64_t)opened * stagger_ns < next) next = g_t0 + (uint64_t)opened * stagger_ns;
    for (int i = 0; i < opened; i++) {
      struct cconn *k = &g_cc[i];
      if (k->q.dead) { pf[i].fd = -1; continue; }
      uint64_t e = ngtcp2_conn_get_expiry(k->q.conn);
      if (e < next) next = e;
      if (k->q.sid >= 0 && k->next_req_ns < next) next = k->next_req_ns;
    }
    int timeout = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
    int pr = poll(pf, (nfds_t)opened, timeout);
    if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    for (int i = 0; pr > 0 && i < opened; i++) {
      if (!(pf[i].revents & (POLLIN | POLLERR))) continue;
      struct cconn *k = &g_cc[i];
      for (int b = 0; b < 64 && !k->q.dead; b++) {
        ssize_t n = recv(k->q.fd, buf, sizeof buf, 0);
        if (n < 0) break; /* EAGAIN, or an ICMP error: QUIC carries on (idle timeout decides) */
        struct sockaddr_storage local;
        socklen_t local_len = sizeof local;
        getsockname(k->q.fd, (struct sockaddr *)&local, &local_len);
        ngtcp2_path path = { { (ngtcp2_sockaddr *)&local, local_len }, { (ngtcp2_sockaddr *)&k->q.remote, k->q.remote_len }, NULL };
        ngtcp2_pkt_info pi = { 0 };
        int rv = ngtcp2_conn_read_pkt(k->q.conn, &path, &pi, buf, (size_t)n, now_ns());
        if (rv != 0) kill_conn(k, read_error_reason(k, rv));
      }
    }
    now = now_ns();
    for (int i = 0; i < opened; i++) {
      struct cconn *k = &g_cc[i];
      if (k->q.dead) continue;
      if (ngtcp2_conn_get_expiry(k->q.conn) <= now) {
        int rv = ngtcp2_conn_handle_expiry(k->q.conn, now);
        if (rv == NGTCP2_ERR_IDLE_CLOSE) { kill_conn(k, k->handshake_ns ? "idle_timeout" : "handshake_timeout"); continue; }
        if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) { kill_conn(k, "handshake_timeout"); continue; }
        if (rv != 0) { kill_conn(k, "error"); continue; }
      }
      while (k->q.sid >= 0 && k->next_req_ns <= now) {
        char req[32];
        int n = snprintf(req, sizeof req, "%llu\n", (unsigned long long)k->sent);
        if (ring_put(&k->q.tx, req, (size_t)n) != 0) break; /* 64 KiB unacknowledged: the connection is stuck */
        k->sent++;
        k->next_req_ns += interval_ns;
        if (k->next_req_ns + interval_ns < now) k->next_req_ns = now + interval_ns; /* starved: never a burst */
      }
      if (flush(&k->q, 1) != 0) kill_conn(k, "error");
    }
  }
  /* Close every live connection politely, then report. */
  for (int i = 0; i < opened; i++) {
    struct cconn *k = &g_cc[i];
    if (k->q.dead) continue;
    ngtcp2_connection_close_error ce;
    ngtcp2_connection_close_error_default(&ce);
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n = ngtcp2_conn_write_connection_close(k->q.conn, &ps.path, &pi, buf, 1500, &ce, now_ns());
    if (n > 0) sendto_remote(&k->q, buf, (size_t)n, 1);
  }
  client_report();
  return 0;
}
