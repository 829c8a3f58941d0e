/* package.preload entries for the Lua sources compiled into the executable. */
#include "embed.h"

#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"

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
