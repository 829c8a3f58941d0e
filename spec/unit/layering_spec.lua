-- The layering rules of DESIGN.md that the build cannot enforce by itself.
local run = require "spec.helpers.run"

local function read(path)
  return assert(run.read_file(path), "cannot read " .. path)
end

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

local POLICY = { "cl_error", "cl_auth", "cl_url", "cl_retry", "cl_ratelimit", "cl_shared",
  "cl_redis_proto" }
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

  it("runs libcurl in two files only, the client's transport and the sandbox's webhook worker, "
    .. "neither of which sees Lua (no Lua inside a libcurl callback)", function()
    local files = lines_of("grep -l '#include <curl/' core/*.c core/*.h host/*.c host/*.h "
      .. "sandbox/*.c sandbox/*.h")
    assert.same({ "core/cl_curl.c", "sandbox/sb_webhook.c" }, files)
    for _, f in ipairs(files) do
      local src = read(f)
      assert.is_nil(src:find('#include%s*[<"]l[ua]'), f .. " includes a Lua header")
      assert.is_nil(src:find("lua_State", 1, true), f .. " handles a lua_State")
      assert.is_nil(src:find("%f[%w_]lua_[%w_]+%("), f .. " calls the Lua API")
    end
  end)

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
    local files = lines_of("grep -lE 'LUA_VERSION_NUM|LUA_JITLIBNAME|LUAJIT_VERSION|luajit\\.h|lua_objlen' "
      .. "core/*.c core/*.h host/*.c host/*.h sandbox/*.c sandbox/*.h")
    assert.same({ "core/lcl_compat.h" }, files)
    -- and every file that speaks to Lua goes through it
    for _, f in ipairs(lines_of("grep -lE '#include [<\"](lua|lauxlib)\\.h' core/*.c host/*.c sandbox/*.c || true")) do
      error(f .. " includes lua.h or lauxlib.h itself: include lcl_compat.h")
    end
  end)

  it("keeps the sandbox's Lua apart from the client's", function()
    local files = lines_of("grep -rl 'require *[(\"]*cleanlist' sandbox/lua || true")
    assert.same({}, files)
  end)
end)
