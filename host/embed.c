/* package.preload entries for the Lua sources compiled into the executable. */
#include "embed.h"

#include <stdlib.h>

#include "lcl_compat.h"

static int embed_load(lua_State *L) {
  const cl_embedded *m = (const cl_embedded *)lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, (const char *)m->data, m->len, m->chunkname) != 0) return lua_error(L);
  lua_pushstring(L, m->name);
  lua_call(L, 1, 1);
  return 1;
}

void cl_embed_preload(lua_State *L, const cl_embedded *mods, const char *env_dir) {
  const char *dir = env_dir ? getenv(env_dir) : NULL;
  lua_getglobal(L, "package");
  if (dir && *dir) {
    /* Development: sources on disk win over the embedded copies. */
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
    return;
  }
  lua_getfield(L, -1, "preload");
  for (const cl_embedded *m = mods; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, embed_load, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 2);
}

static int recipes_table(lua_State *L) {
  const cl_embedded *r = (const cl_embedded *)lua_touserdata(L, lua_upvalueindex(1));
  lua_newtable(L);
  for (; r->name; r++) {
    lua_createtable(L, 0, 2);
    lua_pushlstring(L, (const char *)r->data, r->len);
    lua_setfield(L, -2, "source");
    lua_pushstring(L, r->chunkname);
    lua_setfield(L, -2, "chunkname");
    lua_setfield(L, -2, r->name);
  }
  return 1;
}

void cl_embed_recipes(lua_State *L, const cl_embedded *recipes) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushlightuserdata(L, (void *)recipes);
  lua_pushcclosure(L, recipes_table, 1);
  lua_setfield(L, -2, "cleanlist.builtin_recipes");
  lua_pop(L, 2);
}
