/* The local Cleanlist API sandbox: libmicrohttpd serving Lua handlers from its own lua_State. */
#ifndef CL_SANDBOX_H
#define CL_SANDBOX_H

#include <stddef.h>

typedef struct cl_sandbox cl_sandbox;

typedef struct cl_sandbox_opts {
  const char *bind;    /* loopback address to bind; NULL = "127.0.0.1" */
  unsigned port;       /* 0 = let the kernel pick */
  const char *api_key; /* key that holds every scope; NULL = CL_SANDBOX_DEFAULT_KEY */
  unsigned seed;       /* world seed; 0 = default */
  int quiet;           /* no request log on stderr */
  const char *tls_cert; /* PEM certificate file: serve HTTPS (with tls_key) */
  const char *tls_key;  /* PEM private key file */
  double time_scale;    /* speed of the sandbox clock; 0 = 1 (real time) */
  int rate_limit_off;   /* 1 = no rate limits (benchmarks); 0 = the documented limits */
  unsigned rate_limit_key; /* requests per minute per API key; 0 = 30 */
  unsigned rate_limit_org; /* requests per minute per organisation; 0 = 60 */
  double fault_rate;    /* probability (0..1) that an API request gets a random fault */
  const char *faults;   /* comma-separated fault kinds drawn from; NULL = the default set */
  unsigned stall_ms;    /* random `stall` faults: how long; 0 = 10000 */
  unsigned dribble_ms;  /* random `dribble` faults: delay between chunks; 0 = 200 */
  const char *workflow_fault; /* "normal" (NULL), "stuck" or "fail" */
  const char *state_file; /* JSON file the state is restored from and saved to */
  int strict_quotes;    /* 1 = POST /enrichment/by-task requires a quote_id (V2's rule) */
} cl_sandbox_opts;

#define CL_SANDBOX_DEFAULT_KEY "clapi_sandbox_full_access_0000000000000000"
#define CL_SANDBOX_READONLY_KEY "clapi_sandbox_read_only_00000000000000000"
#define CL_SANDBOX_BASE_PATH "/api/v1/public"

/// Starts a sandbox serving on its own thread. Returns NULL and writes a message to err on
/// failure (port in use, Lua handler failed to load). The caller owns the result.
cl_sandbox *cl_sandbox_start(const cl_sandbox_opts *opts, char *err, size_t errlen);

/// The port actually bound (useful with port 0).
unsigned cl_sandbox_port(const cl_sandbox *sb);

/// Stops the server, joins its thread, closes its lua_State and frees sb. NULL is a no-op.
void cl_sandbox_stop(cl_sandbox *sb);

/// Parses the sandbox flag at argv[*i] (the flags of `cleanlist sandbox --help` but --help,
/// as "--flag V" or "--flag=V") into o. Returns 1 when it was one and it (with its value) was
/// taken: *i is then the index of the last argument taken. Returns 0 when argv[*i] is not a
/// sandbox flag, and -1 when its value is missing or bad: err says which flag and why, and
/// never contains an API key (the kinds of --faults are checked later, by cl_sandbox_start).
/// Strings in o point into argv. `cleanlist sandbox` and `cleanlist --sandbox` both use it.
int cl_sandbox_parse_flag(int argc, char **argv, int *i, cl_sandbox_opts *o, char *err,
                          size_t errlen);

/// `cleanlist sandbox [flags]`: argv[0] is "sandbox". Prints
/// "LISTENING http://127.0.0.1:PORT/api/v1/public" on stdout once ready, then serves until
/// SIGTERM/SIGINT or until stdin reaches end of file (when stdin is a pipe or terminal).
/// Returns the process exit status; never calls exit().
int cl_sandbox_main(int argc, char **argv);

#endif
