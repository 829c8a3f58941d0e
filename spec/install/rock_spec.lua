-- The rock, installed the way the README says, for Lua 5.1, Lua 5.4 and LuaJIT: each into a
-- temporary tree with Debian's luarocks and no registry (--deps-mode=none: lua-cjson is
-- Debian's), then loaded by that plain interpreter, which talks to a sandbox with it; and the
-- `cleanlist` executable the rock installs runs a recipe. Headers of another Lua are refused
-- and nothing is installed.
local run = require "spec.helpers.run"
local sandbox = require "spec.helpers.sandbox"

local q = run.quote

-- One call through the installed module, from the plain interpreter.
local PROBE = [[
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"
local client = assert(cleanlist.new { api_key = arg[1], base_url = arg[2], rate_limit = false })
local me = assert(client:whoami())
print(cleanlist.VERSION, me.organization_id, _VERSION, rawget(_G, "jit") and "jit" or "plain")
-- where the C module came from (package.searchpath is 5.2+)
local found = "?"
for pattern in package.cpath:gmatch("[^;]+") do
  local path = pattern:gsub("%?", "cleanlist/core")
  local f = io.open(path, "rb")
  if f then f:close(); found = path; break end
end
print(found, core ~= nil)
]]

-- The README's LuaRocks commands (its Install section), each run as written but for a
-- temporary --tree.
local function readme_commands()
  local text = assert(run.read_file("README.md"))
  local section = assert(text:match("\n## Install\n(.-)\n## "), "the README has no Install section")
  local out = {}
  for block in section:gmatch("\n```sh\n(.-)\n```") do
    for line in block:gmatch("[^\n]+") do
      if line:find("^luarocks ") then
        local abi = line:match("%-%-lua%-version (%d%.%d)")
        local jit = line:find("LUA=/usr/bin/luajit", 1, true) ~= nil
        out[#out + 1] = {
          line = line,
          abi = abi,
          kind = jit and "jit" or "plain",
          lua = jit and "luajit" or ("lua" .. abi),
          name = jit and "LuaJIT" or ("Lua " .. abi),
        }
      end
    end
  end
  return out
end

local ENGINES = readme_commands()

local function version_of_rockspec(path)
  return assert(run.read_file(path)):match('\nversion = "([^"]+)"')
end

describe("the rock", function()
  if not run.main_pass() then
    it("is checked once, in the Lua 5.4 pass", function()
      pending("the rock builds for the engines below from the Lua 5.4 pass")
    end)
    return
  end

  local src, sb
  local script, remove_scripts = run.scripts()
  setup(function()
    src = run.source_copy()
    sb = sandbox.start()
  end)
  teardown(function()
    if sb then sb:stop() end
    if src then os.execute("rm -rf " .. q(src)) end
    remove_scripts()
  end)

  -- a luarocks command line run in the source copy, into `tree`
  local function luarocks(line, tree)
    return run.sh(
      "cd "
        .. q(src)
        .. " && rm -rf build.luarocks && "
        .. line:gsub("^luarocks ", "luarocks --tree " .. q(tree):gsub("%%", "%%%%") .. " "),
      300
    )
  end

  it("is installed by the README for Lua 5.4, Lua 5.1 and LuaJIT", function()
    local names = {}
    for i, e in ipairs(ENGINES) do
      names[i] = e.name
    end
    assert.same({ "Lua 5.4", "Lua 5.1", "LuaJIT" }, names)
  end)

  for _, e in ipairs(ENGINES) do
    it(
      "installs for "
        .. e.name
        .. ": the plain interpreter loads it and calls the API; "
        .. "the executable runs a recipe",
      function()
        local tree = os.tmpname()
        os.remove(tree)
        finally(function()
          os.execute("rm -rf " .. q(tree))
        end)
        local r = luarocks(e.line, tree)
        assert.equals(0, r.code, r.stdout .. r.stderr)
        assert.matches("cleanlist scm%-1 is now installed", r.stdout)
        local env = "LUA_PATH="
          .. q(tree .. "/share/lua/" .. e.abi .. "/?.lua;" .. tree .. "/share/lua/" .. e.abi .. "/?/init.lua;;")
          .. " LUA_CPATH="
          .. q(tree .. "/lib/lua/" .. e.abi .. "/?.so;;")
        local p = run.sh(
          "cd / && " .. env .. " " .. e.lua .. " " .. q(script(PROBE)) .. " " .. q(sandbox.KEY) .. " " .. q(sb.base_url)
        )
        assert.equals(0, p.code, p.stderr)
        local version, org, lua_version, kind, core_path =
          p.stdout:match("^(%S+)\t(%S+)\tLua (%S+)\t(%a+)\n(%S+)\ttrue\n$")
        assert.equals(version_of_rockspec(src .. "/rockspec/cleanlist-0.1.0-1.rockspec"):match("^[^-]+"), version)
        assert.equals("org_2sbxSandboxLabs", org)
        assert.equals(e.abi, lua_version)
        assert.equals(e.kind, kind)
        assert.equals(tree .. "/lib/lua/" .. e.abi .. "/cleanlist/core.so", core_path)
        -- the executable, as a rock binary, on the sandbox it starts itself
        local h = run.sh(q(tree .. "/bin/cleanlist") .. " --sandbox run whoami --json")
        assert.equals(0, h.code, h.stderr)
        assert.matches('"organization_id":"org_2sbxSandboxLabs"', h.stdout, 1, true)
        assert.matches('"credits":5000', h.stdout, 1, true)
        local v = run.sh(q(tree .. "/bin/cleanlist") .. " --version")
        assert.matches("%(" .. (e.kind == "jit" and "LuaJIT" or "Lua " .. e.abi:gsub("%.", "%%.")), v.stdout)
      end
    )
  end

  it("refuses LuaJIT's headers for the plain Lua 5.1 interpreter, and installs nothing", function()
    local tree = os.tmpname()
    os.remove(tree)
    finally(function()
      os.execute("rm -rf " .. q(tree))
    end)
    local r = luarocks(
      "luarocks --lua-version 5.1 make --deps-mode=none rockspec/cleanlist-scm-1.rockspec"
        .. " LUA_INCDIR=/usr/include/luajit-2.1",
      tree
    )
    assert.is_not.equals(0, r.code)
    assert.matches("the headers are LuaJIT's", r.stdout .. r.stderr, 1, true)
    assert.matches("would not load", r.stdout .. r.stderr, 1, true)
    assert.is_nil(run.read_file(tree .. "/lib/lua/5.1/cleanlist/core.so"))
    assert.is_nil(run.read_file(tree .. "/bin/cleanlist"))
  end)

  it("load-checks each module with its interpreter: one built for another Lua fails the check", function()
    local ok = run.sh("lua5.4 cmake/check_load.lua build/lua5.4/lib/cleanlist core curl")
    assert.equals(0, ok.code, ok.stderr)
    local bad = run.sh("lua5.1 cmake/check_load.lua build/lua5.4/lib/cleanlist core curl")
    assert.equals(1, bad.code)
    assert.matches("build/lua5.4/lib/cleanlist/core.so cannot be loaded by Lua 5.1: .*undefined symbol", bad.stderr)
    assert.matches("curl.so cannot be loaded by Lua 5.1", bad.stderr, 1, true)
    -- and the build runs it: its target is part of every build
    local cache = assert(run.read_file("build/lua5.4/CMakeCache.txt"))
    assert.matches("\nLUA:FILEPATH=\n", cache, 1, true) -- found from the engine, not given
    local made = run.sh("cmake --build build/lua5.4 --target load_check 2>&1")
    assert.equals(0, made.code, made.stdout)
    assert.matches("Loading the modules with /usr/bin/lua5.4", made.stdout, 1, true)
  end)

  it("has a release rockspec that differs from scm-1 only in its version and tag", function()
    local scm = assert(run.read_file("rockspec/cleanlist-scm-1.rockspec"))
    local release = assert(run.read_file("rockspec/cleanlist-0.1.0-1.rockspec"))
    assert.equals("0.1.0-1", version_of_rockspec("rockspec/cleanlist-0.1.0-1.rockspec"))
    local cmake = assert(run.read_file("CMakeLists.txt"))
    assert.equals(cmake:match("project%(cleanlist VERSION (%S+)"), ("0.1.0-1"):match("^[^-]+"))
    local stripped = release:gsub('\nversion = "0%.1%.0%-1"', '\nversion = "scm-1"'):gsub('\n  tag = "v0%.1%.0",', "")
    assert.equals(scm, stripped)
  end)
end)
