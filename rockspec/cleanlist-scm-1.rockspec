rockspec_format = "3.0"
package = "cleanlist"
version = "scm-1"
source = {
  url = "git+https://github.com/cleanlist-ai/cleanlist-lua.git",
}
description = {
  summary = "Lua SDK for the Cleanlist B2B enrichment API (libcurl core, retries, rate limiting)",
  detailed = [[
    Search people and companies, manage lead lists, run waterfall enrichment with quotes,
    poll workflows and export, from Lua 5.1-5.4 and LuaJIT. A C core on libcurl handles
    authentication, the API's error contract, client-side rate limiting and retries.
  ]],
  license = "MIT",
  labels = { "api", "sdk", "http", "libcurl" },
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson >= 2.1",
}
-- libcurl (libcurl4-openssl-dev on Debian) is found by CMake through pkg-config.
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    INSTALL_LMOD = "$(LUADIR)",
    INSTALL_CMOD = "$(LIBDIR)",
    BUILD_HOST = "OFF",
    BUILD_TESTING = "OFF",
  },
}
