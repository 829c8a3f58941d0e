#include "cl_retry.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static cl_retry_out decision(int retry, int ambiguous, const char *reason) {
  cl_retry_out o = {retry, ambiguous, reason};
  return o;
}

cl_retry_out cl_retry_decide(const cl_retry_in *in) {
  if (in->kind == CL_OK) return decision(0, 0, "succeeded");
  cl_retry_when when = cl_kind_retry(in->kind);
  int repeatable = in->safe || in->idempotent_key;
  int unsent = when == CL_RETRY_UNSENT && !in->sent;
  /* The server may have acted: it answered 5xx, or it acted and the answer was lost (a
   * connection cut after sending, a 2xx that cannot be decoded). */
  int may_have_acted = (when == CL_RETRY_REPEATABLE || when == CL_RETRY_UNSENT) && !unsent;
  int ambiguous = !repeatable && may_have_acted && in->retryable != 1;
  const char *why;

  if (unsent)
    why = "nothing was sent";
  else if (when == CL_RETRY_ANY)
    why = "the server refused without acting on it";
  else if (in->retryable == 1)
    why = "the server marked the error retryable";
  else if (ambiguous)
    return decision(0, 1, "the request may have been acted on; not repeatable");
  else if (may_have_acted && in->retryable != 0)
    why = "the server may have acted; the request is repeatable";
  else
    return decision(0, 0, "the failure is not retryable");

  if (in->attempt > in->max_retries) return decision(0, ambiguous, "retries exhausted");
  return decision(1, 0, why);
}

double cl_backoff(int attempt, double base, double cap, double rnd01) {
  if (attempt < 1) attempt = 1;
  if (rnd01 < 0) rnd01 = 0;
  if (rnd01 >= 1) rnd01 = 0.999999;
  double d = base * pow(2.0, attempt > 30 ? 30 : attempt - 1);
  if (d > cap) d = cap;
  d *= 0.75 + 0.25 * rnd01;
  return d;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int month_index(const char *s) {
  static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int i = 0; i < 12; i++)
    if (strncasecmp(s, names + (size_t)3 * (size_t)i, 3) == 0) return i + 1;
  return 0;
}

/* Reads the next run of alphanumerics; separators are spaces, commas, dashes and colons. */
static const char *token(const char *p, char *buf, size_t cap) {
  size_t n = 0;
  while (*p && !isalnum((unsigned char)*p)) p++;
  while (*p && isalnum((unsigned char)*p)) {
    if (n + 1 < cap) buf[n++] = *p;
    p++;
  }
  buf[n] = '\0';
  return p;
}

static double parse_http_date(const char *v) {
  char t[8][16];
  const char *p = v;
  int n = 0;
  while (n < 8 && *p) {
    p = token(p, t[n], sizeof t[n]);
    if (t[n][0]) n++;
  }
  /* IMF-fixdate: Sun 06 Nov 1994 08 49 37 GMT; RFC 850: Sunday 06 Nov 94 08 49 37 GMT;
   * asctime: Sun Nov 6 08 49 37 1994 */
  long day, mon, year, hh, mm, ss;
  if (n >= 8 && month_index(t[2]) && isdigit((unsigned char)t[1][0])) {
    day = atol(t[1]);
    mon = month_index(t[2]);
    year = atol(t[3]);
    hh = atol(t[4]);
    mm = atol(t[5]);
    ss = atol(t[6]);
    if (strcasecmp(t[7], "GMT") != 0 && strcasecmp(t[7], "UTC") != 0) return -1;
    if (year < 100) year += year < 70 ? 2000 : 1900;
  } else if (n >= 7 && month_index(t[1])) {
    mon = month_index(t[1]);
    day = atol(t[2]);
    hh = atol(t[3]);
    mm = atol(t[4]);
    ss = atol(t[5]);
    year = atol(t[6]);
  } else {
    return -1;
  }
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970) return -1;
  return (double)days_from_civil(year, mon, day) * 86400.0 + (double)(hh * 3600 + mm * 60 + ss);
}

double cl_retry_after_parse(const char *value, double now) {
  if (!value) return -1;
  while (*value == ' ' || *value == '\t') value++;
  if (!*value) return -1;
  if (isdigit((unsigned char)*value)) {
    char *end;
    double s = strtod(value, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end == '\0') return (isfinite(s) && s >= 0) ? s : -1;
  }
  double at = parse_http_date(value);
  if (at < 0) return -1;
  return at > now ? at - now : 0;
}
