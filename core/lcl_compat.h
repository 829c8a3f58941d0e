/* One source for Lua 5.1 (LuaJIT) through 5.4: the few 5.2+ API pieces we use. */
#ifndef LCL_COMPAT_H
#define LCL_COMPAT_H

#include "lauxlib.h"
#include "lua.h"

#if defined(__GNUC__)
#define LCL_EXPORT __attribute__((visibility("default")))
#else
#define LCL_EXPORT
#endif

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen(L, (i))
#endif

/* LuaJIT 2.1 already has these 5.2 functions; plain Lua 5.1 does not. */
#if LUA_VERSION_NUM < 502 && !defined(luaL_newlib)
#define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs(L, (l), 0))

static void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name; l++) {
    for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

static void *luaL_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (!p || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, tname);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

static void luaL_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
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
