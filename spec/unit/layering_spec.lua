-- The layering rules of DESIGN.md that the build cannot enforce by itself.
local run = require "spec.helpers.run"

local function read(path)
  return assert(run.read_file(path), "cannot read " .. path)
end

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do
    out[#out + 1] = l
  end
  p:close()
  return out
end

local POLICY =
  { "cl_error", "cl_auth", "cl_url", "cl_retry", "cl_ratelimit", "cl_shared", "cl_redis_proto", "cl_clock" }
local C_FILES = "core/*.c core/*.h host/*.c host/*.h sandbox/*.c sandbox/*.h"
local ENGINE = os.getenv("CLEANLIST_ENGINE") or "lua5.4"

describe("layering", function()
  it("keeps lua.h, curl.h and hiredis.h out of the core policy files", function()
    for _, name in ipairs(POLICY) do
      for _, ext in ipairs { ".c", ".h" } do
        local src = read("core/" .. name .. ext)
        assert.is_nil(src:find('#include%s*[<"]lua'), name .. ext .. " includes a Lua header")
        assert.is_nil(src:find('#include%s*[<"]curl'), name .. ext .. " includes curl.h")
        assert.is_nil(src:find('#include%s*[<"]hiredis'), name .. ext .. " includes hiredis.h")
      end
    end
  end)

  it("includes hiredis.h in exactly one file (the Redis store), and no Lua header there", function()
    local files = lines_of("grep -rl '#include <hiredis/' core host sandbox")
    assert.same({ "core/cl_redis.c" }, files)
    assert.is_nil(read("core/cl_redis.c"):find('#include%s*[<"]lua'))
    assert.is_nil(read("core/cl_redis.h"):find('#include%s*[<"]hiredis'), "the header leaks hiredis")
  end)

  it("includes curl.h in exactly one file of the client core, and none of the host", function()
    local files = lines_of("grep -l '#include <curl/' core/*.c core/*.h host/*.c host/*.h")
    assert.same({ "core/cl_curl.c" }, files)
  end)

  it(
    "runs libcurl in two files only, the client's transport and the sandbox's webhook worker, "
      .. "neither of which sees Lua (no Lua inside a libcurl callback)",
    function()
      local files =
        lines_of("grep -l '#include <curl/' core/*.c core/*.h host/*.c host/*.h " .. "sandbox/*.c sandbox/*.h")
      assert.same({ "core/cl_curl.c", "sandbox/sb_webhook.c" }, files)
      for _, f in ipairs(files) do
        local src = read(f)
        assert.is_nil(src:find('#include%s*[<"]l[ua]'), f .. " includes a Lua header")
        assert.is_nil(src:find("lua_State", 1, true), f .. " handles a lua_State")
        assert.is_nil(src:find("%f[%w_]lua_[%w_]+%("), f .. " calls the Lua API")
      end
    end
  )

  it("exports only luaopen_* from the C modules, which are not linked to liblua", function()
    for _, m in ipairs { "core", "curl", "redis" } do
      local so = "build/" .. ENGINE .. "/lib/cleanlist/" .. m .. ".so"
      if m == "redis" and not run.read_file(so) then break end -- built without libhiredis
      local syms = lines_of("nm -D --defined-only " .. so .. " | awk '{print $3}'")
      assert.same({ "luaopen_cleanlist_" .. m }, syms)
      local libs = table.concat(lines_of("ldd " .. so), "\n")
      assert.is_nil(libs:find("liblua"), so .. " links liblua")
      assert.is_nil(libs:find("libluajit"), so .. " links libluajit")
    end
  end)

  it("settles the differences between the engines' C APIs in core/lcl_compat.h alone", function()
    local files = lines_of(
      "grep -lE 'LUA_VERSION_NUM|LUA_JITLIBNAME|LUAJIT_VERSION|luajit\\.h|lua_objlen' "
        .. "core/*.c core/*.h host/*.c host/*.h sandbox/*.c sandbox/*.h"
    )
    assert.same({ "core/lcl_compat.h" }, files)
    -- and every file that speaks to Lua goes through it
    for _, f in ipairs(lines_of("grep -lE '#include [<\"](lua|lauxlib)\\.h' core/*.c host/*.c sandbox/*.c || true")) do
      error(f .. " includes lua.h or lauxlib.h itself: include lcl_compat.h")
    end
  end)

  it("reads the clocks in one file, core/cl_clock.c", function()
    assert.same({ "core/cl_clock.c" }, lines_of("grep -lE 'clock_gettime|gettimeofday' " .. C_FILES))
  end)

  it("defines the loopback rule once, in core/cl_url.c, for the client and the sandbox", function()
    assert.same({ "core/cl_url.c" }, lines_of("grep -lE 'IN6_IS_ADDR_LOOPBACK|is_dotted_127' " .. C_FILES))
    assert.same(
      { "core/cl_url.c", "core/cl_url.h" },
      lines_of("grep -lE '^int [a-z_]*loopback[a-z_]*\\(const char' " .. C_FILES)
    )
    for _, f in ipairs { "sandbox/sb_main.c", "sandbox/sb_server.c", "sandbox/sb_webhook.c", "sandbox/sb_native.c" } do
      assert.matches('#include "cl_url.h"', read(f), 1, true)
    end
    -- the sandbox's Lua asks sandbox.native (cl_host_is_loopback) and compares no host itself
    assert.same({}, lines_of("grep -rlE '== *\"(localhost|::1|127)\"' sandbox/lua || true"))
    assert.matches('native%.?"?%)?%.is_loopback', read("sandbox/lua/sandbox/webhooks.lua"))
  end)

  it("redacts keys and credentials in core/cl_auth.c alone, and knows a key's shape there", function()
    -- the mark of a hidden secret, the key characters and the prefix scans live in the core
    assert.same({ "core/cl_auth.h" }, lines_of("grep -l 'xe2.x80.xa6' " .. C_FILES))
    assert.same({ "core/cl_auth.c" }, lines_of("grep -lF \"c == '-'\" " .. C_FILES))
    assert.same({}, lines_of("grep -lE 'str(n?cmp|str)\\([^)]*\"clapi_\"' " .. C_FILES .. " || true"))
    for _, f in ipairs { "sandbox/sb_lua.c", "sandbox/sb_main.c", "sandbox/sb_native.c" } do
      assert.matches('#include "cl_auth.h"', read(f), 1, true)
    end
    -- the sandbox's Lua scrubs and redacts through sandbox.native (cl_redact_text,
    -- cl_redact_credential): no key pattern and no mark of its own
    assert.same({}, lines_of("grep -rlE 'clapi_\\[%w|226.128.166' sandbox/lua || true"))
  end)

  it("defines the built-in keys once (sandbox/sandbox.h) and the version once (CMake)", function()
    -- built from pieces, so that this file does not hold them either
    for _, key in ipairs {
      "clapi_sandbox_full_access_" .. ("0"):rep(16),
      "clapi_sandbox_read_only_" .. ("0"):rep(17),
    } do
      assert.same({ "sandbox/sandbox.h" }, lines_of("grep -rlF " .. key .. " core host sandbox lua recipes spec bench"))
    end
    local version = "'\"[0-9]+\\.[0-9]+\\.[0-9]+\"'"
    assert.same({}, lines_of("grep -lE " .. version .. " " .. C_FILES .. " || true"))
    assert.same({}, lines_of("grep -rnE " .. version .. " sandbox/lua | grep -vE ':[0-9]+: *--' || true"))
    assert.matches("project%(cleanlist VERSION %d+%.%d+%.%d+", read("CMakeLists.txt"))
  end)

  it("drives the sandbox's background work from one timer, not by HTTP requests to itself", function()
    -- the timer thread of sb_faults.c runs app:tick() when the app asks (sb_timer_tick_in)
    assert.same(
      { "sandbox/sb_faults.c", "sandbox/sb_internal.h" },
      lines_of("grep -lE '^void sb_timer_tick_in' sandbox/*.c sandbox/*.h")
    )
    for _, f in ipairs { "sandbox/sb_webhook.c", "sandbox/sb_webhook_lua.c" } do
      assert.is_nil(read(f):find("__sandbox/tick", 1, true), f .. " requests the sandbox's tick")
    end
    assert.same({}, lines_of("grep -rlE 'worker\\.ticks' sandbox/lua || true"))
  end)

  it("keeps the sandbox's C files free of call cycles", function()
    local dir = "build/" .. ENGINE .. "/CMakeFiles/cleanlist.dir/sandbox/"
    local files, owner = {}, {}
    for _, o in ipairs(lines_of("cd " .. dir .. " && ls *.c.o")) do
      local name = o:gsub("%.o$", "")
      files[#files + 1] = name
      for _, sym in ipairs(lines_of("nm --defined-only " .. dir .. o .. " | awk '$2 ~ /[TDBR]/ {print $3}'")) do
        owner[sym] = name
      end
    end
    assert.is_true(#files >= 5, "no sandbox objects in " .. dir)
    local calls = {}
    for _, name in ipairs(files) do
      calls[name] = {}
      for _, sym in ipairs(lines_of("nm --undefined-only " .. dir .. name .. ".o | awk '{print $2}'")) do
        if owner[sym] and owner[sym] ~= name then calls[name][owner[sym]] = true end
      end
    end
    local state = {}
    local function visit(name, path)
      if state[name] == "done" then return end
      assert.is_nil(state[name], "call cycle: " .. table.concat(path, " -> ") .. " -> " .. name)
      state[name] = "open"
      path[#path + 1] = name
      for callee in pairs(calls[name]) do
        visit(callee, path)
      end
      path[#path] = nil
      state[name] = "done"
    end
    for _, name in ipairs(files) do
      visit(name, {})
    end
  end)

  it("keeps the sandbox's Lua apart from the client's", function()
    local files = lines_of("grep -rl 'require *[(\"]*cleanlist' sandbox/lua || true")
    assert.same({}, files)
  end)
end)
