#include "cl_redis_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bucket of cl_ratelimit.c, on the server. KEYS[1] is a hash {tat, blocked}, KEYS[2] the
 * list of the last `limit` start times, oldest first. ARGV: op, limit, window (with margin),
 * burst, retry_after, delay. Times are the server's TIME in seconds; `now` is that time plus
 * the caller's delay (a reservation for later, as acquire(now + wait) of a second bucket);
 * both keys expire once nothing in them can matter any more. Returns the wait from `now` in
 * seconds as text (a Lua number would come back as an integer). */
const char cl_redis_script[] =
    "local op, limit, window, burst = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),"
    " tonumber(ARGV[4])\n"
    "local interval = window / limit\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) + tonumber(t[2]) / 1e6 + math.max(0, tonumber(ARGV[6]))\n"
    "local tat = tonumber(redis.call('HGET', KEYS[1], 'tat')) or 0\n"
    "local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0\n"
    "local function keep(until_)\n"
    "  local ms = math.ceil((until_ - now + window) * 1000) + 1000\n"
    "  redis.call('PEXPIRE', KEYS[1], ms)\n"
    "  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ms) end\n"
    "end\n"
    "if op == 'penalize' then\n"
    "  blocked = math.max(blocked, now + math.max(0, tonumber(ARGV[5])))\n"
    "  redis.call('HSET', KEYS[1], 'blocked', string.format('%.6f', blocked))\n"
    "  keep(math.max(blocked, tat))\n"
    "  return '0'\n"
    "end\n"
    "local start = math.max(now, blocked)\n"
    "local n = redis.call('LLEN', KEYS[2])\n"
    "if n > 0 then start = math.max(start, tonumber(redis.call('LINDEX', KEYS[2], -1))) end\n"
    "if n >= limit then\n"
    "  start = math.max(start, tonumber(redis.call('LINDEX', KEYS[2], n - limit)) + window)\n"
    "end\n"
    "start = math.max(start, tat - (burst - 1) * interval)\n"
    "if op == 'acquire' then\n"
    "  tat = math.max(tat, start) + interval\n"
    "  redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat))\n"
    "  redis.call('RPUSH', KEYS[2], string.format('%.6f', start))\n"
    "  if n + 1 > limit then redis.call('LTRIM', KEYS[2], -limit, -1) end\n"
    "  keep(math.max(tat, blocked))\n"
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
  static const char bad[] = "rate_limit.store is not a Redis URL "
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

void cl_redis_args_set(cl_redis_args *a, const char *op, const char *id, const cl_redis_bucket *b,
                       double retry_after) {
  double limit = b->limit < 1 ? 1 : b->limit, burst = b->burst;
  snprintf(a->state, sizeof a->state, "cleanlist:ratelimit:{%.250s}", id);
  snprintf(a->starts, sizeof a->starts, "%s:starts", a->state);
  snprintf(a->limit, sizeof a->limit, "%.0f", limit);
  snprintf(a->window, sizeof a->window, "%.9g", b->window);
  snprintf(a->burst, sizeof a->burst, "%.9g", burst < 1 ? 1 : burst > limit ? limit : burst);
  snprintf(a->retry, sizeof a->retry, "%.6f", retry_after);
  snprintf(a->delay, sizeof a->delay, "%.6f", b->delay);
  const char *argv[CL_REDIS_ARGC] = {"2",      a->state, a->starts, op,      a->limit,
                                     a->window, a->burst, a->retry,  a->delay};
  memcpy(a->argv, argv, sizeof argv);
}
