/* The sandbox's HTTP glue on libmicrohttpd: one internal polling thread (epoll where
 * available), keep-alive, per-connection ids, body accumulation; every request is handed to
 * the Lua bridge on that thread. Connection-level faults (sb_faults.c) suspend connections
 * instead of blocking the thread; a timer thread resumes them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sys/resource.h>

#include "cl_url.h"
#include "sb_internal.h"

/* Connections idle this many seconds are closed (kept-alive ones between requests, and ones
 * opened and left silent): a burst of half-open connections is gone seconds after it stops. */
#define SB_CONN_TIMEOUT 10u
/* The most connections served at once (epoll: no FD_SETSIZE bound); the open-file limit is
 * raised to fit (see sb_raise_fd_limit), so that a burst of idle connections does not lock
 * well-behaved clients out meanwhile. */
#define SB_CONN_LIMIT 16384u
/* MHD's per-connection pool (request line, headers, read and write buffers; bodies are kept
 * by sb_conn). MHD zeroes the pool for every request, so its size is a per-request cost: the
 * default 32 KiB made the memset half of the work of a GET /whoami. */
#define SB_CONN_MEMORY ((size_t)SB_CONN_MEMORY_KIB * 1024)
#ifndef SB_CONN_MEMORY_KIB
#define SB_CONN_MEMORY_KIB 8
#endif
/* Buffers larger than this are freed after the request instead of kept for the next one. */
#define SB_KEEP_BUFFER ((size_t)256 * 1024)

struct cl_sandbox {
  struct MHD_Daemon *daemon;
  sb_lua *lua;
  unsigned port;
  unsigned long next_conn; /* touched only on the MHD thread */
  unsigned long c_errors; /* C-built error responses (their request ids) */
  char *tls_cert, *tls_key; /* PEM texts, kept for the daemon's life */
  sb_timer *timer; /* resumes stalled connections; runs app:tick() when asked */
  sb_webhook *webhook; /* the legacy API's webhook worker (sb_webhook.c) */
};

/* Per TCP connection state, reused by every request on that connection. */
typedef struct sb_conn {
  unsigned long id;
  int phase; /* 0 = headers not seen yet, 1 = reading the body */
  int too_large; /* the body exceeded SB_MAX_BODY */
  char *query;
  size_t query_len, query_cap;
  char *body;
  size_t body_len, body_cap;
  int stalled; /* suspended by a stall fault, counted by the timer */
  struct MHD_Response *pending; /* the answer after the stall; NULL = close */
  unsigned pending_status;
} sb_conn;

typedef union sb_addr {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} sb_addr;

static int sb_grow(char **buf, size_t *cap, size_t need) {
  size_t ncap = *cap ? *cap : 256;
  char *nbuf;
  if (need <= *cap) return 1;
  while (ncap < need) ncap *= 2;
  nbuf = realloc(*buf, ncap);
  if (nbuf == NULL) return 0;
  *buf = nbuf;
  *cap = ncap;
  return 1;
}

static void sb_conn_free(cl_sandbox *sb, sb_conn *c) {
  if (c == NULL) return;
  if (c->stalled) sb_timer_resumed(sb->timer);
  if (c->pending) MHD_destroy_response(c->pending);
  free(c->query);
  free(c->body);
  free(c);
}

static void sb_on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe) {
  cl_sandbox *sb = cls;
  (void)connection;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    sb_conn *c = calloc(1, sizeof *c);
    if (c != NULL) c->id = ++sb->next_conn;
    *socket_context = c;
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    sb_conn_free(sb, *socket_context);
    *socket_context = NULL;
  }
}

static sb_conn *sb_conn_of(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

/* Called once per request with the raw URI, before MHD strips and decodes it: the only place
 * the raw query string is available. Its result becomes the request's *req_cls. */
static void *sb_on_uri(void *cls, const char *uri, struct MHD_Connection *connection) {
  sb_conn *c = sb_conn_of(connection);
  const char *q = strchr(uri, '?');
  size_t n = q ? strlen(q + 1) : 0;
  (void)cls;
  if (c == NULL) return NULL;
  c->phase = 0;
  c->too_large = 0;
  c->body_len = 0;
  c->query_len = 0;
  if (sb_grow(&c->query, &c->query_cap, n + 1)) {
    if (n) memcpy(c->query, q + 1, n);
    c->query[n] = '\0';
    c->query_len = n;
  }
  return c;
}

static void sb_append_body(sb_conn *c, const char *data, size_t n) {
  if (c->too_large || c->body_len + n > SB_MAX_BODY ||
      !sb_grow(&c->body, &c->body_cap, c->body_len + n)) {
    c->too_large = 1;
    return;
  }
  memcpy(c->body + c->body_len, data, n);
  c->body_len += n;
}

static void sb_release_buffers(sb_conn *c) {
  if (c->body_cap > SB_KEEP_BUFFER) {
    free(c->body);
    c->body = NULL;
    c->body_cap = 0;
  }
  c->body_len = 0;
}

static enum MHD_Result sb_reply(struct MHD_Connection *connection, struct MHD_Response *resp,
                                unsigned status) {
  enum MHD_Result r;
  if (resp == NULL) return MHD_NO;
  r = MHD_queue_response(connection, status, resp);
  MHD_destroy_response(resp);
  return r;
}

static enum MHD_Result sb_dispatch(cl_sandbox *sb, sb_conn *c, struct MHD_Connection *connection,
                                   const char *url, const char *method) {
  sb_request req;
  unsigned status = 500;
  struct MHD_Response *resp;
  sb_fault fault;
  if (c->too_large) {
    sb_release_buffers(c);
    return sb_reply(connection,
                    sb_error_response(
                        "payload_too_large", "The request body is larger than the sandbox accepts.",
                        "Send a body of at most 16 MiB.", 0, 0x40000000UL | ++sb->c_errors),
                    413);
  }
  req.conn = connection;
  req.method = method;
  req.path = url;
  req.query = c->query ? c->query : "";
  req.query_len = c->query ? c->query_len : 0;
  req.body = c->body ? c->body : "";
  req.body_len = c->body_len;
  req.conn_id = c->id;
  req.timer = sb->timer;
  resp = sb_lua_handle(sb->lua, &req, &status, &fault);
  sb_release_buffers(c);
  if (fault.kind == SB_FAULT_RESET) sb_fault_reset_socket(connection);
  if (fault.kind == SB_FAULT_STALL && sb_timer_suspend(sb->timer, connection, fault.ms)) {
    c->stalled = 1;
    c->pending = resp;
    c->pending_status = status;
    return MHD_YES; /* the timer resumes the connection; sb_after_stall answers */
  }
  return sb_reply(connection, resp, status); /* NULL (reset, empty, close): MHD_NO closes */
}

/* A stalled connection runs again: send the answer kept for it, or close. */
static enum MHD_Result sb_after_stall(cl_sandbox *sb, sb_conn *c,
                                      struct MHD_Connection *connection) {
  struct MHD_Response *resp = c->pending;
  c->stalled = 0;
  c->pending = NULL;
  sb_timer_resumed(sb->timer);
  if (sb_timer_stopping(sb->timer)) {
    if (resp) MHD_destroy_response(resp);
    return MHD_NO;
  }
  return sb_reply(connection, resp, c->pending_status);
}

static enum MHD_Result sb_on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **req_cls) {
  sb_conn *c = *req_cls;
  (void)version;
  if (c == NULL) return MHD_NO; /* out of memory when the connection started: drop it */
  if (c->stalled) return sb_after_stall(cls, c, connection);
  if (c->phase == 0) {
    c->phase = 1;
    return MHD_YES;
  }
  if (*upload_data_size) {
    sb_append_body(c, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return sb_dispatch(cls, c, connection, url, method);
}

static int sb_make_addr(const char *host, unsigned port, sb_addr *out) {
  memset(out, 0, sizeof *out);
  if (strcasecmp(host, "localhost") == 0) host = "127.0.0.1";
  if (inet_pton(AF_INET, host, &out->v4.sin_addr) == 1) {
    out->v4.sin_family = AF_INET;
    out->v4.sin_port = htons((uint16_t)port);
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &out->v6.sin6_addr) == 1) {
    out->v6.sin6_family = AF_INET6;
    out->v6.sin6_port = htons((uint16_t)port);
    return AF_INET6;
  }
  return 0;
}

/* MHD does not say why it could not listen; try the bind ourselves to learn errno. */
static void sb_explain_bind(const sb_addr *addr, int family, const char *host, unsigned port,
                            char *err, size_t errlen) {
  int fd = socket(family, SOCK_STREAM, 0);
  int one = 1;
  socklen_t len = family == AF_INET ? sizeof addr->v4 : sizeof addr->v6;
  const char *why = "the HTTP server did not start";
  if (fd >= 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, &addr->sa, len) != 0) why = strerror(errno);
    close(fd);
  }
  snprintf(err, errlen, "cannot listen on %s port %u: %s", host, port, why);
}

/* Reads a whole (small) file into a NUL-terminated buffer; NULL with a message on failure. */
static char *sb_slurp(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0, got;
  if (f == NULL) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    return NULL;
  }
  do {
    if (!sb_grow(&buf, &cap, n + 4096 + 1)) {
      snprintf(err, errlen, "out of memory reading %s", path);
      free(buf);
      fclose(f);
      return NULL;
    }
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
  } while (got > 0 && n < 1024 * 1024);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static int sb_load_tls(cl_sandbox *sb, const cl_sandbox_opts *opts, char *err, size_t errlen) {
  if (!opts->tls_cert && !opts->tls_key) return 0;
  if (!opts->tls_cert || !opts->tls_key) {
    snprintf(err, errlen, "HTTPS needs both a certificate and a key");
    return -1;
  }
  if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
    snprintf(err, errlen, "this libmicrohttpd was built without TLS support");
    return -1;
  }
  sb->tls_cert = sb_slurp(opts->tls_cert, err, errlen);
  sb->tls_key = sb->tls_cert ? sb_slurp(opts->tls_key, err, errlen) : NULL;
  return sb->tls_key ? 0 : -1;
}

/* Raises the soft open-file limit toward the hard one; returns how many connections the
 * daemon may take (the limit less a reserve for files, the listener and libcurl). */
static unsigned sb_raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 256;
  rlim_t want = rl.rlim_max == RLIM_INFINITY ? (rlim_t)SB_CONN_LIMIT + 256 : rl.rlim_max;
  if (want > (rlim_t)SB_CONN_LIMIT + 256) want = (rlim_t)SB_CONN_LIMIT + 256;
  if (want > rl.rlim_cur) {
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) getrlimit(RLIMIT_NOFILE, &rl);
  }
  rlim_t usable = rl.rlim_cur > 320 ? rl.rlim_cur - 256 : 64;
  return usable > SB_CONN_LIMIT ? SB_CONN_LIMIT : (unsigned)usable;
}

static struct MHD_Daemon *sb_listen(cl_sandbox *sb, const cl_sandbox_opts *opts, char *err,
                                    size_t errlen) {
  const char *host = opts->bind ? opts->bind : "127.0.0.1";
  sb_addr addr;
  int family = sb_make_addr(host, opts->port, &addr);
  unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
  unsigned limit = sb_raise_fd_limit();
  struct MHD_Daemon *d;
  if (!cl_host_is_loopback(host)) {
    snprintf(err, errlen, "refusing to bind to '%s': the sandbox listens on loopback only", host);
    return NULL;
  }
  if (family == 0) {
    snprintf(err, errlen, "cannot listen on '%s': not an IP address (127.0.0.1, ::1 or localhost)",
             host);
    return NULL;
  }
  /* No MHD_USE_ERROR_LOG: bind failures get our own message (below) and MHD's per-connection
   * complaints (resets, malformed requests it answers itself) are noise in a test server. */
  if (family == AF_INET6) flags |= MHD_USE_IPv6;
  if (sb_load_tls(sb, opts, err, errlen)) return NULL;
  if (sb->tls_cert) flags |= MHD_USE_TLS;
  /* The PEM options come last: without TLS, MHD_OPTION_END in their place ends the list. */
  d = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, sb_on_request, sb,
                       MHD_OPTION_SOCK_ADDR, &addr.sa, MHD_OPTION_URI_LOG_CALLBACK, sb_on_uri, sb,
                       MHD_OPTION_NOTIFY_CONNECTION, sb_on_connection, sb,
                       MHD_OPTION_CONNECTION_TIMEOUT, SB_CONN_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
                       limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT, SB_CONN_MEMORY,
                       sb->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, sb->tls_cert,
                       MHD_OPTION_HTTPS_MEM_KEY, sb->tls_key, MHD_OPTION_END);
  if (d == NULL) sb_explain_bind(&addr, family, host, opts->port, err, errlen);
  return d;
}

/* The webhook worker has a result: the next tick takes it. */
static void sb_on_webhook_result(void *timer) {
  sb_timer_tick_in(timer, 0);
}

cl_sandbox *cl_sandbox_start(const cl_sandbox_opts *opts, char *err, size_t errlen) {
  static const cl_sandbox_opts defaults;
  cl_sandbox *sb;
  const union MHD_DaemonInfo *info;
  if (opts == NULL) opts = &defaults;
  if (opts->port > 65535) {
    snprintf(err, errlen, "port %u is out of range (0-65535)", opts->port);
    return NULL;
  }
  sb = calloc(1, sizeof *sb);
  if (sb == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  sb->lua = sb_lua_open(opts, err, errlen);
  if (sb->lua != NULL) {
    sb->timer = sb_timer_start(sb_lua_tick, sb->lua);
    if (sb->timer == NULL) snprintf(err, errlen, "cannot start the sandbox's timer thread");
  }
  if (sb->timer != NULL) {
    sb->webhook = sb_webhook_new(sb_on_webhook_result, sb->timer);
    sb_lua_attach(sb->lua, sb->timer, sb->webhook);
  }
  if (sb->lua == NULL || sb->timer == NULL ||
      (sb->daemon = sb_listen(sb, opts, err, errlen)) == NULL) {
    cl_sandbox_stop(sb);
    return NULL;
  }
  info = MHD_get_daemon_info(sb->daemon, MHD_DAEMON_INFO_BIND_PORT);
  sb->port = info ? info->port : opts->port;
  sb_timer_tick_in(sb->timer, 0); /* the first tick: the app asks for the next ones */
  return sb;
}

unsigned cl_sandbox_port(const cl_sandbox *sb) {
  return sb ? sb->port : 0;
}

void cl_sandbox_stop(cl_sandbox *sb) {
  if (sb == NULL) return;
  sb_timer_stop(sb->timer); /* first: MHD must not stop with suspended connections; no tick
                               runs after it */
  if (sb->daemon != NULL) MHD_stop_daemon(sb->daemon);
  sb_webhook_free(sb->webhook); /* joins the worker; no Lua runs after MHD has stopped */
  sb_lua_close(sb->lua);
  sb_timer_free(sb->timer); /* last: the worker and the app may still have asked for ticks */
  free(sb->tls_cert);
  free(sb->tls_key);
  free(sb);
}
