/* Base URL policy: https everywhere, plain http only to a loopback host. */
#ifndef CL_URL_H
#define CL_URL_H

#include "cl_error.h"

#define CL_DEFAULT_BASE_URL "https://api.cleanlist.ai/api/v1/public"
#define CL_BASE_URL_ENV "CLEANLIST_BASE_URL"

typedef struct cl_url {
  int https; /* 1 for https, 0 for http */
  int loopback; /* cl_host_is_loopback(host) */
  char host[256]; /* without brackets for IPv6 */
  unsigned port; /* explicit port, or 443 / 80 */
  char path[1024]; /* "" or "/api/v1/public", no trailing slash */
} cl_url;

/// Parses and checks a base URL: scheme http or https, a host, an optional port 1-65535 and
/// an optional path; no user info, query or fragment, no spaces or control characters.
/// Plain http is refused unless the host is loopback. Returns 0, or -1 with err filled
/// (CL_ECONFIG) saying what is wrong.
int cl_url_check(const char *url, cl_url *out, cl_error *err);

/// Checks only the scheme and authority of a full request URL (path and query are free):
/// https, or http to a loopback host. Returns 0, or -1 with err filled (CL_ECONFIG).
int cl_url_check_request(const char *url, cl_error *err);

/// 1 when host (without brackets) names the local machine: "localhost" (any case), an IPv4
/// 127.x.y.z (four decimal parts), or the IPv6 loopback address in any spelling ("::1",
/// "0:0:0:0:0:0:0:1"). The one loopback rule of the project: the client's plain-http check,
/// the sandbox's --bind and its webhook receivers all use it. NULL is not loopback.
int cl_host_is_loopback(const char *host);

#endif
