/* cleanlist.core: the policy layer for Lua (auth, URL rules, error kinds, retry decisions,
 * backoff, Retry-After, rate-limit buckets). No libcurl here, so OpenResty can load it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cl_auth.h"
#include "cl_clock.h"
#include "cl_error.h"
#include "cl_ratelimit.h"
#include "cl_retry.h"
#include "cl_redis_proto.h"
#include "cl_shared.h"
#include "cl_url.h"
#include "lcl_compat.h"
#include "lcl_credential.h"
#include "lcl_error.h"

#define BUCKET_MT "cleanlist.Bucket"
#define SHARED_MT "cleanlist.SharedBucket"

LCL_EXPORT int luaopen_cleanlist_core(lua_State *L);

/* ---- credential ------------------------------------------------------------------------ */

static lcl_credential *check_credential(lua_State *L, int i) {
  lcl_credential *c = luaL_checkudata(L, i, LCL_CREDENTIAL_MT);
  luaL_argcheck(L, c->key != NULL, i, "credential has been wiped");
  return c;
}

/// core.credential([key]) -> credential | nil, err
/// Resolves the key (argument, else CLEANLIST_API_KEY) and checks its shape.
static int lcl_credential_new(lua_State *L) {
  const char *explicit_key = luaL_optstring(L, 1, NULL);
  cl_error err;
  cl_error_clear(&err);
  const char *key = cl_auth_resolve(explicit_key, &err);
  if (!key || cl_auth_check(key, &err)) return lcl_push_error(L, &err);
  lcl_credential *c = lua_newuserdata(L, sizeof *c);
  c->len = strlen(key);
  c->key = malloc(c->len + 1);
  if (!c->key) return luaL_error(L, "out of memory");
  memcpy(c->key, key, c->len + 1);
  luaL_setmetatable(L, LCL_CREDENTIAL_MT);
  return 1;
}

static int lcl_credential_gc(lua_State *L) {
  lcl_credential *c = luaL_checkudata(L, 1, LCL_CREDENTIAL_MT);
  if (c->key) {
    memset(c->key, 0, c->len);
    free(c->key);
    c->key = NULL;
  }
  return 0;
}

static int lcl_credential_mask(lua_State *L) {
  char mask[64];
  cl_auth_mask(check_credential(L, 1)->key, mask, sizeof mask);
  lua_pushstring(L, mask);
  return 1;
}

static int lcl_credential_tostring(lua_State *L) {
  char mask[64];
  cl_auth_mask(check_credential(L, 1)->key, mask, sizeof mask);
  lua_pushfstring(L, "cleanlist.Credential(%s)", mask);
  return 1;
}

/// cred:redact(s) -> s with the key and any Authorization header value replaced.
static int lcl_credential_redact(lua_State *L) {
  lcl_credential *c = check_credential(L, 1);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  size_t cap = len + len / 2 + 64;
  char *out = malloc(cap);
  if (!out) return luaL_error(L, "out of memory");
  size_t n = cl_redact(s, len, c->key, out, cap);
  lua_pushlstring(L, out, n);
  free(out);
  return 1;
}

/// cred:authorization_header() -> "Authorization: Bearer <key>": for a transport written in
/// Lua, to put on the wire and nowhere else (never in an error, a log or a trace: redact the
/// lines it traces with cred:redact). The libcurl transport reads the key in C instead.
static int lcl_credential_authorization_header(lua_State *L) {
  lcl_credential *c = check_credential(L, 1);
  lua_pushliteral(L, "Authorization: Bearer ");
  lua_pushlstring(L, c->key, c->len);
  lua_concat(L, 2);
  return 1;
}

/// cred:fingerprint() -> 16 hex digits (FNV-1a 64 of the key): tells keys apart in
/// process-wide tables without keeping the key itself as a table key.
static int lcl_credential_fingerprint(lua_State *L) {
  lcl_credential *c = check_credential(L, 1);
  unsigned long long h = 14695981039346656037ULL;
  for (size_t i = 0; i < c->len; i++) {
    h ^= (unsigned char)c->key[i];
    h *= 1099511628211ULL;
  }
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", h);
  lua_pushstring(L, hex);
  return 1;
}

/* ---- URLs, kinds ---------------------------------------------------------------------- */

/* Fields of the table on top of the stack. */
static void set_string(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_integer(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void set_boolean(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/// core.check_base_url(url) -> {https=, loopback=, host=, port=, path=} | nil, err
static int lcl_check_base_url(lua_State *L) {
  cl_url u;
  cl_error err;
  cl_error_clear(&err);
  if (cl_url_check(luaL_checkstring(L, 1), &u, &err)) return lcl_push_error(L, &err);
  lua_createtable(L, 0, 5);
  set_boolean(L, "https", u.https);
  set_boolean(L, "loopback", u.loopback);
  set_string(L, "host", u.host);
  set_integer(L, "port", (lua_Integer)u.port);
  set_string(L, "path", u.path);
  return 1;
}

static cl_kind check_kind(lua_State *L, int i) {
  const char *name = luaL_checkstring(L, i);
  for (int k = 0; k < CL_KIND_COUNT; k++)
    if (strcmp(cl_kind_name((cl_kind)k), name) == 0) return (cl_kind)k;
  return (cl_kind)luaL_argerror(L, i, lua_pushfstring(L, "unknown error kind '%s'", name));
}

/// core.kind_for_status(status) -> kind name
static int lcl_kind_for_status(lua_State *L) {
  lua_pushstring(L, cl_kind_name(cl_kind_from_status((long)luaL_checknumber(L, 1))));
  return 1;
}

/* ---- retry policy ---------------------------------------------------------------------- */

static int opt_field_int(lua_State *L, int t, const char *k, int dflt) {
  lua_getfield(L, t, k);
  int v = lua_isnil(L, -1)       ? dflt
          : lua_isboolean(L, -1) ? lua_toboolean(L, -1)
                                 : (int)luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/// core.retry_decide{safe=, idempotent_key=, kind=, sent=, retryable=, attempt=, max_retries=}
///   -> retry, ambiguous, reason (the kind's row of core.kinds says when it is retried)
static int lcl_retry_decide(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  cl_retry_in in;
  lua_getfield(L, 1, "kind");
  in.kind = check_kind(L, -1);
  lua_pop(L, 1);
  in.safe = opt_field_int(L, 1, "safe", 0);
  in.idempotent_key = opt_field_int(L, 1, "idempotent_key", 0);
  in.sent = opt_field_int(L, 1, "sent", 1);
  lua_getfield(L, 1, "retryable");
  in.retryable = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  in.attempt = opt_field_int(L, 1, "attempt", 1);
  in.max_retries = opt_field_int(L, 1, "max_retries", 0);
  cl_retry_out out = cl_retry_decide(&in);
  lua_pushboolean(L, out.retry);
  lua_pushboolean(L, out.ambiguous);
  lua_pushstring(L, out.reason);
  return 3;
}

/// core.backoff(attempt, base, cap, rnd01) -> seconds
static int lcl_backoff(lua_State *L) {
  lua_pushnumber(L, cl_backoff((int)luaL_checknumber(L, 1), luaL_checknumber(L, 2),
                               luaL_checknumber(L, 3), luaL_checknumber(L, 4)));
  return 1;
}

/// core.retry_after(value, now) -> seconds | nil
static int lcl_retry_after(lua_State *L) {
  double s = cl_retry_after_parse(luaL_optstring(L, 1, NULL), luaL_checknumber(L, 2));
  if (s < 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, s);
  return 1;
}

/* ---- rate-limit buckets ---------------------------------------------------------------- */

/// core.bucket(limit, window_seconds, burst, margin) -> bucket (see cl_ratelimit.h)
static int lcl_bucket_new(lua_State *L) {
  double limit = luaL_checknumber(L, 1), window = luaL_checknumber(L, 2);
  double burst = luaL_optnumber(L, 3, 1), margin = luaL_optnumber(L, 4, 0.02);
  luaL_argcheck(L, limit >= 1, 1, "limit must be at least 1");
  luaL_argcheck(L, window > 0, 2, "window must be positive");
  luaL_argcheck(L, margin >= 0 && margin < 1, 4, "margin is a share of the window, 0 to 1");
  cl_bucket *b = lua_newuserdata(L, cl_bucket_size(limit));
  cl_bucket_init(b, limit, window, burst, margin);
  luaL_setmetatable(L, BUCKET_MT);
  return 1;
}

static int lcl_bucket_acquire(lua_State *L) {
  cl_bucket *b = luaL_checkudata(L, 1, BUCKET_MT);
  lua_pushnumber(L, cl_bucket_acquire(b, luaL_checknumber(L, 2)));
  return 1;
}

static int lcl_bucket_penalize(lua_State *L) {
  cl_bucket *b = luaL_checkudata(L, 1, BUCKET_MT);
  cl_bucket_penalize(b, luaL_checknumber(L, 2), luaL_checknumber(L, 3));
  return 0;
}

/// core.shared_bucket(path, limit, window_seconds, burst, margin) -> bucket | nil, err:
/// a bucket in a file shared by the processes of this machine (see cl_shared.h). Its acquire
/// and peek return nil when the file cannot be used (the caller falls back to its own).
static int lcl_shared_new(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  double limit = luaL_checknumber(L, 2), window = luaL_checknumber(L, 3);
  double burst = luaL_optnumber(L, 4, 1), margin = luaL_optnumber(L, 5, 0.02);
  luaL_argcheck(L, limit >= 1, 2, "limit must be at least 1");
  luaL_argcheck(L, window > 0, 3, "window must be positive");
  luaL_argcheck(L, margin >= 0 && margin < 1, 5, "margin is a share of the window, 0 to 1");
  cl_shared_bucket *s = lua_newuserdata(L, sizeof *s);
  s->fd = -1;
  cl_error err;
  cl_error_clear(&err);
  if (cl_shared_open(s, path, limit, window, burst, margin, &err)) return lcl_push_error(L, &err);
  luaL_setmetatable(L, SHARED_MT);
  return 1;
}

static int push_wait(lua_State *L, double w) {
  if (w < 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, w);
  return 1;
}

static int lcl_shared_acquire(lua_State *L) {
  cl_shared_bucket *s = luaL_checkudata(L, 1, SHARED_MT);
  return push_wait(L, cl_shared_acquire(s, luaL_checknumber(L, 2)));
}

static int lcl_shared_peek(lua_State *L) {
  cl_shared_bucket *s = luaL_checkudata(L, 1, SHARED_MT);
  return push_wait(L, cl_shared_peek(s, luaL_checknumber(L, 2)));
}

/// file:acquire_with(other_file, now) -> wait | nil: this bucket and other_file's reserved
/// together at one start (cl_shared_acquire_pair)
static int lcl_shared_acquire_with(lua_State *L) {
  cl_shared_bucket *k = luaL_checkudata(L, 1, SHARED_MT);
  cl_shared_bucket *o = luaL_checkudata(L, 2, SHARED_MT);
  return push_wait(L, cl_shared_acquire_pair(k, o, luaL_checknumber(L, 3)));
}

static int lcl_shared_penalize(lua_State *L) {
  cl_shared_bucket *s = luaL_checkudata(L, 1, SHARED_MT);
  lua_pushboolean(L, cl_shared_penalize(s, luaL_checknumber(L, 2), luaL_checknumber(L, 3)) == 0);
  return 1;
}

/// core.bucket_state(state|nil, op, now, limit, window, burst, margin[, retry_after])
///   -> wait, new_state: one operation ("acquire", "peek" or "penalize") of cl_ratelimit.h on
/// a bucket whose bytes someone else keeps (nginx's shared memory): nil or a state of other
/// limits starts a fresh bucket. The caller stores new_state (under its own lock).
static int lcl_bucket_state(lua_State *L) {
  size_t len = 0;
  const char *state = luaL_optlstring(L, 1, NULL, &len);
  static const char *const ops[] = {"acquire", "peek", "penalize", NULL};
  static const int op_codes[] = {CL_BUCKET_ACQUIRE, CL_BUCKET_PEEK, CL_BUCKET_PENALIZE};
  int op = op_codes[luaL_checkoption(L, 2, NULL, ops)];
  double now = luaL_checknumber(L, 3), limit = luaL_checknumber(L, 4);
  double window = luaL_checknumber(L, 5), burst = luaL_checknumber(L, 6);
  double margin = luaL_checknumber(L, 7), arg = luaL_optnumber(L, 8, 0);
  luaL_argcheck(L, limit >= 1, 4, "limit must be at least 1");
  luaL_argcheck(L, window > 0, 5, "window must be positive");
  luaL_argcheck(L, margin >= 0 && margin < 1, 7, "margin is a share of the window, 0 to 1");
  size_t size = cl_bucket_size(limit);
  void *out = lua_newuserdata(L, size); /* collected with the call's other garbage */
  double w = cl_bucket_state_run(state, len, op, now, arg, limit, window, burst, margin, out);
  if (w < 0) return luaL_error(L, "out of memory");
  lua_pushnumber(L, w);
  lua_pushlstring(L, out, size);
  return 2;
}

/// core.redis_url(url) -> {host=, port=, db=, user=, password=, unix=, where=} | nil, err:
/// a rate-limit store's URL (cl_redis_proto.h), for the store nginx speaks over cosockets.
static int lcl_redis_url(lua_State *L) {
  cl_redis_url u;
  cl_error err;
  cl_error_clear(&err);
  if (cl_redis_url_parse(luaL_checkstring(L, 1), &u, &err)) return lcl_push_error(L, &err);
  lua_createtable(L, 0, 7);
  set_string(L, "host", u.host);
  set_integer(L, "port", u.port);
  set_integer(L, "db", u.db);
  if (u.user[0]) set_string(L, "user", u.user);
  if (u.password[0]) set_string(L, "password", u.password);
  set_boolean(L, "unix", u.unix_socket);
  set_string(L, "where", u.where);
  return 1;
}

/// core.redis_args(op, delay, retry_after, id, limit, window, burst, margin[, id2, limit2,
/// window2, burst2, margin2]) -> array: the arguments after "EVALSHA <sha>" of one step of
/// one bucket in Redis, or of two reserved together (cl_redis_proto.h).
static int lcl_redis_args(lua_State *L) {
  static const char *const ops[] = {"acquire", "peek", "penalize", NULL};
  const char *op = ops[luaL_checkoption(L, 1, NULL, ops)];
  double delay = luaL_checknumber(L, 2), retry_after = luaL_checknumber(L, 3);
  const char *ids[CL_REDIS_MAX_BUCKETS];
  cl_redis_bucket bs[CL_REDIS_MAX_BUCKETS];
  int n = 0;
  for (int i = 4; n < CL_REDIS_MAX_BUCKETS && !lua_isnoneornil(L, i); i += 5, n++) {
    ids[n] = luaL_checkstring(L, i);
    double limit = luaL_checknumber(L, i + 1), window = luaL_checknumber(L, i + 2);
    double burst = luaL_checknumber(L, i + 3), margin = luaL_checknumber(L, i + 4);
    luaL_argcheck(L, limit >= 1, i + 1, "limit must be at least 1");
    luaL_argcheck(L, window > 0, i + 2, "window must be positive");
    luaL_argcheck(L, margin >= 0 && margin < 1, i + 4, "margin is a share of the window, 0 to 1");
    cl_redis_bucket_set(&bs[n], limit, window, burst, margin, delay);
  }
  cl_redis_args a;
  luaL_argcheck(L, cl_redis_args_set(&a, op, n, ids, bs, retry_after) == 0, 4,
                "a bucket is needed");
  lua_createtable(L, a.argc, 0);
  for (int i = 0; i < a.argc; i++) {
    lua_pushstring(L, a.argv[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int lcl_shared_gc(lua_State *L) {
  cl_shared_close(luaL_checkudata(L, 1, SHARED_MT));
  return 0;
}

/* ---- JSON ---------------------------------------------------------------------------- */

#define TIDY_MAX_DEPTH 1000 /* lua-cjson refuses deeper nesting by default */

/* In place, the table at index t: values raw-equal to the value at index 2 (lua-cjson's null)
 * become the value at index 3 (cleanlist.null); on Lua 5.3+, floats with an integral value in
 * range become integers. */
static void tidy(lua_State *L, int t, int depth) {
  if (depth > TIDY_MAX_DEPTH) return;
  luaL_checkstack(L, 4, "JSON nested too deep");
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE) {
      tidy(L, lua_gettop(L), depth + 1);
    } else if (type == LUA_TLIGHTUSERDATA && lua_rawequal(L, -1, 2)) {
      lua_pushvalue(L, -2);
      lua_pushvalue(L, 3);
      lua_rawset(L, t); /* assigning an existing field during lua_next is allowed */
    } else if (type == LUA_TNUMBER && lcl_push_integral_float(L, -1)) {
      lua_pushvalue(L, -3);
      lua_insert(L, -2);
      lua_rawset(L, t);
    }
    lua_pop(L, 1);
  }
}

/// core.json_tidy(table, cjson_null, null) -> table: the decoded value with lua-cjson's null
/// replaced by `null` and integral floats turned into integers (Lua 5.3+), in place.
static int lcl_json_tidy(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  tidy(L, 1, 0);
  lua_settop(L, 1);
  return 1;
}

/* ---- clock --------------------------------------------------------------------------- */

/// core.monotonic() -> seconds from an arbitrary origin, never going back
static int lcl_monotonic(lua_State *L) {
  lua_pushnumber(L, (lua_Number)cl_monotonic_ns() / 1e9);
  return 1;
}

/// core.sleep(seconds) -> seconds left: blocks the calling thread (plain scripts; schedulers
/// use timers). A signal ends the sleep early and the time left is returned (else 0), so a
/// Lua hook the signal set (Ctrl-C in the cleanlist executable) runs before sleeping on.
static int lcl_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  if (s <= 0) {
    lua_pushnumber(L, 0);
    return 1;
  }
  struct timespec ts, left = {0, 0};
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  if (nanosleep(&ts, &left) != 0 && errno == EINTR) {
    lua_pushnumber(L, (double)left.tv_sec + (double)left.tv_nsec / 1e9);
    return 1;
  }
  lua_pushnumber(L, 0);
  return 1;
}

/// core.isatty(fd) -> whether the file descriptor (0, 1, 2) is a terminal
static int lcl_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)) == 1);
  return 1;
}

/* ---- module ---------------------------------------------------------------------------- */

/* The rows of cl_errors.def but "ok". core.kinds: kind name -> {retry=, exit_status=}, retry
 * being when the kind is retried ("never", "any", "repeatable", "unsent"; see cl_errors.def);
 * core.exit_status: kind name -> the exit status of a run that ends on it. */
static void push_kinds(lua_State *L) {
  lua_createtable(L, 0, CL_KIND_COUNT);
  for (int k = 1; k < CL_KIND_COUNT; k++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, cl_retry_when_name(cl_kind_retry((cl_kind)k)));
    lua_setfield(L, -2, "retry");
    lua_pushinteger(L, cl_kind_exit_status((cl_kind)k));
    lua_setfield(L, -2, "exit_status");
    lua_setfield(L, -2, cl_kind_name((cl_kind)k));
  }
}

static void push_exit_status(lua_State *L) {
  lua_createtable(L, 0, CL_KIND_COUNT);
  for (int k = 1; k < CL_KIND_COUNT; k++) {
    lua_pushinteger(L, cl_kind_exit_status((cl_kind)k));
    lua_setfield(L, -2, cl_kind_name((cl_kind)k));
  }
}

int luaopen_cleanlist_core(lua_State *L) {
  static const luaL_Reg cred_methods[] = {
      {"mask", lcl_credential_mask},
      {"redact", lcl_credential_redact},
      {"fingerprint", lcl_credential_fingerprint},
      {"authorization_header", lcl_credential_authorization_header},
      {NULL, NULL}};
  static const luaL_Reg cred_meta[] = {
      {"__gc", lcl_credential_gc}, {"__tostring", lcl_credential_tostring}, {NULL, NULL}};
  static const luaL_Reg bucket_methods[] = {
      {"acquire", lcl_bucket_acquire}, {"penalize", lcl_bucket_penalize}, {NULL, NULL}};
  static const luaL_Reg shared_methods[] = {{"acquire", lcl_shared_acquire},
                                            {"acquire_with", lcl_shared_acquire_with},
                                            {"peek", lcl_shared_peek},
                                            {"penalize", lcl_shared_penalize},
                                            {NULL, NULL}};
  static const luaL_Reg shared_meta[] = {{"__gc", lcl_shared_gc}, {NULL, NULL}};
  static const luaL_Reg no_meta[] = {{NULL, NULL}};
  static const luaL_Reg funcs[] = {{"credential", lcl_credential_new},
                                   {"check_base_url", lcl_check_base_url},
                                   {"kind_for_status", lcl_kind_for_status},
                                   {"retry_decide", lcl_retry_decide},
                                   {"backoff", lcl_backoff},
                                   {"retry_after", lcl_retry_after},
                                   {"bucket", lcl_bucket_new},
                                   {"shared_bucket", lcl_shared_new},
                                   {"bucket_state", lcl_bucket_state},
                                   {"redis_url", lcl_redis_url},
                                   {"redis_args", lcl_redis_args},
                                   {"monotonic", lcl_monotonic},
                                   {"sleep", lcl_sleep},
                                   {"isatty", lcl_isatty},
                                   {"json_tidy", lcl_json_tidy},
                                   {NULL, NULL}};
  lcl_new_class(L, LCL_CREDENTIAL_MT, cred_methods, cred_meta);
  lcl_new_class(L, BUCKET_MT, bucket_methods, no_meta);
  lcl_new_class(L, SHARED_MT, shared_methods, shared_meta);
  luaL_newlib(L, funcs);
  lua_pushliteral(L, CL_VERSION);
  lua_setfield(L, -2, "VERSION");
  lua_pushliteral(L, CL_DEFAULT_BASE_URL);
  lua_setfield(L, -2, "DEFAULT_BASE_URL");
  lua_pushliteral(L, CL_API_KEY_ENV);
  lua_setfield(L, -2, "API_KEY_ENV");
  lua_pushliteral(L, CL_BASE_URL_ENV);
  lua_setfield(L, -2, "BASE_URL_ENV");
  lua_pushstring(L, cl_redis_script);
  lua_setfield(L, -2, "REDIS_SCRIPT");
  push_kinds(L);
  lua_setfield(L, -2, "kinds");
  push_exit_status(L);
  lua_setfield(L, -2, "exit_status");
  return 1;
}
