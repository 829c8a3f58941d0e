/* What a Redis store of rate-limit buckets says to Redis, apart from how it says it: the
 * server-side script (the algorithm of cl_ratelimit.h on the bucket's keys), the store's URL,
 * and the arguments of one EVALSHA. Used by the hiredis store (cl_redis.c) and, through
 * cleanlist.core, by the one nginx speaks over cosockets. No hiredis, no Lua. */
#ifndef CL_REDIS_PROTO_H
#define CL_REDIS_PROTO_H

#include "cl_error.h"

/// The script (loaded with SCRIPT LOAD, run with EVALSHA). It returns the wait in seconds, as
/// text, from the server's now plus the caller's delay.
extern const char cl_redis_script[];

typedef struct cl_redis_url {
  char host[256]; /* a host name or address, or a socket path */
  char password[256];
  char user[128];
  char where[300]; /* host:port/db or path?db=N: for messages, never the password */
  int port, db, unix_socket;
} cl_redis_url;

/// Parses redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]. 0, or -1 with a
/// CL_ECONFIG error that never quotes the URL (it may hold a password).
int cl_redis_url_parse(const char *url, cl_redis_url *u, cl_error *err);

/* A bucket's limits, and when the caller asks from: `delay` seconds from now (the server's
 * now), as cl_bucket_acquire(b, now + delay) would. */
typedef struct cl_redis_bucket {
  double limit, window, burst; /* window already widened by its margin */
  double delay;
} cl_redis_bucket;

/// Fills b from the limits as given to a bucket (the window widened by margin, as
/// cl_bucket_init does).
void cl_redis_bucket_set(cl_redis_bucket *b, double limit, double window, double burst,
                         double margin, double delay);

/* The arguments after "EVALSHA <sha>": the key count, two keys per bucket, op, retry_after,
 * delay, then each bucket's limit, window and burst. */
enum { CL_REDIS_MAX_BUCKETS = 2, CL_REDIS_MAX_ARGC = 4 + 5 * CL_REDIS_MAX_BUCKETS };
typedef struct cl_redis_args {
  const char *argv[CL_REDIS_MAX_ARGC];
  int argc;
  char nkeys[8], retry[32], delay[32];
  char state[CL_REDIS_MAX_BUCKETS][300], starts[CL_REDIS_MAX_BUCKETS][310];
  char limit[CL_REDIS_MAX_BUCKETS][32], window[CL_REDIS_MAX_BUCKETS][32];
  char burst[CL_REDIS_MAX_BUCKETS][32];
} cl_redis_args;

/// The arguments of op ("acquire", "peek" or "penalize") on the n buckets named ids (1 to
/// CL_REDIS_MAX_BUCKETS), taken together at one start; the delay is bs[0]'s. a->argv points
/// into a and at op. 0, or -1 for a bad n.
int cl_redis_args_set(cl_redis_args *a, const char *op, int n, const char *const *ids,
                      const cl_redis_bucket *bs, double retry_after);

#endif
