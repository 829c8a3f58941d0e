/* cleanlist.redis: rate-limit buckets in Redis (cl_redis.h) for Lua. Built when libhiredis is
 * there; cleanlist.ratelimit says what is missing when it is not. */
#include "cl_redis.h"
#include "lcl_error.h"

#define STORE_MT "cleanlist.RedisStore"

LCL_EXPORT int luaopen_cleanlist_redis(lua_State *L);

typedef struct {
  cl_redis *r; /* NULL once closed */
} lcl_store;

/// redis.store(url, timeout_seconds) -> store, reachable, err | nil, err (err: {kind, message})
/// A malformed URL is refused (nil, err); a store that cannot be reached now is returned
/// with reachable false and the reason, and its operations try to reconnect.
static int lcl_store_new(lua_State *L) {
  const char *url = luaL_checkstring(L, 1);
  double timeout = luaL_optnumber(L, 2, 1);
  luaL_argcheck(L, timeout > 0, 2, "timeout must be positive");
  lcl_store *s = lua_newuserdata(L, sizeof *s);
  s->r = NULL;
  luaL_setmetatable(L, STORE_MT);
  cl_error err;
  cl_error_clear(&err);
  int reachable = 0;
  s->r = cl_redis_open(url, timeout, &reachable, &err);
  if (!s->r) return lcl_push_error(L, &err);
  lua_pushboolean(L, reachable);
  if (reachable) return 2;
  lcl_push_error_table(L, &err);
  return 3;
}

static cl_redis *check_store(lua_State *L) {
  lcl_store *s = luaL_checkudata(L, 1, STORE_MT);
  luaL_argcheck(L, s->r != NULL, 1, "the Redis store is closed");
  return s->r;
}

/* A bucket's arguments from index i: id, limit, window, burst, margin; the window is widened
 * by the margin as cl_bucket_init does. */
static const char *check_bucket_at(lua_State *L, int i, cl_redis_bucket *a, double delay) {
  const char *id = luaL_checkstring(L, i);
  double limit = luaL_checknumber(L, i + 1), window = luaL_checknumber(L, i + 2);
  double burst = luaL_optnumber(L, i + 3, 1), margin = luaL_optnumber(L, i + 4, 0.02);
  luaL_argcheck(L, limit >= 1, i + 1, "limit must be at least 1");
  luaL_argcheck(L, window > 0, i + 2, "window must be positive");
  luaL_argcheck(L, margin >= 0 && margin < 1, i + 4, "margin is a share of the window, 0 to 1");
  cl_redis_bucket_set(a, limit, window, burst, margin, delay);
  return id;
}

/* Arguments 2..7: id, limit, window, burst, margin, delay; then, for a second bucket taken
 * together with the first, 8..12: id, limit, window, burst, margin. Returns how many. */
static int check_buckets(lua_State *L, const char **ids, cl_redis_bucket *bs, int pair) {
  double delay = luaL_optnumber(L, 7, 0);
  ids[0] = check_bucket_at(L, 2, &bs[0], delay);
  if (!pair || lua_isnoneornil(L, 8)) return 1;
  ids[1] = check_bucket_at(L, 8, &bs[1], delay);
  return 2;
}

static int push_wait(lua_State *L, double w, const cl_error *err) {
  if (w >= 0) {
    lua_pushnumber(L, w);
    return 1;
  }
  return lcl_push_error(L, err);
}

/// store:acquire(id, limit, window, burst, margin[, delay[, id2, limit2, window2, burst2,
/// margin2]]) -> seconds to wait from now + delay | nil, err. With a second bucket, both
/// are reserved at one start (the latest either allows) in one atomic step.
static int lcl_store_acquire(lua_State *L) {
  cl_redis *r = check_store(L);
  cl_redis_bucket bs[2];
  const char *ids[2];
  int n = check_buckets(L, ids, bs, 1);
  cl_error err;
  cl_error_clear(&err);
  return push_wait(L, cl_redis_acquire(r, n, ids, bs, &err), &err);
}

/// store:peek(id, limit, window, burst, margin[, delay]) -> seconds | nil, err (reserves
/// nothing)
static int lcl_store_peek(lua_State *L) {
  cl_redis *r = check_store(L);
  cl_redis_bucket bs[1];
  const char *ids[1];
  check_buckets(L, ids, bs, 0);
  cl_error err;
  cl_error_clear(&err);
  return push_wait(L, cl_redis_peek(r, 1, ids, bs, &err), &err);
}

/// store:penalize(id, limit, window, burst, margin, delay, retry_after) -> true | nil, err
static int lcl_store_penalize(lua_State *L) {
  cl_redis *r = check_store(L);
  cl_redis_bucket bs[1];
  const char *ids[1];
  check_buckets(L, ids, bs, 0);
  double retry_after = luaL_checknumber(L, 8);
  cl_error err;
  cl_error_clear(&err);
  if (cl_redis_penalize(r, 1, ids, bs, retry_after, &err) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return push_wait(L, -1, &err);
}

/// store:where() -> "host:port/db" (never the password)
static int lcl_store_where(lua_State *L) {
  lua_pushstring(L, cl_redis_where(check_store(L)));
  return 1;
}

static int lcl_store_close(lua_State *L) {
  lcl_store *s = luaL_checkudata(L, 1, STORE_MT);
  cl_redis_close(s->r);
  s->r = NULL;
  return 0;
}

int luaopen_cleanlist_redis(lua_State *L) {
  static const luaL_Reg methods[] = {{"acquire", lcl_store_acquire},   {"peek", lcl_store_peek},
                                     {"penalize", lcl_store_penalize}, {"where", lcl_store_where},
                                     {"close", lcl_store_close},       {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__gc", lcl_store_close}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"store", lcl_store_new}, {NULL, NULL}};
  lcl_new_class(L, STORE_MT, methods, meta);
  luaL_newlib(L, funcs);
  return 1;
}
