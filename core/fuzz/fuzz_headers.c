/* libFuzzer target: splitting a response's header block into fields. */

#include "fuzz.h"
#include "cl_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *pos = (const char *)data, *end = pos + size;
  cl_header_field f;
  size_t guard = 0;
  while (cl_header_next(&pos, end, &f)) {
    if (f.name < (const char *)data || f.name + f.name_len > end) abort();
    if (f.value < (const char *)data || f.value + f.value_len > end) abort();
    if (f.name_len == 0 || f.name_len > 127) abort();
    if (++guard > size + 1) abort(); /* every field moves forward */
  }
  if (pos != end) abort();
  return 0;
}
