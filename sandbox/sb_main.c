/* `cleanlist sandbox [flags]`: parses the flags, starts the sandbox, prints the LISTENING line
 * and serves until SIGTERM/SIGINT/SIGHUP or until stdin reaches end of file (when stdin is a
 * pipe, socket or terminal). Returns an exit status; never calls exit(). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_auth.h"
#include "cl_url.h"
#include "sb_internal.h"

#define SB_NSIGS 3

static const int sb_stop_sigs[SB_NSIGS] = {SIGINT, SIGTERM, SIGHUP};
static volatile sig_atomic_t sb_signalled;

typedef struct sb_signals {
  sigset_t old_mask;
  sigset_t wait_mask; /* old_mask with the stop signals let through */
  struct sigaction old[SB_NSIGS];
  struct sigaction old_pipe;
} sb_signals;

static const char sb_usage[] =
    "usage: cleanlist sandbox [flags]\n"
    "\n"
    "Runs a local emulator of the Cleanlist API on loopback. When ready it prints one line\n"
    "  LISTENING http://127.0.0.1:PORT/api/v1/public\n"
    "on stdout (the same API is also served under /api/v2), then serves until SIGTERM or\n"
    "SIGINT, or until stdin reaches end of file when stdin is a pipe, socket or terminal.\n"
    "\n"
    "flags:\n"
    "  --port N       TCP port; 0 (the default) lets the kernel pick a free one\n"
    "  --bind ADDR    loopback address to listen on (default 127.0.0.1; ::1 and localhost\n"
    "                 also work); any address that is not loopback is refused\n"
    "  --api-key KEY  the clapi_ key that holds every scope (default: the built-in\n"
    "                 full-access key below)\n"
    "  --seed N       world seed for request ids and synthetic data (0 = built-in seed)\n"
    "  --tls-cert PEM serve HTTPS with this certificate (needs --tls-key); the LISTENING\n"
    "                 line then says https://\n"
    "  --tls-key PEM  the certificate's private key\n"
    "  --quiet        no request log and no error log on stderr\n"
    "  --strict-quotes  POST /enrichment/by-task requires a quote_id (400 quote_required),\n"
    "                 as the v2 schema says; by default it is optional there, as the docs\n"
    "                 say (also POST /__sandbox/switches {\"strict_quotes\": true})\n"
    "  --strict       request bodies as the v2 schema has them: one spelling per field and\n"
    "                 enum value (list_id, phone-only for bulk, phone_only elsewhere), no\n"
    "                 field the schema lacks (422 extra_forbidden); by default the seeds'\n"
    "                 spellings pass too (also POST /__sandbox/switches {\"strict\": true})\n"
    "  --help         print this text and exit\n"
    "\n"
    "time:\n"
    "  --time-scale X run the sandbox clock X times faster than real time (a number > 0,\n"
    "                 default 1): timestamps, rate-limit windows, quote and cohort expiry and\n"
    "                 workflow progress all follow it (see also POST /__sandbox/clock)\n"
    "\n"
    "rate limits (API.md section 4; sliding 60 s windows of the sandbox clock):\n"
    "  --rate-limit on|off    enforce the documented limits (default on); off for benchmarks\n"
    "  --rate-limit-key N     requests per minute per API key (default 30)\n"
    "  --rate-limit-org N     requests per minute per organisation, all keys (default 60)\n"
    "                 Over a limit: 429, Retry-After (whole seconds, rounded up) and the\n"
    "                 rate_limited envelope with retry_after_ms; the legacy endpoints answer\n"
    "                 {\"detail\":\"Rate limit exceeded\"} and are limited per organisation and\n"
    "                 endpoint. Refused requests do not use up the budget. Waits are given in\n"
    "                 real time (the sandbox-clock wait divided by the time scale).\n"
    "\n"
    "faults (off unless asked; drawn from the seeded generator, so --seed reproduces them):\n"
    "  --fault-rate P         probability (0 to 1) that an API request gets a random fault\n"
    "  --faults K1,K2,...     the kinds drawn from (default: 500,503,429,502,reset,partial,\n"
    "                         truncated,malformed); kinds:\n"
    "      500 503 503_retry_after 429 429_date 429_missing 429_garbage 502\n"
    "                         error responses (429: Retry-After as seconds, an HTTP date,\n"
    "                         missing or garbage; 502: an HTML page from a proxy)\n"
    "      reset empty        connection reset (RST) / closed before any response byte\n"
    "      partial reset_mid_body  headers and half the body, then a close / a RST\n"
    "      stall              no answer for --stall-ms, then the answer\n"
    "      dribble            the body a few bytes every --dribble-ms\n"
    "      truncated malformed  status 200 with cut / invalid JSON\n"
    "                         partial, reset_mid_body, stall, dribble, truncated and\n"
    "                         malformed run the request first (its effects happen); the\n"
    "                         others do not (\"execute\" in a script item overrides)\n"
    "  --stall-ms N           length of a random stall (default 10000)\n"
    "  --dribble-ms N         delay between the 4-byte chunks of a dribble (default 200)\n"
    "  --workflow-fault W     how the workflows dispatched while it is set end: normal\n"
    "                         (default), stuck (never leave running), fail (failed, the\n"
    "                         charge kept: pending_review), fail_refund (failed, all\n"
    "                         refunded) or errors (completed_with_errors)\n"
    "\n"
    "state:\n"
    "  --state FILE   restore the state (lists, leads, credits, ledger, ...) from FILE when it\n"
    "                 exists, and save it there (atomically) at most once a second after a\n"
    "                 change and on a clean exit; a corrupt FILE stops the start (exit 1)\n"
    "\n"
    "built-in keys (CL_SANDBOX_DEFAULT_KEY and CL_SANDBOX_READONLY_KEY in sandbox/sandbox.h;\n"
    "shown redacted: the sandbox never prints a key):\n"
    "  clapi_sandbox_full_access_...  every scope: people:read companies:read lists:read\n"
    "                                 lists:write enrich:read enrich:write credits:read\n"
    "                                 export:read sync:write smart_agents:read\n"
    "                                 smart_agents:write admin:api_keys\n"
    "  clapi_sandbox_read_only_...    people:read companies:read lists:read enrich:read\n"
    "                                 (another user of the same organisation)\n"
    "\n"
    "sandbox Clerk sessions: fixed JWTs (HS256, secret cleanlist-sandbox-jwt-not-a-secret),\n"
    "test credentials of the sandbox, not secrets. The key-management routes under\n"
    "/api/v1/api-keys accept only these (a clapi_ key there gets 401); the public API\n"
    "accepts them too. Up to 10 active keys per user (then 403 key_limit_reached); a new\n"
    "key works at once with its user's scopes, a revoked one gets 401 at once.\n"
    "  Vera Okafor (Sandbox Labs; every scope; owns the full-access key):\n"
    "    eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6InVzZXJfMnNieFZlcmFPa2Fmb3IiLCJvcmdfaWQiOiJvcmdfMnNieFNhbmRib3hMYWJzIiwiZXhwIjo0MTAyNDQ0ODAwfQ.nTDycN4Igew-MG3VBwkswrjYtAX83dTav5OOdiJrPJ0\n"
    "  Rowan Reed (Sandbox Labs; read-only scopes; owns the read-only key):\n"
    "    eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6InVzZXJfMnNieFJvd2FuUmVlZCIsIm9yZ19pZCI6Im9yZ18yc2J4U2FuZGJveExhYnMiLCJleHAiOjQxMDI0NDQ4MDB9.DcDkYOGrpmwe2c9N1WfRGaizqZH8wLJe5KVlqRIUKpk\n"
    "  Theo Lind (Sumo Garage, a plan without api_access: creating a key answers 403\n"
    "  feature_gated; the public API refuses his session with 403 feature_gated):\n"
    "    eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6InVzZXJfMnNieFRoZW9MaW5kIiwib3JnX2lkIjoib3JnXzJzYnhTdW1vR2FyYWdlIiwiZXhwIjo0MTAyNDQ0ODAwfQ.-f0gEQAgFnchIn09s77DlQHByYNLX63ELKKG5jH13OA\n"
    "\n"
    "control endpoints (no auth; outside the API path; never rate limited or faulted):\n"
    "  GET /__sandbox/health              {\"ok\":true,\"version\":...}\n"
    "  GET|DELETE /__sandbox/requests     the request log (Authorization redacted; a served\n"
    "                                     fault is in \"fault\"; ?since=SEQ) / clear it\n"
    "  GET|POST|DELETE /__sandbox/script  pending count / queue responses for the next API\n"
    "                                     requests {\"responses\":[ITEM,...]} / clear; ITEM is\n"
    "                                     {\"status\",\"headers\",\"body\"}, {\"raise\":MSG},\n"
    "                                     {\"crash\":MSG} or {\"fault\":KIND, \"retry_after\",\n"
    "                                     \"ms\", \"chunk\", \"bytes\", \"close\", \"execute\"};\n"
    "                                     \"times\":N repeats an item\n"
    "  POST /__sandbox/reset              back to the start: state, request log, script, clock\n"
    "                                     offset and scale, rate-limit counters and settings,\n"
    "                                     faults (all as the flags set them)\n"
    "  GET|POST /__sandbox/credits        balance and ledger / {\"credits\":N} sets the balance\n"
    "  GET|POST /__sandbox/clock          {\"now_ms\",\"time_scale\",\"offset_ms\"} /\n"
    "                                     {\"advance_ms\":N, \"time_scale\":X} (either or both)\n"
    "  GET|POST /__sandbox/rate-limit     settings / {\"enabled\":B, \"per_key\":N, \"per_org\":N}\n"
    "                                     (a change of limits clears the counters)\n"
    "  GET|POST|DELETE /__sandbox/faults  random faults / {\"rate\":P, \"kinds\":[...],\n"
    "                                     \"stall_ms\":N, \"dribble_ms\":N, \"workflow\":W} /\n"
    "                                     all off (random faults and workflow)\n"
    "  GET|POST /__sandbox/switches       {\"strict_quotes\":B, \"csv_import\":B, \"strict\":B}:\n"
    "                                     by-task needs a quote / the CSV-import flag (off:\n"
    "                                     503) / request bodies as the v2 schema has them\n"
    "  POST /__sandbox/lists              {\"leads\":N, \"name\":S, \"enriched\":B}: Vera's\n"
    "                                     organisation-visible list of N leads (at most\n"
    "                                     200000) made from the world's people in id order,\n"
    "                                     over and over; enriched: with the emails and phones\n"
    "                                     enrichment finds (for exports of long lists)\n"
    "  POST /__sandbox/tick               run the legacy API's background work now (workflow\n"
    "                                     completion, webhook deliveries and retries)\n"
    "  GET|POST|DELETE /__sandbox/webhook-sink  a loopback webhook receiver for tests: what\n"
    "                                     it received / receive one / forget everything\n"
    "  POST /__sandbox/webhook-sink/config  {\"fail_next\":N, \"fail_status\":S} fails the\n"
    "                                     next N deliveries; \"timeout_ms\":T how long any\n"
    "                                     delivery waits for its receiver (default 10000)\n"
    "  POST /__sandbox/workflows/{id}/cancel  ends a running enrichment or legacy workflow\n"
    "                                     cancelled now: leads done so far charged, the rest\n"
    "                                     refunded; 409 when it has ended, 404 when unknown\n";

static void sb_on_signal(int sig) {
  sb_signalled = sig;
}

/* ---- flags --------------------------------------------------------------------------- */

enum {
  SB_OPT_PORT = CL_SANDBOX_OPT_FIRST,
  SB_OPT_BIND,
  SB_OPT_API_KEY,
  SB_OPT_SEED,
  SB_OPT_TLS_CERT,
  SB_OPT_TLS_KEY,
  SB_OPT_QUIET,
  SB_OPT_STRICT_QUOTES,
  SB_OPT_STRICT,
  SB_OPT_TIME_SCALE,
  SB_OPT_RATE_LIMIT,
  SB_OPT_RATE_LIMIT_KEY,
  SB_OPT_RATE_LIMIT_ORG,
  SB_OPT_FAULT_RATE,
  SB_OPT_FAULTS,
  SB_OPT_STALL_MS,
  SB_OPT_DRIBBLE_MS,
  SB_OPT_WORKFLOW_FAULT,
  SB_OPT_STATE
};

static const struct option sb_options[] = {
    {"port", required_argument, NULL, SB_OPT_PORT},
    {"bind", required_argument, NULL, SB_OPT_BIND},
    {"api-key", required_argument, NULL, SB_OPT_API_KEY},
    {"seed", required_argument, NULL, SB_OPT_SEED},
    {"tls-cert", required_argument, NULL, SB_OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, SB_OPT_TLS_KEY},
    {"quiet", no_argument, NULL, SB_OPT_QUIET},
    {"strict-quotes", no_argument, NULL, SB_OPT_STRICT_QUOTES},
    {"strict", no_argument, NULL, SB_OPT_STRICT},
    {"time-scale", required_argument, NULL, SB_OPT_TIME_SCALE},
    {"rate-limit", required_argument, NULL, SB_OPT_RATE_LIMIT},
    {"rate-limit-key", required_argument, NULL, SB_OPT_RATE_LIMIT_KEY},
    {"rate-limit-org", required_argument, NULL, SB_OPT_RATE_LIMIT_ORG},
    {"fault-rate", required_argument, NULL, SB_OPT_FAULT_RATE},
    {"faults", required_argument, NULL, SB_OPT_FAULTS},
    {"stall-ms", required_argument, NULL, SB_OPT_STALL_MS},
    {"dribble-ms", required_argument, NULL, SB_OPT_DRIBBLE_MS},
    {"workflow-fault", required_argument, NULL, SB_OPT_WORKFLOW_FAULT},
    {"state", required_argument, NULL, SB_OPT_STATE},
    {NULL, 0, NULL, 0}};

#define SB_NOPTIONS (sizeof sb_options / sizeof *sb_options - 1)

const struct option *cl_sandbox_options(void) {
  return sb_options;
}

int cl_sandbox_listener_flag(int val) {
  return val == SB_OPT_PORT || val == SB_OPT_BIND || val == SB_OPT_TLS_CERT ||
         val == SB_OPT_TLS_KEY || val == SB_OPT_QUIET;
}

int cl_sandbox_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                      char *name, size_t namelen) {
  int at = optind, idx = -1, c;
  const char *arg;
  opterr = 0;
  c = getopt_long(argc, argv, optstring, longopts, &idx);
  if (c == -1 || at >= argc) return c;
  arg = argv[at];
  if (strncmp(arg, "--", 2) == 0) {
    size_t len = strcspn(arg, "=");
    snprintf(name, namelen, "%.*s", (int)len, arg);
    if (idx >= 0 && c != '?' && c != ':' && strlen(longopts[idx].name) != len - 2) {
      optopt = 0; /* an abbreviation: every option goes by its whole name */
      return '?';
    }
  } else {
    snprintf(name, namelen, "-%c", c == '?' || c == ':' ? optopt : c);
  }
  return c;
}

static int sb_parse_uint(const char *s, unsigned long max, unsigned *out) {
  char *end;
  unsigned long v;
  if (s == NULL || *s < '0' || *s > '9') return 0;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) return 0;
  *out = (unsigned)v;
  return 1;
}

static int sb_parse_double(const char *s, double lo, double hi, double *out) {
  char *end;
  double v;
  if (s == NULL || *s == '\0') return 0;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !isfinite(v) || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* --api-key: a clapi_ key (the core's shape, cl_auth_is_key) of 12-200 characters that is not
 * the built-in read-only key. */
static int sb_valid_key(const char *key) {
  size_t n = strlen(key);
  return n >= 12 && n <= 200 && cl_auth_is_key(key) && strcmp(key, CL_SANDBOX_READONLY_KEY) != 0;
}

/* The infrastructure flags (clock, rate limits, faults, --state): 1 = set, 0 = bad value (a
 * message in err), -1 = not one of them. */
static int sb_set_infra(cl_sandbox_opts *o, int val, const char *v, char *err, size_t errlen) {
  unsigned *u;
  switch (val) {
    case SB_OPT_TIME_SCALE:
      if (sb_parse_double(v, 1e-6, 1e9, &o->time_scale)) return 1;
      snprintf(err, errlen, "--time-scale needs a number > 0 (at most 1e9)");
      return 0;
    case SB_OPT_RATE_LIMIT:
      if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
        o->rate_limit_off = strcmp(v, "off") == 0;
        return 1;
      }
      snprintf(err, errlen, "--rate-limit needs on or off");
      return 0;
    case SB_OPT_RATE_LIMIT_KEY:
    case SB_OPT_RATE_LIMIT_ORG:
      u = val == SB_OPT_RATE_LIMIT_KEY ? &o->rate_limit_key : &o->rate_limit_org;
      if (sb_parse_uint(v, 1000000, u) && *u > 0) return 1;
      snprintf(err, errlen, "--%s needs a number from 1 to 1000000",
               sb_options[val - CL_SANDBOX_OPT_FIRST].name);
      return 0;
    case SB_OPT_FAULT_RATE:
      if (sb_parse_double(v, 0, 1, &o->fault_rate)) return 1;
      snprintf(err, errlen, "--fault-rate needs a number from 0 to 1");
      return 0;
    case SB_OPT_STALL_MS:
    case SB_OPT_DRIBBLE_MS:
      u = val == SB_OPT_STALL_MS ? &o->stall_ms : &o->dribble_ms;
      if (sb_parse_uint(v, 3600000, u) && *u > 0) return 1;
      snprintf(err, errlen, "--%s needs a number of milliseconds from 1 to 3600000",
               sb_options[val - CL_SANDBOX_OPT_FIRST].name);
      return 0;
    case SB_OPT_WORKFLOW_FAULT:
      if (strcmp(v, "normal") == 0 || strcmp(v, "stuck") == 0 || strcmp(v, "fail") == 0 ||
          strcmp(v, "fail_refund") == 0 || strcmp(v, "errors") == 0) {
        o->workflow_fault = v;
        return 1;
      }
      snprintf(err, errlen, "--workflow-fault needs normal, stuck, fail, fail_refund or errors");
      return 0;
    case SB_OPT_FAULTS:
      o->faults = v; /* the kinds are checked by the Lua app (sandbox/lua/sandbox/faults.lua) */
      return 1;
    case SB_OPT_STATE:
      if (*v != '\0') {
        o->state_file = v;
        return 1;
      }
      snprintf(err, errlen, "--state needs a file name");
      return 0;
    default:
      return -1;
  }
}

int cl_sandbox_set_flag(cl_sandbox_opts *o, int val, const char *v, char *err, size_t errlen) {
  int r = sb_set_infra(o, val, v, err, errlen);
  if (r >= 0) return r ? 0 : -1;
  switch (val) {
    case SB_OPT_QUIET:
      o->quiet = 1;
      return 0;
    case SB_OPT_STRICT_QUOTES:
      o->strict_quotes = 1;
      return 0;
    case SB_OPT_STRICT:
      o->strict = 1;
      return 0;
    case SB_OPT_PORT:
      if (sb_parse_uint(v, 65535, &o->port)) return 0;
      snprintf(err, errlen, "--port needs a number from 0 to 65535");
      return -1;
    case SB_OPT_SEED:
      if (sb_parse_uint(v, 0xffffffffUL, &o->seed)) return 0;
      snprintf(err, errlen, "--seed needs a number from 0 to 4294967295");
      return -1;
    case SB_OPT_BIND:
      if (cl_host_is_loopback(v)) {
        o->bind = v;
        return 0;
      }
      snprintf(err, errlen, "--bind accepts a loopback address only (127.0.0.1, ::1, localhost)");
      return -1;
    case SB_OPT_API_KEY:
      if (sb_valid_key(v)) {
        o->api_key = v;
        return 0;
      }
      snprintf(err, errlen,
               "--api-key needs a clapi_ key of 12-200 letters, digits, '_' or '-' that is not "
               "the built-in read-only key");
      return -1;
    case SB_OPT_TLS_CERT:
      o->tls_cert = v;
      return 0;
    case SB_OPT_TLS_KEY:
      o->tls_key = v;
      return 0;
    default:
      snprintf(err, errlen, "not a sandbox flag");
      return -1;
  }
}

/* 0 = run, 1 = help, -1 = usage error (message in err). */
static int sb_parse_args(int argc, char **argv, cl_sandbox_opts *o, char *err, size_t errlen) {
  struct option longopts[SB_NOPTIONS + 2];
  char name[64], shown[128];
  int c;
  memcpy(longopts, sb_options, sizeof sb_options);
  longopts[SB_NOPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[SB_NOPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
  memset(o, 0, sizeof *o);
  optind = 1;
  while ((c = cl_sandbox_getopt(argc, argv, "+:h", longopts, name, sizeof name)) != -1) {
    if (c == 'h') return 1;
    if (c == ':') {
      snprintf(err, errlen, "%s needs a value", name);
      return -1;
    }
    if (c == '?') {
      sb_scrub(shown, sizeof shown, name);
      if (optopt != 0 && strncmp(name, "--", 2) == 0) /* --flag=V for a flag without value */
        snprintf(err, errlen, "%s takes no value", shown);
      else
        snprintf(err, errlen, "unknown flag '%s'", shown);
      return -1;
    }
    if (cl_sandbox_set_flag(o, c, optarg, err, errlen) < 0) return -1;
  }
  if (optind < argc) { /* no operands: a stray word, maybe a pasted key */
    sb_scrub(shown, sizeof shown, argv[optind]);
    snprintf(err, errlen, "unknown flag '%s'", shown);
    return -1;
  }
  return 0;
}

/* ---- signals and stdin --------------------------------------------------------------- */

static void sb_signals_install(sb_signals *s) {
  struct sigaction sa;
  sigset_t block;
  int k;
  sigemptyset(&block);
  for (k = 0; k < SB_NSIGS; k++) sigaddset(&block, sb_stop_sigs[k]);
  /* Blocked before MHD's thread starts, so only the pselect below ever takes them. */
  pthread_sigmask(SIG_BLOCK, &block, &s->old_mask);
  s->wait_mask = s->old_mask;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = sb_on_signal;
  for (k = 0; k < SB_NSIGS; k++) {
    sigdelset(&s->wait_mask, sb_stop_sigs[k]);
    sigaction(sb_stop_sigs[k], &sa, &s->old[k]);
  }
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, &s->old_pipe);
  sb_signalled = 0;
}

static void sb_signals_restore(sb_signals *s) {
  int k;
  /* Mask first, while our handler still takes any signal that is pending. */
  pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
  for (k = 0; k < SB_NSIGS; k++) sigaction(sb_stop_sigs[k], &s->old[k], NULL);
  sigaction(SIGPIPE, &s->old_pipe, NULL);
}

/* stdin is watched for end of file only when something can close it: a pipe, FIFO, socket,
 * or the terminal we are in the foreground of. /dev/null or a regular file would end at once. */
static int sb_stdin_watchable(void) {
  struct stat st;
  if (fstat(STDIN_FILENO, &st) != 0) return 0;
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return 1;
  return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

static void sb_wait(const sb_signals *s) {
  int watch = sb_stdin_watchable();
  char buf[4096];
  while (!sb_signalled) {
    fd_set rfds;
    int r;
    FD_ZERO(&rfds);
    if (watch) FD_SET(STDIN_FILENO, &rfds);
    r = pselect(watch ? STDIN_FILENO + 1 : 0, watch ? &rfds : NULL, NULL, NULL, NULL,
                &s->wait_mask);
    if (r < 0) {
      if (errno != EINTR) watch = 0;
      continue;
    }
    if (r > 0 && FD_ISSET(STDIN_FILENO, &rfds)) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n == 0) return; /* end of file: whoever started us is gone */
      if (n < 0 && errno != EINTR && errno != EAGAIN) watch = 0;
    }
  }
}

/* ---- the command --------------------------------------------------------------------- */

static void sb_print_listening(const cl_sandbox_opts *o, unsigned port) {
  const char *host = o->bind ? o->bind : "127.0.0.1";
  int v6 = strchr(host, ':') != NULL;
  if (strcasecmp(host, "localhost") == 0) host = "127.0.0.1";
  printf("LISTENING %s://%s%s%s:%u%s\n", o->tls_cert ? "https" : "http", v6 ? "[" : "", host,
         v6 ? "]" : "", port, CL_SANDBOX_BASE_PATH);
  fflush(stdout);
}

int cl_sandbox_main(int argc, char **argv) {
  cl_sandbox_opts opts;
  cl_sandbox *sb;
  sb_signals sigs;
  char err[512];
  int r = sb_parse_args(argc, argv, &opts, err, sizeof err);
  if (r != 0) {
    if (r < 0) fprintf(stderr, "cleanlist sandbox: %s\n\n", err);
    fputs(sb_usage, r < 0 ? stderr : stdout);
    return r < 0 ? 2 : 0;
  }
  sb_signals_install(&sigs);
  sb = cl_sandbox_start(&opts, err, sizeof err);
  if (sb == NULL) {
    sb_signals_restore(&sigs);
    fprintf(stderr, "cleanlist sandbox: %s\n", err);
    return 1;
  }
  sb_print_listening(&opts, cl_sandbox_port(sb));
  sb_wait(&sigs);
  cl_sandbox_stop(sb);
  sb_signals_restore(&sigs);
  return 0;
}
