/* libFuzzer target: key checks, masking and redaction. The input is split at its first NUL
 * byte into a key and a text; the key must never survive redaction of a text that holds it. */

#include "fuzz.h"
#include "cl_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = fuzz_cstring(data, size);
  if (!buf) return 0;
  const char *key = buf;
  size_t klen = strlen(key);
  const char *text = klen < size ? buf + klen + 1 : "";
  size_t tlen = klen < size ? size - klen - 1 : 0;
  cl_error err;
  char mask[64];
  if (cl_auth_check(key, &err) == 0) {
    cl_auth_mask(key, mask, sizeof mask);
    if (strstr(mask, key)) abort(); /* a mask never shows the whole key */
    size_t cap = tlen * 2 + 64;
    char *out = malloc(cap);
    if (out) {
      size_t n = cl_redact(text, tlen, key, out, cap);
      if (n >= cap) abort();
      out[n] = '\0';
      if (strstr(out, key)) abort(); /* the key never survives */
      free(out);
    }
  }
  free(buf);
  return 0;
}
