/* The sandbox's Lua bridge: its own lua_State (never shared with a client), the embedded
 * `sandbox` module, and the per-request call `handle(req) -> status, headers, body`.
 * Builds against Lua 5.4 and LuaJIT 2.1 headers alike (5.1 API only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <microhttpd.h>

#include "embed.h"
#include "sb_internal.h"

#define SB_NAME_MAX 128

struct sb_lua {
  lua_State *L;
  int handle_ref;
  int quiet;
  unsigned long failures; /* C-side 500s: their request ids */
};

/* ---- clocks exposed to Lua ----------------------------------------------------------- */

static void sb_push_ms(lua_State *L, clockid_t clock) {
  struct timespec ts;
  double ms;
  clock_gettime(clock, &ts);
  ms = (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)ms);
#else
  lua_pushnumber(L, ms);
#endif
}

static int sb_now_ms(lua_State *L) {
  sb_push_ms(L, CLOCK_REALTIME);
  return 1;
}

static int sb_monotonic_ms(lua_State *L) {
  sb_push_ms(L, CLOCK_MONOTONIC);
  return 1;
}

/* ---- boot ---------------------------------------------------------------------------- */

static void sb_set_string(lua_State *L, const char *name, const char *value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

static void sb_push_config(lua_State *L, const cl_sandbox_opts *opts) {
  lua_createtable(L, 0, 10);
  sb_set_string(L, "api_key", opts->api_key ? opts->api_key : CL_SANDBOX_DEFAULT_KEY);
  sb_set_string(L, "readonly_key", CL_SANDBOX_READONLY_KEY);
  sb_set_string(L, "version", CL_VERSION);
  sb_set_string(L, "base_path", CL_SANDBOX_BASE_PATH);
  lua_pushinteger(L, (lua_Integer)opts->seed);
  lua_setfield(L, -2, "seed");
  lua_pushboolean(L, opts->quiet);
  lua_setfield(L, -2, "quiet");
  lua_pushcfunction(L, sb_now_ms);
  lua_setfield(L, -2, "now_ms");
  lua_pushcfunction(L, sb_monotonic_ms);
  lua_setfield(L, -2, "monotonic_ms");
}

/* Protected: loads the module and leaves app.handle on the stack. */
static int sb_boot(lua_State *L) {
  const cl_sandbox_opts *opts = lua_touserdata(L, 1);
  luaL_openlibs(L);
  cl_embed_preload(L, cl_sandbox_lua, "CLEANLIST_SANDBOX_LUA_DIR");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, sb_open_native);
  lua_setfield(L, -2, "sandbox.native");
  lua_pop(L, 2);
  lua_getglobal(L, "require");
  lua_pushstring(L, "sandbox");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "new");
  if (lua_type(L, -1) != LUA_TFUNCTION)
    return luaL_error(L, "module 'sandbox' has no function new");
  sb_push_config(L, opts);
  lua_call(L, 1, 1);
  if (lua_type(L, -1) != LUA_TTABLE)
    return luaL_error(L, "sandbox.new did not return an app table");
  lua_getfield(L, -1, "handle");
  if (lua_type(L, -1) != LUA_TFUNCTION)
    return luaL_error(L, "sandbox app has no handle function");
  return 1;
}

sb_lua *sb_lua_open(const cl_sandbox_opts *opts, char *err, size_t errlen) {
  sb_lua *sl = calloc(1, sizeof *sl);
  if (sl == NULL || (sl->L = luaL_newstate()) == NULL) {
    snprintf(err, errlen, "cannot create the sandbox's Lua state: out of memory");
    free(sl);
    return NULL;
  }
  sl->quiet = opts->quiet;
  lua_pushcfunction(sl->L, sb_boot);
  lua_pushlightuserdata(sl->L, (void *)opts);
  if (lua_pcall(sl->L, 1, 1, 0) != 0) {
    char msg[512];
    const char *m = lua_tostring(sl->L, -1);
    sb_redact(msg, sizeof msg, m ? m : "(error object is not a string)");
    snprintf(err, errlen, "cannot load the sandbox handlers: %s", msg);
    sb_lua_close(sl);
    return NULL;
  }
  sl->handle_ref = luaL_ref(sl->L, LUA_REGISTRYINDEX);
#if LUA_VERSION_NUM >= 504
  lua_gc(sl->L, LUA_GCGEN, 0, 0);
#endif
  return sl;
}

void sb_lua_close(sb_lua *sl) {
  if (sl == NULL)
    return;
  if (sl->L != NULL)
    lua_close(sl->L);
  free(sl);
}

/* ---- one request --------------------------------------------------------------------- */

static enum MHD_Result sb_push_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
  lua_State *L = cls;
  char name[SB_NAME_MAX];
  size_t i, n = strlen(key);
  (void)kind;
  if (n >= sizeof name)
    return MHD_YES; /* absurdly long names are not passed on */
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

/* Protected: builds the req table and calls handle(req), leaving its three results. */
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
  lua_call(L, 1, 3);
  return 3;
}

/* Copies the handler's headers onto resp; returns 1 when one of them is Content-Type. */
static int sb_add_headers(lua_State *L, int idx, struct MHD_Response *resp) {
  int has_type = 0;
  if (lua_type(L, idx) != LUA_TTABLE)
    return 0;
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

static struct MHD_Response *sb_from_results(lua_State *L, int base, unsigned *status) {
  lua_Number st = lua_tonumber(L, base + 1);
  size_t len = 0;
  const char *body = "";
  struct MHD_Response *resp;
  int bt = lua_type(L, base + 3);
  if (!lua_isnumber(L, base + 1) || st < 100 || st > 999 ||
      (bt != LUA_TSTRING && bt != LUA_TNIL) ||
      (lua_type(L, base + 2) != LUA_TTABLE && !lua_isnil(L, base + 2)))
    return NULL;
  if (bt == LUA_TSTRING)
    body = lua_tolstring(L, base + 3, &len);
  resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (resp == NULL)
    return NULL;
  if (!sb_add_headers(L, base + 2, resp))
    MHD_add_response_header(resp, "Content-Type", "application/json");
  *status = (unsigned)st;
  return resp;
}

static struct MHD_Response *sb_fail(sb_lua *sl, const sb_request *req, const char *why,
                                    unsigned *status) {
  if (!sl->quiet) {
    char line[1024], msg[1024];
    snprintf(line, sizeof line, "%s %s: %s", req->method, req->path, why);
    sb_redact(msg, sizeof msg, line);
    fprintf(stderr, "sandbox: internal error in %s\n", msg);
  }
  *status = 500;
  return sb_error_response("internal_error", "The sandbox failed while handling the request.",
                           "Retry the request; if it keeps failing, read the sandbox's stderr.", 1,
                           ++sl->failures);
}

struct MHD_Response *sb_lua_handle(sb_lua *sl, const sb_request *req, unsigned *status) {
  lua_State *L = sl->L;
  struct MHD_Response *resp;
  lua_settop(L, 0);
  lua_pushcfunction(L, sb_call);
  lua_pushlightuserdata(L, (void *)req);
  lua_pushinteger(L, sl->handle_ref);
  if (lua_pcall(L, 2, 3, 0) != 0) {
    const char *m = lua_tostring(L, -1);
    resp = sb_fail(sl, req, m ? m : "(error object is not a string)", status);
  } else {
    resp = sb_from_results(L, 0, status);
    if (resp == NULL)
      resp = sb_fail(sl, req, "handle(req) did not return status, headers, body", status);
  }
  lua_settop(L, 0);
  return resp;
}

/* ---- C-built responses and redaction ------------------------------------------------- */

struct MHD_Response *sb_error_response(const char *code, const char *problem, const char *fix,
                                       int retryable, unsigned long serial) {
  char body[768], rid[32], slug[64];
  struct MHD_Response *resp;
  size_t i;
  int n;
  for (i = 0; code[i] && i + 1 < sizeof slug; i++)
    slug[i] = code[i] == '_' ? '-' : code[i];
  slug[i] = '\0';
  snprintf(rid, sizeof rid, "req_c0de%012lx", serial & 0xffffffffffffUL);
  n = snprintf(body, sizeof body,
               "{\"error\":{\"code\":\"%s\",\"problem\":\"%s\",\"cause\":null,"
               "\"fix\":\"%s\",\"retryable\":%s,"
               "\"docs_url\":\"https://docs.cleanlist.ai/errors/%s\",\"request_id\":\"%s\"}}",
               code, problem, fix, retryable ? "true" : "false", slug, rid);
  if (n < 0 || (size_t)n >= sizeof body)
    n = (int)strlen(body);
  resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
  if (resp != NULL) {
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "X-Request-Id", rid);
  }
  return resp;
}

static int sb_is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

void sb_redact(char *dst, size_t n, const char *src) {
  static const char mark[] = "clapi_\xe2\x80\xa6"; /* clapi_… */
  size_t o = 0;
  if (n == 0)
    return;
  while (*src && o + 1 < n) {
    if (strncmp(src, "clapi_", 6) == 0) {
      size_t m = sizeof mark - 1;
      if (o + m >= n)
        break;
      memcpy(dst + o, mark, m);
      o += m;
      for (src += 6; sb_is_key_char(*src); src++)
        ;
      continue;
    }
    dst[o++] = *src++;
  }
  dst[o] = '\0';
}
