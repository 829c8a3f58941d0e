/* Private interface between the sandbox's HTTP glue (sb_server.c), its Lua bridge (sb_lua.c)
 * and its command (sb_main.c). Nothing here is part of the public sandbox.h API. */
#ifndef CL_SB_INTERNAL_H
#define CL_SB_INTERNAL_H

#include <stddef.h>

#include "sandbox.h"

struct MHD_Connection;
struct MHD_Response;
struct lua_State;

#ifndef CL_VERSION
#define CL_VERSION "0.1.0"
#endif

/* Largest request body the sandbox accumulates; larger uploads get a 413 envelope. */
#define SB_MAX_BODY ((size_t)16 * 1024 * 1024)

/* One HTTP request as the Lua bridge sees it. Strings are not owned. */
typedef struct sb_request {
  struct MHD_Connection *conn; /* for the request headers */
  const char *method;
  const char *path;  /* decoded path, without the query */
  const char *query; /* raw query string without '?', "" when none */
  size_t query_len;
  const char *body;
  size_t body_len;
  unsigned long conn_id; /* stable for the life of the TCP connection */
} sb_request;

/* The sandbox's own lua_State plus what it needs to serve a request. */
typedef struct sb_lua sb_lua;

/// Creates the state, loads the `sandbox` module and builds the app from opts. Returns NULL and
/// writes a message to err on failure.
sb_lua *sb_lua_open(const cl_sandbox_opts *opts, char *err, size_t errlen);

/// Runs the Lua handler for req and returns the response to queue (never NULL unless out of
/// memory); *status receives the HTTP status. Lua errors become a 500 error envelope.
struct MHD_Response *sb_lua_handle(sb_lua *sl, const sb_request *req, unsigned *status);

/// Closes the state. NULL is a no-op.
void sb_lua_close(sb_lua *sl);

/// A response built in C with an MCP error envelope (used when Lua cannot answer). The strings
/// are written as they are (no JSON escaping): pass constants. `serial` makes the request id.
struct MHD_Response *sb_error_response(const char *code, const char *problem, const char *fix,
                                       int retryable, unsigned long serial);

/// Copies src into dst (size n), replacing the secret part of anything that looks like a
/// clapi_ key with "…", so that log lines never carry a key.
void sb_redact(char *dst, size_t n, const char *src);

/// luaopen function of `sandbox.native` (sb_native.c): HMAC-SHA256, SHA-256, constant-time
/// comparison and base64 on OpenSSL, preloaded into the sandbox's state.
int sb_open_native(struct lua_State *L);

/// 1 when addr (IPv4 dotted quad, IPv6 literal or "localhost") is a loopback address.
int sb_is_loopback(const char *addr);

#endif
