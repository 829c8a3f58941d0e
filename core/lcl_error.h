/* The one shape of a failure the C modules return to Lua: nil and a table {kind=, message=,
 * cause=, sent=} (cl_error as Lua sees it; the client makes a cleanlist.Error of it).
 * Programmer errors (wrong argument types, closed handles) raise instead. */
#ifndef LCL_ERROR_H
#define LCL_ERROR_H

#include "cl_error.h"
#include "lcl_compat.h"

/* Pushes err as a table (a reason given beside a value, as a store's "down now"). */
static inline void lcl_push_error_table(lua_State *L, const cl_error *err) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, cl_kind_name(err->kind));
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, err->cause);
  lua_setfield(L, -2, "cause");
  lua_pushboolean(L, err->sent);
  lua_setfield(L, -2, "sent");
}

/* Pushes nil and err as a table; returns 2, so a function can `return lcl_push_error(L, &err)`. */
static inline int lcl_push_error(lua_State *L, const cl_error *err) {
  lua_pushnil(L);
  lcl_push_error_table(L, err);
  return 2;
}

#endif
