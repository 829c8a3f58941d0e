--- Spawns commands for the host specs: exit status, stdout and stderr, with a time limit.
local M = {}

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The cleanlist executable under test (CLEANLIST_BIN, else the Lua 5.4 build).
function M.bin()
  return os.getenv("CLEANLIST_BIN") or "build/lua5.4/cleanlist"
end

--- Runs a shell command line (stdin from /dev/null, 30 s limit).
-- Returns {code = exit status, stdout = ..., stderr = ...}.
function M.sh(cmdline)
  local errf = os.tmpname()
  local p = io.popen("timeout 30 sh -c " .. M.quote(cmdline) .. " </dev/null 2>" .. errf
    .. "; echo \"__EXIT:$?\"")
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("__EXIT:(%d+)%s*$"))
  out = out:gsub("__EXIT:%d+%s*$", "")
  local err = read_file(errf)
  os.remove(errf)
  return { code = code, stdout = out, stderr = err }
end

--- Runs the executable with arguments (each quoted), after optional `env` assignments.
function M.host(args, env)
  local parts = {}
  for k, v in pairs(env or {}) do
    parts[#parts + 1] = v == false and ("-u " .. k) or (k .. "=" .. M.quote(v))
  end
  local prefix = #parts > 0 and ("env " .. table.concat(parts, " ") .. " ") or ""
  local argv = {}
  for i, a in ipairs(args) do argv[i] = M.quote(a) end
  return M.sh(prefix .. M.quote(M.bin()) .. " " .. table.concat(argv, " "))
end

--- Writes a temporary Lua script and returns its path.
function M.script(source)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  return path
end

return M
