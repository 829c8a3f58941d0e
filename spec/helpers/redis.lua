--- A real redis-server on loopback for the specs: a free port, no persistence, its own
-- directory; stopped by the spec (and by itself when the spec process dies: it is started
-- under `timeout`).
--
--   local redis = require "spec.helpers.redis"
--   local why = redis.missing()          --> nil, or why the Redis specs cannot run here
--   local r = redis.start { password = "s3cret" }
--   r.url, r.port, r:cli("KEYS", "*"), r:stop(), r:start()
local run = require "spec.helpers.run"

local M = {}

--- Nil when redis-server, redis-cli and a cleanlist built with Redis are all here; else why not.
function M.missing()
  if not run.execute("command -v redis-server >/dev/null && command -v redis-cli >/dev/null") then
    return "redis-server is not installed (Debian: apt-get install redis-server)"
  end
  local script = run.script('io.write(tostring((pcall(require, "cleanlist.redis"))))')
  local out = run.capture(run.quote(run.bin()) .. " " .. run.quote(script) .. " 2>&1")
  os.remove(script)
  if out ~= "true" then return "this build of cleanlist has no Redis support (libhiredis-dev was missing at build)" end
end

local free_port = run.free_port

local Server = {}
Server.__index = Server

--- redis-cli against this server; returns its output without the trailing newline.
function Server:cli(...)
  local args = {}
  for i, a in ipairs({ ... }) do
    args[i] = run.quote(a)
  end
  local auth = self.password and ("--no-auth-warning -a " .. run.quote(self.password) .. " ") or ""
  local out = run.capture(("redis-cli -h 127.0.0.1 -p %d %s%s 2>&1"):format(self.port, auth, table.concat(args, " ")))
  return (out:gsub("\n$", ""))
end

--- Starts (or starts again, on the same port) the server and waits until it answers.
function Server:start()
  local args = {
    "--port",
    tostring(self.port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    self.dir,
    "--logfile",
    self.dir .. "/log",
  }
  if self.password then
    args[#args + 1] = "--requirepass"
    args[#args + 1] = self.password
  end
  for i, a in ipairs(args) do
    args[i] = run.quote(a)
  end
  self.pid =
    tonumber((run.capture("timeout 600 redis-server " .. table.concat(args, " ") .. " >/dev/null 2>&1 & echo $!")))
  for _ = 1, 100 do
    if self:cli("PING") == "PONG" then return self end
    run.execute("sleep 0.05")
  end
  error("redis-server did not start: " .. tostring(run.read_file(self.dir .. "/log")))
end

--- Stops the server (idempotent) and waits until its port is closed.
function Server:stop()
  if not self.pid then return end
  run.execute("kill " .. self.pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not run.execute("kill -0 " .. self.pid .. " 2>/dev/null") then break end
    run.execute("sleep 0.05")
  end
  self.pid = nil
end

--- Removes the server's directory after stopping it.
function Server:remove()
  self:stop()
  run.execute("rm -rf " .. run.quote(self.dir))
end

--- A started server on a free loopback port; opts.password sets requirepass.
function M.start(opts)
  opts = opts or {}
  local dir = os.tmpname()
  os.remove(dir)
  assert(run.execute("mkdir -p " .. run.quote(dir)))
  local port = free_port()
  local self = setmetatable({ port = port, dir = dir, password = opts.password }, Server)
  self.url = ("redis://%s127.0.0.1:%d/%d"):format(
    opts.password and (":" .. opts.password .. "@") or "",
    port,
    opts.db or 0
  )
  return self:start()
end

return M
