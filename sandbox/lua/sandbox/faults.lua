--- Faults, only when asked: scripted (POST /__sandbox/script items {"fault": KIND, ...}) or
-- random (--fault-rate/--faults, POST /__sandbox/faults), drawn from the seeded generator so a
-- run with the same seed and the same requests gets the same faults. A fault replaces the
-- response of one API request (never a /__sandbox/ one); the request log records it in
-- `fault`.
--
-- Kinds (ANCHORS-PERF-REL.md §8.6). "runs" says whether the real handler runs first (its side
-- effects happen, its response is what gets cut or delayed); a script item may override it with
-- "execute": true|false.
--   kind             runs  served
--   500              no    500 internal_error envelope (retryable; "retryable": false to flip)
--   503              no    503 service_unavailable envelope, no Retry-After ("retry_after": N
--                          adds one)
--   503_retry_after  no    the same with Retry-After: N (default 1)
--   429              no    429 rate_limited envelope, Retry-After: N seconds (default 1)
--   429_date         no    the same with Retry-After as an HTTP date N seconds ahead
--   429_missing      no    the same without Retry-After (retry_after_ms null)
--   429_garbage      no    the same with Retry-After: soon-ish (retry_after_ms null)
--   502              no    502 text/html page from a "proxy"
--   reset            no    the connection is reset (RST) before any response byte
--   empty            no    the connection is closed before any response byte
--   partial          yes   headers and part of the body ("bytes", default half), then a close
--   reset_mid_body   yes   headers and part of the body, then a RST
--   stall            yes   nothing for "ms" (default --stall-ms), then the answer, or a close
--                          with "close": true; other connections are served meanwhile
--   dribble          yes   the body "chunk" bytes (default 4) every "ms" (default --dribble-ms)
--   truncated        yes   status 200, the body cut in half (a complete HTTP response)
--   malformed        yes   status 200, the body made invalid JSON
--
-- Workflows: `app.faults.workflow` scripts how the runs dispatched while it is set end; set by
-- --workflow-fault and POST /__sandbox/faults {"workflow": ...}:
--   normal       completed (or completed_with_errors when a lead lacks an identifier)
--   stuck        never leave running (stop at half the leads; end them with
--                POST /__sandbox/workflows/{id}/cancel)
--   fail         failed at half the leads, the whole reservation kept (refund_status
--                pending_review with a refund_message)
--   fail_refund  failed at half the leads, the whole reservation refunded (charged 0,
--                refund_status not_applicable)
--   errors       completed_with_errors: every third lead (the 1st, 4th, 7th...) ends in error,
--                charged only for the results of the others
-- Enrichment workflows capture it at dispatch (sandbox.workflows); legacy bulk workflows read
-- it when they advance ("errors" runs them normally; sandbox.legacy).
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local prng = require "sandbox.prng"

local M = {}
M.__index = M

--- kind -> does the real handler run first (default)
M.RUNS = {
  ["500"] = false,
  ["503"] = false,
  ["503_retry_after"] = false,
  ["429"] = false,
  ["429_date"] = false,
  ["429_missing"] = false,
  ["429_garbage"] = false,
  ["502"] = false,
  reset = false,
  empty = false,
  partial = true,
  reset_mid_body = true,
  stall = true,
  dribble = true,
  truncated = true,
  malformed = true,
}

M.KINDS = {
  "500",
  "503",
  "503_retry_after",
  "429",
  "429_date",
  "429_missing",
  "429_garbage",
  "502",
  "reset",
  "empty",
  "partial",
  "reset_mid_body",
  "stall",
  "dribble",
  "truncated",
  "malformed",
}

M.DEFAULT_KINDS = { "500", "503", "429", "502", "reset", "partial", "truncated", "malformed" }
M.WORKFLOW = { normal = true, stuck = true, fail = true, fail_refund = true, errors = true }
M.WORKFLOW_NAMES = "normal, stuck, fail, fail_refund or errors"
M.DEFAULT_STALL_MS = 10000
M.DEFAULT_DRIBBLE_MS = 200
M.DRIBBLE_CHUNK = 4
M.STREAM = 3 -- the prng stream of random faults

local format, floor = string.format, math.floor

--- Parses "500,reset" (or an array) into a list of kinds; nil, message on an unknown kind.
function M.parse_kinds(v)
  local list = {}
  if type(v) == "string" then
    for k in v:gmatch("[^,%s]+") do
      list[#list + 1] = k
    end
  elseif type(v) == "table" then
    for i, k in ipairs(v) do
      list[i] = type(k) == "number" and format("%d", k) or k
    end
  else
    return nil, "the fault kinds must be a list"
  end
  if #list == 0 then return nil, "the list of fault kinds is empty" end
  for _, k in ipairs(list) do
    if type(k) ~= "string" or M.RUNS[k] == nil then
      return nil, format("unknown fault kind '%s' (known: %s)", tostring(k), table.concat(M.KINDS, ", "))
    end
  end
  return list
end

--- config: seed, fault_rate, faults (string), stall_ms, dribble_ms, workflow_fault.
-- Raises "--faults: ..." when the list names an unknown kind.
function M.new(config)
  local kinds = M.DEFAULT_KINDS
  if config.faults then
    local err
    kinds, err = M.parse_kinds(config.faults)
    if not kinds then error("--faults: " .. err, 0) end
  end
  local workflow = config.workflow_fault or "normal"
  if not M.WORKFLOW[workflow] then error("--workflow-fault: needs " .. M.WORKFLOW_NAMES, 0) end
  local self = setmetatable({
    seed = config.seed,
    initial = {
      rate = config.fault_rate or 0,
      kinds = kinds,
      workflow = workflow,
      stall_ms = config.stall_ms or M.DEFAULT_STALL_MS,
      dribble_ms = config.dribble_ms or M.DEFAULT_DRIBBLE_MS,
    },
  }, M)
  self:reset()
  return self
end

--- Back to the flags' settings, with the random stream restarted.
function M:reset()
  for k, v in pairs(self.initial) do
    self[k] = v
  end
  self.rng = prng.new(self.seed, M.STREAM)
end

--- Random faults and the workflow knob off.
function M:off()
  self.rate, self.workflow = 0, "normal"
end

local function ms_value(v, name)
  local n = json.integer(v)
  if not n or n < 1 or n > 3600000 then
    return nil, name .. " must be an integer number of milliseconds from 1 to 3600000"
  end
  return n
end

--- Applies {rate, kinds, stall_ms, dribble_ms, workflow} (each optional). Returns true, or
-- nil and a message (and changes nothing).
function M:configure(t)
  local new = {}
  if t.rate ~= nil then
    if type(t.rate) ~= "number" or t.rate < 0 or t.rate > 1 then return nil, "rate must be a number from 0 to 1" end
    new.rate = t.rate
  end
  if t.kinds ~= nil then
    local kinds, err = M.parse_kinds(t.kinds)
    if not kinds then return nil, err end
    new.kinds = kinds
  end
  for _, name in ipairs { "stall_ms", "dribble_ms" } do
    if t[name] ~= nil then
      local n, err = ms_value(t[name], name)
      if not n then return nil, err end
      new[name] = n
    end
  end
  if t.workflow ~= nil then
    if not M.WORKFLOW[t.workflow] then return nil, "workflow must be " .. M.WORKFLOW_NAMES end
    new.workflow = t.workflow
  end
  for k, v in pairs(new) do
    self[k] = v
  end
  return true
end

function M:info()
  return {
    rate = self.rate,
    kinds = json.array(self.kinds),
    stall_ms = self.stall_ms,
    dribble_ms = self.dribble_ms,
    workflow = self.workflow,
  }
end

--- A random fault item for the next API request, or nil (one draw per request when on).
function M:draw()
  local rng = self.rng
  if rng:float() >= self.rate then return nil end
  local kinds = self.kinds
  return { fault = kinds[rng:int(1, #kinds)], random = true }
end

--- Validates a scripted fault item (t.fault is set). Returns the item or nil, message.
function M.item(t, where)
  local kind = t.fault
  if type(kind) == "number" then kind = format("%d", kind) end
  if type(kind) ~= "string" or M.RUNS[kind] == nil then
    return nil, format("%s.fault must be one of %s", where, table.concat(M.KINDS, ", "))
  end
  local item = { fault = kind }
  for _, name in ipairs { "retry_after", "ms", "chunk", "bytes" } do
    if t[name] ~= nil and t[name] ~= json.null then
      local n = json.integer(t[name])
      local hi = name == "ms" and 3600000 or 1e9
      if not n or n < 0 or n > hi then return nil, format("%s.%s must be an integer from 0 to %d", where, name, hi) end
      item[name] = n
    end
  end
  for _, name in ipairs { "close", "execute", "retryable" } do
    if t[name] ~= nil and t[name] ~= json.null then
      if type(t[name]) ~= "boolean" then return nil, format("%s.%s must be true or false", where, name) end
      item[name] = t[name]
    end
  end
  return item
end

local PROXY_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
  .. "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
  .. "</html>\r\n"

local function envelope(code, rid, fields, headers)
  local status, body = errors.build(code, rid, fields)
  return status, json.encode(body), headers or {}
end

-- "Sun, 06 Nov 1994 08:49:37 GMT" for epoch milliseconds (rounded up to the second).
local function http_date(ms)
  local s = floor(ms / 1000)
  if s * 1000 < ms then s = s + 1 end
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", s)
end

local function too_many(app, item, rid)
  local kind, n = item.fault, item.retry_after or 1
  local headers, ms = {}, json.null
  if kind == "429" then
    headers["Retry-After"], ms = format("%d", n), n * 1000
  elseif kind == "429_date" then
    headers["Retry-After"], ms = http_date(app.clock:wall_ms() + n * 1000), n * 1000
  elseif kind == "429_garbage" then
    headers["Retry-After"] = "soon-ish"
  end
  return envelope("rate_limited", rid, { retry_after_ms = ms }, headers)
end

-- Responses of the kinds that do not run the handler.
local canned = {
  ["500"] = function(_, item, rid)
    local retryable = item.retryable
    if retryable == nil then retryable = true end
    return envelope("internal_error", rid, {
      problem = "An unexpected error occurred (a fault injected by the sandbox).",
      retryable = retryable,
    })
  end,
  ["503"] = function(_, item, rid)
    local headers = {}
    if item.retry_after or item.fault == "503_retry_after" then
      headers["Retry-After"] = format("%d", item.retry_after or 1)
    end
    return envelope("service_unavailable", rid, {
      status = 503,
      retryable = true,
      problem = "The service is temporarily unavailable (a fault injected by the sandbox).",
      fix = "Retry after a short wait, honouring Retry-After when present.",
    }, headers)
  end,
  ["502"] = function()
    return 502, PROXY_502, { ["Content-Type"] = "text/html" }
  end,
}
canned["503_retry_after"] = canned["503"]
for _, k in ipairs { "429", "429_date", "429_missing", "429_garbage" } do
  canned[k] = too_many
end

local function malformed(body)
  if body:sub(-1) == "}" then
    return body:sub(1, -2) .. ",}" -- a trailing comma: not JSON
  end
  return body .. "}{"
end

--- Serves a fault item. `run()` runs the real handler and returns status, body, headers.
-- Returns status, body, headers and the connection-level directive for sb_faults.c (or nil).
function M.serve(app, item, rid, run)
  local kind = item.fault
  local execute = item.execute
  if execute == nil then execute = M.RUNS[kind] end
  local status, body, headers = 200, "", {}
  if execute then
    status, body, headers = run()
  end
  if kind == "reset" or kind == "empty" then return status, body, headers, { kind = kind } end
  local make = canned[kind]
  if make then return make(app, item, rid) end
  local f = app.faults
  if kind == "stall" then
    return status, body, headers, { kind = "stall", ms = item.ms or f.stall_ms, close = item.close == true }
  elseif kind == "dribble" then
    return status,
      body,
      headers,
      { kind = "dribble", ms = item.ms or f.dribble_ms, chunk = item.chunk or M.DRIBBLE_CHUNK }
  elseif kind == "partial" or kind == "reset_mid_body" then
    return status, body, headers, { kind = kind, bytes = item.bytes or floor(#body / 2) }
  elseif kind == "truncated" then
    return 200, body:sub(1, floor(#body / 2)), headers
  end
  return 200, malformed(body), headers -- malformed
end

--- Records the served fault on a request-log entry (no status when nothing was sent).
function M.note(entry, item, directive)
  entry.fault = item.fault
  if directive and (directive.kind == "reset" or directive.kind == "empty" or directive.close) then
    entry.status = nil
  end
end

return M
