#include "cl_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 127.x.y.z: exactly four decimal parts of 0-255, the first one 127. */
static int is_dotted_127(const char *h) {
  int parts = 0;
  const char *p = h;
  if (strncmp(h, "127.", 4) != 0) return 0;
  for (;;) {
    if (!isdigit((unsigned char)*p)) return 0;
    long v = strtol(p, (char **)&p, 10);
    if (v > 255 || ++parts > 4) return 0;
    if (*p == '\0') return parts == 4;
    if (*p++ != '.') return 0;
  }
}

int cl_host_is_loopback(const char *host) {
  struct in6_addr a6;
  if (host == NULL) return 0;
  return strcasecmp(host, "localhost") == 0 || is_dotted_127(host) ||
         (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
}

static int bad_url(cl_error *err, const char *why) {
  return cl_error_set(err, CL_ECONFIG, 0, "invalid base URL: %s", why);
}

static int parse_host(const char **pp, cl_url *out, cl_error *err) {
  const char *p = *pp, *start, *end;
  if (*p == '[') {
    start = ++p;
    while (*p && *p != ']') p++;
    if (*p != ']') return bad_url(err, "unterminated [IPv6] host");
    end = p++;
  } else {
    start = p;
    while (*p && *p != ':' && *p != '/') {
      if (*p == '@') return bad_url(err, "user information is not allowed");
      if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
        return bad_url(err, "the host has characters a host name cannot have");
      p++;
    }
    end = p;
  }
  if (end == start) return bad_url(err, "no host");
  if ((size_t)(end - start) >= sizeof out->host) return bad_url(err, "host name too long");
  memcpy(out->host, start, (size_t)(end - start));
  out->host[end - start] = '\0';
  *pp = p;
  return 0;
}

static int parse_port(const char **pp, cl_url *out, cl_error *err) {
  const char *p = *pp;
  out->port = out->https ? 443 : 80;
  if (*p != ':') return 0;
  p++;
  if (!isdigit((unsigned char)*p)) return bad_url(err, "the port is not a number");
  char *e;
  long v = strtol(p, &e, 10);
  if (v < 1 || v > 65535 || (*e && *e != '/')) return bad_url(err, "the port is out of range");
  out->port = (unsigned)v;
  *pp = e;
  return 0;
}

int cl_url_check(const char *url, cl_url *out, cl_error *err) {
  memset(out, 0, sizeof *out);
  for (const char *q = url; *q; q++) {
    unsigned char c = (unsigned char)*q;
    if (c <= ' ' || c == 0x7f) return bad_url(err, "it contains a space or control character");
    if (c == '?' || c == '#') return bad_url(err, "a query or fragment is not allowed");
  }
  const char *p;
  if (strncasecmp(url, "https://", 8) == 0) {
    out->https = 1;
    p = url + 8;
  } else if (strncasecmp(url, "http://", 7) == 0) {
    p = url + 7;
  } else {
    return bad_url(err, "it must start with https:// (or http:// for a loopback host)");
  }
  if (parse_host(&p, out, err) || parse_port(&p, out, err)) return -1;
  size_t plen = strlen(p);
  while (plen > 0 && p[plen - 1] == '/') plen--;
  if (plen >= sizeof out->path) return bad_url(err, "path too long");
  memcpy(out->path, p, plen);
  out->path[plen] = '\0';
  out->loopback = cl_host_is_loopback(out->host);
  if (!out->https && !out->loopback)
    return cl_error_set(err, CL_ECONFIG, 0,
                        "refusing plain http:// to %s: the API key would travel unencrypted; "
                        "use https:// (http:// is allowed only for loopback hosts)",
                        out->host);
  return 0;
}

int cl_url_check_request(const char *url, cl_error *err) {
  char base[512];
  const char *p = strstr(url, "://");
  size_t n = p ? (size_t)(p - url) + 3 : 0;
  if (p) n += strcspn(p + 3, "/?#");
  if (!p || n >= sizeof base) return bad_url(err, "not an absolute http(s) URL");
  memcpy(base, url, n);
  base[n] = '\0';
  cl_url u;
  return cl_url_check(base, &u, err);
}
