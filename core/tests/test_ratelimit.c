#include <stdlib.h>

#include "check.h"
#include "cl_ratelimit.h"

static cl_bucket *bucket(double limit, double window, double burst, double margin) {
  cl_bucket *b = malloc(cl_bucket_size(limit));
  cl_bucket_init(b, limit, window, burst, margin);
  return b;
}

/* The most starts inside any window [t, t + window) of a run. */
static int max_in_window(const double *starts, int n, double window) {
  int best = 0;
  for (int i = 0; i < n; i++) {
    int c = 0;
    for (int j = i; j < n && starts[j] < starts[i] + window - 1e-9; j++) c++;
    if (c > best) best = c;
  }
  return best;
}

/* A caller that sends as fast as the bucket lets it: never more than limit in a window, and
 * the long-run rate is the limit (less the margin). */
static void test_never_exceeds(double limit, double burst) {
  cl_bucket *b = bucket(limit, 60, burst, 0.02);
  double starts[400], now = 1000;
  for (int i = 0; i < 400; i++) {
    now += cl_bucket_acquire(b, now);
    starts[i] = now;
  }
  CHECK(max_in_window(starts, 400, 60) <= (int)limit);
  double rate = 399 / (starts[399] - starts[0]) * 60;
  CHECK(rate >= limit * 0.97);
  free(b);
}

/* Four callers asking at random moments: the reservations never overlap a window and keep
 * the callers' order. */
static void test_callers_in_order(void) {
  cl_bucket *b = bucket(30, 60, 5, 0.02);
  double starts[300], now = 0, last = -1;
  srand(7);
  for (int i = 0; i < 300; i++) {
    now += (rand() % 1000) / 1000.0 * 0.5; /* callers ask every 0-0.5 s */
    double at = now + cl_bucket_acquire(b, now);
    CHECK(at >= last); /* first come, first served */
    last = at;
    starts[i] = at;
  }
  CHECK(max_in_window(starts, 300, 60) <= 30);
  free(b);
}

static void test_burst_then_pace(void) {
  cl_bucket *b = bucket(30, 60, 5, 0);
  for (int i = 0; i < 5; i++) CHECK_NEAR(cl_bucket_acquire(b, 100), 0, 1e-9);
  double w = cl_bucket_acquire(b, 100);
  CHECK_NEAR(w, 2.0, 1e-9); /* paced at 60 / 30 */
  CHECK(cl_bucket_peek(b, 100) > w); /* the next one waits longer */
  CHECK_NEAR(cl_bucket_acquire(b, 1000), 0, 1e-9); /* idle time refills */
  free(b);
}

/* The window binds where the pace would not: 30 starts, then nothing until the first is a
 * window (and its margin) old. */
static void test_window_binds(void) {
  cl_bucket *b = bucket(30, 60, 30, 0.02);
  for (int i = 0; i < 30; i++) CHECK_NEAR(cl_bucket_acquire(b, 0), 0, 1e-9);
  CHECK_NEAR(cl_bucket_peek(b, 10), 61.2 - 10, 1e-9);
  free(b);
}

static void test_penalize(void) {
  cl_bucket *b = bucket(30, 60, 5, 0);
  cl_bucket_penalize(b, 10, 7);
  CHECK_NEAR(cl_bucket_acquire(b, 10), 7, 1e-9);
  cl_bucket_penalize(b, 10, -1); /* never moves back */
  CHECK(cl_bucket_peek(b, 10) > 0);
  free(b);
}

int main(void) {
  test_never_exceeds(30, 1);
  test_never_exceeds(30, 5);
  test_never_exceeds(60, 10);
  test_never_exceeds(2, 50);
  test_callers_in_order();
  test_burst_then_pace();
  test_window_binds();
  test_penalize();
  return check_summary("test_ratelimit");
}
