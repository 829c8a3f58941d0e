/* Splitting a response's header block ("Name: value\r\n" lines) into fields. Pure C, no
 * allocation: the fields point into the block. */
#ifndef CL_HEADERS_H
#define CL_HEADERS_H

#include <stddef.h>

typedef struct cl_header_field {
  const char *name; /* not terminated; name_len bytes */
  size_t name_len;
  const char *value; /* trimmed of blanks and the CR; value_len bytes */
  size_t value_len;
} cl_header_field;

/// The next field of the block [*pos, end): fills out, moves *pos past its line and returns 1;
/// 0 at the end. Lines without a colon (the status line, blank lines) are skipped; a name is
/// at most 127 bytes (longer names are cut).
int cl_header_next(const char **pos, const char *end, cl_header_field *out);

#endif
