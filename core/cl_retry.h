/* Retry policy: when to try a request again and how long to wait. Pure functions: the
 * caller passes the clock and the random draw, so every decision is reproducible. */
#ifndef CL_RETRY_H
#define CL_RETRY_H

#include "cl_error.h"

typedef struct cl_retry_in {
  int safe; /* GET/HEAD: the request can be repeated without effect */
  int idempotent_key; /* the body carries an idempotency_key re-sent on every attempt */
  cl_kind kind; /* outcome of the attempt */
  int sent; /* for transport/timeout failures: request bytes may have been sent */
  int retryable; /* error envelope's `retryable`: 1, 0, or -1 when absent */
  int attempt; /* attempts made so far, >= 1 */
  int max_retries; /* retries allowed after the first attempt */
} cl_retry_in;

typedef struct cl_retry_out {
  int retry; /* 1: try again */
  int ambiguous; /* 1: the server may have acted; the outcome is unknown */
  const char *reason; /* static string for the debug log */
} cl_retry_out;

/// Whether to try again, from the retry column of cl_errors.def (cl_kind_retry): NEVER stops;
/// ANY retries; UNSENT retries while nothing was sent; REPEATABLE (and UNSENT after sending)
/// retries a repeatable request (safe, or a body idempotency key) unless the envelope says
/// `retryable: false`, and reports any other as ambiguous (the server may have acted).
/// `retryable: true` in the envelope retries any failure. No retry past max_retries.
cl_retry_out cl_retry_decide(const cl_retry_in *in);

/// Exponential backoff before retry number `attempt` (1-based): base * 2^(attempt-1), capped
/// at cap, then scaled by a jitter factor in [0.75, 1) drawn from rnd01 in [0, 1). Seconds.
double cl_backoff(int attempt, double base, double cap, double rnd01);

/// Parses a Retry-After value: delta-seconds ("3", "1.5") or an HTTP-date (IMF-fixdate,
/// RFC 850 or asctime form), relative to now (epoch seconds). Returns the wait in seconds
/// (0 for a date in the past) or -1 when the value is missing or unparseable.
double cl_retry_after_parse(const char *value, double now);

#endif
