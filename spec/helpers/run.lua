--- Shell and file basics for the specs (spec.helpers.sandbox builds on them), and spawning the
-- cleanlist executable for the host specs: exit status, stdout and stderr, with a time limit.
local poll = require "spec.helpers.poll"

local M = {}

--- Single-quotes s for /bin/sh.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The contents of a file, or nil when it cannot be opened.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Writes (replaces) a file; raises when it cannot be opened.
function M.write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

--- Runs a shell command line with os.execute; true when it exited 0 (os.execute returns
-- true/nil on Lua 5.2+ and a status number on LuaJIT/5.1).
function M.execute(cmdline)
  local r = os.execute(cmdline)
  return r == true or r == 0
end

--- Runs a shell command line as it is and returns its stdout and its exit status.
function M.capture(cmdline)
  local p = assert(io.popen(cmdline .. '; echo "__rc=$?"'))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return (out:gsub("__rc=%d+%s*$", "")), rc
end

--- A free TCP port on 127.0.0.1 (asked of the kernel).
function M.free_port()
  local out = M.capture(
    "python3 -c 'import socket; s = socket.socket(); " .. 's.bind(("127.0.0.1", 0)); print(s.getsockname()[1])\''
  )
  return assert(tonumber(out), "no free port")
end

--- Starts a helper server (a command line that prints "PORT <n>" once it listens) in the
-- background. Returns a handle {pid, port, out} whose :stop() kills it; raises if it does not
-- start within 10 s.
function M.server(cmdline)
  local out = os.tmpname()
  local pid = tonumber((M.capture(cmdline .. " >" .. M.quote(out) .. " 2>&1 & echo $!")))
  local started, port = pcall(poll.wait_until, function()
    return (M.read_file(out) or ""):match("PORT (%d+)")
  end, 10, "the line PORT <n>")
  if not started then port = nil end
  local handle = { pid = pid, port = tonumber(port), out = out }
  function handle.stop()
    if pid then M.execute("kill " .. pid .. " 2>/dev/null") end
    os.remove(out)
  end
  if not port then
    local said = M.read_file(out)
    handle.stop()
    error("the server did not start (" .. cmdline .. "): " .. tostring(said), 2)
  end
  return handle
end

--- A new private directory holding a throw-away self-signed certificate for 127.0.0.1
-- (cert.pem, key.pem; valid for the address and for the name "127.0.0.1"). Returns its path.
function M.certificate_dir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(M.execute("mkdir -p " .. M.quote(dir)))
  assert(
    M.execute(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
        .. " -addext 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1' -keyout "
        .. M.quote(dir .. "/key.pem")
        .. " -out "
        .. M.quote(dir .. "/cert.pem")
        .. " >/dev/null 2>&1"
    ),
    "openssl could not make a certificate"
  )
  return dir
end

--- The cleanlist executable under test: $CLEANLIST_BIN, else the Lua 5.4 build (from the repo
-- root).
function M.bin()
  local bin = os.getenv("CLEANLIST_BIN")
  if bin and bin ~= "" then return bin end
  return "build/lua5.4/cleanlist"
end

--- True in the pass of spec/run that checks what runs once (installs, packages): Lua 5.4's
-- own build, not LuaJIT, the sanitizer build or the engines that run a part of the specs.
function M.main_pass()
  local pass = os.getenv("CLEANLIST_PASS")
  return pass == nil or pass == "" or pass == "lua5.4"
end

--- A copy of the source tree (the files git knows, committed or not) in a new temporary
-- directory, whose path is returned: builds that write into the tree (luarocks make) run
-- there.
function M.source_copy()
  local dir = os.tmpname()
  os.remove(dir)
  assert(
    M.execute(
      "mkdir -p "
        .. M.quote(dir)
        .. " && git ls-files -co --exclude-standard -z"
        .. " | tar -c --null -T - | tar -x -C "
        .. M.quote(dir)
    ),
    "cannot copy the source tree"
  )
  return dir
end

--- Runs a shell command line (stdin from /dev/null, `seconds` limit: 30 by default).
-- Returns {code = exit status, stdout = ..., stderr = ...}.
function M.sh(cmdline, seconds)
  local errf = os.tmpname()
  local out, code =
    M.capture("timeout " .. (seconds or 30) .. " sh -c " .. M.quote(cmdline) .. " </dev/null 2>" .. errf)
  local err = M.read_file(errf) or ""
  os.remove(errf)
  return { code = code, stdout = out, stderr = err }
end

--- "env -u A B='x' " for a table of environment changes (false: unset), or "" for none.
function M.env_prefix(env)
  local unset, set = {}, {}
  for k, v in pairs(env or {}) do
    if v == false then
      unset[#unset + 1] = "-u " .. k
    else
      set[#set + 1] = k .. "=" .. M.quote(v)
    end
  end
  local parts = unset -- env takes -u before the assignments
  for _, a in ipairs(set) do
    parts[#parts + 1] = a
  end
  return #parts > 0 and ("env " .. table.concat(parts, " ") .. " ") or ""
end

--- Runs the executable with arguments (each quoted), after optional `env` assignments.
function M.host(args, env)
  local prefix = M.env_prefix(env)
  local argv = {}
  for i, a in ipairs(args) do
    argv[i] = M.quote(a)
  end
  return M.sh(prefix .. M.quote(M.bin()) .. " " .. table.concat(argv, " "))
end

--- Writes a temporary Lua script and returns its path.
function M.script(source)
  local path = os.tmpname() .. ".lua"
  M.write_file(path, source)
  return path
end

--- A maker of temporary scripts (as script) and the function that removes every one it made:
--   local script, remove_scripts = run.scripts(); teardown(remove_scripts)
function M.scripts()
  local made = {}
  return function(source)
    local path = M.script(source)
    made[#made + 1] = path
    return path
  end, function()
    for _, path in ipairs(made) do
      os.remove(path)
    end
  end
end

return M
