/* libFuzzer target: Retry-After values (delta-seconds and HTTP dates). */
#include <math.h>

#include "fuzz.h"
#include "cl_retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_cstring(data, size);
  if (!s) return 0;
  double d = cl_retry_after_parse(s, 1751404800.0);
  if (isnan(d)) abort(); /* a wait is a number (negative: not understood) */
  free(s);
  return 0;
}
