#include "cl_redis_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The buckets of cl_ratelimit.c, on the server: one, or several that a request must pass
 * together (the key's and the organisation's), reserved at one start, the latest any of them
 * allows, in one atomic step: so no other caller reserves between them, and every bucket
 * records the start the request will have. Times are the server's TIME in seconds; `now` is
 * that time plus the caller's delay (a reservation for later); the keys expire once nothing in
 * them can matter any more. Returns the wait from `now` in seconds as text (a Lua number would
 * come back as an integer). */
const char cl_redis_script[] =
    "-- KEYS: per bucket, its hash {tat, blocked} and its list of starts. ARGV: op, retry_after, delay,\n"
    "-- then per bucket: limit, window, burst.\n"
    "local op, retry_after, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) + tonumber(t[2]) / 1e6 + math.max(0, delay)\n"
    "local buckets = {}\n"
    "for i = 1, #KEYS / 2 do\n"
    "  local b = { state = KEYS[2 * i - 1], starts = KEYS[2 * i], limit = tonumber(ARGV[3 * i + 1]),\n"
    "    window = tonumber(ARGV[3 * i + 2]), burst = tonumber(ARGV[3 * i + 3]) }\n"
    "  b.interval = b.window / b.limit\n"
    "  b.tat = tonumber(redis.call('HGET', b.state, 'tat')) or 0\n"
    "  b.blocked = tonumber(redis.call('HGET', b.state, 'blocked')) or 0\n"
    "  buckets[i] = b\n"
    "end\n"
    "local function keep(b, until_)\n"
    "  local ms = math.ceil((until_ - now + b.window) * 1000) + 1000\n"
    "  redis.call('PEXPIRE', b.state, ms)\n"
    "  if redis.call('EXISTS', b.starts) == 1 then redis.call('PEXPIRE', b.starts, ms) end\n"
    "end\n"
    "if op == 'penalize' then\n"
    "  for _, b in ipairs(buckets) do\n"
    "    b.blocked = math.max(b.blocked, now + math.max(0, retry_after))\n"
    "    redis.call('HSET', b.state, 'blocked', string.format('%.6f', b.blocked))\n"
    "    keep(b, math.max(b.blocked, b.tat))\n"
    "  end\n"
    "  return '0'\n"
    "end\n"
    "local start = now\n"
    "for _, b in ipairs(buckets) do\n"
    "  local s = math.max(now, b.blocked)\n"
    "  b.n = redis.call('LLEN', b.starts)\n"
    "  if b.n > 0 then s = math.max(s, tonumber(redis.call('LINDEX', b.starts, -1))) end\n"
    "  if b.n >= b.limit then\n"
    "    s = math.max(s, tonumber(redis.call('LINDEX', b.starts, b.n - b.limit)) + b.window)\n"
    "  end\n"
    "  start = math.max(start, s, b.tat - (b.burst - 1) * b.interval)\n"
    "end\n"
    "if op == 'acquire' then\n"
    "  for _, b in ipairs(buckets) do\n"
    "    b.tat = math.max(b.tat, start) + b.interval\n"
    "    redis.call('HSET', b.state, 'tat', string.format('%.6f', b.tat))\n"
    "    redis.call('RPUSH', b.starts, string.format('%.6f', start))\n"
    "    if b.n + 1 > b.limit then redis.call('LTRIM', b.starts, -b.limit, -1) end\n"
    "    keep(b, math.max(b.tat, b.blocked))\n"
    "  end\n"
    "end\n"
    "local wait = start - now\n"
    "if wait < 1e-6 then wait = 0 end\n"
    "return string.format('%.6f', wait)\n";

/* ---- the URL --------------------------------------------------------------------------- */

static int copy_part(char *dst, size_t size, const char *from, size_t len) {
  if (len >= size) return -1;
  memcpy(dst, from, len);
  dst[len] = '\0';
  return 0;
}

static int parse_db(const char *s, int *db) {
  if (!*s) return 0;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 0 || v > INT_MAX || end == s) return -1;
  *db = (int)v;
  return 0;
}

int cl_redis_url_parse(const char *url, cl_redis_url *r, cl_error *err) {
  static const char bad[] =
      "rate_limit.store is not a Redis URL "
      "(redis://[:password@]host[:port][/db] or unix:///path[?db=N])";
  memset(r, 0, sizeof *r);
  r->port = 6379;
  if (strncmp(url, "unix://", 7) == 0) {
    const char *path = url + 7, *q = strchr(path, '?');
    size_t len = q ? (size_t)(q - path) : strlen(path);
    if (path[0] != '/' || copy_part(r->host, sizeof r->host, path, len)) goto bad;
    if (q && (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &r->db))) goto bad;
    r->unix_socket = 1;
    snprintf(r->where, sizeof r->where, "%s?db=%d", r->host, r->db);
    return 0;
  }
  if (strncmp(url, "rediss://", 9) == 0) {
    return cl_error_set(err, CL_ECONFIG, 0,
                        "rate_limit.store: rediss:// (TLS) is not supported by this build; use "
                        "redis:// on a trusted network or a unix:// socket");
  }
  if (strncmp(url, "redis://", 8) != 0) goto bad;
  const char *p = url + 8, *end = p + strcspn(p, "/?#");
  const char *at = NULL;
  for (const char *s = p; s < end; s++)
    if (*s == '@') at = s;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (copy_part(r->user, sizeof r->user, p, (size_t)(colon - p)) ||
          copy_part(r->password, sizeof r->password, colon + 1, (size_t)(at - colon - 1)))
        goto bad;
    } else if (copy_part(r->password, sizeof r->password, p, (size_t)(at - p))) {
      goto bad;
    }
    p = at + 1;
  }
  const char *host_end = end;
  if (*p == '[') { /* [::1]:6379 */
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close || copy_part(r->host, sizeof r->host, p + 1, (size_t)(close - p - 1))) goto bad;
    host_end = close + 1;
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (colon) host_end = colon;
    if (copy_part(r->host, sizeof r->host, p, (size_t)(host_end - p))) goto bad;
  }
  if (!r->host[0]) goto bad;
  if (host_end < end) {
    if (*host_end != ':') goto bad;
    char port[8];
    int v = 0;
    if (copy_part(port, sizeof port, host_end + 1, (size_t)(end - host_end - 1)) ||
        parse_db(port, &v) || v < 1 || v > 65535)
      goto bad;
    r->port = v;
  }
  if (*end == '/') {
    char db[12];
    const char *tail = end + 1;
    if (copy_part(db, sizeof db, tail, strcspn(tail, "?#")) || parse_db(db, &r->db)) goto bad;
  } else if (*end) {
    goto bad;
  }
  snprintf(r->where, sizeof r->where, "%s:%d/%d", r->host, r->port, r->db);
  return 0;
bad:
  return cl_error_set(err, CL_ECONFIG, 0, "%s", bad);
}

/* ---- one command ---------------------------------------------------------------------- */

void cl_redis_bucket_set(cl_redis_bucket *b, double limit, double window, double burst,
                         double margin, double delay) {
  b->limit = limit;
  b->window = window * (1 + margin);
  b->burst = burst;
  b->delay = delay;
}

int cl_redis_args_set(cl_redis_args *a, const char *op, int n, const char *const *ids,
                      const cl_redis_bucket *bs, double retry_after) {
  if (n < 1 || n > CL_REDIS_MAX_BUCKETS) return -1;
  int k = 0;
  snprintf(a->nkeys, sizeof a->nkeys, "%d", 2 * n);
  a->argv[k++] = a->nkeys;
  for (int i = 0; i < n; i++) {
    snprintf(a->state[i], sizeof a->state[i], "cleanlist:ratelimit:{%.250s}", ids[i]);
    snprintf(a->starts[i], sizeof a->starts[i], "cleanlist:ratelimit:{%.250s}:starts", ids[i]);
    a->argv[k++] = a->state[i];
    a->argv[k++] = a->starts[i];
  }
  a->argv[k++] = op;
  snprintf(a->retry, sizeof a->retry, "%.6f", retry_after);
  snprintf(a->delay, sizeof a->delay, "%.6f", bs[0].delay);
  a->argv[k++] = a->retry;
  a->argv[k++] = a->delay;
  for (int i = 0; i < n; i++) {
    double limit = bs[i].limit < 1 ? 1 : bs[i].limit, burst = bs[i].burst;
    snprintf(a->limit[i], sizeof a->limit[i], "%.0f", limit);
    snprintf(a->window[i], sizeof a->window[i], "%.9g", bs[i].window);
    snprintf(a->burst[i], sizeof a->burst[i], "%.9g",
             burst < 1       ? 1
             : burst > limit ? limit
                             : burst);
    a->argv[k++] = a->limit[i];
    a->argv[k++] = a->window[i];
    a->argv[k++] = a->burst[i];
  }
  a->argc = k;
  return 0;
}
