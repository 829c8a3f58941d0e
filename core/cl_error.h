/* Error kinds and the caller-owned error slot filled by every core function. */
#ifndef CL_ERROR_H
#define CL_ERROR_H

#include <stddef.h>

typedef enum cl_kind {
#define X(e, name, retry, exit_status) e,
#include "cl_errors.def"
#undef X
  CL_KIND_COUNT
} cl_kind;

/* When a failure of a kind is tried again: the retry column of cl_errors.def. */
typedef enum cl_retry_when {
  CL_RETRY_NEVER, /* the request itself is at fault: the same answer again */
  CL_RETRY_ANY, /* the server refused without acting: any request */
  CL_RETRY_REPEATABLE, /* the server may have acted: a repeatable request only */
  CL_RETRY_UNSENT /* any request while nothing was sent, then as REPEATABLE */
} cl_retry_when;

typedef struct cl_error {
  cl_kind kind;
  int cause; /* transport error number (libcurl code) or 0 */
  int sent; /* 1 when any byte of the request may have reached the server */
  char message[256]; /* never contains the API key */
} cl_error;

/// "transport", "timeout", ...; "unknown" for an out-of-range kind.
const char *cl_kind_name(cl_kind kind);
/// When a failure of this kind is tried again (CL_RETRY_NEVER for an out-of-range kind).
cl_retry_when cl_kind_retry(cl_kind kind);
/// "never", "any", "repeatable" or "unsent": the retry column's words, as Lua sees them.
const char *cl_retry_when_name(cl_retry_when when);
/// The exit status of a run that ends on an error of this kind (1 for an unknown kind).
int cl_kind_exit_status(cl_kind kind);
/// The kind an HTTP status maps to (0..199 and 2xx/3xx map to CL_EAPI).
cl_kind cl_kind_from_status(long status);
/// Fills err (which may be NULL) and returns -1, so callers can `return cl_error_set(...)`.
int cl_error_set(cl_error *err, cl_kind kind, int cause, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/// Resets err to CL_OK with an empty message.
void cl_error_clear(cl_error *err);

#endif
