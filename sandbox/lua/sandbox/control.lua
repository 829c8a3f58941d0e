--- Test-only control endpoints under /__sandbox/ (outside the API path, no auth; the server
-- listens on loopback only):
--   GET    /__sandbox/health    {"ok":true,"version":VERSION} (the project version)
--   GET    /__sandbox/requests  {"requests":[...]} (API-path requests; ?since=SEQ for newer ones)
--   DELETE /__sandbox/requests  clears the log (seq keeps counting)
--   GET    /__sandbox/script    {"pending":N}
--   POST   /__sandbox/script    {"responses":[{"status","headers","body"} | {"raise":"msg"} |
--                               {"crash":"msg"} | {"fault":KIND, ...}, ...]} queues canned
--                               responses or faults (sandbox.faults) for the next API-path
--                               requests, one each, in order; "times":N repeats an item
--   DELETE /__sandbox/script    clears the queue
--   POST   /__sandbox/reset     restores the initial state (state, log, script, id streams,
--                               clock, rate-limit counters and settings, faults)
--   GET    /__sandbox/credits   {"credits":N,"ledger":[...]}
--   POST   /__sandbox/credits   {"credits":N} sets the organisation's balance
--   GET    /__sandbox/clock     {"now_ms","time_scale","offset_ms"}
--   POST   /__sandbox/clock     {"advance_ms":N (>= 0), "time_scale":X (> 0)}, either or both
--   GET    /__sandbox/rate-limit  {"enabled","per_key","per_org","window_ms"}
--   POST   /__sandbox/rate-limit  {"enabled":bool, "per_key":N, "per_org":N}, any of them
--   GET    /__sandbox/faults    {"rate","kinds","stall_ms","dribble_ms","workflow"}
--   POST   /__sandbox/faults    the same fields, any of them
--   DELETE /__sandbox/faults    random faults off, workflow "normal"
--   POST   /__sandbox/workflows/{id}/cancel  ends a run cancelled now (sandbox.cancel)
-- Every request but a GET marks the state as possibly changed (for --state).
local cancel = require "sandbox.cancel"
local errors = require "sandbox.errors"
local faults = require "sandbox.faults"
local http = require "sandbox.http"
local json = require "sandbox.json"
local router = require "sandbox.router"
local switches = require "sandbox.switches"

local M = {}

M.PREFIX = "/__sandbox"

local format = string.format

local function invalid(rid, problem)
  return errors.build("validation_error", rid, { problem = problem })
end

local function decode_object(req, rid)
  local body, err = json.decode(req.body)
  if type(body) ~= "table" then
    return nil, invalid(rid, "The body must be a JSON object" .. (err and (": " .. err) or "."))
  end
  return body
end

local function copy_headers(t, where)
  if t == nil or t == json.null then return {} end
  if type(t) ~= "table" then return nil, where .. ".headers must be an object" end
  local out = {}
  for k, v in pairs(t) do
    local tv = type(v)
    if type(k) ~= "string" or (tv ~= "string" and tv ~= "number") then
      return nil, where .. ".headers values must be strings"
    end
    out[k] = tv == "number" and json.encode(v) or v
  end
  return out
end

--- Validates one scripted response; returns the queued item or nil, message.
local function script_item(item, i)
  local where = format("responses[%d]", i)
  if type(item) ~= "table" then return nil, where .. " must be an object" end
  if item.fault ~= nil then return faults.item(item, where) end
  if item.crash ~= nil then -- raises outside the handler's own error trap (the C fallback)
    return { crash = tostring(item.crash) }
  end
  if item.raise ~= nil then -- raises inside a handler: a 500 internal_error envelope
    return { raise = tostring(item.raise) }
  end
  local status = json.integer(item.status)
  if not status or status < 200 or status > 599 then
    return nil, where .. ".status must be an integer from 200 to 599"
  end
  local headers, err = copy_headers(item.headers, where)
  if not headers then return nil, err end
  local body = item.body
  if body == nil or body == json.null then
    body = ""
  elseif type(body) ~= "string" then
    body = json.encode(body)
  end
  return { status = status, headers = headers, body = body }
end

local function post_script(app, req, rid)
  local body, st, err = decode_object(req, rid)
  if not body then return st, err end
  if type(body.responses) ~= "table" then return invalid(rid, 'The body must be {"responses":[...]}.') end
  local items = {}
  for i, item in ipairs(body.responses) do
    local parsed, msg = script_item(item, i)
    if not parsed then return invalid(rid, msg) end
    local times = 1
    if type(item) == "table" and item.times ~= nil then
      times = json.integer(item.times)
      if not times or times < 1 or times > 10000 then
        return invalid(rid, format("responses[%d].times must be an integer from 1 to 10000", i))
      end
    end
    for _ = 1, times do
      items[#items + 1] = parsed
    end
  end
  for _, item in ipairs(items) do
    app.script[#app.script + 1] = item
  end
  return 200, { ok = true, queued = #items, pending = #app.script }
end

local function post_credits(app, req, rid)
  local body, st, err = decode_object(req, rid)
  if not body then return st, err end
  local n = json.integer(body.credits)
  if not n or n < 0 or n > 1e12 then return invalid(rid, "credits must be an integer from 0 to 1000000000000.") end
  app.state:set_credits(n, "set by /__sandbox/credits")
  return 200, { ok = true, credits = n }
end

local function post_clock(app, req, rid)
  local body, st, err = decode_object(req, rid)
  if not body then return st, err end
  local advance, scale = body.advance_ms, body.time_scale
  if advance ~= nil then
    advance = json.integer(advance)
    if not advance or advance < 0 or advance > 1e15 then
      return invalid(rid, "advance_ms must be an integer from 0 to 1e15.")
    end
  end
  if scale ~= nil and (type(scale) ~= "number" or scale ~= scale or scale <= 0 or scale > 1e9) then
    return invalid(rid, "time_scale must be a number > 0 (at most 1e9).")
  end
  if advance == nil and scale == nil then return invalid(rid, "Send advance_ms and/or time_scale.") end
  if scale then app.clock:set_scale(scale) end
  if advance then app.clock:advance(advance) end
  return 200, app.clock:info()
end

local function post_rate_limit(app, req, rid)
  local body, st, err = decode_object(req, rid)
  if not body then return st, err end
  local t = {}
  if body.enabled ~= nil then
    if type(body.enabled) ~= "boolean" then return invalid(rid, "enabled must be true or false.") end
    t.enabled = body.enabled
  end
  for _, name in ipairs { "per_key", "per_org" } do
    if body[name] ~= nil then
      local n = json.integer(body[name])
      if not n or n < 1 or n > 1000000 then return invalid(rid, name .. " must be an integer from 1 to 1000000.") end
      t[name] = n
    end
  end
  app.ratelimit:configure(t)
  return 200, app.ratelimit:info()
end

local function post_faults(app, req, rid)
  local body, st, err = decode_object(req, rid)
  if not body then return st, err end
  local ok, msg = app.faults:configure(body)
  if not ok then return invalid(rid, msg .. ".") end
  return 200, app.faults:info()
end

--- Registers the control endpoints above (and sandbox.switches') on an app's control router;
-- endpoint modules add theirs with register_control (sandbox.init). A control handler is
-- fn(app, req, rid, params) -> status, body, headers (params: the
-- path's {name} parts).
function M.register(control_router)
  local function add(method, path, handler)
    control_router:add(method, path, { handler = handler })
  end
  add("GET", "/health", function(app)
    return 200, { ok = true, version = app.version }
  end)
  add("GET", "/requests", function(app, req)
    local since = tonumber(http.parse_query(req.query).since)
    return 200, { requests = app.log:list(since) }
  end)
  add("DELETE", "/requests", function(app)
    app.log:clear()
    return 200, { ok = true }
  end)
  add("GET", "/script", function(app)
    return 200, { pending = #app.script }
  end)
  add("POST", "/script", post_script)
  add("DELETE", "/script", function(app)
    app.script = {}
    return 200, { ok = true }
  end)
  add("POST", "/reset", function(app)
    app:reset()
    return 200, { ok = true }
  end)
  add("GET", "/credits", function(app)
    return 200, { credits = app.state.credits, ledger = json.array(app.state.ledger) }
  end)
  add("POST", "/credits", post_credits)
  add("GET", "/clock", function(app)
    return 200, app.clock:info()
  end)
  add("POST", "/clock", post_clock)
  add("GET", "/rate-limit", function(app)
    return 200, app.ratelimit:info()
  end)
  add("POST", "/rate-limit", post_rate_limit)
  add("GET", "/faults", function(app)
    return 200, app.faults:info()
  end)
  add("POST", "/faults", post_faults)
  add("DELETE", "/faults", function(app)
    app.faults:off()
    return 200, app.faults:info()
  end)
  switches.register_control(control_router)
  cancel.register_control(control_router)
end

local function dispatch(app, req, rid)
  local route, params, entry = app.control_router:find(req.method, req.path:sub(#M.PREFIX + 1))
  if route then return route.handler(app, req, rid, params) end
  if entry then
    return router.method_not_allowed(entry, rid, format("%s is not allowed on %s.", req.method, req.path))
  end
  return errors.build("not_found", rid, {
    problem = "There is no sandbox control endpoint at " .. http.scrub(req.path) .. ".",
    fix = "See `cleanlist sandbox --help` for the control endpoints.",
  })
end

--- Serves a /__sandbox/ request: status, body (a JSON text), headers, the order of the app's
-- handle(req).
function M.handle(app, req)
  local rid = app:control_request_id()
  local ok, status, body, headers = pcall(dispatch, app, req, rid)
  if not ok then
    app:log_error(req, rid, status)
    status, body = errors.build("internal_error", rid, {
      cause = http.scrub(status):match("[^\n]*"),
    })
  end
  headers = headers or {}
  headers["X-Request-Id"] = rid
  if app.persist and req.method ~= "GET" then app.persist:touch() end
  return status, json.encode(body), headers
end

return M
