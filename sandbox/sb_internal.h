/* Private interface between the sandbox's HTTP glue (sb_server.c), its Lua bridge (sb_lua.c)
 * and its command (sb_main.c). Nothing here is part of the public sandbox.h API. */
#ifndef CL_SB_INTERNAL_H
#define CL_SB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

struct MHD_Connection;
struct MHD_Response;
struct lua_State;

/* Largest request body the sandbox accumulates; larger uploads get a 413 envelope. */
#define SB_MAX_BODY ((size_t)16 * 1024 * 1024)

/* The timer thread of sb_faults.c: resumes suspended connections when their time comes and
 * runs the app's tick when the time asked for comes (the sandbox's one periodic driver). */
typedef struct sb_timer sb_timer;

/* The legacy API's webhook worker (sb_webhook.c). */
typedef struct sb_webhook sb_webhook;

/* A connection-level fault, decided by the Lua app (the fourth result of handle(req)) and
 * carried out in C (sb_faults.c). Status-level faults (500, 429, bad JSON...) are plain
 * responses built in Lua and never reach this struct. */
enum {
  SB_FAULT_NONE = 0,
  SB_FAULT_RESET, /* RST before any response byte */
  SB_FAULT_EMPTY, /* orderly close before any response byte */
  SB_FAULT_PARTIAL, /* headers + `bytes` of the body, then an orderly close */
  SB_FAULT_RESET_MID, /* headers + `bytes` of the body, then RST */
  SB_FAULT_STALL, /* nothing for `ms`, then the answer (or a close when `close`) */
  SB_FAULT_DRIBBLE /* the body, `chunk` bytes every `ms` milliseconds */
};

typedef struct sb_fault {
  int kind;
  unsigned ms;
  unsigned chunk;
  size_t bytes;
  int close;
} sb_fault;

/* One HTTP request as the Lua bridge sees it. Strings are not owned. */
typedef struct sb_request {
  struct MHD_Connection *conn; /* for the request headers */
  const char *method;
  const char *path; /* decoded path, without the query */
  const char *query; /* raw query string without '?', "" when none */
  size_t query_len;
  const char *body;
  size_t body_len;
  unsigned long conn_id; /* stable for the life of the TCP connection */
  sb_timer *timer; /* for faults that suspend the connection */
} sb_request;

/* The sandbox's own lua_State plus what it needs to serve a request. */
typedef struct sb_lua sb_lua;

/// Creates the state, loads the `sandbox` module and builds the app from opts. Returns NULL and
/// writes a message to err on failure.
sb_lua *sb_lua_open(const cl_sandbox_opts *opts, char *err, size_t errlen);

/// Runs the Lua handler for req and returns the response to queue; *status receives the HTTP
/// status and *fault the connection-level fault to carry out (kind SB_FAULT_NONE normally).
/// NULL only when out of memory or when the fault sends no response (reset, empty, a stall
/// that ends in a close). Lua errors become a 500 error envelope. Holds the Lua lock.
struct MHD_Response *sb_lua_handle(sb_lua *sl, const sb_request *req, unsigned *status,
                                   sb_fault *fault);

/// Calls app:tick() under the Lua lock (from the timer thread): the legacy API's background
/// progress and the --state saves. The app asks for its next tick through config.tick_in.
void sb_lua_tick(void *sl);

/// Gives the app its timer (config.tick_in asks it for ticks) and its webhook worker (module
/// `sandbox.webhook_worker`), under the Lua lock. Either may be NULL.
void sb_lua_attach(sb_lua *sl, sb_timer *t, sb_webhook *w);

/// Calls app:shutdown() (the final --state save), then closes the state. NULL is a no-op.
void sb_lua_close(sb_lua *sl);

/* ---- sb_faults.c ---- */

/// Starts the timer thread; tick(tick_cls) runs on it whenever the time asked for with
/// sb_timer_tick_in comes (never when tick is NULL).
sb_timer *sb_timer_start(void (*tick)(void *), void *tick_cls);

/// The tick runs within ms milliseconds (or sooner, when it was asked for sooner already).
/// Thread-safe; also from within the tick. NULL is a no-op.
void sb_timer_tick_in(sb_timer *t, unsigned ms);

/// Suspends conn (call from the MHD thread, in the access handler or a content reader) and
/// resumes it after ms. Returns 0 when it cannot (stopping, out of memory).
int sb_timer_suspend(sb_timer *t, struct MHD_Connection *conn, unsigned ms);

/// Called on the MHD thread when a connection suspended by sb_timer_suspend runs again.
void sb_timer_resumed(sb_timer *t);

/// 1 once sb_timer_stop has begun: resumed connections should close.
int sb_timer_stopping(sb_timer *t);

/// Stops the thread, resumes every suspended connection and waits (bounded) until MHD has
/// taken them back, so that MHD_stop_daemon may follow. sb_timer_free releases it after.
void sb_timer_stop(sb_timer *t);
void sb_timer_free(sb_timer *t);

/// Aborts the connection's TCP stream with a RST.
void sb_fault_reset_socket(struct MHD_Connection *conn);

/// A response whose body (copied) is served cut or slowly, as f says (partial, reset_mid_body,
/// dribble).
struct MHD_Response *sb_fault_body_response(const char *body, size_t len, const sb_fault *f,
                                            struct MHD_Connection *conn, sb_timer *timer);

/// A response built in C with an MCP error envelope (used when Lua cannot answer). The strings
/// are written as they are (no JSON escaping): pass constants. `serial` makes the request id.
struct MHD_Response *sb_error_response(const char *code, const char *problem, const char *fix,
                                       int retryable, unsigned long serial);

/// Copies src into dst (size n), replacing the secret part of anything that looks like a
/// clapi_ key with "…" (the core's cl_redact_text), so that log lines never carry a key.
void sb_scrub(char *dst, size_t n, const char *src);

/// luaopen function of `sandbox.native` (sb_native.c): HMAC-SHA256, SHA-256, constant-time
/// comparison and base64 on OpenSSL, and the core's loopback check and redactions, preloaded
/// into the sandbox's state.
int sb_open_native(struct lua_State *L);

/* ---- sb_webhook.c: the legacy API's webhook worker (one thread, libcurl multi) ---- */

/// A worker with no thread yet (it starts at first use). on_result(cls), when not NULL, is
/// called on the worker's thread each time a delivery's result is ready (the sandbox asks its
/// timer for a tick then, so that the Lua side takes it soon). NULL when out of memory.
sb_webhook *sb_webhook_new(void (*on_result)(void *), void *cls);

/// Stops the thread (aborting transfers still running), joins it and frees w. NULL is a no-op.
/// Call after MHD_stop_daemon: no Lua may call the module afterwards.
void sb_webhook_free(sb_webhook *w);

/* The worker's queue, as the Lua module (sb_webhook_lua.c) drives it. The calls on a worker
 * are thread-safe and take a non-NULL one (sb_wh_available also takes NULL). */
typedef struct sb_wh_job sb_wh_job; /* one delivery to POST */

typedef struct sb_wh_result {
  struct sb_wh_result *next;
  char *id; /* the job's id */
  long status; /* HTTP status; 0 when no response came */
  char error[256]; /* "" when the receiver answered (whatever the status) */
  double ms; /* real duration */
} sb_wh_result;

typedef struct sb_wh_stats {
  unsigned long pending, ready, delivered, failed;
  int started;
} sb_wh_stats;

/// 1 when w is a worker that can deliver (libcurl initialised).
int sb_wh_available(const sb_webhook *w);

/// A delivery of body to url under the caller's id (the strings are copied; a NULL id or url,
/// or a copy that failed, leaves the job incomplete). timeout_ms outside 1..60000 means the
/// default (10 s). NULL when out of memory.
sb_wh_job *sb_wh_job_new(const char *id, size_t id_len, const char *url, size_t url_len,
                         const char *body, size_t body_len, long timeout_ms);

/// Adds a "Name: value" request header to j.
void sb_wh_job_add_header(sb_wh_job *j, const char *line);

/// 1 when j has its id, url and body.
int sb_wh_job_complete(const sb_wh_job *j);

void sb_wh_job_free(sb_wh_job *j);

/// Queues j (taken, freed on failure) and starts the thread at first use: NULL, or why not.
const char *sb_wh_post(sb_webhook *w, sb_wh_job *j);

/// Takes the results ready so far (a list through `next`, oldest first; NULL when none).
sb_wh_result *sb_wh_take_results(sb_webhook *w);
void sb_wh_result_free(sb_wh_result *r);

/// Deliveries queued or running plus results not taken yet.
unsigned long sb_wh_busy(sb_webhook *w);

void sb_wh_get_stats(sb_webhook *w, sb_wh_stats *st);

/* ---- sb_webhook_lua.c ---- */

/// Makes w the worker of the `sandbox.webhook_worker` module in L (a registry entry).
void sb_webhook_attach(struct lua_State *L, sb_webhook *w);

/// luaopen function of `sandbox.webhook_worker` (post, drain, busy, stats, available).
int sb_open_webhook(struct lua_State *L);

#endif
