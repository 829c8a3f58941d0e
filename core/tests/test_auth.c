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
  CHECK(cl_auth_check("clapi_abc!def", &err) == -1);
  CHECK(strstr(err.message, "byte 10") != NULL && strstr(err.message, "abc") == NULL);
  CHECK(cl_auth_check("clapi_x", &err) == 0);
}

static void test_key_shape(void) {
  CHECK(cl_auth_is_key("clapi_abc-DEF_123"));
  CHECK(!cl_auth_is_key("clapi_"));
  CHECK(!cl_auth_is_key("clapi_abc.def"));
  CHECK(!cl_auth_is_key("xclapi_abc"));
  CHECK(!cl_auth_is_key("eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"));
  CHECK(cl_auth_key_span("clapi_ab/cd", 11) == 8);
  CHECK(cl_auth_key_span("clapi", 5) == 0);
  CHECK(cl_auth_key_span("clapi_abc", 7) == 7); /* within n bytes only */
  CHECK(cl_auth_key_char('-') && cl_auth_key_char('Z') && !cl_auth_key_char('.'));
}

static void test_redact_keys(void) {
  char out[256];
  const char *in = "GET /x?k=clapi_sandbox_full_access_00 (clapi_) xclapi_a-b_c.d clapi";
  size_t n = cl_redact_text(in, strlen(in), NULL, CL_REDACT_KEYS, out, sizeof out);
  CHECK(n == strlen(out));
  CHECK_STR(out, "GET /x?k=clapi_\xe2\x80\xa6 (clapi_\xe2\x80\xa6) xclapi_\xe2\x80\xa6.d clapi");
  /* headers only when asked; keys only when asked */
  const char *h = "Authorization: Bearer clapi_abc\nX: clapi_abc";
  cl_redact_text(h, strlen(h), NULL, CL_REDACT_KEYS, out, sizeof out);
  CHECK_STR(out, "Authorization: Bearer clapi_\xe2\x80\xa6\nX: clapi_\xe2\x80\xa6");
  cl_redact_text(h, strlen(h), NULL, CL_REDACT_HEADERS | CL_REDACT_KEYS, out, sizeof out);
  CHECK_STR(out, "Authorization: [REDACTED]\nX: clapi_\xe2\x80\xa6");
  cl_redact(h, strlen(h), NULL, out, sizeof out);
  CHECK_STR(out, "Authorization: [REDACTED]\nX: clapi_abc");
  /* the secret wins over the key shape */
  cl_redact_text(h, strlen(h), "clapi_abc", CL_REDACT_KEYS, out, sizeof out);
  CHECK_STR(out, "Authorization: Bearer [REDACTED]\nX: [REDACTED]");
}

static void test_redact_credential(void) {
  char out[128];
#define CRED(in, want)                                                 \
  do {                                                                 \
    size_t n_ = cl_redact_credential(in, strlen(in), out, sizeof out); \
    CHECK(n_ == strlen(out));                                          \
    CHECK_STR(out, want);                                              \
  } while (0)
  CRED("Bearer clapi_example_full_access_key_0000",
       "Bearer clapi_\xe2\x80\xa6"
       "0000");
  CRED("Basic dXNlcjpwYXNzd29yZA==",
       "Basic \xe2\x80\xa6"
       "ZA==");
  CRED("Bearer  clapi_abc  ", "Bearer clapi_\xe2\x80\xa6");
  CRED("clapi_abcdefghijkl",
       "clapi_\xe2\x80\xa6"
       "ijkl");
  CRED("Bearer", "\xe2\x80\xa6");
  CRED("Bearer ", "Bearer \xe2\x80\xa6");
  CRED("Bearer1 clapi_abcdefghijkl",
       "\xe2\x80\xa6"
       "ijkl");
  CRED("Averyveryverylongschemename token",
       "\xe2\x80\xa6"
       "oken");
  CRED("", "\xe2\x80\xa6");
#undef CRED
  cl_redact_credential("Bearer clapi_abcdefghijkl", 25, out, 4);
  CHECK(strlen(out) == 3);
}

static void test_redact(void) {
  char out[256];
  const char *secret = "clapi_topsecret_9999";
  const char *in =
      "> GET /x HTTP/1.1\r\nAuthorization: Bearer clapi_topsecret_9999\r\n"
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
  const char *p =
      "> CONNECT a:443\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n"
      "X-Note: proxy-authorization: kept\r\n";
  cl_redact(p, strlen(p), NULL, out, sizeof out);
  CHECK_STR(out,
            "> CONNECT a:443\r\nProxy-Authorization: [REDACTED]\r\n"
            "X-Note: proxy-authorization: kept\r\n");
  /* a small output buffer truncates but stays terminated */
  cl_redact(in, strlen(in), secret, out, 8);
  CHECK(strlen(out) == 7);
}

static void test_mask(void) {
  char out[64];
  cl_auth_mask("clapi_live_abcdefghij_a4f9", out, sizeof out);
  CHECK_STR(out,
            "clapi_\xe2\x80\xa6"
            "a4f9");
  cl_auth_mask("clapi_short", out, sizeof out);
  CHECK_STR(out, "[REDACTED]");
  cl_auth_mask("eyJhbGciOi.eyJzdWIiOiIx.c2ln", out, sizeof out);
  CHECK_STR(out, "[REDACTED]");
}

int main(void) {
  test_resolve();
  test_check();
  test_key_shape();
  test_redact();
  test_redact_keys();
  test_redact_credential();
  test_mask();
  return check_summary("test_auth");
}
