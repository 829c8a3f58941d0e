#include <stdlib.h>

#include "cl_auth.h"
#include "check.h"

static void test_resolve(void) {
  cl_error err;
  unsetenv(CL_API_KEY_ENV);
  CHECK(cl_auth_resolve(NULL, &err) == NULL);
  CHECK(err.kind == CL_ECONFIG);
  CHECK(strstr(err.message, "CLEANLIST_API_KEY") != NULL);
  setenv(CL_API_KEY_ENV, "clapi_from_env_1234", 1);
  CHECK_STR(cl_auth_resolve(NULL, &err), "clapi_from_env_1234");
  CHECK_STR(cl_auth_resolve("clapi_explicit_999", &err), "clapi_explicit_999");
  CHECK(cl_auth_resolve("", &err) == NULL);
  unsetenv(CL_API_KEY_ENV);
}

static void test_check(void) {
  cl_error err;
  CHECK(cl_auth_check("clapi_abcdef123456", &err) == 0);
  CHECK(cl_auth_check("eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", &err) == 0);
  CHECK(cl_auth_check("clapi_", &err) == -1);
  CHECK(cl_auth_check("sk_live_123", &err) == -1);
  CHECK(strstr(err.message, "sk_live_123") == NULL);
  CHECK(cl_auth_check("Bearer clapi_abc", &err) == -1);
  CHECK(cl_auth_check("clapi_abc\r\nX-Evil: 1", &err) == -1);
  CHECK(strstr(err.message, "clapi_abc") == NULL);
  CHECK(cl_auth_check("a.b", &err) == -1);
}

static void test_redact(void) {
  char out[256];
  const char *secret = "clapi_topsecret_9999";
  const char *in = "> GET /x HTTP/1.1\r\nAuthorization: Bearer clapi_topsecret_9999\r\n"
                   "X-Echo: clapi_topsecret_9999 again\r\n";
  size_t n = cl_redact(in, strlen(in), secret, out, sizeof out);
  CHECK(n == strlen(out));
  CHECK(strstr(out, "topsecret") == NULL);
  CHECK(strstr(out, "Authorization: [REDACTED]\r\n") != NULL);
  CHECK(strstr(out, "X-Echo: [REDACTED] again") != NULL);
  /* header redaction even without a known secret, case-insensitive */
  const char *h = "authorization: Bearer whatever\nnext";
  cl_redact(h, strlen(h), NULL, out, sizeof out);
  CHECK_STR(out, "authorization: [REDACTED]\nnext");
  /* a proxy's credentials too, and only header names at a line start count */
  const char *p = "> CONNECT a:443\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n"
                  "X-Note: proxy-authorization: kept\r\n";
  cl_redact(p, strlen(p), NULL, out, sizeof out);
  CHECK_STR(out, "> CONNECT a:443\r\nProxy-Authorization: [REDACTED]\r\n"
                 "X-Note: proxy-authorization: kept\r\n");
  /* a small output buffer truncates but stays terminated */
  cl_redact(in, strlen(in), secret, out, 8);
  CHECK(strlen(out) == 7);
}

static void test_mask(void) {
  char out[64];
  cl_auth_mask("clapi_live_abcdefghij_a4f9", out, sizeof out);
  CHECK_STR(out, "clapi_\xe2\x80\xa6" "a4f9");
  cl_auth_mask("clapi_short", out, sizeof out);
  CHECK_STR(out, "[REDACTED]");
  cl_auth_mask("eyJhbGciOi.eyJzdWIiOiIx.c2ln", out, sizeof out);
  CHECK_STR(out, "[REDACTED]");
}

int main(void) {
  test_resolve();
  test_check();
  test_redact();
  test_mask();
  return check_summary("test_auth");
}
