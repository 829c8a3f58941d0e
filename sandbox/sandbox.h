/* The local Cleanlist API sandbox: libmicrohttpd serving Lua handlers from its own lua_State. */
#ifndef CL_SANDBOX_H
#define CL_SANDBOX_H

#include <stddef.h>

typedef struct cl_sandbox cl_sandbox;

typedef struct cl_sandbox_opts {
  const char *bind; /* loopback address to bind; NULL = "127.0.0.1" */
  unsigned port; /* 0 = let the kernel pick */
  const char *api_key; /* key that holds every scope; NULL = CL_SANDBOX_DEFAULT_KEY */
  unsigned seed; /* world seed; 0 = default */
  int quiet; /* no request log on stderr */
  const char *tls_cert; /* PEM certificate file: serve HTTPS (with tls_key) */
  const char *tls_key; /* PEM private key file */
  double time_scale; /* speed of the sandbox clock; 0 = 1 (real time) */
  int rate_limit_off; /* 1 = no rate limits (benchmarks); 0 = the documented limits */
  unsigned rate_limit_key; /* requests per minute per API key; 0 = 30 */
  unsigned rate_limit_org; /* requests per minute per organisation; 0 = 60 */
  double fault_rate; /* probability (0..1) that an API request gets a random fault */
  const char *faults; /* comma-separated fault kinds drawn from; NULL = the default set */
  unsigned stall_ms; /* random `stall` faults: how long; 0 = 10000 */
  unsigned dribble_ms; /* random `dribble` faults: delay between chunks; 0 = 200 */
  const char *workflow_fault; /* "normal" (NULL), "stuck" or "fail" */
  const char *state_file; /* JSON file the state is restored from and saved to */
  int strict_quotes; /* 1 = POST /enrichment/by-task requires a quote_id (V2's rule) */
  int strict; /* 1 = request bodies as the v2 schema has them: one spelling, no extra fields */
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

struct option;

/* The `val` of the sandbox flags in cl_sandbox_options() start here, so that a command's own
 * options may use characters and small numbers. */
#define CL_SANDBOX_OPT_FIRST 256

/// The flags of `cleanlist sandbox --help` but --help, as getopt_long options (long names
/// only), ended by an all-zero entry. `cleanlist sandbox` and `cleanlist --sandbox` both parse
/// with them (cl_sandbox_getopt) and apply them with cl_sandbox_set_flag.
const struct option *cl_sandbox_options(void);

/// Sets the sandbox flag `val` (from cl_sandbox_options) with its value v (NULL for --quiet and
/// --strict-quotes) in o. Returns 0, or -1 when the value is bad: err says which flag and
/// why, and never contains an API key (the kinds of --faults are checked later, by
/// cl_sandbox_start). Strings in o point into v.
int cl_sandbox_set_flag(cl_sandbox_opts *o, int val, const char *v, char *err, size_t errlen);

/// 1 when the sandbox flag `val` is about the listener, which only `cleanlist sandbox` has:
/// --port, --bind, --tls-cert, --tls-key, --quiet.
int cl_sandbox_listener_flag(int val);

/// getopt_long with the rules of every command of the executable: "--flag V" and "--flag=V",
/// "--" ends the options, a long option goes by its whole name only (an abbreviation is
/// unknown), no message of getopt's own. Start optstring with "+:" to stop at the first operand
/// and to tell a missing value (':') from an unknown option ('?'; optopt is then the option's
/// val when it was given a value it does not take, else 0 for a long option). name receives
/// the option as written, up to any '=' (never its value), for messages. Returns as
/// getopt_long does.
int cl_sandbox_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                      char *name, size_t namelen);

/// `cleanlist sandbox [flags]`: argv[0] is "sandbox". Prints
/// "LISTENING http://127.0.0.1:PORT/api/v1/public" on stdout once ready, then serves until
/// SIGTERM/SIGINT or until stdin reaches end of file (when stdin is a pipe or terminal).
/// Returns the process exit status; never calls exit().
int cl_sandbox_main(int argc, char **argv);

#endif
