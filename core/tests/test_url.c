#include "check.h"
#include "cl_url.h"

static int ok(const char *url) {
  cl_url u;
  cl_error err;
  return cl_url_check(url, &u, &err) == 0;
}

static void test_loopback(void) {
  const char *yes[] = {"localhost", "LocalHost",    "127.0.0.1", "127.255.255.254",
                       "127.1.2.3", "127.000.0.01", "::1",       "0:0:0:0:0:0:0:1",
                       "0::1"};
  const char *no[] = {"",           "10.0.0.1",           "128.0.0.1",   "127.0.0.256",
                      "127.0.0",    "127.0.0.1.",         "127.0.0.1.2", "127.0.0.1.nip.io",
                      "127..0.1",   "127.0.0.-1",         "127.0.0.+1",  "0127.0.0.1",
                      "::2",        "::ffff:127.0.0.1",   "[::1]",       "::1%lo",
                      "localhost.", "localhost.evil.com", "0.0.0.0",     "::"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) CHECK(cl_host_is_loopback(yes[i]));
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) CHECK(!cl_host_is_loopback(no[i]));
  CHECK(!cl_host_is_loopback(NULL));
}

int main(void) {
  test_loopback();
  cl_url u;
  cl_error err;
  CHECK(cl_url_check("https://api.cleanlist.ai/api/v1/public/", &u, &err) == 0);
  CHECK(u.https && !u.loopback && u.port == 443);
  CHECK_STR(u.host, "api.cleanlist.ai");
  CHECK_STR(u.path, "/api/v1/public");
  CHECK(cl_url_check("http://127.0.0.1:8080/api/v1/public", &u, &err) == 0);
  CHECK(!u.https && u.loopback && u.port == 8080);
  CHECK(ok("http://localhost:1/x"));
  CHECK(ok("http://[::1]:9000"));
  CHECK(ok("HTTPS://Example.com"));

  CHECK(!ok("http://api.cleanlist.ai/api/v1/public"));
  cl_url_check("http://10.0.0.5/api", &u, &err);
  CHECK(strstr(err.message, "plain http") != NULL);
  CHECK(!ok("http://127.0.0.1.evil.com/"));
  CHECK(!ok("http://127.0.0.999/"));
  CHECK(!ok("http://127.0.0.1./"));
  CHECK(ok("http://[0:0:0:0:0:0:0:1]:9000/x"));
  CHECK(!ok("ftp://example.com"));
  CHECK(!ok("api.cleanlist.ai/api/v1/public"));
  CHECK(!ok("https://"));
  CHECK(!ok("https://user:pw@example.com"));
  CHECK(!ok("https://example.com:0"));
  CHECK(!ok("https://example.com:70000"));
  CHECK(!ok("https://example.com:http"));
  CHECK(!ok("https://exa mple.com"));
  CHECK(!ok("https://example.com/?q=1"));
  CHECK(!ok("https://[::1"));
  cl_url_check("not a url", &u, &err);
  CHECK(err.kind == CL_ECONFIG && strstr(err.message, "invalid base URL") != NULL);

  CHECK(cl_url_check_request("https://x.io/a/b?c=1&d=2", &err) == 0);
  CHECK(cl_url_check_request("http://127.0.0.1:5/a?b", &err) == 0);
  CHECK(cl_url_check_request("http://x.io/a?b", &err) == -1);
  CHECK(cl_url_check_request("file:///etc/passwd", &err) == -1);
  return check_summary("test_url");
}
