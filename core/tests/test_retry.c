#include "check.h"
#include "cl_retry.h"

static cl_retry_out decide(int safe, int key, cl_kind kind, int sent, int retryable, int attempt) {
  cl_retry_in in = {safe, key, kind, sent, retryable, attempt, 2};
  return cl_retry_decide(&in);
}

static void test_table(void) {
  /* GET: transport after send, timeout, 429, 5xx retry; 4xx does not */
  CHECK(decide(1, 0, CL_ETRANSPORT, 1, -1, 1).retry);
  CHECK(decide(1, 0, CL_ETIMEOUT, 1, -1, 1).retry);
  CHECK(decide(1, 0, CL_ERATELIMIT, 1, -1, 1).retry);
  CHECK(decide(1, 0, CL_ESERVER, 1, -1, 1).retry);
  CHECK(!decide(1, 0, CL_ESERVER, 1, 0, 1).retry); /* server says it cannot succeed */
  CHECK(!decide(1, 0, CL_ENOTFOUND, 1, -1, 1).retry);
  CHECK(!decide(1, 0, CL_ETLS, 1, -1, 1).retry);
  /* POST: only when provably not acted on */
  CHECK(decide(0, 0, CL_ETRANSPORT, 0, -1, 1).retry);
  CHECK(decide(0, 0, CL_ETIMEOUT, 0, -1, 1).retry);
  CHECK(decide(0, 0, CL_ERATELIMIT, 1, 1, 1).retry);
  CHECK(decide(0, 0, CL_ERATELIMIT, 1, 0, 1).retry); /* a 429 did nothing, whatever it says */
  CHECK(decide(0, 0, CL_ESERVER, 1, 1, 1).retry);
  CHECK(decide(0, 0, CL_EAUTH, 1, 1, 1).retry); /* the server marked it retryable */
  cl_retry_out o = decide(0, 0, CL_ESERVER, 1, -1, 1);
  CHECK(!o.retry && o.ambiguous);
  o = decide(0, 0, CL_ESERVER, 1, 0, 1);
  CHECK(!o.retry && o.ambiguous);
  o = decide(0, 0, CL_ETIMEOUT, 1, -1, 1);
  CHECK(!o.retry && o.ambiguous);
  o = decide(0, 0, CL_EINVALID, 1, 0, 1);
  CHECK(!o.retry && !o.ambiguous);
  /* a 2xx whose body cannot be decoded: the server acted. GET retries; POST is ambiguous */
  CHECK(decide(1, 0, CL_EDECODE, 1, -1, 1).retry);
  o = decide(0, 0, CL_EDECODE, 1, -1, 1);
  CHECK(!o.retry && o.ambiguous);
  o = decide(0, 0, CL_EDECODE, 1, -1, 3);
  CHECK(!o.retry && o.ambiguous);
  CHECK(decide(0, 1, CL_EDECODE, 1, -1, 1).retry);
  /* POST with a body idempotency key behaves like a GET */
  CHECK(decide(0, 1, CL_ETIMEOUT, 1, -1, 1).retry);
  CHECK(decide(0, 1, CL_ESERVER, 1, -1, 1).retry);
  /* budget */
  CHECK(decide(1, 0, CL_ESERVER, 1, -1, 2).retry);
  o = decide(1, 0, CL_ESERVER, 1, -1, 3);
  CHECK(!o.retry && strcmp(o.reason, "retries exhausted") == 0);
  CHECK(!decide(1, 0, CL_OK, 1, -1, 1).retry);
}

/* Every kind is decided by its row of cl_errors.def, and nothing else. */
static void test_column(void) {
  CHECK(cl_kind_retry(CL_ETRANSPORT) == CL_RETRY_UNSENT);
  CHECK(cl_kind_retry(CL_ERATELIMIT) == CL_RETRY_ANY);
  CHECK(cl_kind_retry(CL_ESERVER) == CL_RETRY_REPEATABLE);
  CHECK(cl_kind_retry(CL_EAUTH) == CL_RETRY_NEVER);
  CHECK(cl_kind_retry((cl_kind)CL_KIND_COUNT) == CL_RETRY_NEVER);
  CHECK_STR(cl_retry_when_name(CL_RETRY_UNSENT), "unsent");
  for (int k = 1; k < CL_KIND_COUNT; k++) {
    cl_retry_when when = cl_kind_retry((cl_kind)k);
    for (int sent = 0; sent <= 1; sent++) {
      cl_retry_out get = decide(1, 0, (cl_kind)k, sent, -1, 1);
      cl_retry_out post = decide(0, 0, (cl_kind)k, sent, -1, 1);
      int unsent = when == CL_RETRY_UNSENT && !sent;
      CHECK(get.retry == (when != CL_RETRY_NEVER));
      CHECK(post.retry == (when == CL_RETRY_ANY || unsent));
      CHECK(post.ambiguous == (when == CL_RETRY_REPEATABLE || (when == CL_RETRY_UNSENT && sent)));
      CHECK(!get.ambiguous);
    }
  }
}

static void test_backoff(void) {
  CHECK_NEAR(cl_backoff(1, 0.5, 8, 0.0), 0.375, 1e-9);
  CHECK_NEAR(cl_backoff(1, 0.5, 8, 0.999999), 0.5, 1e-6);
  CHECK_NEAR(cl_backoff(3, 0.5, 8, 0.0), 1.5, 1e-9);
  CHECK_NEAR(cl_backoff(10, 0.5, 8, 0.0), 6.0, 1e-9); /* capped at 8, jittered */
  CHECK(cl_backoff(1000, 0.5, 8, 0.5) <= 8);
  double prev = 0;
  for (int a = 1; a <= 5; a++) {
    double d = cl_backoff(a, 0.5, 100, 0.0);
    CHECK(d > prev);
    prev = d;
  }
}

static void test_retry_after(void) {
  double now = 784111777.0; /* Sun, 06 Nov 1994 08:49:37 GMT */
  CHECK_NEAR(cl_retry_after_parse("3", now), 3, 1e-9);
  CHECK_NEAR(cl_retry_after_parse(" 1.5 ", now), 1.5, 1e-9);
  CHECK_NEAR(cl_retry_after_parse("0", now), 0, 1e-9);
  CHECK_NEAR(cl_retry_after_parse("Sun, 06 Nov 1994 08:49:47 GMT", now), 10, 1e-9);
  CHECK_NEAR(cl_retry_after_parse("Sunday, 06-Nov-94 08:50:37 GMT", now), 60, 1e-9);
  CHECK_NEAR(cl_retry_after_parse("Sun Nov  6 08:49:40 1994", now), 3, 1e-9);
  CHECK_NEAR(cl_retry_after_parse("Sat, 05 Nov 1994 08:49:37 GMT", now), 0, 1e-9);
  CHECK(cl_retry_after_parse(NULL, now) < 0);
  CHECK(cl_retry_after_parse("", now) < 0);
  CHECK(cl_retry_after_parse("soon", now) < 0);
  CHECK(cl_retry_after_parse("-5", now) < 0);
  CHECK(cl_retry_after_parse("5 seconds", now) < 0);
  CHECK(cl_retry_after_parse("Sun, 06 Nov 1994 25:49:37 GMT", now) < 0);
  CHECK(cl_retry_after_parse("Sun, 06 Nov 1994 08:49:37 PST", now) < 0);
}

int main(void) {
  test_table();
  test_column();
  test_backoff();
  test_retry_after();
  return check_summary("test_retry");
}
