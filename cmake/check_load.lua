-- Loads each C module built into DIR with the interpreter it is for, the way `require` will:
-- a module built against another Lua's headers fails here (undefined symbol) instead of
-- being installed. Usage: <lua> check_load.lua DIR name...
local dir = assert(arg[1], "usage: check_load.lua DIR name...")
package.cpath = dir .. "/../?.so;" .. package.cpath
local failed = 0
for i = 2, #arg do
  local name = arg[i]
  local path = dir .. "/" .. name .. ".so"
  local open, err = package.loadlib(path, "luaopen_cleanlist_" .. name)
  local ok = open ~= nil
  if ok then
    ok, err = pcall(open)
  end
  if not ok then
    io.stderr:write(("%s cannot be loaded by %s: %s\n"):format(path, _VERSION, tostring(err)))
    failed = failed + 1
  end
end
os.exit(failed == 0 and 0 or 1)
