--- cleanlist.recipes: finding and running recipes by name (`cleanlist run NAME`, `cleanlist
-- recipes`). A recipe is a Lua script whose first line reads "-- NAME: what it does". Where
-- they are looked for, first found wins: each directory of $CLEANLIST_RECIPES (separated by
-- ':'), then ./recipes, then the recipes built into the cleanlist executable.
local M = {}

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The contents of a file, or nil when it cannot be read.
---@param path string
---@return string|nil
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end
local read_file = M.read_file

--- The directories searched before the built-in recipes, in order.
---@return string[]
function M.dirs()
  local dirs = {}
  for d in (os.getenv("CLEANLIST_RECIPES") or ""):gmatch("[^:]+") do
    dirs[#dirs + 1] = d
  end
  dirs[#dirs + 1] = "recipes"
  return dirs
end

local function builtin()
  local ok, t = pcall(require, "cleanlist.builtin_recipes")
  return ok and type(t) == "table" and t or {}
end

-- The purpose line of a recipe's source: its first line "-- name: purpose".
local function purpose_of(source)
  local first = source:match("^[^\n]*") or ""
  return first:match("^%-%-%s*[%w_%-]+:%s*(.-)%s*$") or ""
end

--- The recipe called name: { name =, source =, chunkname =, origin = } or nil and a message.
---@param name string
function M.find(name)
  if name:find("/", 1, true) or name:find("%.lua$") then
    local source = read_file(name)
    if not source then return nil, "no recipe file " .. name end
    return { name = name:match("([^/]-)%.?l?u?a?$"), source = source, chunkname = "@" .. name, origin = name }
  end
  if not name:find("^[%w_%-]+$") then return nil, "a recipe name is letters, digits, _ and -" end
  for _, dir in ipairs(M.dirs()) do
    local path = dir .. "/" .. name .. ".lua"
    if file_exists(path) then
      return { name = name, source = read_file(path), chunkname = "@" .. path, origin = path }
    end
  end
  local b = builtin()[name]
  if b then
    return { name = name, source = b.source, chunkname = "@recipes/" .. name .. ".lua", origin = "built in" }
  end
  return nil, ("no recipe named '%s' (see `cleanlist recipes`)"):format(name)
end

--- Every recipe that `find` can reach, sorted by name: { name =, purpose =, origin = }.
function M.list()
  local seen, out = {}, {}
  local function add(name, source, origin)
    if seen[name] then return end
    seen[name] = true
    out[#out + 1] = { name = name, purpose = purpose_of(source), origin = origin }
  end
  for _, dir in ipairs(M.dirs()) do
    local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
    if p then
      for file in p:lines() do
        local name = file:match("^([%w_%-]+)%.lua$")
        if name then add(name, read_file(dir .. "/" .. file) or "", dir .. "/" .. file) end
      end
      p:close()
    end
  end
  for name, b in pairs(builtin()) do
    add(name, b.source, "built in")
  end
  table.sort(out, function(a, b)
    return a.name < b.name
  end)
  return out
end

--- The text of `cleanlist recipes`.
function M.listing()
  local lines = { "recipes (cleanlist run NAME --help for each):" }
  local width = 0
  local all = M.list()
  for _, r in ipairs(all) do
    width = math.max(width, #r.name)
  end
  for _, r in ipairs(all) do
    lines[#lines + 1] = ("  %-" .. width .. "s  %s%s"):format(
      r.name,
      r.purpose,
      r.origin ~= "built in" and "  [" .. r.origin .. "]" or ""
    )
  end
  return table.concat(lines, "\n") .. "\n"
end

--- Runs the recipe called name with the arguments argv; returns its exit status (a recipe
-- returns it from recipe.main; a plain script that returns nothing exits 0).
---@param name string
---@param argv string[]
---@return integer
function M.run(name, argv)
  local r, err = M.find(name)
  if not r then
    io.stderr:write("cleanlist: ", err, "\n")
    return 2
  end
  local chunk, lerr = (rawget(_G, "loadstring") or load)(r.source, r.chunkname) -- 5.1: loadstring
  if not chunk then error(lerr, 0) end
  local a = { [0] = r.name }
  for i, v in ipairs(argv) do
    a[i] = v
  end
  _G.arg = a
  local unpack = rawget(table, "unpack") or rawget(_G, "unpack") -- 5.2+ / 5.1 and LuaJIT
  local status = chunk(unpack(argv))
  if type(status) == "number" then return math.floor(status) end
  return 0
end

return M
