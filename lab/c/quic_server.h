/* vmac-quic server (included by quic.c). */

struct sconn {
  struct qc q;
  ngtcp2_cid cids[MAX_CIDS + 1]; /* every connection ID this connection answers to */
  int ncids;
  uint64_t requests;
};

#define MAX_SCONNS 4096
static struct sconn *g_sconns[MAX_SCONNS];
static int g_nsconns;
static const char *g_name;
static size_t g_namelen;
static uint64_t g_accepted, g_closed, g_resets_sent, g_requests, g_unknown_long, g_idle_closed;

static struct sconn *find_conn(const uint8_t *dcid, size_t len) {
  for (int i = 0; i < g_nsconns; i++) {
    struct sconn *s = g_sconns[i];
    for (int k = 0; k < s->ncids; k++)
      if (s->cids[k].datalen == len && memcmp(s->cids[k].data, dcid, len) == 0) return s;
  }
  return NULL;
}

static void server_token(uint8_t *token, const ngtcp2_cid *cid) {
  if (ngtcp2_crypto_generate_stateless_reset_token(token, g_reset_secret, g_reset_secret_len, cid) != 0) die("reset token");
}

static int s_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *ud) {
  (void)conn;
  struct sconn *s = ud;
  rand_bytes(cid->data, cidlen);
  cid->datalen = cidlen;
  server_token(token, cid);
  if (s->ncids < MAX_CIDS + 1) s->cids[s->ncids++] = *cid;
  return 0;
}

static int s_recv_stream(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t offset, const uint8_t *data, size_t len, void *ud, void *sud) {
  (void)flags; (void)offset; (void)sud;
  struct sconn *s = ud;
  struct qc *c = &s->q;
  if (c->sid < 0) c->sid = sid;
  ngtcp2_conn_extend_max_stream_offset(conn, sid, len);
  ngtcp2_conn_extend_max_offset(conn, len);
  if (sid != c->sid) return 0;
  for (size_t i = 0; i < len; i++) {
    char ch = (char)data[i];
    if (ch != '\n') { if (c->rxlen < sizeof c->rx - 1) c->rx[c->rxlen++] = ch; continue; }
    c->rx[c->rxlen] = '\0';
    char line[600];
    int n = snprintf(line, sizeof line, "%s %s\n", c->rx, g_name);
    c->rxlen = 0;
    if (n > 0 && ring_put(&c->tx, line, (size_t)n) == 0) { s->requests++; g_requests++; }
  }
  return 0;
}

static void server_stats(const char *event) {
  printf("{\"event\":\"%s\",\"name\":\"%s\",\"monoNs\":%llu,\"open\":%d,\"accepted\":%llu,\"closed\":%llu,\"idleClosed\":%llu,\"requests\":%llu,\"resetsSent\":%llu,\"unknownLong\":%llu}\n",
         event, g_name, (unsigned long long)now_ns(), g_nsconns, (unsigned long long)g_accepted, (unsigned long long)g_closed, (unsigned long long)g_idle_closed,
         (unsigned long long)g_requests, (unsigned long long)g_resets_sent, (unsigned long long)g_unknown_long);
}

static void sconn_free(int i) {
  struct sconn *s = g_sconns[i];
  ngtcp2_conn_del(s->q.conn);
  gnutls_deinit(s->q.tls);
  free(s);
  g_sconns[i] = g_sconns[--g_nsconns];
  g_closed++;
}

static void send_reset(int fd, const uint8_t *dcid, size_t dcidlen, size_t pktlen, const struct sockaddr_storage *from, socklen_t fromlen) {
  /* RFC 9000 10.3: smaller than the packet that triggered it (no reset loops), at least 21 bytes. */
  if (pktlen < 22) return;
  size_t randlen = pktlen - 1 - NGTCP2_STATELESS_RESET_TOKENLEN - 1;
  if (randlen > 40) randlen = 40;
  if (randlen < NGTCP2_MIN_STATELESS_RESET_RANDLEN) return;
  ngtcp2_cid cid;
  ngtcp2_cid_init(&cid, dcid, dcidlen);
  uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[40], out[64];
  server_token(token, &cid);
  rand_bytes(rnd, randlen);
  ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(out, sizeof out, token, rnd, randlen);
  if (n > 0 && sendto(fd, out, (size_t)n, 0, (const struct sockaddr *)from, fromlen) == n) g_resets_sent++;
}

static struct sconn *accept_conn(int fd, const uint8_t *pkt, size_t len, const struct sockaddr_storage *local, socklen_t local_len, const struct sockaddr_storage *from, socklen_t fromlen, uint64_t idle_ms) {
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, pkt, len) != 0) return NULL;
  if (g_nsconns >= MAX_SCONNS) return NULL;
  struct sconn *s = calloc(1, sizeof *s);
  if (!s) die("out of memory");
  struct qc *c = &s->q;
  c->fd = fd;
  c->sid = -1;
  memcpy(&c->remote, from, fromlen);
  c->remote_len = fromlen;
  ngtcp2_callbacks cb;
  common_callbacks(&cb);
  cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  cb.get_new_connection_id = s_new_cid;
  cb.recv_stream_data = s_recv_stream;
  ngtcp2_settings st;
  ngtcp2_settings_default(&st);
  st.initial_ts = now_ns();
  ngtcp2_transport_params p;
  common_params(&p, idle_ms);
  p.original_dcid = hd.dcid;
  ngtcp2_cid scid;
  scid.datalen = SCIDLEN;
  rand_bytes(scid.data, SCIDLEN);
  p.stateless_reset_token_present = 1;
  server_token(p.stateless_reset_token, &scid);
  ngtcp2_path path = { { (ngtcp2_sockaddr *)local, local_len }, { (ngtcp2_sockaddr *)&c->remote, c->remote_len }, NULL };
  if (ngtcp2_conn_server_new(&c->conn, &hd.scid, &scid, &path, hd.version, &cb, &st, &p, NULL, s) != 0) { free(s); return NULL; }
  tls_setup(c, 1);
  ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
  s->cids[s->ncids++] = scid;
  s->cids[s->ncids++] = hd.dcid; /* the client's first packets carry the DCID it chose */
  g_sconns[g_nsconns++] = s;
  g_accepted++;
  return s;
}

static int server_main(int argc, char **argv) {
  g_name = need(argc, argv, "--name");
  g_namelen = strlen(g_name);
  if (g_namelen == 0 || g_namelen > 63) { fprintf(stderr, "vmac-quic: --name must be 1..63 characters\n"); return 2; }
  const char *ip = need(argc, argv, "--addr");
  int port = (int)num(argc, argv, "--port", 0, 1, 65535);
  if (port == 0) { fprintf(stderr, "vmac-quic: missing --port\n"); return 2; }
  const char *cert = need(argc, argv, "--cert"), *key = need(argc, argv, "--key"), *secret = need(argc, argv, "--reset-secret");
  uint64_t idle_ms = (uint64_t)num(argc, argv, "--idle-ms", 30000, 100, 600000);
  size_t sl = strlen(secret);
  if (sl < 2 || sl > 64 || sl % 2 != 0) { fprintf(stderr, "vmac-quic: --reset-secret must be 2..64 hex digits\n"); return 2; }
  for (size_t i = 0; i < sl / 2; i++) {
    unsigned v;
    if (sscanf(secret + 2 * i, "%2x", &v) != 1) { fprintf(stderr, "vmac-quic: --reset-secret must be hex\n"); return 2; }
    g_reset_secret[i] = (uint8_t)v;
  }
  g_reset_secret_len = sl / 2;
  if (gnutls_certificate_set_x509_key_file(g_cred, cert, key, GNUTLS_X509_FMT_PEM) != 0) die("cannot load %s / %s", cert, key);
  struct sockaddr_storage local;
  socklen_t local_len = parse_addr(ip, port, &local);
  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, local.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, local.ss_family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof one);
  int rcv = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  if (bind(fd, (struct sockaddr *)&local, local_len) != 0) die("bind %s:%d: %s", ip, port, strerror(errno));
  printf("{\"event\":\"ready\",\"name\":\"%s\",\"addr\":\"%s\",\"port\":%d,\"pid\":%d,\"monoNs\":%llu}\n", g_name, ip, port, (int)getpid(), (unsigned long long)now_ns());
  uint8_t buf[65536];
  while (!g_stop) {
    if (g_stats) { g_stats = 0; server_stats("stats"); }
    uint64_t now = now_ns(), next = now + 1000000000ull;
    for (int i = 0; i < g_nsconns; i++) { uint64_t e = ngtcp2_conn_get_expiry(g_sconns[i]->q.conn); if (e < next) next = e; }
    int timeout = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
    struct pollfd pfd = { fd, POLLIN, 0 };
    int pr = poll(&pfd, 1, timeout);
    if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    for (int batch = 0; pr > 0 && batch < 256; batch++) {
      struct sockaddr_storage from;
      socklen_t fromlen = sizeof from;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
      if (n <= 0) break;
      ngtcp2_version_cid vc;
      if (ngtcp2_pkt_decode_version_cid(&vc, buf, (size_t)n, SCIDLEN) != 0) continue;
      struct sconn *s = find_conn(vc.dcid, vc.dcidlen);
      if (!s) {
        if (buf[0] & 0x80) { s = accept_conn(fd, buf, (size_t)n, &local, local_len, &from, fromlen, idle_ms); if (!s) { g_unknown_long++; continue; } }
        else { send_reset(fd, vc.dcid, vc.dcidlen, (size_t)n, &from, fromlen); continue; }
      }
      ngtcp2_path path = { { (ngtcp2_sockaddr *)&local, local_len }, { (ngtcp2_sockaddr *)&from, fromlen }, NULL };
      ngtcp2_pkt_info pi = { 0 };
      int rv = ngtcp2_conn_read_pkt(s->q.conn, &path, &pi, buf, (size_t)n, now_ns());
      if (rv != 0) s->q.dead = 1;
      else if (flush(&s->q, 0) != 0) s->q.dead = 1;
    }
    now = now_ns();
    for (int i = 0; i < g_nsconns; i++) {
      struct qc *c = &g_sconns[i]->q;
      if (!c->dead && ngtcp2_conn_get_expiry(c->conn) <= now) {
        int rv = ngtcp2_conn_handle_expiry(c->conn, now);
        if (rv != 0) { c->dead = 1; if (rv == NGTCP2_ERR_IDLE_CLOSE) g_idle_closed++; }
        else if (flush(c, 0) != 0) c->dead = 1;
      }
    }
    for (int i = g_nsconns - 1; i >= 0; i--) if (g_sconns[i]->q.dead) sconn_free(i);
  }
  server_stats("exit");
  return 0;
}
