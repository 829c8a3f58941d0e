-- One style for the tree (make lint), and units small enough to read: no Lua file over 400
-- lines but the data tables, and no Lua function over 80 lines.
local run = require "spec.helpers.run"

local TREES = { "lua", "recipes", "sandbox/lua", "bench" }
local MAX_FILE_LINES = 400
local MAX_FUNCTION_LINES = 80
-- Files that hold data tables only (they may be longer, and may define no function).
local DATA_FILES = { ["sandbox/lua/sandbox/world_data.lua"] = true }

local function lua_files()
  local out = run.sh("find " .. table.concat(TREES, " ") .. " -name '*.lua' | sort")
  assert(out.code == 0, out.stderr)
  local files = {}
  for f in out.stdout:gmatch "[^\n]+" do
    files[#files + 1] = f
  end
  return files
end

local function line_count(path)
  local n = 0
  for _ in assert(run.read_file(path)):gmatch "[^\n]*\n" do
    n = n + 1
  end
  return n
end

--- The functions of `path` longer than `limit` lines, as "file:first (N lines)", from the
-- line ranges luac prints for each function it compiles (nested ones count on their own).
local function long_functions(path, limit)
  local out = run.sh("luac5.4 -p -l " .. run.quote(path))
  assert(out.code == 0, path .. ": " .. out.stderr)
  local found = {}
  for first, last in out.stdout:gmatch "\nfunction <[^>]-:(%d+),(%d+)>" do
    local n = tonumber(last) - tonumber(first) + 1
    if n > limit then found[#found + 1] = ("%s:%s (%d lines)"):format(path, first, n) end
  end
  return found
end

describe("style", function()
  if not run.main_pass() then return end

  it("passes make lint: luacheck, StyLua and clang-format", function()
    local r = run.sh("make --no-print-directory lint 2>&1", 300)
    assert.equal(0, r.code, r.stdout)
    assert.truthy(r.stdout:find("lint: clean", 1, true), r.stdout)
  end)

  it("keeps every Lua file but the data tables within " .. MAX_FILE_LINES .. " lines", function()
    local long = {}
    for _, f in ipairs(lua_files()) do
      local n = line_count(f)
      if n > MAX_FILE_LINES and not DATA_FILES[f] then long[#long + 1] = ("%s (%d lines)"):format(f, n) end
    end
    assert.same({}, long)
  end)

  it("keeps data files free of functions", function()
    for f in pairs(DATA_FILES) do
      assert.is_nil(assert(run.read_file(f)):find "%f[%w_]function%f[^%w_]", f .. " defines a function")
    end
  end)

  it("keeps every Lua function within " .. MAX_FUNCTION_LINES .. " lines", function()
    local long = {}
    for _, f in ipairs(lua_files()) do
      for _, l in ipairs(long_functions(f, MAX_FUNCTION_LINES)) do
        long[#long + 1] = l
      end
    end
    assert.same({}, long)
  end)

  it("measures functions as luac sees them (a long function is found)", function()
    local path = os.tmpname()
    local body = { "local function f()" }
    for i = 1, MAX_FUNCTION_LINES do
      body[#body + 1] = ("  local x%d = %d"):format(i, i)
    end
    body[#body + 1] = "end"
    body[#body + 1] = "return f"
    run.write_file(path, table.concat(body, "\n") .. "\n")
    local found = long_functions(path, MAX_FUNCTION_LINES)
    os.remove(path)
    assert.same({ ("%s:1 (%d lines)"):format(path, MAX_FUNCTION_LINES + 2) }, found)
  end)
end)
