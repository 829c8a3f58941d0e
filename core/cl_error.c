#include "cl_error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const kind_names[] = {
#define X(e, name, retry, exit_status) name,
#include "cl_errors.def"
#undef X
};

static const cl_retry_when kind_retry[] = {
#define X(e, name, retry, exit_status) CL_RETRY_##retry,
#include "cl_errors.def"
#undef X
};

static const unsigned char kind_exit[] = {
#define X(e, name, retry, exit_status) exit_status,
#include "cl_errors.def"
#undef X
};

const char *cl_kind_name(cl_kind kind) {
  return (kind >= 0 && kind < CL_KIND_COUNT) ? kind_names[kind] : "unknown";
}

cl_retry_when cl_kind_retry(cl_kind kind) {
  return (kind >= 0 && kind < CL_KIND_COUNT) ? kind_retry[kind] : CL_RETRY_NEVER;
}

const char *cl_retry_when_name(cl_retry_when when) {
  static const char *const names[] = {"never", "any", "repeatable", "unsent"};
  return (unsigned)when < sizeof names / sizeof *names ? names[when] : "never";
}

int cl_kind_exit_status(cl_kind kind) {
  return (kind >= 0 && kind < CL_KIND_COUNT) ? kind_exit[kind] : 1;
}

cl_kind cl_kind_from_status(long status) {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return CL_EINVALID;
    case 401:
      return CL_EAUTH;
    case 402:
      return CL_ECREDITS;
    case 403:
      return CL_EPERMISSION;
    case 404:
      return CL_ENOTFOUND;
    case 409:
      return CL_ECONFLICT;
    case 429:
      return CL_ERATELIMIT;
    default:
      return (status >= 500 && status <= 599) ? CL_ESERVER : CL_EAPI;
  }
}

int cl_error_set(cl_error *err, cl_kind kind, int cause, const char *fmt, ...) {
  if (!err) return -1;
  err->kind = kind;
  err->cause = cause;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return -1;
}

void cl_error_clear(cl_error *err) {
  err->kind = CL_OK;
  err->cause = 0;
  err->sent = 0;
  err->message[0] = '\0';
}
