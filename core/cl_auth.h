/* API key resolution, validation and redaction: the shape of a key and every way a secret is
 * hidden, for the client and the sandbox alike. The key never leaves this layer in any
 * message: every function that reports a problem describes the key without quoting it. */
#ifndef CL_AUTH_H
#define CL_AUTH_H

#include <stddef.h>

#include "cl_error.h"

#define CL_API_KEY_ENV "CLEANLIST_API_KEY"
#define CL_API_KEY_PREFIX "clapi_"
#define CL_API_KEY_MAX 4096
#define CL_REDACTED "[REDACTED]"
#define CL_ELLIPSIS "\xe2\x80\xa6" /* U+2026, where a key's secret part was */

/* What cl_redact_text replaces besides the secret (flags, combined with |). */
#define CL_REDACT_HEADERS 1u /* the value of an Authorization: or Proxy-Authorization: line */
#define CL_REDACT_KEYS 2u /* anything shaped like a clapi_ key, even a bare prefix */

/// The key to use: `explicit_key` when not NULL, else the value of CLEANLIST_API_KEY.
/// Returns NULL and fills err (CL_ECONFIG, naming CLEANLIST_API_KEY) when neither is set or
/// the chosen one is empty. The result points into the argument or the environment.
const char *cl_auth_resolve(const char *explicit_key, cl_error *err);

/// Checks the shape of a credential: a `clapi_` key (cl_auth_is_key), or a JWT (three
/// base64url parts, for Clerk session tokens). Refuses control characters, spaces, a pasted
/// "Bearer " scheme and anything else. Returns 0, or -1 with err filled (CL_ECONFIG).
int cl_auth_check(const char *key, cl_error *err);

/// 1 when c may follow the clapi_ prefix in a key: a letter, a digit, '_' or '-'.
int cl_auth_key_char(int c);

/// Length of what looks like a clapi_ key at the start of s (n bytes): the prefix and the key
/// characters after it. 0 when s does not start with the prefix.
size_t cl_auth_key_span(const char *s, size_t n);

/// 1 when key is a whole clapi_ key: the prefix, then one or more key characters, nothing else.
int cl_auth_is_key(const char *key);

/// Copies `in` (len bytes) to `out` (capacity cap, always NUL-terminated) with every
/// occurrence of `secret` (unless NULL or empty) replaced by "[REDACTED]", and, as `flags`
/// asks: the value of any "Authorization:" or "Proxy-Authorization:" header line (at a line
/// start, any case) by " [REDACTED]" (CL_REDACT_HEADERS); anything shaped like a clapi_ key by
/// "clapi_…" (CL_REDACT_KEYS). Returns the length written; what does not fit is cut.
size_t cl_redact_text(const char *in, size_t len, const char *secret, unsigned flags, char *out,
                      size_t cap);

/// The client's redaction of traces and error texts: the secret and the Authorization headers
/// (cl_redact_text with CL_REDACT_HEADERS).
size_t cl_redact(const char *in, size_t len, const char *secret, char *out, size_t cap);

/// A credential header value (len bytes) as it may be recorded: "Bearer clapi_…a4f9". The
/// scheme is kept when the value starts with a word of at most 20 letters and a space; of the
/// token, only the clapi_ prefix and, when it has 12 characters or more, its last four.
/// Returns the length written to out (capacity cap, always NUL-terminated).
size_t cl_redact_credential(const char *value, size_t len, char *out, size_t cap);

/// A display form that identifies a key without revealing it: "clapi_…a4f9" (prefix and last
/// four characters) for keys longer than 14 characters, "[REDACTED]" otherwise.
void cl_auth_mask(const char *key, char *out, size_t cap);

#endif
