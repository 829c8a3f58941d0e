--- cleanlist.client: the client object and its request pipeline.
-- One pipeline serves every endpoint: URL and body building, client-side rate limiting,
-- the attempt loop with the retry policy of cleanlist.core, and the mapping of every
-- failure to a cleanlist.Error returned as `nil, err`.
local core = require "cleanlist.core"
local errors = require "cleanlist.errors"
local ratelimit = require "cleanlist.ratelimit"
local scheduler = require "cleanlist.scheduler"
local json = require "cleanlist.json"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local setmetatable, error = setmetatable, error
local concat, sort = table.concat, table.sort

local M = {}
local Client = {}
Client.__index = Client
M.Client = Client

local VERSION = core.VERSION
local ENGINE = (type(jit) == "table" and jit.version) or _VERSION
M.USER_AGENT = "cleanlist-lua/" .. VERSION .. " (" .. ENGINE .. ")"

local OPTIONS = {
  api_key = "string", base_url = "string", timeout = "number", connect_timeout = "number",
  max_retries = "number", transport = "table", clock = "function", sleep = "function",
  random = "function", wallclock = "function", trace = "function", ca_file = "string",
  rate_limit = "table|boolean", backoff_base = "number", backoff_cap = "number",
  max_retry_wait = "number",
}

local function config_error(message)
  return errors.new { kind = "config", message = message }
end

local function check_options(opts)
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then
      error(config_error("unknown option '" .. tostring(k) .. "' for cleanlist.new"), 3)
    end
    if not want:find(type(v), 1, true) then
      error(config_error("option '" .. k .. "' must be a " .. want .. ", not a " .. type(v)), 3)
    end
  end
end

local function rate_limits(opt)
  if opt == false then return nil end
  local limits = {}
  for k, v in pairs(ratelimit.DEFAULTS) do limits[k] = v end
  if type(opt) == "table" then
    for k, v in pairs(opt) do
      if limits[k] == nil or type(v) ~= "number" or v <= 0 then
        error(config_error("rate_limit." .. tostring(k) .. " is not a positive known limit"), 4)
      end
      limits[k] = v
    end
  end
  return limits
end

--- cleanlist.new{...}: see README. Configuration problems (no key, a malformed key, a bad
-- base URL, unknown options) raise a cleanlist.Error of kind "config" before anything is sent.
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error(config_error("cleanlist.new expects a table of options"), 2) end
  check_options(opts)
  local credential, kerr = core.credential(opts.api_key)
  if not credential then error(config_error(kerr), 2) end
  local base_url = opts.base_url or os.getenv(core.BASE_URL_ENV) or core.DEFAULT_BASE_URL
  local parsed, uerr = core.check_base_url(base_url)
  if not parsed then error(config_error(uerr), 2) end

  local self = setmetatable({
    credential = credential,
    base_url = (base_url:gsub("/+$", "")),
    timeout = opts.timeout or 60,
    connect_timeout = opts.connect_timeout or 10,
    max_retries = opts.max_retries or 2,
    backoff_base = opts.backoff_base or 0.5,
    backoff_cap = opts.backoff_cap or 8,
    max_retry_wait = opts.max_retry_wait or 120,
    clock = opts.clock or core.monotonic,
    wallclock = opts.wallclock or os.time,
    sleep = opts.sleep or core.sleep,
    random = opts.random or math.random,
  }, Client)
  if self.timeout <= 0 or self.connect_timeout <= 0 then
    error(config_error("timeout and connect_timeout must be positive"), 2)
  end
  local limits = rate_limits(opts.rate_limit)
  if limits then self.bucket = ratelimit.bucket(credential, limits) end
  local transport, terr = opts.transport
  if not transport then
    transport, terr = require("cleanlist.transport.curl").new {
      user_agent = M.USER_AGENT, ca_file = opts.ca_file, trace = opts.trace,
    }
    if not transport then error(config_error("cannot set up the transport: " .. terr.message), 2) end
  end
  self.transport = transport
  return self
end

function Client:__tostring()
  return "cleanlist.Client(" .. self.base_url .. ", " .. self.credential:mask() .. ")"
end

function Client:close()
  if self.transport then self.transport:close() end
  self.transport = nil
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

--- Query string from a table; array values repeat the key (columns=a&columns=b).
local function query_string(q)
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = k end
  sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(item) end
    elseif v ~= nil and v ~= json.null then
      parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return #parts > 0 and ("?" .. concat(parts, "&")) or ""
end

--- Waits: a timer of the scheduler inside a task, the client's sleep elsewhere.
function Client:_sleep(seconds)
  if seconds <= 0 then return end
  if scheduler.in_task() then scheduler.sleep(seconds) else self.sleep(seconds) end
end

function Client:_wait_for_slot()
  if not self.bucket then return end
  self:_sleep(self.bucket:acquire(self.clock()))
end

function Client:_error_from(res, ctx)
  return errors.from_response(res, {
    kind_for_status = core.kind_for_status,
    retry_after = function(v) return core.retry_after(v, self.wallclock()) end,
    credential = self.credential, method = ctx.method, path = ctx.path,
  })
end

-- One attempt: returns data or nil, err (err carries `sent` for the retry decision).
function Client:_attempt(req, ctx)
  self:_wait_for_slot()
  local res, terr = self.transport:request(req)
  if not res then
    local e = errors.new({
      kind = terr.kind or "transport", message = terr.message, cause = terr.cause,
      method = ctx.method, path = ctx.path,
    }, self.credential)
    return nil, e, terr.sent ~= false
  end
  if res.status >= 200 and res.status < 300 then
    if res.status == 204 or res.body == "" then return {} end
    local data, derr = json.decode(res.body)
    if type(data) ~= "table" then
      return nil, errors.new({
        kind = "decode", status = res.status, method = ctx.method, path = ctx.path,
        message = "the response is not a JSON object: " .. tostring(derr or type(data)),
        request_id = res.headers["x-request-id"], body = res.body:sub(1, 512),
      }, self.credential), true
    end
    return data
  end
  local e = self:_error_from(res, ctx)
  if res.status == 429 and self.bucket then
    self.bucket:penalize(self.clock(), e.retry_after or self.backoff_base)
  end
  return nil, e, true
end

-- The wait before the next attempt: the server's Retry-After when it gave one, else
-- exponential backoff with jitter.
function Client:_retry_wait(e, attempt)
  if e.retry_after then return e.retry_after end
  return core.backoff(attempt, self.backoff_base, self.backoff_cap, self.random())
end

--- The request pipeline. opts: query (table), body (table, JSON-encoded),
-- idempotency_key (string: the body carries one, so the request may be repeated).
-- Returns the decoded body, or nil and a cleanlist.Error.
function Client:request(method, path, opts)
  opts = opts or {}
  local headers = { "Accept: application/json" }
  local body
  if opts.body ~= nil then
    local encoded, jerr = json.encode(opts.body)
    if not encoded then
      return nil, errors.new { kind = "invalid_request", message = "cannot encode the body: " .. jerr }
    end
    body = encoded
    headers[#headers + 1] = "Content-Type: application/json"
  end
  local req = {
    method = method, url = self.base_url .. path .. query_string(opts.query or {}),
    headers = headers, body = body, credential = self.credential,
    timeout = self.timeout, connect_timeout = self.connect_timeout,
  }
  local ctx = { method = method, path = path }
  local safe = method == "GET" or method == "HEAD"
  local attempt = 0
  while true do
    attempt = attempt + 1
    local data, e, sent = self:_attempt(req, ctx)
    if data then return data end
    local retry, ambiguous, reason = core.retry_decide {
      safe = safe, idempotent_key = opts.idempotency_key ~= nil, kind = e.kind, sent = sent,
      status = e.status, retryable = e.retryable, attempt = attempt, max_retries = self.max_retries,
    }
    e.attempts, e.retry_reason = attempt, reason
    if ambiguous then e.ambiguous = true end
    if not retry then return nil, e end
    local wait = self:_retry_wait(e, attempt)
    if wait > self.max_retry_wait then
      e.retry_reason = ("the server asks to wait %.0f s, more than max_retry_wait (%.0f s)")
        :format(wait, self.max_retry_wait)
      return nil, e
    end
    self:_sleep(wait)
  end
end

--- Runs functions concurrently on this client's connection pool; see cleanlist.gather.
function Client:gather(fns, opts)
  opts = opts or {}
  return scheduler.gather(fns, { concurrency = opts.concurrency, clock = self.clock,
    sleep = self.sleep })
end

--- Adds the methods of an API group module (a table of functions) to the client class.
function M.mixin(group)
  for name, fn in pairs(group) do
    if Client[name] then error("BUG: method '" .. name .. "' defined twice") end
    Client[name] = fn
  end
end

M.mixin(require "cleanlist.api.workspace")


return M
