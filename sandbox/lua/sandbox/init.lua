--- The Cleanlist API sandbox: `require("sandbox").new(config)` builds an app whose
-- `handle(req)` serves one HTTP request and returns `status, headers, body`.
--
-- req (built by sandbox/sb_lua.c for every request):
--   method  "GET", "POST", ...
--   path    decoded path without the query, e.g. "/api/v1/public/whoami"
--   query   raw query string without "?", "" when none
--   headers table of lowercased header names -> values (repeated headers joined by ", ")
--   body    the full request body, "" when none
--   conn    integer id, stable for the life of the TCP connection
-- Returns: status (integer), headers (table name -> string; Content-Type defaults to
-- application/json), body (string).
--
-- config (from sandbox/sb_lua.c): api_key, readonly_key, seed, quiet, version, base_path,
-- now_ms() (epoch milliseconds), monotonic_ms(). Every field is optional when the app is built
-- from plain Lua (unit tests).
local auth = require "sandbox.auth"
local control = require "sandbox.control"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local prng = require "sandbox.prng"
local reqlog = require "sandbox.reqlog"
local router = require "sandbox.router"
local state = require "sandbox.state"

local M = {}

M.VERSION = "0.1.0"
M.DEFAULT_KEY = "clapi_sandbox_full_access_0000000000000000" -- CL_SANDBOX_DEFAULT_KEY
M.READONLY_KEY = "clapi_sandbox_read_only_00000000000000000" -- CL_SANDBOX_READONLY_KEY

--- Both API prefixes serve the same routes (API.md §10 #1).
M.PREFIXES = { "/api/v1/public", "/api/v2" }

--- Endpoint modules; each has register(router).
M.ENDPOINTS = { "sandbox.endpoints.workspace" }

local App = {}
App.__index = App

local format, find, sub, byte = string.format, string.find, string.sub, string.byte
local encode = json.encode
local PREFIXES = M.PREFIXES

local function default_now_ms()
  return os.time() * 1000
end

function M.new(config)
  config = config or {}
  config.api_key = config.api_key or M.DEFAULT_KEY
  config.readonly_key = config.readonly_key or M.READONLY_KEY
  config.now_ms = config.now_ms or default_now_ms
  config.seed = config.seed or 0
  local self = setmetatable({
    config = config,
    quiet = config.quiet,
    version = config.version or M.VERSION,
    now_ms = config.now_ms,
    state = state.new(config),
    log = reqlog.new(config.log_cap),
    router = router.new(),
  }, App)
  for _, name in ipairs(M.ENDPOINTS) do
    require(name).register(self.router)
  end
  self:reset()
  self.handle = function(req)
    return self:serve(req)
  end
  return self
end

--- Restores the initial state: credits and ledger, request log, script queue, id streams.
function App:reset()
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
  return nil
end

local function is_control(path)
  return find(path, control.PREFIX, 1, true) == 1
    and (#path == #control.PREFIX or byte(path, #control.PREFIX + 1) == 47)
end

--- status, headers, body for an error code (body JSON-encoded).
local function fail(code, rid, fields, headers)
  local status, body = errors.build(code, rid, fields)
  return status, headers or {}, encode(body)
end

local function serve_script(item)
  if item.raise then
    error(item.raise, 0)
  end
  local headers = {}
  for k, v in pairs(item.headers) do
    headers[k] = v
  end
  return item.status, headers, item.body
end

local function serve_api(self, req, subpath, rid, item)
  if item then
    return serve_script(item)
  end
  local path = req.path
  local entry, params
  if subpath then
    entry, params = self.router:match(subpath)
  end
  if not entry then
    return fail("not_found", rid, {
      problem = "There is no endpoint at " .. http.scrub(path) .. ".",
      fix = "Check the path against the API reference (base path /api/v1/public or /api/v2).",
    })
  end
  local route = entry.methods[req.method]
  if not route then
    return fail("method_not_allowed", rid, {
      problem = format("%s is not allowed on %s.", http.scrub(req.method), http.scrub(path)),
    }, { Allow = router.allowed(entry) })
  end
  local key, status, body = auth.authenticate(self.state, req, rid)
  if not key then
    return status, { ["WWW-Authenticate"] = 'Bearer realm="cleanlist"' }, encode(body)
  end
  status, body = auth.require_scope(key, route.scope, rid)
  if status then
    return status, {}, encode(body)
  end
  local ctx = {
    app = self, state = self.state, req = req, request_id = rid, params = params,
    key = key, user = key.user, org = key.org, now_ms = self.now_ms,
  }
  local headers
  status, body, headers = route.handler(ctx)
  if type(body) ~= "string" then
    body = encode(body)
  end
  return status, headers or {}, body
end

local function trap(e)
  return { message = tostring(e), trace = debug.traceback(tostring(e), 2) }
end

--- Writes a handler failure to stderr (unless quiet), with any key scrubbed.
function App:log_error(req, rid, err)
  if self.quiet then
    return
  end
  local trace = type(err) == "table" and err.trace or tostring(err)
  io.stderr:write(format("sandbox: internal error in %s %s (%s): %s\n", http.scrub(req.method),
    http.scrub(req.path), rid, http.scrub(trace)))
end

local function internal_error(self, req, rid, err)
  self:log_error(req, rid, err)
  local message = type(err) == "table" and err.message or tostring(err)
  return fail("internal_error", rid, { cause = http.scrub(message):match("[^\n]*") })
end

--- Serves one request (see the module comment for req and the results).
function App:serve(req)
  local path = req.path
  if is_control(path) then
    return control.handle(self, req)
  end
  local rid = self:request_id()
  local subpath = api_subpath(path)
  local entry, item
  if subpath then
    entry = self.log:add(req, rid, self.now_ms())
    item = self.script[1] and table.remove(self.script, 1)
    if item and item.crash then
      entry.status = 500
      error("scripted crash: " .. item.crash, 0)
    end
  end
  local ok, status, headers, body = xpcall(serve_api, trap, self, req, subpath, rid, item)
  if not ok then
    status, headers, body = internal_error(self, req, rid, status)
  end
  if headers["X-Request-Id"] == nil and headers["x-request-id"] == nil then
    headers["X-Request-Id"] = rid
  end
  if entry then
    entry.status = status
  end
  if not self.quiet then
    io.stderr:write(format("sandbox: %s %s -> %d %s conn=%d\n", http.scrub(req.method),
      http.scrub(path), status, rid, req.conn or 0))
  end
  return status, headers, body
end

return M
