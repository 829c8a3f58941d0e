#include "cl_shared.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cl_clock.h"
#include "cl_ratelimit.h"

int cl_shared_open(cl_shared_bucket *s, const char *path, double limit, double window, double burst,
                   double margin, cl_error *err) {
  s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (s->fd < 0) {
    return cl_error_set(err, CL_ECONFIG, errno, "cannot open the shared rate-limit file: %s",
                        strerror(errno));
  }
  struct stat st;
  if (fstat(s->fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    close(s->fd);
    s->fd = -1;
    return cl_error_set(err, CL_ECONFIG, 0,
                        "the shared rate-limit file is not private to this user: not used");
  }
  s->limit = limit;
  s->window = window;
  s->burst = burst;
  s->margin = margin;
  return 0;
}

/* A bucket read from the file is used when it is whole, has these limits and no time far in
 * the future (a file left from before a reboot, when the monotonic clock started again). */
static int usable(const cl_bucket *b, const cl_bucket *fresh, double now) {
  if (b->limit != fresh->limit || b->window != fresh->window || b->burst != fresh->burst ||
      b->interval != fresh->interval || b->count < 0 || b->count > b->limit || b->head < 0 ||
      b->head >= b->limit)
    return 0;
  double horizon = now + 4 * b->window;
  if (b->tat > horizon + b->window * b->limit || b->blocked_until > now + 86400) return 0;
  for (int i = 0; i < b->count; i++)
    if (b->starts[(b->head + i) % b->limit] > horizon) return 0;
  return 1;
}

double cl_bucket_state_run(const void *state, size_t len, int op, double now, double arg,
                           double limit, double window, double burst, double margin, void *out) {
  size_t size = cl_bucket_size(limit);
  cl_bucket *b = out, *fresh = malloc(size);
  if (!fresh) return -1;
  cl_bucket_init(fresh, limit, window, burst, margin);
  if (state && len == size) memcpy(b, state, size);
  if (!state || len != size || !usable(b, fresh, now)) memcpy(b, fresh, size);
  free(fresh);
  if (op == CL_BUCKET_ACQUIRE) return cl_bucket_acquire(b, now);
  if (op == CL_BUCKET_PEEK) return cl_bucket_peek(b, now);
  cl_bucket_penalize(b, now, arg);
  return 0;
}

static double seconds_now(void) {
  return (double)cl_monotonic_ns() / 1e9;
}

/* Seconds since `since`: the time spent waiting for a lock. A step taken after that wait runs at
 * the caller's now plus it (else it could record a start already past), and its wait is still
 * counted from the caller's now. */
static double waited_since(double since) {
  double d = seconds_now() - since;
  return d > 0 ? d : 0;
}

static double run(cl_shared_bucket *s, int op, double now, double arg) {
  size_t size = cl_bucket_size(s->limit);
  char *state = malloc(size), *next = malloc(size);
  double out = -1;
  if (!state || !next) goto done;
  double entered = seconds_now();
  if (flock(s->fd, LOCK_EX) != 0) goto done;
  double waited = waited_since(entered);
  ssize_t got = pread(s->fd, state, size, 0);
  out = cl_bucket_state_run(got > 0 ? state : NULL, got > 0 ? (size_t)got : 0, op, now + waited,
                            arg, s->limit, s->window, s->burst, s->margin, next);
  if (out >= 0 && op != CL_BUCKET_PEEK && pwrite(s->fd, next, size, 0) != (ssize_t)size) out = -1;
  if (out >= 0 && op != CL_BUCKET_PENALIZE) out += waited;
  flock(s->fd, LOCK_UN);
done:
  free(state);
  free(next);
  return out;
}

/* Reads a bucket's bytes from its file (locked by the caller): the length read, 0 when none. */
static size_t read_state(cl_shared_bucket *s, char *state, size_t size) {
  ssize_t got = pread(s->fd, state, size, 0);
  return got > 0 ? (size_t)got : 0;
}

double cl_shared_acquire_pair(cl_shared_bucket *k, cl_shared_bucket *o, double now) {
  size_t ks = cl_bucket_size(k->limit), os = cl_bucket_size(o->limit);
  char *kstate = malloc(ks), *knext = malloc(ks), *ostate = malloc(os), *onext = malloc(os);
  double out = -1;
  if (!kstate || !knext || !ostate || !onext) goto done;
  double entered = seconds_now();
  if (flock(k->fd, LOCK_EX) != 0) goto done;
  if (flock(o->fd, LOCK_EX) != 0) goto unlock_k;
  double waited = waited_since(entered);
  now += waited;
  size_t kn = read_state(k, kstate, ks), on = read_state(o, ostate, os);
  double wk = cl_bucket_state_run(kn ? kstate : NULL, kn, CL_BUCKET_PEEK, now, 0, k->limit,
                                  k->window, k->burst, k->margin, knext);
  double wo = cl_bucket_state_run(on ? ostate : NULL, on, CL_BUCKET_PEEK, now, 0, o->limit,
                                  o->window, o->burst, o->margin, onext);
  if (wk < 0 || wo < 0) goto unlock;
  double at = now + (wk > wo ? wk : wo);
  wk = cl_bucket_state_run(kn ? kstate : NULL, kn, CL_BUCKET_ACQUIRE, at, 0, k->limit, k->window,
                           k->burst, k->margin, knext);
  wo = cl_bucket_state_run(on ? ostate : NULL, on, CL_BUCKET_ACQUIRE, at, 0, o->limit, o->window,
                           o->burst, o->margin, onext);
  if (wk < 0 || wo < 0 || pwrite(k->fd, knext, ks, 0) != (ssize_t)ks ||
      pwrite(o->fd, onext, os, 0) != (ssize_t)os)
    goto unlock;
  out = at - now + (wk > wo ? wk : wo) + waited;
unlock:
  flock(o->fd, LOCK_UN);
unlock_k:
  flock(k->fd, LOCK_UN);
done:
  free(kstate);
  free(knext);
  free(ostate);
  free(onext);
  return out;
}

double cl_shared_acquire(cl_shared_bucket *s, double now) {
  return run(s, CL_BUCKET_ACQUIRE, now, 0);
}

double cl_shared_peek(cl_shared_bucket *s, double now) {
  return run(s, CL_BUCKET_PEEK, now, 0);
}

int cl_shared_penalize(cl_shared_bucket *s, double now, double retry_after) {
  return run(s, CL_BUCKET_PENALIZE, now, retry_after) < 0 ? -1 : 0;
}

void cl_shared_close(cl_shared_bucket *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}
