--- The Cleanlist API sandbox: `require("sandbox").new(config)` builds an app whose
-- `handle(req)` serves one HTTP request and returns `status, body, headers[, fault]`.
--
-- req (built by sandbox/sb_lua.c for every request):
--   method  "GET", "POST", ...
--   path    decoded path without the query, e.g. "/api/v1/public/whoami"
--   query   raw query string without "?", "" when none
--   headers table of lowercased header names -> values (repeated headers joined by ", ")
--   body    the full request body, "" when none
--   conn    integer id, stable for the life of the TCP connection
-- Returns: status (integer), headers (table name -> string; Content-Type defaults to
-- application/json), body (string), and optionally a connection-level fault for the C side
-- (sandbox.faults: {kind = "reset" | "stall" | ...}).
--
-- config (from sandbox/sb_lua.c): api_key and readonly_key (the built-in keys are
-- CL_SANDBOX_DEFAULT_KEY and CL_SANDBOX_READONLY_KEY of sandbox/sandbox.h), seed, quiet,
-- version (CL_VERSION, the project's version), base_path, now_ms() (epoch milliseconds),
-- monotonic_ms(), make_clock() (sandbox.clock's C half), tick_in(ms) (app:tick() runs on the
-- timer thread within ms milliseconds: the sandbox's one periodic driver); the infrastructure
-- flags time_scale,
-- rate_limit, rate_limit_key, rate_limit_org, fault_rate, faults, stall_ms, dribble_ms,
-- workflow_fault, state_file. From plain Lua (unit tests) every field but the two keys is
-- optional.
--
-- Infrastructure on the app: app.clock (sandbox.clock; config.now_ms, app.now_ms, ctx.now_ms
-- and state:now_ms() all read it), app.ratelimit (sandbox.ratelimit), app.faults
-- (sandbox.faults; app.faults.workflow is the workflow knob), app.persist (sandbox.persist,
-- with --state only), app.tick_in (config.tick_in; a no-op from plain Lua).
local auth = require "sandbox.auth"
local clock = require "sandbox.clock"
local control = require "sandbox.control"
local errors = require "sandbox.errors"
local faults = require "sandbox.faults"
local http = require "sandbox.http"
local json = require "sandbox.json"
local persist = require "sandbox.persist"
local prng = require "sandbox.prng"
local ratelimit = require "sandbox.ratelimit"
local reqlog = require "sandbox.reqlog"
local router = require "sandbox.router"
local state = require "sandbox.state"
local usage = require "sandbox.usage"
local workflows = require "sandbox.workflows"

local M = {}

--- Both API prefixes serve the same routes (API.md §10 #1).
M.PREFIXES = { "/api/v1/public", "/api/v2" }

--- Endpoint modules; each has register(router).
M.ENDPOINTS = { "sandbox.endpoints.workspace" }
-- Credits estimate, enrichment, smart agents, sync, CSV import, usage.
for _, name in ipairs {
  "sandbox.endpoints.credits",
  "sandbox.endpoints.enrichment",
  "sandbox.endpoints.agents",
  "sandbox.endpoints.sync",
  "sandbox.endpoints.csv_import",
  "sandbox.endpoints.usage",
} do
  M.ENDPOINTS[#M.ENDPOINTS + 1] = name
end

-- Search, lead lists, export (and the signed CSV download below).
for _, name in ipairs {
  "sandbox.endpoints.search",
  "sandbox.endpoints.lists",
  "sandbox.endpoints.list_leads",
  "sandbox.endpoints.export",
} do
  M.ENDPOINTS[#M.ENDPOINTS + 1] = name
end

-- API keys (GET /api-keys and the /api/v1/api-keys management family), the legacy API.
for _, name in ipairs { "sandbox.endpoints.apikeys", "sandbox.endpoints.legacy" } do
  M.ENDPOINTS[#M.ENDPOINTS + 1] = name
end

--- Absolute API paths outside the prefixes (API-key management, API.md §6.7), served by the
-- routes registered with `absolute = true` under their full path.
M.ABSOLUTE = { "/api/v1/api-keys" }

--- Downloads outside the API path (the signature in the query is their credential):
-- GET /__files/exports/<id>.csv?exp=..&sig=.. (sandbox.endpoints.export.serve_file).
M.FILES_PREFIX = "/__files/"

local App = {}
App.__index = App

local format, find, sub, byte = string.format, string.find, string.sub, string.byte
local encode = json.encode
local PREFIXES, ABSOLUTE = M.PREFIXES, M.ABSOLUTE

local function default_now_ms()
  return os.time() * 1000
end

-- The app's routers: the endpoint modules' API routes on app.router, the control endpoints
-- (sandbox.control's, and those of endpoint modules with register_control) on
-- app.control_router.
local function register_routes(self)
  self.control_router = router.new()
  control.register(self.control_router)
  for _, name in ipairs(M.ENDPOINTS) do
    local mod = require(name)
    mod.register(self.router, self)
    if mod.register_control then mod.register_control(self.control_router) end
  end
end

local function no_tick() end

--- How often app:tick() saves a changed state (--state).
M.SAVE_EVERY_MS = 1000

function M.new(config)
  config.seed = config.seed or 0
  -- The sandbox clock replaces the wall clock everywhere (config.now_ms is what state reads).
  local sandbox_clock = clock.new {
    wall_ms = config.now_ms or default_now_ms,
    monotonic_ms = config.monotonic_ms,
    native = config.make_clock,
    scale = config.time_scale,
  }
  config.wall_ms = config.wall_ms or config.now_ms or default_now_ms
  config.now_ms = sandbox_clock.now_ms
  local self = setmetatable({
    clock = sandbox_clock,
    ratelimit = ratelimit.new(config, sandbox_clock),
    faults = faults.new(config),
    config = config,
    quiet = config.quiet,
    version = config.version,
    now_ms = config.now_ms,
    tick_in = config.tick_in or no_tick,
    state = state.new(config),
    log = reqlog.new(config.log_cap),
    router = router.new(),
  }, App)
  register_routes(self)
  if config.state_file then self.persist = persist.new(self, config.state_file, config.monotonic_ms) end
  self:reset()
  self.handle = function(req)
    return self:serve(req)
  end
  return self
end

--- Restores the initial state: credits and ledger, request log, script queue, id streams.
function App:reset()
  self.clock:reset()
  self.ratelimit:reset()
  self.faults:reset()
  self.state:reset()
  self.log:reset()
  self.script = {}
  self.ids = prng.new(self.config.seed, 1)
  self.control_ids = prng.new(self.config.seed, 2)
end

function App:request_id()
  return "req_" .. self.ids:hex16()
end

function App:control_request_id()
  return "req_" .. self.control_ids:hex16()
end

--- The path below an API prefix ("" for the prefix itself), or nil.
local function api_subpath(path)
  for i = 1, #PREFIXES do
    local p = PREFIXES[i]
    if find(path, p, 1, true) == 1 then
      local n = #p
      if #path == n or byte(path, n + 1) == 47 then -- "/"
        return sub(path, n + 1)
      end
    end
  end
  for i = 1, #ABSOLUTE do -- the whole path is the subpath of an absolute route
    local p = ABSOLUTE[i]
    if find(path, p, 1, true) == 1 and (#path == #p or byte(path, #p + 1) == 47) then return path end
  end
  return nil
end

local function is_control(path)
  return find(path, control.PREFIX, 1, true) == 1
    and (#path == #control.PREFIX or byte(path, #control.PREFIX + 1) == 47)
end

-- A scripted response (POST /__sandbox/script): status, body, headers.
local function serve_script(item)
  if item.raise then error(item.raise, 0) end
  local headers = {}
  for k, v in pairs(item.headers) do
    headers[k] = v
  end
  return item.status, item.body, headers
end

-- An API request: status, body, headers.
local function serve_api(self, req, subpath, rid)
  local path = req.path
  local route, params, entry
  if subpath then
    route, params, entry = self.router:find(req.method, subpath, subpath == path)
  end
  if not entry then
    return errors.build("not_found", rid, {
      problem = "There is no endpoint at " .. http.scrub(path) .. ".",
      fix = "Check the path against the API reference (base path /api/v1/public or /api/v2).",
    })
  end
  if not route then
    return router.method_not_allowed(
      entry,
      rid,
      format("%s is not allowed on %s.", http.scrub(req.method), http.scrub(path))
    )
  end
  local key, status, body = (route.authenticate or auth.authenticate)(self.state, req, rid)
  if not key then return status, body, { ["WWW-Authenticate"] = 'Bearer realm="cleanlist"' } end
  req.key_id, req.route = key.id, route.template -- for the usage log (sandbox.usage)
  if self.ratelimit.enabled then -- after authentication, before the scope check
    local rl_status, rl_body, rl_headers = self.ratelimit:check(key, route, rid)
    if rl_status then return rl_status, rl_body, rl_headers end
  end
  status, body = auth.require_scope(key, route.scope, rid)
  if status then return status, body end
  workflows.tick(self.state) -- lazy workflow / smart-agent progress; O(1) when nothing is due
  return router.run(route, {
    app = self,
    state = self.state,
    req = req,
    request_id = rid,
    params = params,
    key = key,
    user = key.user,
    org = key.org,
    now_ms = self.now_ms,
  })
end

-- The answer to an API-path request, scripted (item) or served: status, body (a string),
-- headers and a connection-level fault, the order of handle(req).
local function respond(self, req, subpath, rid, item)
  if item and item.fault then
    return faults.serve(self, item, rid, function()
      return respond(self, req, subpath, rid)
    end)
  end
  local status, body, headers
  if item then
    status, body, headers = serve_script(item)
  else
    status, body, headers = serve_api(self, req, subpath, rid)
  end
  if type(body) ~= "string" then body = encode(body) end
  return status, body, headers or {}
end

local function trap(e)
  return { message = tostring(e), trace = debug.traceback(tostring(e), 2) }
end

--- Writes a handler failure to stderr (unless quiet), with any key scrubbed.
function App:log_error(req, rid, err)
  if self.quiet then return end
  local trace = type(err) == "table" and err.trace or tostring(err)
  io.stderr:write(
    format(
      "sandbox: internal error in %s %s (%s): %s\n",
      http.scrub(req.method),
      http.scrub(req.path),
      rid,
      http.scrub(trace)
    )
  )
end

local function internal_error(self, req, rid, err)
  self:log_error(req, rid, err)
  local message = type(err) == "table" and err.message or tostring(err)
  local status, body = errors.build("internal_error", rid, {
    cause = http.scrub(message):match("[^\n]*"),
  })
  return status, encode(body), {}
end

--- Serves one request (see the module comment for req and the results).
function App:serve(req)
  local pump = self.pump -- background progress of the legacy API (sandbox.legacy.pump)
  if pump then pump(self) end
  local path = req.path
  if is_control(path) then return control.handle(self, req) end
  if byte(path, 3) == 95 and find(path, M.FILES_PREFIX, 1, true) == 1 then -- "/__files/"
    return require("sandbox.endpoints.export").serve_file(self, req)
  end
  local rid = self:request_id()
  local subpath = api_subpath(path)
  local entry, item
  if subpath then
    entry = self.log:add(req, rid, self.now_ms())
    item = self.script[1] and table.remove(self.script, 1)
    if not item and self.faults.rate > 0 then item = self.faults:draw() end
    if item and item.crash then
      entry.status = 500
      error("scripted crash: " .. item.crash, 0)
    end
  end
  local ok, status, body, headers, fault = xpcall(function() -- Lua 5.1's xpcall passes no arguments
    return respond(self, req, subpath, rid, item)
  end, trap)
  if not ok then
    status, body, headers, fault = internal_error(self, req, rid, status)
  end
  if headers["X-Request-Id"] == nil and headers["x-request-id"] == nil then headers["X-Request-Id"] = rid end
  if entry then
    entry.status = status
    usage.note(self, entry, status)
    if item and item.fault then faults.note(entry, item, fault) end
  end
  if self.persist then self.persist:touch() end
  if not self.quiet then
    io.stderr:write(
      format(
        "sandbox: %s %s -> %d %s conn=%d%s\n",
        http.scrub(req.method),
        http.scrub(path),
        status,
        rid,
        req.conn or 0,
        item and item.fault and (" fault=" .. item.fault) or ""
      )
    )
  end
  return status, body, headers, fault
end

--- --state: restores the saved state (called by sb_lua.c at start). true, or nil and a message.
function App:load_state()
  if not self.persist then return true end
  return self.persist:load()
end

--- Called by the timer thread (sb_faults.c) when the time asked for with app.tick_in has
-- come: the legacy API's background progress (which asks for its own next tick while work is
-- pending) and, with --state, a save of a changed state at most every SAVE_EVERY_MS.
function App:tick()
  local pump = self.pump
  if pump then pump(self) end
  local saver = self.persist
  if saver then
    local now = saver.mono()
    if now >= (self.next_save_ms or now) then
      saver:tick()
      self.next_save_ms = now + M.SAVE_EVERY_MS
    end
    self.tick_in(self.next_save_ms - now)
  end
end

--- Called on a clean exit: the last save.
function App:shutdown()
  if self.persist then
    self.persist.dirty = true
    self.persist:tick()
  end
end

return M
