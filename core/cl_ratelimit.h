/* Client-side rate limiting sized to the server's sliding window. It never sleeps: acquire()
 * reserves a start time and says how long the caller must wait.
 *
 * The API counts requests in a sliding window (30 a minute per key). The bucket keeps the
 * start times of the last `limit` requests: a request may start once the one `limit` places
 * before it is a window (plus a margin for network jitter) old, so no window ever holds more
 * than `limit`, and a steady caller gets the whole limit. Within that, at most `burst` go back
 * to back; the rest are paced evenly (GCRA at window/limit), so a queue drains smoothly
 * instead of in bursts. Reservations are taken in call order: no caller starves. */
#ifndef CL_RATELIMIT_H
#define CL_RATELIMIT_H

#include <stddef.h>

typedef struct cl_bucket {
  double window; /* seconds, with the margin */
  double interval; /* seconds between paced starts: window / limit */
  double burst; /* starts that may go back to back */
  double tat; /* GCRA: theoretical arrival time of the next paced start */
  double blocked_until; /* a 429's Retry-After: no start before this */
  int limit; /* starts allowed in any window */
  int head, count; /* the ring of the last `limit` start times */
  double starts[]; /* `limit` entries */
} cl_bucket;

/// Bytes a bucket for `limit` needs (the struct and its ring); limit is clamped to >= 1.
size_t cl_bucket_size(double limit);

/// Sets up a bucket in `size` bytes of memory (at least cl_bucket_size(limit)) that lets at
/// most `limit` requests start in any window of `window` seconds (widened by `margin`, a
/// share such as 0.02, against latency jitter), `burst` of them back to back. burst is
/// clamped to [1, limit].
void cl_bucket_init(cl_bucket *b, double limit, double window, double burst, double margin);

/// Reserves the next start at clock time `now` and returns the seconds to wait before it (0
/// when it may go at once). The reservation is kept: call once per request.
double cl_bucket_acquire(cl_bucket *b, double now);

/// Like acquire, but reserves nothing: the wait the next acquire would return.
double cl_bucket_peek(const cl_bucket *b, double now);

/// A 429 arrived anyway (another process or machine): no start before now + retry_after.
void cl_bucket_penalize(cl_bucket *b, double now, double retry_after);

#endif
