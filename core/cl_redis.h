/* Rate-limit buckets kept in Redis, shared by every process on every machine that uses one
 * key: each operation is one atomic server-side Lua script (EVALSHA) that runs the algorithm of
 * cl_ratelimit.h on the bucket's keys, on the Redis server's clock (TIME), so machines need no
 * common clock. The waits it returns are seconds from now.
 *
 * A store is one connection (hiredis, blocking, with a timeout on connect and on every
 * command). When Redis goes away an operation returns -1 at once and the caller uses a bucket
 * of its own; the store tries to reconnect at most every CL_REDIS_RETRY_SECONDS. SIGPIPE from
 * a dead connection is kept from the process. No Lua, no libcurl. */
#ifndef CL_REDIS_H
#define CL_REDIS_H

#include "cl_error.h"
#include "cl_redis_proto.h"

#define CL_REDIS_RETRY_SECONDS 5.0

typedef struct cl_redis cl_redis;

/// Parses `url` (redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]) and
/// connects, with `timeout` seconds for the connection and each command. A malformed URL
/// returns NULL with a CL_ECONFIG error; a store that cannot be reached now is still returned
/// (with *reachable 0 and the reason in err) and is retried by the operations.
cl_redis *cl_redis_open(const char *url, double timeout, int *reachable, cl_error *err);

/// Where the store is, for messages: host:port/db or the socket path, never the password.
const char *cl_redis_where(const cl_redis *r);

/// As cl_bucket_acquire / peek / penalize on the n buckets named ids (one, or the two a
/// request must pass together, reserved at one start in one atomic step); the wait is counted
/// from now + bs[0].delay. -1 when Redis cannot answer; the reason is in err.
double cl_redis_acquire(cl_redis *r, int n, const char *const *ids, const cl_redis_bucket *bs,
                        cl_error *err);
double cl_redis_peek(cl_redis *r, int n, const char *const *ids, const cl_redis_bucket *bs,
                     cl_error *err);
int cl_redis_penalize(cl_redis *r, int n, const char *const *ids, const cl_redis_bucket *bs,
                      double retry_after, cl_error *err);

void cl_redis_close(cl_redis *r);

#endif
