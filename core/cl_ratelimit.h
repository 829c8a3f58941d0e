/* Paced client-side rate limiting (GCRA, the virtual-scheduling form of a token bucket).
 * It never sleeps: acquire() reserves a slot and says how long the caller must wait. */
#ifndef CL_RATELIMIT_H
#define CL_RATELIMIT_H

typedef struct cl_bucket {
  double interval; /* seconds between slots at the sustained rate */
  double burst;    /* slots that may be taken back to back */
  double tat;      /* theoretical arrival time of the next slot (clock seconds) */
} cl_bucket;

/// Sets up a bucket that lets at most `limit` requests start in any window of `window`
/// seconds, `burst` of them back to back and the rest evenly paced. burst is clamped to
/// [1, limit]. The pacing is tightened so that burst + paced never exceeds limit per window.
void cl_bucket_init(cl_bucket *b, double limit, double window, double burst);

/// Reserves the next slot at clock time `now` and returns the seconds to wait before using
/// it (0 when it may go at once). The reservation is kept: call once per request.
double cl_bucket_acquire(cl_bucket *b, double now);

/// Like acquire, but reserves nothing: the wait the next acquire would return.
double cl_bucket_peek(const cl_bucket *b, double now);

/// A 429 arrived anyway: no slot before now + retry_after (seconds, >= 0).
void cl_bucket_penalize(cl_bucket *b, double now, double retry_after);

#endif
