#include "cl_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cl_clock.h"

struct cl_redis {
  redisContext *c;
  cl_redis_url u;
  double timeout;
  double next_try; /* monotonic seconds: no reconnect attempt before */
  char sha[41];
};

static double monotonic(void) {
  return (double)cl_monotonic_ns() / 1e9;
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
  if (!ok)
    cl_error_set(err, CL_ECONFIG, 0, "Redis refused %s: %.120s", what,
                 reply->str ? reply->str : "");
  if (ok && argc == 3 && strcmp(argv[0], "SCRIPT") == 0) {
    ok = reply->type == REDIS_REPLY_STRING && reply->len == 40;
    if (ok)
      memcpy(r->sha, reply->str, 41);
    else
      cl_error_set(err, CL_ECONFIG, 0, "Redis did not load the script");
  }
  freeReplyObject(reply);
  return ok ? 0 : -1;
}

static int connect_store(cl_redis *r, cl_error *err) {
  struct timeval tv = timeval_of(r->timeout);
  r->c = r->u.unix_socket ? redisConnectUnixWithTimeout(r->u.host, tv)
                          : redisConnectWithTimeout(r->u.host, r->u.port, tv);
  if (!r->c || r->c->err) {
    cl_error_set(err, CL_ETRANSPORT, r->c ? r->c->err : 0, "%s",
                 r->c ? r->c->errstr : "out of memory");
    drop(r);
    return -1;
  }
  redisSetTimeout(r->c, tv);
  char db[16];
  snprintf(db, sizeof db, "%d", r->u.db);
  const char *auth2[] = {"AUTH", r->u.password};
  const char *auth3[] = {"AUTH", r->u.user, r->u.password};
  const char *select[] = {"SELECT", db};
  const char *load[] = {"SCRIPT", "LOAD", cl_redis_script};
  int failed = (r->u.password[0] && (r->u.user[0] ? expect_ok(r, 3, auth3, "the password", err)
                                                  : expect_ok(r, 2, auth2, "the password", err))) ||
               (r->c && r->u.db && expect_ok(r, 2, select, "the database number", err)) ||
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
  if (cl_redis_url_parse(url, &r->u, err)) {
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

const char *cl_redis_where(const cl_redis *r) {
  return r->u.where;
}

static double run(cl_redis *r, const char *op, int n, const char *const *ids,
                  const cl_redis_bucket *bs, double retry_after, cl_error *err) {
  if (!r->c) {
    if (monotonic() < r->next_try) {
      return cl_error_set(err, CL_ETRANSPORT, 0, "unreachable");
    }
    if (connect_store(r, err)) return -1;
  }
  cl_redis_args a;
  if (cl_redis_args_set(&a, op, n, ids, bs, retry_after)) {
    return cl_error_set(err, CL_ECONFIG, 0, "one or two buckets at once");
  }
  const char *argv[2 + CL_REDIS_MAX_ARGC] = {"EVALSHA", r->sha};
  memcpy(argv + 2, a.argv, sizeof(const char *) * (size_t)a.argc);
  for (int attempt = 0; attempt < 2; attempt++) {
    redisReply *reply = command(r, 2 + a.argc, argv, err);
    if (!reply) return -1;
    double out = -1;
    if (reply->type == REDIS_REPLY_STRING) {
      char *end;
      out = strtod(reply->str, &end);
      if (*end || out < 0) out = -1;
    }
    int noscript =
        reply->type == REDIS_REPLY_ERROR && reply->str && strncmp(reply->str, "NOSCRIPT", 8) == 0;
    if (out < 0 && !noscript) {
      cl_error_set(
          err, CL_ETRANSPORT, 0, "%.120s",
          reply->type == REDIS_REPLY_ERROR && reply->str ? reply->str : "an unexpected answer");
    }
    freeReplyObject(reply);
    if (!noscript) return out;
    /* the server restarted or its scripts were flushed: load it again, once */
    const char *load[] = {"SCRIPT", "LOAD", cl_redis_script};
    if (expect_ok(r, 3, load, "the script", err)) return -1;
  }
  return -1;
}

static double guarded(cl_redis *r, const char *op, int n, const char *const *ids,
                      const cl_redis_bucket *bs, double retry_after, cl_error *err) {
  pipe_guard g;
  guard_on(&g);
  double out = run(r, op, n, ids, bs, retry_after, err);
  guard_off(&g);
  return out;
}

double cl_redis_acquire(cl_redis *r, int n, const char *const *ids, const cl_redis_bucket *bs,
                        cl_error *err) {
  return guarded(r, "acquire", n, ids, bs, 0, err);
}

double cl_redis_peek(cl_redis *r, int n, const char *const *ids, const cl_redis_bucket *bs,
                     cl_error *err) {
  return guarded(r, "peek", n, ids, bs, 0, err);
}

int cl_redis_penalize(cl_redis *r, int n, const char *const *ids, const cl_redis_bucket *bs,
                      double retry_after, cl_error *err) {
  return guarded(r, "penalize", n, ids, bs, retry_after, err) < 0 ? -1 : 0;
}

void cl_redis_close(cl_redis *r) {
  if (!r) return;
  if (r->c) redisFree(r->c);
  volatile char *p = r->u.password; /* not left in freed memory */
  for (size_t i = 0; i < sizeof r->u.password; i++) p[i] = 0;
  free(r);
}
