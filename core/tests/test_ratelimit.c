#include "check.h"
#include "cl_ratelimit.h"

/* Counts the starts inside every window of `window` seconds over a simulated run. */
static int max_in_window(const double *starts, int n, double window) {
  int best = 0;
  for (int i = 0; i < n; i++) {
    int c = 0;
    for (int j = i; j < n && starts[j] < starts[i] + window - 1e-9; j++) c++;
    if (c > best) best = c;
  }
  return best;
}

static void test_never_exceeds(double limit, double burst) {
  cl_bucket b;
  double starts[200], now = 1000;
  cl_bucket_init(&b, limit, 60, burst);
  for (int i = 0; i < 200; i++) {
    now += cl_bucket_acquire(&b, now);
    starts[i] = now;
  }
  CHECK(max_in_window(starts, 200, 60) <= (int)limit);
  /* and it does not waste the budget: the long-run rate is the paced share of the limit */
  double b_eff = burst > limit ? limit : burst;
  double rate = 199 / (starts[199] - starts[0]) * 60;
  CHECK(rate > (limit - (b_eff - 1)) * 0.95);
}

static void test_burst_then_pace(void) {
  cl_bucket b;
  cl_bucket_init(&b, 30, 60, 5);
  for (int i = 0; i < 5; i++) CHECK_NEAR(cl_bucket_acquire(&b, 100), 0, 1e-9);
  double w = cl_bucket_acquire(&b, 100);
  CHECK(w > 0);
  CHECK_NEAR(w, 60.0 / 26.0, 1e-9);
  CHECK(cl_bucket_peek(&b, 100) > w); /* the next one waits longer */
  /* idle time refills */
  CHECK_NEAR(cl_bucket_acquire(&b, 1000), 0, 1e-9);
}

static void test_penalize(void) {
  cl_bucket b;
  cl_bucket_init(&b, 30, 60, 5);
  cl_bucket_penalize(&b, 10, 7);
  CHECK_NEAR(cl_bucket_acquire(&b, 10), 7, 1e-9);
  cl_bucket_penalize(&b, 10, -1); /* never moves back */
  CHECK(cl_bucket_peek(&b, 10) > 0);
}

int main(void) {
  test_never_exceeds(30, 1);
  test_never_exceeds(30, 5);
  test_never_exceeds(60, 10);
  test_never_exceeds(2, 50);
  test_burst_then_pace();
  test_penalize();
  return check_summary("test_ratelimit");
}
