/*
 * vmac-quic: a QUIC (RFC 9000, TLS 1.3 through GnuTLS) server and a client holding many
 * long-lived connections, over Debian's libngtcp2 + libngtcp2-crypto-gnutls, for the lab.
 *
 *   vmac-quic server --name NODE --addr IP --port P --cert PEM --key PEM --reset-secret HEX
 *                    [--idle-ms N]
 *   vmac-quic client --vip IP --port P --addrs FILE --interval-ms N --duration-ms D
 *                    [--idle-ms N] [--stagger-us N]
 *
 * Server: one UDP socket on IP:P (IP_FREEBIND). Each connection's client opens one
 * bidirectional stream and writes "SEQ\n" lines; the server answers each with "SEQ NODE\n" on
 * the same stream. A short-header packet for a connection ID it does not know is answered with a
 * stateless reset (RFC 9000 10.3) whose token is derived from the connection ID with the
 * cluster-wide --reset-secret, as every server behind one address does: the client recognises
 * it and the connection dies, which is what happens when a flow switches node mid-life.
 * stdout: a "ready" line, and on SIGUSR2/exit a "stats" line (JSON).
 *
 * Client: one connection per source address (a socket bound to it, connected to IP:P). After
 * the handshake it opens a stream and sends a request every --interval-ms until --duration-ms
 * or SIGTERM, then closes every live connection (CONNECTION_CLOSE, no error) and prints the
 * report. SIGUSR1 prints a "mark" line (totals so far). A connection's death is printed as it
 * happens ("dead" line) with its reason: stateless_reset, idle_timeout, handshake_timeout,
 * handshake_failed, closed_by_peer, error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING 65536u          /* per direction: unacknowledged stream bytes a connection may hold */
#define MAX_CIDS 8           /* connection IDs a server connection may have issued */
#define SCIDLEN 16           /* the server's connection IDs (fixed: short headers carry no length) */
#define MAX_NODES 8          /* distinct node names per client connection */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:%DISABLE_TLS13_COMPAT_MODE"

static const char ALPN[] = "vmac-quic";
static volatile sig_atomic_t g_stop, g_mark, g_stats;

static void on_signal(int s) {
  if (s == SIGUSR1) g_mark = 1;
  else if (s == SIGUSR2) g_stats = 1;
  else g_stop = 1;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("vmac-quic: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void rand_bytes(uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) { if (errno == EINTR) continue; die("getrandom: %s", strerror(errno)); }
    p += r; n -= (size_t)r;
  }
}

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) { (void)ctx; rand_bytes(dest, len); }

/* A ring of stream bytes: [acked, len) still referenced by ngtcp2 or unsent; absolute offsets. */
struct ring { uint8_t buf[RING]; uint64_t len, sent, acked; };

static int ring_put(struct ring *r, const char *p, size_t n) {
  if (r->len + n - r->acked > RING) return -1;
  for (size_t i = 0; i < n; i++) r->buf[(r->len + i) % RING] = (uint8_t)p[i];
  r->len += n;
  return 0;
}

/* The next contiguous unsent piece (up to the ring's end). */
static size_t ring_unsent(struct ring *r, ngtcp2_vec *v) {
  if (r->sent >= r->len) return 0;
  size_t at = (size_t)(r->sent % RING);
  size_t n = (size_t)(r->len - r->sent);
  if (n > RING - at) n = RING - at;
  v->base = r->buf + at;
  v->len = n;
  return 1;
}

/* ---- common connection part ---- */
struct qc {
  ngtcp2_conn *conn;
  gnutls_session_t tls;
  ngtcp2_crypto_conn_ref ref;
  int fd;                          /* client: own connected socket; server: the shared one */
  struct sockaddr_storage remote;
  socklen_t remote_len;
  int64_t sid;                     /* the request stream (-1 before it exists) */
  struct ring tx;
  char rx[512];
  size_t rxlen;
  int reset;                       /* a stateless reset was received (client) */
  int dead;
};

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref) { return ((struct qc *)ref->user_data)->conn; }

static int acked_cb(ngtcp2_conn *conn, int64_t sid, uint64_t offset, uint64_t len, void *ud, void *sud) {
  (void)conn; (void)sid; (void)sud;
  struct qc *c = ud;
  if (offset + len > c->tx.acked) c->tx.acked = offset + len;
  return 0;
}

static gnutls_certificate_credentials_t g_cred;
static uint8_t g_reset_secret[32];
static size_t g_reset_secret_len;

static void tls_setup(struct qc *c, int server) {
  unsigned flags = (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA;
  if (gnutls_init(&c->tls, flags) != 0) die("gnutls_init");
  if ((server ? ngtcp2_crypto_gnutls_configure_server_session(c->tls) : ngtcp2_crypto_gnutls_configure_client_session(c->tls)) != 0) die("configure session");
  if (gnutls_priority_set_direct(c->tls, PRIORITY, NULL) != 0) die("priority");
  if (gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, g_cred) != 0) die("credentials");
  gnutls_datum_t alpn = { (unsigned char *)ALPN, sizeof ALPN - 1 };
  gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY);
  if (!server) gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, "vmac.lab", 8);
  c->ref.get_conn = get_conn;
  c->ref.user_data = c;
  gnutls_session_set_ptr(c->tls, &c->ref);
}

static void common_callbacks(ngtcp2_callbacks *cb) {
  memset(cb, 0, sizeof *cb);
  cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb->encrypt = ngtcp2_crypto_encrypt_cb;
  cb->decrypt = ngtcp2_crypto_decrypt_cb;
  cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb->update_key = ngtcp2_crypto_update_key_cb;
  cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb->rand = rand_cb;
  cb->acked_stream_data_offset = acked_cb;
}

static void common_params(ngtcp2_transport_params *p, uint64_t idle_ms) {
  ngtcp2_transport_params_default(p);
  p->initial_max_stream_data_bidi_local = 256 * 1024;
  p->initial_max_stream_data_bidi_remote = 256 * 1024;
  p->initial_max_data = 1024 * 1024;
  p->initial_max_streams_bidi = 4;
  p->max_idle_timeout = idle_ms * NGTCP2_MILLISECONDS;
}

static void sendto_remote(struct qc *c, const uint8_t *buf, size_t n, int connected) {
  ssize_t r = connected ? send(c->fd, buf, n, 0) : sendto(c->fd, buf, n, 0, (struct sockaddr *)&c->remote, c->remote_len);
  (void)r; /* a datagram the kernel refuses is a lost packet: QUIC retransmits */
}

/* Writes everything ngtcp2 has to send (stream data from the ring, acks, retransmissions). */
static int flush(struct qc *c, int connected) {
  uint8_t buf[1500];
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  int nostream = 0;
  for (int i = 0; i < 256; i++) {
    ngtcp2_vec v;
    size_t nv = (!nostream && c->sid >= 0) ? ring_unsent(&c->tx, &v) : 0;
    ngtcp2_ssize ndata = -1;
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->conn, &ps.path, &pi, buf, sizeof buf, &ndata, NGTCP2_WRITE_STREAM_FLAG_NONE, nv ? c->sid : -1, nv ? &v : NULL, nv, now_ns());
    if (n < 0) {
      if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND) { nostream = 1; continue; }
      return (int)n;
    }
    if (ndata > 0) c->tx.sent += (uint64_t)ndata;
    if (n == 0) return 0;
    sendto_remote(c, buf, (size_t)n, connected);
  }
  return 0;
}

static int parse_args(int argc, char **argv, const char *name, const char **out) {
  for (int i = 2; i + 1 < argc; i += 2) if (strcmp(argv[i], name) == 0) { *out = argv[i + 1]; return 1; }
  return 0;
}

static const char *need(int argc, char **argv, const char *name) {
  const char *v = NULL;
  if (!parse_args(argc, argv, name, &v)) { fprintf(stderr, "vmac-quic: missing %s\n", name); exit(2); }
  return v;
}

static long num(int argc, char **argv, const char *name, long def, long lo, long hi) {
  const char *v = NULL;
  if (!parse_args(argc, argv, name, &v)) return def;
  char *end;
  long x = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || x < lo || x > hi) { fprintf(stderr, "vmac-quic: %s must be %ld..%ld, got %s\n", name, lo, hi, v); exit(2); }
  return x;
}

static socklen_t parse_addr(const char *ip, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) { a4->sin_family = AF_INET; a4->sin_port = htons((uint16_t)port); return sizeof *a4; }
  if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) { a6->sin6_family = AF_INET6; a6->sin6_port = htons((uint16_t)port); return sizeof *a6; }
  fprintf(stderr, "vmac-quic: not an IP address: %s\n", ip);
  exit(2);
}

#include "quic_server.h"
#include "quic_client.h"

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
    fprintf(stderr, "usage: vmac-quic server|client ... (see lab/c/README.md)\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (gnutls_certificate_allocate_credentials(&g_cred) != 0) die("credentials");
  return strcmp(argv[1], "server") == 0 ? server_main(argc, argv) : client_main(argc, argv);
}
