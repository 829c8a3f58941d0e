rockspec_format = "3.0"
package = "cleanlist"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/cleanlist-ai/cleanlist-lua.git",
  tag = "v0.1.0",
}
description = {
  summary = "Lua SDK and script host for the Cleanlist B2B enrichment API",
  detailed = [[
    Search people and companies, manage lead lists, run waterfall enrichment with quotes,
    poll workflows, sync to CRMs and export, from Lua 5.1-5.4 and LuaJIT (OpenResty). A C
    core on libcurl handles authentication, the API's error contract, client-side rate
    limiting and retries. The rock also installs the `cleanlist` executable, which runs
    scripts and recipes and serves a local sandbox of the whole API.
  ]],
  homepage = "https://github.com/cleanlist-ai/cleanlist-lua",
  issues_url = "https://github.com/cleanlist-ai/cleanlist-lua/issues",
  license = "MIT",
  labels = { "api", "sdk", "http", "libcurl", "openresty" },
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1",
}
-- Debian: apt-get install cmake libcurl4-openssl-dev libmicrohttpd-dev libssl-dev, and the
-- headers of the Lua LuaRocks targets (liblua5.x-dev, or libluajit2-5.1-dev). CMake finds each
-- library with pkg-config first (Debian keeps curl/curl.h under /usr/include/<triplet>), with
-- the directories LuaRocks found as hints.
external_dependencies = {
  CURL = { library = "curl" },
  MICROHTTPD = { header = "microhttpd.h", library = "microhttpd" },
  OPENSSL = { header = "openssl/hmac.h", library = "crypto" },
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    -- the Lua LuaRocks targets: its headers, its library (for the executable) and its
    -- interpreter, which must load every module built before anything is installed
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA_LIBDIR = "$(LUA_LIBDIR)",
    LUA = "$(LUA)",
    INSTALL_LMOD = "$(LUADIR)",
    INSTALL_CMOD = "$(LIBDIR)",
    INSTALL_DATA = "OFF",
    BUILD_TESTING = "OFF",
    CURL_DIR = "$(CURL_DIR)",
    CURL_INCDIR = "$(CURL_INCDIR)",
    CURL_LIBDIR = "$(CURL_LIBDIR)",
    MICROHTTPD_DIR = "$(MICROHTTPD_DIR)",
    MICROHTTPD_INCDIR = "$(MICROHTTPD_INCDIR)",
    MICROHTTPD_LIBDIR = "$(MICROHTTPD_LIBDIR)",
    OPENSSL_DIR = "$(OPENSSL_DIR)",
    OPENSSL_INCDIR = "$(OPENSSL_INCDIR)",
    OPENSSL_LIBDIR = "$(OPENSSL_LIBDIR)",
  },
}
test = {
  type = "busted",
  flags = { "--run=unit" },
}
