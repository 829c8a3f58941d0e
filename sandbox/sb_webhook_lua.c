/* The Lua module `sandbox.webhook_worker` over the webhook worker of sb_webhook.c: the Lua side
 * (sandbox.webhooks) posts deliveries and drains their results. The
 * worker is found in the registry (sb_webhook_attach); in plain Lua there is none, and the
 * module says so (available() is false, post fails). */
#include "lcl_compat.h"
#include "sb_internal.h"

#define SB_WH_REGISTRY "sandbox.webhook_worker"

static sb_webhook *sb_wh_of(lua_State *L) {
  sb_webhook *w;
  lua_getfield(L, LUA_REGISTRYINDEX, SB_WH_REGISTRY);
  w = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return w;
}

void sb_webhook_attach(struct lua_State *L, sb_webhook *w) {
  lua_pushlightuserdata(L, (void *)w);
  lua_setfield(L, LUA_REGISTRYINDEX, SB_WH_REGISTRY);
}

/// worker.available() -> true when a worker is attached (a real sandbox, not plain Lua)
static int sb_wh_lua_available(lua_State *L) {
  lua_pushboolean(L, sb_wh_available(sb_wh_of(L)));
  return 1;
}

static int sb_wh_fail(lua_State *L, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/* The job of a post{} table at index 1 (NULL when out of memory). */
static sb_wh_job *sb_wh_job_of(lua_State *L) {
  sb_wh_job *j;
  size_t id_len = 0, url_len = 0, body_len = 0;
  const char *id, *url, *body;
  long timeout_ms;
  lua_getfield(L, 1, "id");
  id = lua_tolstring(L, -1, &id_len);
  lua_getfield(L, 1, "url");
  url = lua_tolstring(L, -1, &url_len);
  lua_getfield(L, 1, "body");
  body = lua_tolstring(L, -1, &body_len);
  lua_getfield(L, 1, "timeout_ms");
  timeout_ms = lua_isnumber(L, -1) ? (long)lua_tonumber(L, -1) : 0;
  j = sb_wh_job_new(id, id_len, url, url_len, body, body_len, timeout_ms);
  lua_pop(L, 4);
  return j;
}

/* Adds the strings of the post{} table's `headers` array to j. */
static void sb_wh_headers_of(lua_State *L, sb_wh_job *j) {
  int i, count;
  lua_getfield(L, 1, "headers");
  if (lua_type(L, -1) == LUA_TTABLE) {
    count = (int)lua_rawlen(L, -1);
    for (i = 1; i <= count; i++) {
      const char *s;
      lua_rawgeti(L, -1, i);
      s = lua_tostring(L, -1);
      if (s != NULL) sb_wh_job_add_header(j, s);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/// worker.post{id=, url=, body=, headers={"Name: value", ...}, timeout_ms=} -> true | nil, err
static int sb_wh_lua_post(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  sb_wh_job *j;
  const char *err;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (w == NULL) return sb_wh_fail(L, "no webhook worker in this sandbox");
  j = sb_wh_job_of(L);
  if (j == NULL) return sb_wh_fail(L, "out of memory");
  sb_wh_headers_of(L, j);
  if (!sb_wh_job_complete(j)) {
    sb_wh_job_free(j);
    return sb_wh_fail(L, "post needs id, url and body strings");
  }
  err = sb_wh_post(w, j);
  if (err != NULL) return sb_wh_fail(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

/// worker.drain() -> array of {id, status, error (nil when answered), ms}, or nil when none
static int sb_wh_lua_drain(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  sb_wh_result *r, *list;
  int i = 0;
  if (w == NULL) return 0;
  list = sb_wh_take_results(w);
  if (list == NULL) return 0;
  lua_newtable(L);
  while ((r = list) != NULL) {
    list = r->next;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, r->id ? r->id : "");
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, (lua_Integer)r->status);
    lua_setfield(L, -2, "status");
    if (r->error[0]) {
      lua_pushstring(L, r->error);
      lua_setfield(L, -2, "error");
    }
    lua_pushinteger(L, (lua_Integer)r->ms);
    lua_setfield(L, -2, "ms");
    lua_rawseti(L, -2, ++i);
    sb_wh_result_free(r);
  }
  return 1;
}

/// worker.busy() -> deliveries queued or running + results not drained yet
static int sb_wh_lua_busy(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  lua_pushinteger(L, (lua_Integer)(w != NULL ? sb_wh_busy(w) : 0));
  return 1;
}

/// worker.stats() -> {pending, ready, answered, failed, started}
static int sb_wh_lua_stats(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  sb_wh_stats st;
  lua_createtable(L, 0, 6);
  if (w == NULL) return 1;
  sb_wh_get_stats(w, &st);
  lua_pushinteger(L, (lua_Integer)st.pending);
  lua_setfield(L, -2, "pending");
  lua_pushinteger(L, (lua_Integer)st.ready);
  lua_setfield(L, -2, "ready");
  lua_pushinteger(L, (lua_Integer)st.delivered);
  lua_setfield(L, -2, "answered");
  lua_pushinteger(L, (lua_Integer)st.failed);
  lua_setfield(L, -2, "failed");
  lua_pushboolean(L, st.started);
  lua_setfield(L, -2, "started");
  return 1;
}

int sb_open_webhook(lua_State *L) {
  static const luaL_Reg funcs[] = {{"available", sb_wh_lua_available}, {"post", sb_wh_lua_post},
                                   {"drain", sb_wh_lua_drain},         {"busy", sb_wh_lua_busy},
                                   {"stats", sb_wh_lua_stats},         {NULL, NULL}};
  const luaL_Reg *f;
  lua_newtable(L);
  for (f = funcs; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}
