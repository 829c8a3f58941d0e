/* A rate-limit bucket kept in a small file, shared by the processes of one machine that use
 * one key: each operation takes an exclusive lock on the file (flock, released by the kernel
 * when a process dies, so a crash leaves nothing stuck), reads the bucket, applies the
 * operation of cl_ratelimit.h and writes it back. Times are CLOCK_MONOTONIC seconds, the same
 * in every process. No Lua, no libcurl. */
#ifndef CL_SHARED_H
#define CL_SHARED_H

#include "cl_error.h"

typedef struct cl_shared_bucket {
  int fd;
  double limit, window, burst, margin;
} cl_shared_bucket;

/// Opens (creating, mode 0600) the bucket file at path for these limits. 0, or -1 with err.
int cl_shared_open(cl_shared_bucket *s, const char *path, double limit, double window, double burst,
                   double margin, cl_error *err);

/// As cl_bucket_acquire / peek / penalize, on the shared state. A failure to lock, read or
/// write returns -1 (the caller falls back to a bucket of its own).
double cl_shared_acquire(cl_shared_bucket *s, double now);
double cl_shared_peek(cl_shared_bucket *s, double now);
int cl_shared_penalize(cl_shared_bucket *s, double now, double retry_after);

/// A request's two buckets (the key's, then the organisation's: always that order, so two
/// processes never wait on each other's lock) reserved together under both locks, at one
/// start, the latest either allows; both record that start. The wait, or -1 on a failure.
double cl_shared_acquire_pair(cl_shared_bucket *k, cl_shared_bucket *o, double now);

void cl_shared_close(cl_shared_bucket *s);

enum { CL_BUCKET_ACQUIRE, CL_BUCKET_PEEK, CL_BUCKET_PENALIZE };

/// One operation on a bucket kept as bytes by someone else (a file, nginx's shared memory):
/// `state` holds `len` bytes read back (NULL or a state of other limits, cut short or from
/// before a reboot starts a fresh bucket); `out` (cl_bucket_size(limit) bytes) receives the
/// state to keep. Returns the wait of an acquire or peek, 0 for a penalize, -1 out of memory.
double cl_bucket_state_run(const void *state, size_t len, int op, double now, double arg,
                           double limit, double window, double burst, double margin, void *out);

#endif
