--- Starts `cleanlist sandbox` for functional specs and talks to it over loopback with the curl
-- CLI (so these specs do not depend on the project's own client).
--
--   local sandbox = require "spec.helpers.sandbox"
--   local sb = sandbox.start{ args = {"--seed", "7"} }
--   sb.base_url, sb.root, sb.port, sb.pid, sb.key, sb.readonly_key
--   sb:api(method, path, opts)                   --> status, decoded body, headers, raw body
--   sb:control(method, path, body_table_or_nil) --> decoded JSON (or raw text), status
--   sb:requests()                                --> the request log array
--   sb:reset() / sb:clear()                      --> fresh state / empty log and script
--   sb:statuses(n [, path, key])                 --> "200 200 429 " (n requests, one connection)
--   sb:stop()                                    --> exit code; idempotent
--
-- Or one sandbox for a whole describe block (started in setup, stopped in teardown):
--
--   describe("...", function()
--     local sb = sandbox.suite { args = {"--seed", "7"}, reset = true }
--
-- Also: sandbox.poll(tries, interval, step) for waiting, sandbox.cli(args) / sandbox.help() /
-- sandbox.jwts() for the executable's command line, sandbox.use_modules() for the sandbox's
-- Lua modules in-process, and the shell and file basics of spec.helpers.run.
--
-- The sandbox's stdin is a pipe held by this process: when the test process dies the pipe
-- closes and the sandbox exits by itself. Works under Lua 5.4 and LuaJIT.
local cjson = require "cjson"
local run = require "spec.helpers.run"

local M = {}

-- The built-in keys, read from their one definition (sandbox/sandbox.h, which the executable is
-- built from).
local function builtin_key(name)
  local header = assert(run.read_file("sandbox/sandbox.h"), "cannot read sandbox/sandbox.h")
  return assert(
    header:match("#define " .. name .. ' "(clapi_[%w_%-]+)"'),
    name .. " is not defined in sandbox/sandbox.h"
  )
end

M.KEY = builtin_key("CL_SANDBOX_DEFAULT_KEY")
M.READONLY_KEY = builtin_key("CL_SANDBOX_READONLY_KEY")
M.START_TIMEOUT = 5 -- seconds to wait for the LISTENING line
M.STOP_TIMEOUT = 10 -- seconds stop() waits before it terminates the sandbox itself

local POLL = 0.05

-- Shell and file basics, from spec.helpers.run.
M.quote = run.quote -- single-quotes s for /bin/sh
M.read_file = run.read_file -- contents, or nil
M.write_file = run.write_file
M.run = run.capture -- runs a shell command; returns its stdout and its exit status
M.binary = run.bin -- the executable under test: $CLEANLIST_BIN or build/lua5.4/cleanlist
local q, read_file, write_file, execute = M.quote, M.read_file, M.write_file, run.execute

function M.sleep(seconds)
  os.execute("sleep " .. tostring(seconds))
end

--- Calls step() up to `tries` times, `interval` seconds apart, until its first result is
-- truthy. Returns the results of the last call (step returns done[, value]).
function M.poll(tries, interval, step)
  local done, value
  for i = 1, tries do
    done, value = step()
    if done or i == tries then break end
    M.sleep(interval)
  end
  return done, value
end

--- Runs the executable with a command line of arguments (as shell text), stdin from
-- /dev/null, stderr joined to stdout. Returns the output and the exit status.
function M.cli(args)
  return M.run(q(M.binary()) .. " " .. args .. " </dev/null 2>&1")
end

--- `cleanlist sandbox --help`: its stdout and exit status.
function M.help()
  return M.run(q(M.binary()) .. " sandbox --help")
end

--- The sandbox Clerk JWTs by user (vera, rowan, theo), read from `cleanlist sandbox --help`.
function M.jwts()
  local out = M.help()
  local t = {}
  for who, token in out:gmatch("  (%a+) %a+ %b()[^\n]*\n%s+(eyJ[%w_%-]+%.[%w_%-]+%.[%w_%-]+)") do
    t[who:lower()] = token
  end
  if not t.theo then -- Theo's description spans two lines
    t.theo = out:match("Theo Lind.-\n.-\n%s+(eyJ[%w_%-]+%.[%w_%-]+%.[%w_%-]+)")
  end
  return t
end

local LUA_PATH = "sandbox/lua/?.lua;sandbox/lua/?/init.lua;"

--- Lets a spec require the sandbox's own Lua modules (sandbox/lua) in-process.
function M.use_modules()
  if package.path:sub(1, #LUA_PATH) ~= LUA_PATH then package.path = LUA_PATH .. package.path end
end

--- Loads the sandbox's modules in-process (use_modules) with stand-ins for what the executable
-- gives them natively (sandbox.native: OpenSSL and the core's redaction) when busted runs
-- outside the executable: the digests are stable and depend on their input, the scrub cuts
-- clapi_ keys like cl_redact_text.
function M.in_process()
  M.use_modules()
  if pcall(require, "sandbox.native") then return end
  local function digest(s)
    local h = 7
    for i = 1, #s do
      h = (h * 131 + s:byte(i)) % 4294967291
    end
    return string.format("%064x", h)
  end
  package.loaded["sandbox.native"] = {
    sha256_hex = digest,
    hmac_sha256_hex = function(key, msg)
      return digest(key .. "\0" .. msg)
    end,
    equal = function(a, b)
      return a == b
    end,
    b64decode = function()
      return nil, "no base64 in-process"
    end,
    scrub = function(s)
      return (s:gsub("clapi_[%w_%-]+", "clapi_\226\128\166"))
    end,
    redact_credential = function()
      return "[redacted]"
    end,
  }
end

--- Decodes a JSON text; returns the raw text when it is not JSON.
function M.decode(text)
  local ok, v = pcall(cjson.decode, text)
  if ok then return v end
  return text
end

M.null = cjson.null

--- One HTTP request with the curl CLI. opts: headers (table), body (string, or a table sent
-- as JSON), key (adds "Authorization: Bearer <key>"). Returns status, body, headers (names
-- lowercased).
function M.http(method, url, opts)
  opts = opts or {}
  local base = os.tmpname()
  local bodyf, hdrf, reqf = base .. ".body", base .. ".hdr", base .. ".req"
  local parts = { "curl -sS --max-time 10 -o", q(bodyf), "-D", q(hdrf), "-w '%{http_code}'", "-X", q(method) }
  local headers = {}
  for k, v in pairs(opts.headers or {}) do
    headers[k] = v
  end
  if opts.key then headers.Authorization = "Bearer " .. opts.key end
  local body = opts.body
  if type(body) == "table" then
    body = cjson.encode(body)
    if not headers["Content-Type"] then headers["Content-Type"] = "application/json" end
  end
  for k, v in pairs(headers) do
    parts[#parts + 1] = "-H " .. q(k .. ": " .. v)
  end
  if body then
    write_file(reqf, body)
    parts[#parts + 1] = "--data-binary @" .. q(reqf)
  end
  parts[#parts + 1] = q(url)
  local out = M.run(table.concat(parts, " ") .. " 2>&1")
  local status = tonumber(out:match("(%d%d%d)$"))
  local text = read_file(bodyf) or ""
  local raw = read_file(hdrf) or ""
  for _, f in ipairs { base, bodyf, hdrf, reqf } do
    os.remove(f)
  end
  local resp_headers = {}
  -- The last header block wins (a 100 Continue may come first).
  local last = raw:match(".*\r\n\r\n(HTTP/.-\r\n\r\n)$") or raw
  for name, value in last:gmatch("([%w%-]+):%s*([^\r\n]*)\r\n") do
    resp_headers[name:lower()] = value
  end
  if not status then error("curl failed for " .. method .. " " .. url .. ": " .. out, 2) end
  return status, text, resp_headers
end

local Sandbox = {}
Sandbox.__index = Sandbox

local function alive(pid)
  if not pid or not execute("kill -0 " .. pid .. " 2>/dev/null") then return false end
  local stat = read_file("/proc/" .. pid .. "/stat")
  return not (stat and stat:match("^%d+ %b() ([ZX])"))
end

--- True while the sandbox process exists (and is not a zombie).
function Sandbox:alive()
  return alive(self.pid)
end

--- Waits up to `timeout` seconds for the process to end; returns true when it has.
function Sandbox:wait_exit(timeout)
  return (M.poll(math.ceil((timeout or 5) / POLL) + 1, POLL, function()
    return not alive(self.pid)
  end))
end

--- Sends a signal ("TERM", "INT", ...) to the sandbox.
function Sandbox:signal(sig)
  return execute("kill -" .. sig .. " " .. self.pid .. " 2>/dev/null")
end

--- What the sandbox wrote so far (or in all, after stop): stdout, stderr.
function Sandbox:output()
  if self.stopped then return self.stdout, self.stderr end
  return read_file(self.files.out) or "", read_file(self.files.err) or ""
end

--- An HTTP request to the sandbox: `target` is a full URL, or a path under base_url.
function Sandbox:http(method, target, opts)
  if not target:match("^https?://") then target = self.base_url .. target end
  return M.http(method, target, opts)
end

--- GET/POST... under the API base with the full-access key unless opts.key says otherwise
-- (opts.key = false sends no Authorization). Returns status, decoded body, headers, raw body.
function Sandbox:api(method, path, opts)
  opts = opts or {}
  local o = { headers = opts.headers, body = opts.body, key = opts.key }
  if opts.key == nil then
    o.key = self.key
  elseif opts.key == false then
    o.key = nil
  end
  local status, text, headers = self:http(method, path, o)
  return status, M.decode(text), headers, text
end

--- Calls a control endpoint ("/requests", "requests" or "/__sandbox/requests").
function Sandbox:control(method, path, body)
  if path:sub(1, 10) ~= "/__sandbox" then path = "/__sandbox" .. (path:sub(1, 1) == "/" and "" or "/") .. path end
  local status, text = M.http(method, self.root .. path, { body = body })
  return M.decode(text), status
end

--- Resets the sandbox's state, clock, limits, faults and script (POST /__sandbox/reset);
-- raises unless it answers 200.
function Sandbox:reset()
  local body, status = self:control("POST", "/reset")
  if status ~= 200 then error("POST /__sandbox/reset answered " .. tostring(status), 2) end
  return body
end

--- Empties the request log and drops any scripted responses (DELETE /__sandbox/requests and
-- /__sandbox/script), keeping the state; raises unless both answer 200.
function Sandbox:clear()
  for _, path in ipairs { "/requests", "/script" } do
    local _, status = self:control("DELETE", path)
    if status ~= 200 then error("DELETE /__sandbox" .. path .. " answered " .. tostring(status), 2) end
  end
end

--- n GET requests to an API path (default /whoami) on one kept-alive connection (one curl
-- process), with `key` (default the full-access key). Returns the statuses as curl writes
-- them, each followed by a space ("000" for a request that got no response).
function Sandbox:statuses(n, path, key)
  local parts = { "curl -s --max-time 5 -w '%{http_code} ' -H", q("Authorization: Bearer " .. (key or self.key)) }
  for _ = 1, n do
    parts[#parts + 1] = "-o /dev/null " .. q(self.base_url .. (path or "/whoami"))
  end
  return (M.run(table.concat(parts, " ")))
end

--- The request log (API-path requests, oldest first).
function Sandbox:requests()
  local body, status = self:control("GET", "/requests")
  if status ~= 200 then error("GET /__sandbox/requests answered " .. tostring(status), 2) end
  return body.requests
end

local function cleanup(files)
  for _, f in pairs(files) do
    os.remove(f)
  end
end

--- Stops the sandbox: closes its stdin (or sends SIGTERM when stdin is not our pipe) and waits
-- for it to exit. Returns its exit code. Idempotent.
function Sandbox:stop()
  if self.stopped then return self.exit_code end
  self.stopped = true
  self.pid = self.pid or tonumber(read_file(self.files.pid) or "")
  if self.pid and self.stdin_mode ~= "pipe" then self:signal("TERM") end
  -- A watchdog turns "the sandbox ignored EOF" into a failure instead of a hung test run; it
  -- exits as soon as the sandbox is gone.
  local watchdog = string.format(
    "(i=0; while kill -0 %d 2>/dev/null; do i=$((i+1)); if [ $i -gt %d ]; then "
      .. "echo killed >%s; kill -KILL %d; exit; fi; sleep 0.1; done) >/dev/null 2>&1 &",
    self.pid,
    M.STOP_TIMEOUT * 10,
    q(self.files.killed),
    self.pid
  )
  local w = self.pid and io.popen(watchdog)
  if w then w:close() end
  self.pipe:close()
  self.exit_code = tonumber(read_file(self.files.rc) or "")
  self.killed_by_watchdog = read_file(self.files.killed) ~= nil
  self.stdout = read_file(self.files.out) or ""
  self.stderr = read_file(self.files.err) or ""
  cleanup(self.files)
  return self.exit_code
end

-- Starts the sandbox process described by opts (see M.start) and fills in `self`; raises
-- (blaming the caller of its caller) on failure.
local function launch(self, opts)
  local bin = opts.bin or M.binary()
  local f = io.open(bin, "rb")
  if not f then
    error("cleanlist executable not found at '" .. bin .. "': build it with `make` " .. "(or set CLEANLIST_BIN)", 3)
  end
  f:close()
  local base = os.tmpname()
  local files = {
    base = base,
    out = base .. ".out",
    err = base .. ".err",
    pid = base .. ".pid",
    rc = base .. ".rc",
    killed = base .. ".killed",
  }
  local args = { q(bin), "sandbox", "--port", "0" }
  if opts.quiet ~= false then args[#args + 1] = "--quiet" end
  if opts.rate_limit ~= true then
    args[#args + 1] = "--rate-limit"
    args[#args + 1] = "off"
  end
  if opts.strict then args[#args + 1] = "--strict" end
  local key = M.KEY
  for i, a in ipairs(opts.args or {}) do
    args[#args + 1] = q(a)
    if a == "--api-key" then
      key = opts.args[i + 1]
    elseif a:sub(1, 10) == "--api-key=" then
      key = a:sub(11)
    end
  end
  local env = {}
  for k, v in pairs(opts.env or {}) do
    env[#env + 1] = k .. "=" .. q(v)
  end
  local stdin_mode = opts.stdin or "pipe"
  local input = stdin_mode == "pipe" and "<&3" or ("<" .. q(stdin_mode))
  -- sh keeps our pipe on fd 3 and gives it to the sandbox as stdin, records its pid, and
  -- writes its exit status when it ends. A watcher sends SIGTERM if this test process ($PPID
  -- of that sh) dies while a child of ours (os.execute inherits the pipe) keeps stdin open.
  local cmd = string.format(
    "exec 3<&0 </dev/null; %s %s %s >%s 2>%s 3<&- & sb=$!; "
      .. "echo $sb >%s; (while kill -0 $PPID && kill -0 $sb; do sleep 0.5; done; "
      .. "kill -0 $PPID || kill -TERM $sb) >/dev/null 2>&1 3<&- & wait $sb; echo $? >%s",
    table.concat(env, " "),
    table.concat(args, " "),
    input,
    q(files.out),
    q(files.err),
    q(files.pid),
    q(files.rc)
  )
  self.pipe = assert(io.popen(cmd, "w"))
  self.files, self.stdin_mode, self.key, self.readonly_key = files, stdin_mode, key, M.READONLY_KEY
  for _ = 1, math.ceil(M.START_TIMEOUT / POLL) do
    self.pid = self.pid or tonumber(read_file(files.pid) or "")
    local url = (read_file(files.out) or ""):match("LISTENING (https?://%S+)")
    if url then
      self.base_url = url
      self.root = url:match("^(https?://[^/]+)")
      self.port = tonumber(self.root:match(":(%d+)$"))
      return self
    end
    if read_file(files.rc) then
      break -- it exited before listening
    end
    M.sleep(POLL)
  end
  local exited = read_file(files.rc) ~= nil
  self:stop()
  if exited then
    error(
      string.format(
        "sandbox exited with code %s before printing LISTENING; stderr:\n%s",
        tostring(self.exit_code),
        self.stderr
      ),
      3
    )
  end
  error(string.format("sandbox did not print LISTENING within %d s; stderr:\n%s", M.START_TIMEOUT, self.stderr), 3)
end

-- The spec directories whose sandboxes start with --strict unless opts.strict says otherwise:
-- the client's specs and the recipes' talk to the sandbox as to the real API, in the v2
-- schema's spellings only.
M.STRICT_DIRS = { "spec/functional/", "spec/recipes/" }

-- opts with `strict` decided: as given, else true when a spec file of M.STRICT_DIRS is on
-- the stack of the caller.
local function with_strict(opts)
  opts = opts or {}
  if opts.strict ~= nil then return opts end
  local t = {}
  for k, v in pairs(opts) do
    t[k] = v
  end
  t.strict = false
  for level = 3, 30 do
    local info = debug.getinfo(level, "S")
    if not info then break end
    for _, dir in ipairs(M.STRICT_DIRS) do
      if info.source:find(dir, 1, true) and info.source:find("_spec%.lua$") then t.strict = true end
    end
  end
  return t
end

--- Starts a sandbox. opts: args (extra flags), quiet (default true), env (table of extra
-- environment variables), stdin ("pipe", the default, or a file such as "/dev/null"),
-- bin (executable; default M.binary()), rate_limit (true keeps the documented rate limits;
-- by default the sandbox starts with --rate-limit off, since specs make many requests),
-- strict (true adds --strict; by default true for the specs under M.STRICT_DIRS, false
-- elsewhere). Raises with a clear message on failure.
function M.start(opts)
  local self = launch(setmetatable({}, Sandbox), with_strict(opts))
  return self
end

--- One sandbox for the enclosing describe block: call it in the block's body, before any
-- setup that uses the sandbox. It starts in the block's setup (opts as for M.start) and stops
-- in its teardown. Before each test, opts.reset resets its state (Sandbox:reset) and
-- opts.clear empties its request log and script (Sandbox:clear).
-- Returns the sandbox object, whose fields and methods are there once setup has run.
function M.suite(opts)
  opts = with_strict(opts)
  local busted = require "busted"
  local self = setmetatable({}, Sandbox)
  busted.setup(function()
    launch(self, opts)
  end)
  busted.teardown(function()
    if self.pipe then self:stop() end
  end)
  if opts.reset or opts.clear then
    busted.before_each(function()
      if opts.reset then self:reset() end
      if opts.clear then self:clear() end
    end)
  end
  return self
end

return M
