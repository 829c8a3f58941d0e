/* cleanlist.curl: the libcurl transport for Lua. A Transport owns one multi handle; each
 * Request is a userdata the Lua scheduler polls. Nothing here calls back into Lua from a
 * libcurl callback, so no error can longjmp through libcurl. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cl_curl.h"
#include "lcl_compat.h"
#include "lcl_credential.h"
#include "lcl_error.h"

#define TRANSPORT_MT "cleanlist.Transport"
#define REQUEST_MT "cleanlist.Request"
#define MAX_HEADERS 32

LCL_EXPORT int luaopen_cleanlist_curl(lua_State *L);

typedef struct lcl_request lcl_request;

typedef struct lcl_transport {
  cl_transport *t; /* NULL once closed */
  lcl_request *live; /* requests not yet collected, so close() can free them */
} lcl_transport;

struct lcl_request {
  cl_request *r; /* NULL once freed */
  lcl_transport *owner;
  lcl_request *prev, *next;
};

static lcl_transport *check_transport(lua_State *L, int i) {
  lcl_transport *t = luaL_checkudata(L, i, TRANSPORT_MT);
  luaL_argcheck(L, t->t != NULL, i, "transport is closed");
  return t;
}

static lcl_request *check_request(lua_State *L, int i) {
  lcl_request *q = luaL_checkudata(L, i, REQUEST_MT);
  luaL_argcheck(L, q->r != NULL, i, "request is closed");
  return q;
}

static const char *opt_string_field(lua_State *L, int t, const char *k) {
  lua_getfield(L, t, k);
  const char *s = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
  lua_pop(L, 1); /* the table still references the string */
  return s;
}

static double opt_number_field(lua_State *L, int t, const char *k, double dflt) {
  lua_getfield(L, t, k);
  double v = lua_isnil(L, -1) ? dflt : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/// curl.transport{user_agent=, ca_file=, proxy=, trace=} -> transport | nil, err
static int lcl_transport_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  cl_transport_opts o;
  o.user_agent = opt_string_field(L, 1, "user_agent");
  o.ca_file = opt_string_field(L, 1, "ca_file");
  o.proxy = opt_string_field(L, 1, "proxy");
  lua_getfield(L, 1, "trace");
  o.trace = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lcl_transport *t = lua_newuserdata(L, sizeof *t);
  t->t = NULL;
  t->live = NULL;
  luaL_setmetatable(L, TRANSPORT_MT);
  cl_error err;
  cl_error_clear(&err);
  if (!(t->t = cl_transport_new(&o, &err))) return lcl_push_error(L, &err);
  return 1;
}

static void unlink_request(lcl_request *q) {
  if (q->prev)
    q->prev->next = q->next;
  else if (q->owner)
    q->owner->live = q->next;
  if (q->next) q->next->prev = q->prev;
  q->prev = q->next = NULL;
}

static void request_close(lcl_request *q) {
  if (q->r && q->owner && q->owner->t) cl_request_free(q->owner->t, q->r);
  q->r = NULL;
  unlink_request(q);
  q->owner = NULL;
}

static int lcl_transport_close(lua_State *L) {
  lcl_transport *t = luaL_checkudata(L, 1, TRANSPORT_MT);
  while (t->live) request_close(t->live);
  cl_transport_free(t->t);
  t->t = NULL;
  return 0;
}

static int read_headers(lua_State *L, int spec, const char **lines) {
  int n = 0;
  lua_getfield(L, spec, "headers");
  if (!lua_isnil(L, -1)) {
    luaL_checktype(L, -1, LUA_TTABLE);
    int count = (int)lua_rawlen(L, -1);
    if (count > MAX_HEADERS) return luaL_error(L, "too many headers (%d)", count);
    for (int i = 1; i <= count; i++) {
      lua_rawgeti(L, -1, i);
      lines[n++] = luaL_checkstring(L, -1);
      lua_pop(L, 1); /* still referenced by the headers table */
    }
  }
  lua_pop(L, 1);
  lines[n] = NULL;
  return n;
}

/// transport:start{method=, url=, credential=, headers={...}, body=, connect_timeout=,
///                 timeout=, fresh_connect=, max_body=, hold_body=} -> request | nil, err
static int lcl_transport_start(lua_State *L) {
  lcl_transport *t = check_transport(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *lines[MAX_HEADERS + 1];
  cl_request_spec s;
  memset(&s, 0, sizeof s);
  s.method = opt_string_field(L, 2, "method");
  s.url = opt_string_field(L, 2, "url");
  luaL_argcheck(L, s.method && s.url, 2, "method and url are required");
  lua_getfield(L, 2, "credential");
  if (!lua_isnil(L, -1))
    s.api_key = ((lcl_credential *)luaL_checkudata(L, -1, LCL_CREDENTIAL_MT))->key;
  lua_pop(L, 1);
  read_headers(L, 2, lines);
  s.headers = lines;
  lua_getfield(L, 2, "body");
  if (!lua_isnil(L, -1)) s.body = luaL_checklstring(L, -1, &s.body_len);
  lua_pop(L, 1);
  s.connect_timeout = opt_number_field(L, 2, "connect_timeout", 10);
  s.timeout = opt_number_field(L, 2, "timeout", 60);
  lua_getfield(L, 2, "fresh_connect");
  s.fresh_connect = lua_toboolean(L, -1);
  lua_pop(L, 1);
  double max_body = opt_number_field(L, 2, "max_body", 0);
  luaL_argcheck(L, max_body >= 0, 2, "max_body must not be negative");
  s.max_body = (size_t)max_body;
  double hold_body = opt_number_field(L, 2, "hold_body", 0);
  luaL_argcheck(L, hold_body >= 0, 2, "hold_body must not be negative");
  s.hold_body = (size_t)hold_body;
  luaL_argcheck(L, s.connect_timeout > 0 && s.timeout > 0, 2, "timeouts must be positive");

  lcl_request *q = lua_newuserdata(L, sizeof *q);
  memset(q, 0, sizeof *q);
  luaL_setmetatable(L, REQUEST_MT);
  cl_error err;
  cl_error_clear(&err);
  if (!(q->r = cl_transport_start(t->t, &s, &err))) return lcl_push_error(L, &err);
  q->owner = t;
  q->next = t->live;
  if (t->live) t->live->prev = q;
  t->live = q;
  return 1;
}

/// transport:step(timeout_seconds) -> running, trace | nil, err
static int lcl_transport_step(lua_State *L) {
  lcl_transport *t = check_transport(L, 1);
  double timeout = luaL_optnumber(L, 2, 0);
  cl_error err;
  cl_error_clear(&err);
  int running = cl_transport_step(t->t, timeout > 0 ? (int)(timeout * 1000 + 0.5) : 0, &err);
  if (running < 0) return lcl_push_error(L, &err);
  lua_pushinteger(L, running);
  size_t len;
  const char *trace = cl_transport_trace(t->t, &len);
  if (len)
    lua_pushlstring(L, trace, len);
  else
    lua_pushnil(L);
  return 2;
}

static int lcl_request_finished(lua_State *L) {
  lua_pushboolean(L, cl_request_finished(check_request(L, 1)->r));
  return 1;
}

/* The final response's header fields as a table of lowercased names (repeats joined by ", "). */
static void push_headers(lua_State *L, const cl_request *r) {
  struct curl_header *at = NULL;
  const char *name, *value;
  size_t len;
  lua_createtable(L, 0, 8);
  int t = lua_gettop(L);
  while (cl_request_header_next(r, &at, &name, &value, &len)) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *c = name; *c; c++) luaL_addchar(&b, (char)tolower((unsigned char)*c));
    luaL_pushresult(&b);
    lua_pushvalue(L, -1);
    lua_rawget(L, t);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushlstring(L, value, len);
    } else {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, value, len);
      lua_concat(L, 3);
    }
    lua_rawset(L, t);
  }
}

/// request:result() -> {status=, body=, headers={...}, reused=} | nil, err
static int lcl_request_result(lua_State *L) {
  lcl_request *q = check_request(L, 1);
  luaL_argcheck(L, cl_request_finished(q->r), 1, "request has not finished");
  long status;
  cl_error err;
  cl_error_clear(&err);
  if (cl_request_result(q->r, &status, &err)) return lcl_push_error(L, &err);
  size_t len;
  const char *body = cl_request_body(q->r, &len);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, body, len);
  lua_setfield(L, -2, "body");
  push_headers(L, q->r);
  lua_setfield(L, -2, "headers");
  lua_pushboolean(L, cl_request_reused(q->r));
  lua_setfield(L, -2, "reused");
  return 1;
}

/// request:drain() -> the body received so far (forgotten by the request)
static int lcl_request_drain(lua_State *L) {
  lcl_request *q = check_request(L, 1);
  size_t len;
  const char *body = cl_request_body(q->r, &len);
  lua_pushlstring(L, body, len);
  cl_request_body_clear(q->r);
  return 1;
}

/// request:status() -> the HTTP status of the response being received (0 until known), and the
/// number of body bytes received and not yet drained.
static int lcl_request_status(lua_State *L) {
  lcl_request *q = check_request(L, 1);
  size_t len;
  cl_request_body(q->r, &len);
  lua_pushinteger(L, cl_request_status_now(q->r));
  lua_pushinteger(L, (lua_Integer)len);
  return 2;
}

static int lcl_request_close(lua_State *L) {
  lcl_request *q = luaL_checkudata(L, 1, REQUEST_MT);
  request_close(q);
  return 0;
}

int luaopen_cleanlist_curl(lua_State *L) {
  static const luaL_Reg transport_methods[] = {{"start", lcl_transport_start},
                                               {"step", lcl_transport_step},
                                               {"close", lcl_transport_close},
                                               {NULL, NULL}};
  static const luaL_Reg request_methods[] = {
      {"finished", lcl_request_finished}, {"result", lcl_request_result},
      {"drain", lcl_request_drain},       {"status", lcl_request_status},
      {"close", lcl_request_close},       {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"transport", lcl_transport_new}, {NULL, NULL}};

  static const luaL_Reg transport_meta[] = {{"__gc", lcl_transport_close}, {NULL, NULL}};
  static const luaL_Reg request_meta[] = {{"__gc", lcl_request_close}, {NULL, NULL}};
  lcl_new_class(L, TRANSPORT_MT, transport_methods, transport_meta);
  lcl_new_class(L, REQUEST_MT, request_methods, request_meta);

  luaL_newlib(L, funcs);
  return 1;
}
