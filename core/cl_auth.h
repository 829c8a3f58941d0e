/* API key resolution, validation and redaction. The key never leaves this layer in any
 * message: every function that reports a problem describes the key without quoting it. */
#ifndef CL_AUTH_H
#define CL_AUTH_H

#include <stddef.h>

#include "cl_error.h"

#define CL_API_KEY_ENV "CLEANLIST_API_KEY"
#define CL_API_KEY_PREFIX "clapi_"
#define CL_API_KEY_MAX 4096
#define CL_REDACTED "[REDACTED]"

/// The key to use: `explicit_key` when not NULL, else the value of CLEANLIST_API_KEY.
/// Returns NULL and fills err (CL_ECONFIG, naming CLEANLIST_API_KEY) when neither is set or
/// the chosen one is empty. The result points into the argument or the environment.
const char *cl_auth_resolve(const char *explicit_key, cl_error *err);

/// Checks the shape of a credential: a `clapi_` key, or a JWT (three base64url parts, for
/// Clerk session tokens). Refuses control characters, spaces, a pasted "Bearer " scheme and
/// anything else. Returns 0, or -1 with err filled (CL_ECONFIG).
int cl_auth_check(const char *key, cl_error *err);

/// Copies `in` (len bytes) to `out` (capacity cap, always NUL-terminated) with every
/// occurrence of `secret` and the value of any "Authorization:" or "Proxy-Authorization:"
/// header line replaced by "[REDACTED]". Returns the length written. A NULL or empty secret redacts headers only.
size_t cl_redact(const char *in, size_t len, const char *secret, char *out, size_t cap);

/// A display form that identifies a key without revealing it: "clapi_…a4f9" (prefix and last
/// four characters) for keys longer than 14 characters, "[REDACTED]" otherwise.
void cl_auth_mask(const char *key, char *out, size_t cap);

#endif
