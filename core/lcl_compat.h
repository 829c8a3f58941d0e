/* One source for Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1: every difference between their C APIs
 * that the core, the host and the sandbox meet is settled here, and only here. Everything is
 * static inline, so a file that includes this header and uses none of it compiles warning-free
 * under -Werror. */
#ifndef LCL_COMPAT_H
#define LCL_COMPAT_H

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

/* The engine, as `cleanlist --version` names it: "Lua 5.4.4", "LuaJIT 2.1.0-beta3". */
#if defined(LUA_JITLIBNAME)
#include "luajit.h"
#define LCL_ENGINE_NAME LUAJIT_VERSION
#else
#define LCL_ENGINE_NAME LUA_RELEASE
#endif

#if defined(__GNUC__)
#define LCL_EXPORT __attribute__((visibility("default")))
#else
#define LCL_EXPORT
#endif

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen(L, (i))
#endif

/* An integral value (a count, a time in ms) as an integer where the engine has them (5.3+),
 * else as a number: the same value either way. */
static inline void lcl_pushwhole(lua_State *L, double v) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  lua_pushnumber(L, (lua_Number)(long long)v);
#endif
}

/* At index i, a float with an integral value that fits an integer (5.3+: 2.0 but not 2 or
 * 2.5): pushes that integer and returns 1. Engines without integers have nothing to do. */
static inline int lcl_push_integral_float(lua_State *L, int i) {
#if LUA_VERSION_NUM >= 503
  lua_Integer v;
  lua_Number n;
  if (lua_type(L, i) != LUA_TNUMBER || lua_isinteger(L, i)) return 0;
  n = lua_tonumber(L, i);
  if (!lua_numbertointeger(n, &v) || (lua_Number)v != n) return 0; /* range first */
  lua_pushinteger(L, v);
  return 1;
#else
  (void)L, (void)i;
  return 0;
#endif
}

/* Lua 5.4's generational collector where there is one; the others keep the incremental one. */
static inline void lcl_gc_generational(lua_State *L) {
#if LUA_VERSION_NUM >= 504
  lua_gc(L, LUA_GCGEN, 0, 0);
#else
  (void)L;
#endif
}

/* LuaJIT 2.1 already has these 5.2 functions; plain Lua 5.1 does not. */
#if LUA_VERSION_NUM < 502 && !defined(luaL_newlib)
#define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs(L, (l), 0))

static inline void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name; l++) {
    for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

static inline void *luaL_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (!p || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, tname);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

static inline void luaL_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}

/* Pushes msg followed by the stack traceback of L1 from `level`, as debug.traceback does. */
static inline void luaL_traceback(lua_State *L, lua_State *L1, const char *msg, int level) {
  lua_getglobal(L, "debug");
  lua_getfield(L, -1, "traceback");
  lua_remove(L, -2);
  if (L1 != L) lua_pushthread(L1), lua_xmove(L1, L, 1);
  if (msg)
    lua_pushstring(L, msg);
  else
    lua_pushnil(L);
  lua_pushinteger(L, L1 != L ? level : level + 1);
  lua_call(L, L1 != L ? 3 : 2, 1);
}
#endif

/* A class of userdata: metatable `name` with the metamethods `meta` and an __index table of
 * `methods`, locked against getmetatable/setmetatable from Lua. */
static inline void lcl_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                                 const luaL_Reg *meta) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

#endif
