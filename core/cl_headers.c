#include "cl_headers.h"

#include <string.h>

int cl_header_next(const char **pos, const char *end, cl_header_field *out) {
  const char *h = *pos;
  while (h < end) {
    const char *eol = memchr(h, '\n', (size_t)(end - h));
    if (!eol) eol = end;
    const char *colon = memchr(h, ':', (size_t)(eol - h));
    const char *next = eol < end ? eol + 1 : end;
    if (colon && colon > h) {
      const char *v = colon + 1, *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      size_t n = (size_t)(colon - h);
      out->name = h;
      out->name_len = n < 127 ? n : 127;
      out->value = v;
      out->value_len = (size_t)(ve - v);
      *pos = next;
      return 1;
    }
    h = next;
  }
  *pos = end;
  return 0;
}
