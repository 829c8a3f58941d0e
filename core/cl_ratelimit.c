#include "cl_ratelimit.h"

void cl_bucket_init(cl_bucket *b, double limit, double window, double burst) {
  if (limit < 1) limit = 1;
  if (burst < 1) burst = 1;
  if (burst > limit) burst = limit;
  /* Burst slots are free up front; the rest of the window is shared by the paced ones. */
  double paced = limit - (burst - 1);
  b->interval = window / paced;
  b->burst = burst;
  b->tat = 0;
}

static double allowance(const cl_bucket *b) { return (b->burst - 1) * b->interval; }

double cl_bucket_peek(const cl_bucket *b, double now) {
  double earliest = b->tat - allowance(b);
  return earliest > now ? earliest - now : 0;
}

double cl_bucket_acquire(cl_bucket *b, double now) {
  double wait = cl_bucket_peek(b, now);
  double start = now + wait;
  b->tat = (b->tat > start ? b->tat : start) + b->interval;
  return wait;
}

void cl_bucket_penalize(cl_bucket *b, double now, double retry_after) {
  if (retry_after < 0) retry_after = 0;
  double tat = now + retry_after + allowance(b);
  if (tat > b->tat) b->tat = tat;
}
