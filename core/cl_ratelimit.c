#include "cl_ratelimit.h"

static int clamp_limit(double limit) {
  if (limit < 1) return 1;
  if (limit > 1000000) return 1000000;
  return (int)limit;
}

size_t cl_bucket_size(double limit) {
  return sizeof(cl_bucket) + (size_t)clamp_limit(limit) * sizeof(double);
}

void cl_bucket_init(cl_bucket *b, double limit, double window, double burst, double margin) {
  int n = clamp_limit(limit);
  if (margin < 0) margin = 0;
  if (burst < 1) burst = 1;
  if (burst > n) burst = n;
  b->limit = n;
  b->window = window * (1 + margin);
  b->interval = b->window / n;
  b->burst = burst;
  b->tat = 0;
  b->blocked_until = 0;
  b->head = 0;
  b->count = 0;
}

static double max2(double a, double b) {
  return a > b ? a : b;
}

/* The earliest start the next request may take at `now`. */
static double earliest(const cl_bucket *b, double now) {
  double t = max2(now, b->blocked_until);
  /* in call order: never before the start reserved last */
  if (b->count > 0) t = max2(t, b->starts[(b->head + b->count - 1) % b->limit]);
  /* the window: the start `limit` places back must be a window old */
  if (b->count == b->limit) t = max2(t, b->starts[b->head] + b->window);
  /* the pace: GCRA allows `burst` back to back, then one per interval */
  t = max2(t, b->tat - (b->burst - 1) * b->interval);
  return t;
}

/* A wait below a nanosecond is the noise of float sums (0 + 61.2 vs 61.2): none. */
static double wait_of(double start, double now) {
  double w = start - now;
  return w < 1e-9 ? 0 : w;
}

double cl_bucket_peek(const cl_bucket *b, double now) {
  return wait_of(earliest(b, now), now);
}

double cl_bucket_acquire(cl_bucket *b, double now) {
  double start = earliest(b, now);
  b->tat = max2(b->tat, start) + b->interval;
  /* the ring holds the last `limit` starts; head is the oldest once it is full */
  if (b->count < b->limit) {
    b->starts[(b->head + b->count) % b->limit] = start;
    b->count++;
  } else {
    b->starts[b->head] = start;
    b->head = (b->head + 1) % b->limit;
  }
  return wait_of(start, now);
}

void cl_bucket_penalize(cl_bucket *b, double now, double retry_after) {
  if (retry_after < 0) retry_after = 0;
  b->blocked_until = max2(b->blocked_until, now + retry_after);
}
