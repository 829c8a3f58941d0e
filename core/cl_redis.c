#include "cl_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* The bucket of cl_ratelimit.c, on the server. KEYS[1] is a hash {tat, blocked}, KEYS[2] the
 * list of the last `limit` start times, oldest first. ARGV: op, limit, window (with margin),
 * burst, retry_after, delay. Times are the server's TIME in seconds; `now` is that time plus
 * the caller's delay (a reservation for later, as acquire(now + wait) of a second bucket);
 * both keys expire once nothing in them can matter any more. Returns the wait from `now` in
 * seconds as text (a Lua number would come back as an integer). */
static const char SCRIPT[] =
    "local op, limit, window, burst = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),"
    " tonumber(ARGV[4])\n"
    "local interval = window / limit\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) + tonumber(t[2]) / 1e6 + math.max(0, tonumber(ARGV[6]))\n"
    "local tat = tonumber(redis.call('HGET', KEYS[1], 'tat')) or 0\n"
    "local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0\n"
    "local function keep(until_)\n"
    "  local ms = math.ceil((until_ - now + window) * 1000) + 1000\n"
    "  redis.call('PEXPIRE', KEYS[1], ms)\n"
    "  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ms) end\n"
    "end\n"
    "if op == 'penalize' then\n"
    "  blocked = math.max(blocked, now + math.max(0, tonumber(ARGV[5])))\n"
    "  redis.call('HSET', KEYS[1], 'blocked', string.format('%.6f', blocked))\n"
    "  keep(math.max(blocked, tat))\n"
    "  return '0'\n"
    "end\n"
    "local start = math.max(now, blocked)\n"
    "local n = redis.call('LLEN', KEYS[2])\n"
    "if n > 0 then start = math.max(start, tonumber(redis.call('LINDEX', KEYS[2], -1))) end\n"
    "if n >= limit then\n"
    "  start = math.max(start, tonumber(redis.call('LINDEX', KEYS[2], n - limit)) + window)\n"
    "end\n"
    "start = math.max(start, tat - (burst - 1) * interval)\n"
    "if op == 'acquire' then\n"
    "  tat = math.max(tat, start) + interval\n"
    "  redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat))\n"
    "  redis.call('RPUSH', KEYS[2], string.format('%.6f', start))\n"
    "  if n + 1 > limit then redis.call('LTRIM', KEYS[2], -limit, -1) end\n"
    "  keep(math.max(tat, blocked))\n"
    "end\n"
    "local wait = start - now\n"
    "if wait < 1e-6 then wait = 0 end\n"
    "return string.format('%.6f', wait)\n";

struct cl_redis {
  redisContext *c;
  char host[256];
  char password[256];
  char user[128];
  char where[300];
  int port, db, unix_socket;
  double timeout;
  double next_try; /* monotonic seconds: no reconnect attempt before */
  char sha[41];
};

static double monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- SIGPIPE: a write to a connection Redis closed must not kill the process ------------- */

typedef struct {
  sigset_t old;
  int pending_before;
} pipe_guard;

static void guard_on(pipe_guard *g) {
  sigset_t set, pending;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigpending(&pending);
  g->pending_before = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void guard_off(pipe_guard *g) {
  sigset_t set, pending;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigpending(&pending);
  if (!g->pending_before && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- the URL --------------------------------------------------------------------------- */

static int copy_part(char *dst, size_t size, const char *from, size_t len) {
  if (len >= size) return -1;
  memcpy(dst, from, len);
  dst[len] = '\0';
  return 0;
}

static int parse_db(const char *s, int *db) {
  if (!*s) return 0;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 0 || v > INT_MAX || end == s) return -1;
  *db = (int)v;
  return 0;
}

static int parse_url(cl_redis *r, const char *url, cl_error *err) {
  static const char bad[] = "rate_limit.store is not a Redis URL "
                            "(redis://[:password@]host[:port][/db] or unix:///path[?db=N])";
  r->port = 6379;
  r->db = 0;
  if (strncmp(url, "unix://", 7) == 0) {
    const char *path = url + 7, *q = strchr(path, '?');
    size_t len = q ? (size_t)(q - path) : strlen(path);
    if (path[0] != '/' || copy_part(r->host, sizeof r->host, path, len)) goto bad;
    if (q && (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &r->db))) goto bad;
    r->unix_socket = 1;
    snprintf(r->where, sizeof r->where, "%s?db=%d", r->host, r->db);
    return 0;
  }
  if (strncmp(url, "rediss://", 9) == 0) {
    return cl_error_set(err, CL_ECONFIG, 0,
                        "rate_limit.store: rediss:// (TLS) is not supported by this build; use "
                        "redis:// on a trusted network or a unix:// socket");
  }
  if (strncmp(url, "redis://", 8) != 0) goto bad;
  const char *p = url + 8, *end = p + strcspn(p, "/?#");
  const char *at = NULL;
  for (const char *s = p; s < end; s++)
    if (*s == '@') at = s;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (copy_part(r->user, sizeof r->user, p, (size_t)(colon - p)) ||
          copy_part(r->password, sizeof r->password, colon + 1, (size_t)(at - colon - 1)))
        goto bad;
    } else if (copy_part(r->password, sizeof r->password, p, (size_t)(at - p))) {
      goto bad;
    }
    p = at + 1;
  }
  const char *host_end = end;
  if (*p == '[') { /* [::1]:6379 */
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close || copy_part(r->host, sizeof r->host, p + 1, (size_t)(close - p - 1))) goto bad;
    host_end = close + 1;
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (colon) host_end = colon;
    if (copy_part(r->host, sizeof r->host, p, (size_t)(host_end - p))) goto bad;
  }
  if (!r->host[0]) goto bad;
  if (host_end < end) {
    if (*host_end != ':') goto bad;
    char port[8];
    int v = 0;
    if (copy_part(port, sizeof port, host_end + 1, (size_t)(end - host_end - 1)) ||
        parse_db(port, &v) || v < 1 || v > 65535)
      goto bad;
    r->port = v;
  }
  if (*end == '/') {
    char db[12];
    const char *tail = end + 1;
    if (copy_part(db, sizeof db, tail, strcspn(tail, "?#")) || parse_db(db, &r->db)) goto bad;
  } else if (*end) {
    goto bad;
  }
  snprintf(r->where, sizeof r->where, "%s:%d/%d", r->host, r->port, r->db);
  return 0;
bad:
  return cl_error_set(err, CL_ECONFIG, 0, "%s", bad);
}

/* ---- the connection ------------------------------------------------------------------- */

static struct timeval timeval_of(double seconds) {
  struct timeval tv;
  tv.tv_sec = (time_t)seconds;
  tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
  return tv;
}

static void drop(cl_redis *r) {
  if (r->c) redisFree(r->c);
  r->c = NULL;
  r->next_try = monotonic() + CL_REDIS_RETRY_SECONDS;
}

/* A reply of the expected type, or NULL with the reason in err (the connection is dropped
 * when it is the connection that failed). */
static redisReply *command(cl_redis *r, int argc, const char **argv, cl_error *err) {
  redisReply *reply = redisCommandArgv(r->c, argc, argv, NULL);
  if (!reply) {
    cl_error_set(err, CL_ETRANSPORT, r->c->err, "%s", r->c->errstr[0] ? r->c->errstr : "no answer");
    drop(r);
  }
  return reply;
}

static int expect_ok(cl_redis *r, int argc, const char **argv, const char *what, cl_error *err) {
  redisReply *reply = command(r, argc, argv, err);
  if (!reply) return -1;
  int ok = reply->type != REDIS_REPLY_ERROR;
  if (!ok) cl_error_set(err, CL_ECONFIG, 0, "Redis refused %s: %.120s", what,
                        reply->str ? reply->str : "");
  if (ok && argc == 3 && strcmp(argv[0], "SCRIPT") == 0) {
    ok = reply->type == REDIS_REPLY_STRING && reply->len == 40;
    if (ok) memcpy(r->sha, reply->str, 41);
    else cl_error_set(err, CL_ECONFIG, 0, "Redis did not load the script");
  }
  freeReplyObject(reply);
  return ok ? 0 : -1;
}

static int connect_store(cl_redis *r, cl_error *err) {
  struct timeval tv = timeval_of(r->timeout);
  r->c = r->unix_socket ? redisConnectUnixWithTimeout(r->host, tv)
                        : redisConnectWithTimeout(r->host, r->port, tv);
  if (!r->c || r->c->err) {
    cl_error_set(err, CL_ETRANSPORT, r->c ? r->c->err : 0, "%s",
                 r->c ? r->c->errstr : "out of memory");
    drop(r);
    return -1;
  }
  redisSetTimeout(r->c, tv);
  char db[16];
  snprintf(db, sizeof db, "%d", r->db);
  const char *auth2[] = {"AUTH", r->password};
  const char *auth3[] = {"AUTH", r->user, r->password};
  const char *select[] = {"SELECT", db};
  const char *load[] = {"SCRIPT", "LOAD", SCRIPT};
  int failed = (r->password[0] && (r->user[0] ? expect_ok(r, 3, auth3, "the password", err)
                                              : expect_ok(r, 2, auth2, "the password", err))) ||
               (r->c && r->db && expect_ok(r, 2, select, "the database number", err)) ||
               (r->c && expect_ok(r, 3, load, "the script", err));
  if (failed) {
    if (r->c) drop(r);
    return -1;
  }
  return 0;
}

cl_redis *cl_redis_open(const char *url, double timeout, int *reachable, cl_error *err) {
  *reachable = 0;
  cl_redis *r = calloc(1, sizeof *r);
  if (!r) {
    cl_error_set(err, CL_ECONFIG, 0, "out of memory");
    return NULL;
  }
  if (parse_url(r, url, err)) {
    free(r);
    return NULL;
  }
  r->timeout = timeout > 0 ? timeout : 1;
  pipe_guard g;
  guard_on(&g);
  *reachable = connect_store(r, err) == 0;
  guard_off(&g);
  return r;
}

const char *cl_redis_where(const cl_redis *r) { return r->where; }

static double run(cl_redis *r, const char *op, const char *id, const cl_redis_bucket *b,
                  double retry_after, cl_error *err) {
  if (!r->c) {
    if (monotonic() < r->next_try) {
      return cl_error_set(err, CL_ETRANSPORT, 0, "unreachable");
    }
    if (connect_store(r, err)) return -1;
  }
  char state[300], starts[310], a_limit[32], a_window[32], a_burst[32], a_retry[32], a_delay[32];
  double limit = b->limit < 1 ? 1 : b->limit, burst = b->burst;
  snprintf(state, sizeof state, "cleanlist:ratelimit:{%.250s}", id);
  snprintf(starts, sizeof starts, "%s:starts", state);
  snprintf(a_limit, sizeof a_limit, "%.0f", limit);
  snprintf(a_window, sizeof a_window, "%.9g", b->window);
  snprintf(a_burst, sizeof a_burst, "%.9g", burst < 1 ? 1 : burst > limit ? limit : burst);
  snprintf(a_retry, sizeof a_retry, "%.6f", retry_after);
  snprintf(a_delay, sizeof a_delay, "%.6f", b->delay);
  const char *argv[] = {"EVALSHA", r->sha,   "2",     state,   starts,
                        op,        a_limit, a_window, a_burst, a_retry, a_delay};
  for (int attempt = 0; attempt < 2; attempt++) {
    redisReply *reply = command(r, 11, argv, err);
    if (!reply) return -1;
    double out = -1;
    if (reply->type == REDIS_REPLY_STRING) {
      char *end;
      out = strtod(reply->str, &end);
      if (*end || out < 0) out = -1;
    }
    int noscript = reply->type == REDIS_REPLY_ERROR && reply->str &&
                   strncmp(reply->str, "NOSCRIPT", 8) == 0;
    if (out < 0 && !noscript) {
      cl_error_set(err, CL_ETRANSPORT, 0, "%.120s",
                   reply->type == REDIS_REPLY_ERROR && reply->str ? reply->str
                                                                  : "an unexpected answer");
    }
    freeReplyObject(reply);
    if (!noscript) return out;
    /* the server restarted or its scripts were flushed: load it again, once */
    const char *load[] = {"SCRIPT", "LOAD", SCRIPT};
    if (expect_ok(r, 3, load, "the script", err)) return -1;
  }
  return -1;
}

static double guarded(cl_redis *r, const char *op, const char *id, const cl_redis_bucket *b,
                      double retry_after, cl_error *err) {
  pipe_guard g;
  guard_on(&g);
  double out = run(r, op, id, b, retry_after, err);
  guard_off(&g);
  return out;
}

double cl_redis_acquire(cl_redis *r, const char *id, const cl_redis_bucket *b, cl_error *err) {
  return guarded(r, "acquire", id, b, 0, err);
}

double cl_redis_peek(cl_redis *r, const char *id, const cl_redis_bucket *b, cl_error *err) {
  return guarded(r, "peek", id, b, 0, err);
}

int cl_redis_penalize(cl_redis *r, const char *id, const cl_redis_bucket *b, double retry_after,
                      cl_error *err) {
  return guarded(r, "penalize", id, b, retry_after, err) < 0 ? -1 : 0;
}

void cl_redis_close(cl_redis *r) {
  if (!r) return;
  if (r->c) redisFree(r->c);
  volatile char *p = r->password; /* not left in freed memory */
  for (size_t i = 0; i < sizeof r->password; i++) p[i] = 0;
  free(r);
}
