/* The sandbox's Lua bridge: its own lua_State (never shared with a client), the embedded
 * `sandbox` module, and the per-request call `handle(req) -> status, body, headers, fault`.
 * The state is used by the MHD thread (requests), by the timer thread (app:tick(), when the app
 * asked for it with config.tick_in), always under `lock`. Builds against Lua 5.4 and LuaJIT
 * 2.1 headers alike. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lualib.h>
#include <microhttpd.h>

#include "cl_auth.h"
#include "cl_clock.h"
#include "embed.h"
#include "lcl_compat.h"
#include "sb_internal.h"

#define SB_NAME_MAX 128

struct sb_lua {
  lua_State *L;
  int handle_ref;
  int app_ref;
  int quiet;
  sb_timer *timer; /* runs app:tick() when config.tick_in asks (sb_lua_attach) */
  pthread_mutex_t lock; /* held around every use of L once the server runs */
  unsigned long failures; /* C-side 500s: their request ids */
};

/* ---- clocks exposed to Lua ----------------------------------------------------------- */

/* Epoch milliseconds (an integer on Lua 5.4): the wall clock the sandbox clock starts from. */
static int sb_now_ms(lua_State *L) {
  lcl_pushwhole(L, (double)cl_wall_ms());
  return 1;
}

/* Monotonic milliseconds (an integer on Lua 5.4). */
static int sb_l_monotonic_ms(lua_State *L) {
  lcl_pushwhole(L, (double)cl_monotonic_ms());
  return 1;
}

/* The sandbox clock's hot half (sandbox/lua/sandbox/clock.lua keeps the rest): now() =
 * base + (monotonic now - mono0) * k, in one C call since every request reads it.
 * config.make_clock() returns now, set(base_ms, k); set restarts mono0 at the current time. */
typedef struct sb_clock {
  double base, mono0, k;
} sb_clock;

static double sb_fine_ms(void) {
  return (double)cl_monotonic_ns() / 1e6;
}

static int sb_clock_now(lua_State *L) {
  const sb_clock *c = lua_touserdata(L, lua_upvalueindex(1));
  double v = c->base + (sb_fine_ms() - c->mono0) * c->k;
  lcl_pushwhole(L, v); /* times are positive: truncation is floor */
  return 1;
}

static int sb_clock_set(lua_State *L) {
  sb_clock *c = lua_touserdata(L, lua_upvalueindex(1));
  c->base = (double)luaL_checknumber(L, 1);
  c->k = (double)luaL_checknumber(L, 2);
  c->mono0 = sb_fine_ms();
  return 0;
}

/* config.tick_in(ms): app:tick() runs on the timer thread within ms milliseconds. */
static int sb_tick_in(lua_State *L) {
  const sb_lua *sl = lua_touserdata(L, lua_upvalueindex(1));
  lua_Number ms = luaL_checknumber(L, 1);
  sb_timer_tick_in(sl->timer, ms > 0 ? (ms < 3.6e6 ? (unsigned)ms : 3600000u) : 0u);
  return 0;
}

static int sb_make_clock(lua_State *L) {
  sb_clock *c = lua_newuserdata(L, sizeof *c);
  c->base = 0;
  c->k = 1;
  c->mono0 = sb_fine_ms();
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, sb_clock_now, 1);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, sb_clock_set, 1);
  return 2;
}

/* ---- boot ---------------------------------------------------------------------------- */

static void sb_set_string(lua_State *L, const char *name, const char *value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

static void sb_set_number(lua_State *L, const char *name, double value) {
  lua_pushnumber(L, (lua_Number)value);
  lua_setfield(L, -2, name);
}

static void sb_set_uint(lua_State *L, const char *name, unsigned value) {
  lua_pushinteger(L, (lua_Integer)value);
  lua_setfield(L, -2, name);
}

/* The infrastructure flags (clock, rate limits, faults, --state); absent/0 = defaults. */
static void sb_push_infra(lua_State *L, const cl_sandbox_opts *opts) {
  if (opts->time_scale > 0) sb_set_number(L, "time_scale", opts->time_scale);
  lua_pushboolean(L, !opts->rate_limit_off);
  lua_setfield(L, -2, "rate_limit");
  if (opts->rate_limit_key) sb_set_uint(L, "rate_limit_key", opts->rate_limit_key);
  if (opts->rate_limit_org) sb_set_uint(L, "rate_limit_org", opts->rate_limit_org);
  if (opts->fault_rate > 0) sb_set_number(L, "fault_rate", opts->fault_rate);
  if (opts->faults) sb_set_string(L, "faults", opts->faults);
  if (opts->stall_ms) sb_set_uint(L, "stall_ms", opts->stall_ms);
  if (opts->dribble_ms) sb_set_uint(L, "dribble_ms", opts->dribble_ms);
  if (opts->workflow_fault) sb_set_string(L, "workflow_fault", opts->workflow_fault);
  if (opts->state_file) sb_set_string(L, "state_file", opts->state_file);
}

static void sb_push_config(lua_State *L, const cl_sandbox_opts *opts, sb_lua *sl) {
  lua_createtable(L, 0, 24);
  sb_set_string(L, "api_key", opts->api_key ? opts->api_key : CL_SANDBOX_DEFAULT_KEY);
  sb_set_string(L, "readonly_key", CL_SANDBOX_READONLY_KEY);
  sb_set_string(L, "version", CL_VERSION);
  sb_set_string(L, "base_path", CL_SANDBOX_BASE_PATH);
  lua_pushinteger(L, (lua_Integer)opts->seed);
  lua_setfield(L, -2, "seed");
  lua_pushboolean(L, opts->quiet);
  lua_setfield(L, -2, "quiet");
  lua_pushboolean(L, opts->tls_cert != NULL);
  lua_setfield(L, -2, "tls");
  lua_pushboolean(L, opts->strict_quotes);
  lua_setfield(L, -2, "strict_quotes");
  lua_pushboolean(L, opts->strict);
  lua_setfield(L, -2, "strict");
  lua_pushcfunction(L, sb_now_ms);
  lua_setfield(L, -2, "now_ms");
  lua_pushcfunction(L, sb_l_monotonic_ms);
  lua_setfield(L, -2, "monotonic_ms");
  lua_pushcfunction(L, sb_make_clock);
  lua_setfield(L, -2, "make_clock");
  lua_pushlightuserdata(L, sl);
  lua_pushcclosure(L, sb_tick_in, 1);
  lua_setfield(L, -2, "tick_in");
  sb_push_infra(L, opts);
}

/* Protected: loads the module, restores the --state file (when one is named) and leaves the
 * app and app.handle on the stack. A `--flag: ...` error is a configuration error. */
static int sb_boot(lua_State *L) {
  const cl_sandbox_opts *opts = lua_touserdata(L, 1);
  sb_lua *sl = lua_touserdata(L, 2);
  luaL_openlibs(L);
  cl_embed_preload(L, cl_sandbox_lua, "CLEANLIST_SANDBOX_LUA_DIR");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, sb_open_native);
  lua_setfield(L, -2, "sandbox.native");
  lua_pushcfunction(L, sb_open_webhook);
  lua_setfield(L, -2, "sandbox.webhook_worker");
  lua_pop(L, 2);
  lua_getglobal(L, "require");
  lua_pushstring(L, "sandbox");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "new");
  if (lua_type(L, -1) != LUA_TFUNCTION)
    return luaL_error(L, "module 'sandbox' has no function new");
  sb_push_config(L, opts, sl);
  lua_call(L, 1, 1);
  if (lua_type(L, -1) != LUA_TTABLE)
    return luaL_error(L, "sandbox.new did not return an app table");
  if (opts->state_file) {
    lua_getfield(L, -1, "load_state");
    lua_pushvalue(L, -2);
    lua_call(L, 1, 2);
    if (!lua_toboolean(L, -2))
      return luaL_error(L, "--state: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 2);
  }
  lua_getfield(L, -1, "handle");
  if (lua_type(L, -1) != LUA_TFUNCTION) return luaL_error(L, "sandbox app has no handle function");
  return 2;
}

sb_lua *sb_lua_open(const cl_sandbox_opts *opts, char *err, size_t errlen) {
  sb_lua *sl = calloc(1, sizeof *sl);
  if (sl == NULL || (sl->L = luaL_newstate()) == NULL) {
    snprintf(err, errlen, "cannot create the sandbox's Lua state: out of memory");
    free(sl);
    return NULL;
  }
  sl->quiet = opts->quiet;
  sl->app_ref = LUA_NOREF;
  pthread_mutex_init(&sl->lock, NULL);
  lua_pushcfunction(sl->L, sb_boot);
  lua_pushlightuserdata(sl->L, (void *)opts);
  lua_pushlightuserdata(sl->L, sl);
  if (lua_pcall(sl->L, 2, 2, 0) != 0) {
    char msg[512];
    const char *m = lua_tostring(sl->L, -1);
    sb_scrub(msg, sizeof msg, m ? m : "(error object is not a string)");
    if (strncmp(msg, "--", 2) == 0) /* a flag's value was refused: say so plainly */
      snprintf(err, errlen, "%s", msg);
    else
      snprintf(err, errlen, "cannot load the sandbox handlers: %s", msg);
    sb_lua_close(sl);
    return NULL;
  }
  sl->handle_ref = luaL_ref(sl->L, LUA_REGISTRYINDEX);
  sl->app_ref = luaL_ref(sl->L, LUA_REGISTRYINDEX);
  lcl_gc_generational(sl->L);
  return sl;
}

/* Calls app[name](app) if it is a function; errors go to stderr (unless quiet). */
static void sb_call_app(sb_lua *sl, const char *name) {
  lua_State *L = sl->L;
  if (L == NULL || sl->app_ref == LUA_NOREF) return;
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, sl->app_ref);
  lua_getfield(L, -1, name);
  if (lua_type(L, -1) == LUA_TFUNCTION) {
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 0, 0) != 0 && !sl->quiet) {
      char msg[512];
      const char *m = lua_tostring(L, -1);
      sb_scrub(msg, sizeof msg, m ? m : "(error object is not a string)");
      fprintf(stderr, "sandbox: %s failed: %s\n", name, msg);
    }
  }
  lua_settop(L, 0);
}

void sb_lua_tick(void *cls) {
  sb_lua *sl = cls;
  pthread_mutex_lock(&sl->lock);
  sb_call_app(sl, "tick");
  pthread_mutex_unlock(&sl->lock);
}

void sb_lua_attach(sb_lua *sl, sb_timer *t, sb_webhook *w) {
  pthread_mutex_lock(&sl->lock);
  sl->timer = t;
  if (w != NULL) sb_webhook_attach(sl->L, w);
  pthread_mutex_unlock(&sl->lock);
}

void sb_lua_close(sb_lua *sl) {
  if (sl == NULL) return;
  if (sl->L != NULL) {
    sb_call_app(sl, "shutdown");
    lua_close(sl->L);
    pthread_mutex_destroy(&sl->lock);
  }
  free(sl);
}

/* ---- one request --------------------------------------------------------------------- */

static enum MHD_Result sb_push_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
  lua_State *L = cls;
  char name[SB_NAME_MAX];
  size_t i, n = strlen(key);
  (void)kind;
  if (n >= sizeof name) return MHD_YES; /* absurdly long names are not passed on */
  for (i = 0; i < n; i++)
    name[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + ('a' - 'A') : key[i]);
  name[n] = '\0';
  lua_getfield(L, -1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, value ? value : "");
  } else { /* a repeated header: join the values as HTTP allows */
    lua_pushstring(L, ", ");
    lua_pushstring(L, value ? value : "");
    lua_concat(L, 3);
  }
  lua_setfield(L, -2, name);
  return MHD_YES;
}

/* Protected: builds the req table and calls handle(req), leaving its four results. */
static int sb_call(lua_State *L) {
  const sb_request *req = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, (int)lua_tointeger(L, 2));
  lua_createtable(L, 0, 6);
  sb_set_string(L, "method", req->method);
  sb_set_string(L, "path", req->path);
  lua_pushlstring(L, req->query, req->query_len);
  lua_setfield(L, -2, "query");
  lua_pushlstring(L, req->body, req->body_len);
  lua_setfield(L, -2, "body");
  lua_pushinteger(L, (lua_Integer)req->conn_id);
  lua_setfield(L, -2, "conn");
  lua_createtable(L, 0, 8);
  MHD_get_connection_values(req->conn, MHD_HEADER_KIND, sb_push_header, L);
  lua_setfield(L, -2, "headers");
  lua_call(L, 1, 4);
  return 4;
}

/* Copies the handler's headers onto resp; returns 1 when one of them is Content-Type. */
static int sb_add_headers(lua_State *L, int idx, struct MHD_Response *resp) {
  int has_type = 0;
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int vt = lua_type(L, -1);
    if (lua_type(L, -2) == LUA_TSTRING && (vt == LUA_TSTRING || vt == LUA_TNUMBER)) {
      const char *name = lua_tostring(L, -2);
      if (MHD_add_response_header(resp, name, lua_tostring(L, -1)) == MHD_YES &&
          strcasecmp(name, "Content-Type") == 0)
        has_type = 1;
    }
    lua_pop(L, 1);
  }
  return has_type;
}

static unsigned sb_field_uint(lua_State *L, int idx, const char *name, unsigned dflt) {
  lua_Number v;
  lua_getfield(L, idx, name);
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return (v >= 0 && v <= 4.0e9) ? (unsigned)v : dflt;
}

/* The handler's fourth result: nil, or {kind = "reset"|..., ms, chunk, bytes, close}. */
static void sb_read_fault(lua_State *L, int idx, sb_fault *f) {
  static const char *const kinds[] = {"",      "reset",  "empty", "partial", "reset_mid_body",
                                      "stall", "dribble"};
  const char *kind;
  int k;
  memset(f, 0, sizeof *f);
  if (lua_type(L, idx) != LUA_TTABLE) return;
  lua_getfield(L, idx, "kind");
  kind = lua_tostring(L, -1);
  for (k = 1; kind && k < (int)(sizeof kinds / sizeof *kinds); k++)
    if (strcmp(kind, kinds[k]) == 0) f->kind = k;
  lua_pop(L, 1);
  f->ms = sb_field_uint(L, idx, "ms", 0);
  f->chunk = sb_field_uint(L, idx, "chunk", 1);
  f->bytes = sb_field_uint(L, idx, "bytes", 0);
  lua_getfield(L, idx, "close");
  f->close = lua_toboolean(L, -1);
  lua_pop(L, 1);
}

static int sb_is_body_fault(int kind) {
  return kind == SB_FAULT_PARTIAL || kind == SB_FAULT_RESET_MID || kind == SB_FAULT_DRIBBLE;
}

static struct MHD_Response *sb_from_results(lua_State *L, int base, const sb_request *req,
                                            unsigned *status, sb_fault *fault) {
  lua_Number st = lua_tonumber(L, base + 1);
  size_t len = 0;
  const char *body = "";
  struct MHD_Response *resp;
  int bt = lua_type(L, base + 2);
  if (!lua_isnumber(L, base + 1) || st < 100 || st > 999 || (bt != LUA_TSTRING && bt != LUA_TNIL) ||
      (lua_type(L, base + 3) != LUA_TTABLE && !lua_isnil(L, base + 3)))
    return NULL;
  if (bt == LUA_TSTRING) body = lua_tolstring(L, base + 2, &len);
  if (!lua_isnil(L, base + 4)) sb_read_fault(L, base + 4, fault);
  *status = (unsigned)st;
  if (fault->kind == SB_FAULT_RESET || fault->kind == SB_FAULT_EMPTY ||
      (fault->kind == SB_FAULT_STALL && fault->close))
    return NULL; /* nothing is sent */
  if (sb_is_body_fault(fault->kind) && req->timer == NULL)
    fault->kind = SB_FAULT_NONE; /* cannot pause without the timer: serve the body whole */
  if (sb_is_body_fault(fault->kind))
    resp = sb_fault_body_response(body, len, fault, req->conn, req->timer);
  else
    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (resp == NULL) return NULL;
  if (!sb_add_headers(L, base + 3, resp))
    MHD_add_response_header(resp, "Content-Type", "application/json");
  return resp;
}

static struct MHD_Response *sb_fail(sb_lua *sl, const sb_request *req, const char *why,
                                    unsigned *status) {
  if (!sl->quiet) {
    char line[1024], msg[1024];
    snprintf(line, sizeof line, "%s %s: %s", req->method, req->path, why);
    sb_scrub(msg, sizeof msg, line);
    fprintf(stderr, "sandbox: internal error in %s\n", msg);
  }
  *status = 500;
  return sb_error_response("internal_error", "The sandbox failed while handling the request.",
                           "Retry the request; if it keeps failing, read the sandbox's stderr.", 1,
                           ++sl->failures);
}

struct MHD_Response *sb_lua_handle(sb_lua *sl, const sb_request *req, unsigned *status,
                                   sb_fault *fault) {
  lua_State *L = sl->L;
  struct MHD_Response *resp;
  fault->kind = SB_FAULT_NONE;
  pthread_mutex_lock(&sl->lock);
  lua_settop(L, 0);
  lua_pushcfunction(L, sb_call);
  lua_pushlightuserdata(L, (void *)req);
  lua_pushinteger(L, sl->handle_ref);
  if (lua_pcall(L, 2, 4, 0) != 0) {
    const char *m = lua_tostring(L, -1);
    resp = sb_fail(sl, req, m ? m : "(error object is not a string)", status);
  } else {
    resp = sb_from_results(L, 0, req, status, fault);
    if (resp == NULL && fault->kind == SB_FAULT_NONE)
      resp = sb_fail(sl, req, "handle(req) did not return status, body, headers", status);
  }
  lua_settop(L, 0);
  pthread_mutex_unlock(&sl->lock);
  return resp;
}

/* ---- C-built responses and the scrubbing of log lines ---------------------------------- */

struct MHD_Response *sb_error_response(const char *code, const char *problem, const char *fix,
                                       int retryable, unsigned long serial) {
  char body[768], rid[32], slug[64];
  struct MHD_Response *resp;
  size_t i;
  int n;
  for (i = 0; code[i] && i + 1 < sizeof slug; i++) slug[i] = code[i] == '_' ? '-' : code[i];
  slug[i] = '\0';
  snprintf(rid, sizeof rid, "req_c0de%012lx", serial & 0xffffffffffffUL);
  n = snprintf(body, sizeof body,
               "{\"error\":{\"code\":\"%s\",\"problem\":\"%s\",\"cause\":null,"
               "\"fix\":\"%s\",\"retryable\":%s,"
               "\"docs_url\":\"https://docs.cleanlist.ai/errors/%s\",\"request_id\":\"%s\"}}",
               code, problem, fix, retryable ? "true" : "false", slug, rid);
  if (n < 0 || (size_t)n >= sizeof body) n = (int)strlen(body);
  resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
  if (resp != NULL) {
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "X-Request-Id", rid);
  }
  return resp;
}

void sb_scrub(char *dst, size_t n, const char *src) {
  cl_redact_text(src, strlen(src), NULL, CL_REDACT_KEYS, dst, n);
}
