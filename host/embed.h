/* Lua sources compiled into the cleanlist executable (see cmake/embed.cmake). */
#ifndef CL_EMBED_H
#define CL_EMBED_H

#include <stddef.h>

struct lua_State;

typedef struct cl_embedded {
  const char *name; /* module name, e.g. "cleanlist.client" */
  const char *chunkname; /* "@cleanlist/client.lua", shown in tracebacks */
  const unsigned char *data;
  size_t len;
} cl_embedded;

extern const cl_embedded cl_client_lua[]; /* every .lua file under lua/ */
extern const cl_embedded cl_sandbox_lua[]; /* every .lua file under sandbox/lua/ */
extern const cl_embedded cl_recipes_lua[]; /* the recipes: recipes/NAME.lua -> "NAME" */

/// Registers every module of `mods` in package.preload of L. When the environment variable
/// `env_dir` names a directory, files there win over the embedded copies (development).
void cl_embed_preload(struct lua_State *L, const cl_embedded *mods, const char *env_dir);

/// Registers package.preload["cleanlist.builtin_recipes"]: a table NAME -> {source =,
/// chunkname =} of the recipes compiled into the executable.
void cl_embed_recipes(struct lua_State *L, const cl_embedded *recipes);

#endif
