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

typedef struct cl_error {
  cl_kind kind;
  int cause;         /* transport error number (libcurl code) or 0 */
  int sent;          /* 1 when any byte of the request may have reached the server */
  char message[256]; /* never contains the API key */
} cl_error;

/// "transport", "timeout", ...; "unknown" for an out-of-range kind.
const char *cl_kind_name(cl_kind kind);
/// Whether a failure of this kind can succeed when tried again (the default of the table).
int cl_kind_retryable(cl_kind kind);
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
