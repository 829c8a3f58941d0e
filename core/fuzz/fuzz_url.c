/* libFuzzer target: base URL and request URL checks, loopback detection. */
#include <strings.h>

#include "fuzz.h"
#include "cl_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_cstring(data, size);
  if (!s) return 0;
  cl_url u;
  cl_error err;
  if (cl_url_check(s, &u, &err) == 0 && strncasecmp(s, "http", 4) != 0) abort();
  (void)cl_url_check_request(s, &err);
  (void)cl_host_is_loopback(s);
  free(s);
  return 0;
}
