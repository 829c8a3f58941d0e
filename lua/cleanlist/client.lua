--- cleanlist.client: the client object and its request pipeline.
-- One pipeline serves every endpoint: URL and body building, client-side rate limiting,
-- the attempt loop with the retry policy of cleanlist.core, and the mapping of every
-- failure to a cleanlist.Error returned as `nil, err`.
local core = require "cleanlist.core"
local errors = require "cleanlist.errors"
local ratelimit = require "cleanlist.ratelimit"
local scheduler = require "cleanlist.scheduler"
local json = require "cleanlist.json"
local headers = require "cleanlist.headers"
local settings = require "cleanlist.settings"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local setmetatable, error = setmetatable, error
local concat, sort = table.concat, table.sort
local config_error = settings.config_error

local M = {}
---@class cleanlist.Client
local Client = {}
Client.__index = Client
M.Client = Client

local VERSION = core.VERSION
local ENGINE = (type(jit) == "table" and jit.version) or _VERSION
M.USER_AGENT = "cleanlist-lua/" .. VERSION .. " (" .. ENGINE .. ")"

local METHODS = { GET = true, POST = true, PATCH = true, PUT = true, DELETE = true, HEAD = true }

-- What a client learns as it runs: the organisation of its key (given as an option, else
-- remembered by the process or asked of /whoami) and its bucket. One table, which the
-- client's views share: what a view learns, its client and the other views know.
local function organization(credential, opts, limits)
  local org = { id = opts.organization_id }
  if limits and limits.per_org then
    org.id = org.id or ratelimit.organization_of(credential)
    if org.id then org.bucket = ratelimit.org_bucket(org.id, limits) end
  end
  return org
end

--- cleanlist.new{...}: see README. Configuration problems (no key, a malformed key, a bad
-- base URL, unknown options) raise a cleanlist.Error of kind "config" before anything is sent.
---@param opts? table
---@return cleanlist.Client
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error(config_error("cleanlist.new expects a table of options"), 2) end
  settings.check(opts, settings.NEW, "cleanlist.new", 2)
  local credential, kerr = core.credential(opts.api_key)
  if not credential then error(config_error(kerr.message), 2) end
  local base_url = opts.base_url or os.getenv(core.BASE_URL_ENV) or core.DEFAULT_BASE_URL
  local parsed, uerr = core.check_base_url(base_url)
  if not parsed then error(config_error(uerr.message), 2) end

  local self = setmetatable({
    credential = credential,
    base_url = (base_url:gsub("/+$", "")),
    timeout = opts.timeout or 60,
    connect_timeout = opts.connect_timeout or 10,
    max_retries = opts.max_retries or 2,
    backoff_base = opts.backoff_base or 0.5,
    backoff_cap = opts.backoff_cap or 8,
    max_retry_wait = opts.max_retry_wait or 120,
    max_body_bytes = opts.max_body_bytes or 32 * 1024 * 1024,
    max_download_bytes = opts.max_download_bytes or 16 * 1024 * 1024 * 1024,
    clock = opts.clock or core.monotonic,
    wallclock = opts.wallclock or os.time,
    random = opts.random or math.random,
    on_wait = opts.on_wait,
    time_scale = settings.time_scale(opts.time_scale, parsed.loopback),
    headers = opts.headers and headers.merge(nil, opts.headers, "cleanlist.new", 2),
  }, Client)
  self.header_lines = headers.lines(self.headers)
  self.origin = self.base_url:match("^(https?://[^/]+)")
  if not (settings.finite_positive(self.timeout) and settings.finite_positive(self.connect_timeout)) then
    error(config_error("timeout and connect_timeout must be positive numbers of seconds"), 2)
  end
  if self.max_body_bytes < 1 or self.max_download_bytes < 1 then
    error(config_error("max_body_bytes and max_download_bytes must be positive"), 2)
  end
  local limits = settings.rate_limits(opts, self, parsed.loopback)
  if limits then
    self.limits = limits
    self.bucket = ratelimit.bucket(credential, limits)
  end
  self.org = organization(credential, opts, limits)
  local transport = settings.transport(opts, M.USER_AGENT)
  self.transport = transport
  -- waits: the option, else the transport's own (ngx.sleep under nginx), else a real sleep
  self.sleep = opts.sleep or transport.sleep or core.sleep
  return self
end

function Client:__tostring()
  return "cleanlist.Client(" .. self.base_url .. ", " .. self.credential:mask() .. ")"
end

--- Closes the client's connections. Closing twice is fine; a call made afterwards returns
-- nil and an error of kind "config". A view made by client:with shares its parent's
-- connections: closing a view closes the view only.
function Client:close()
  if rawget(self, "_parent") == nil and self.transport then self.transport:close() end
  self.closed = true
end

--- A view of this client whose calls carry other settings: extra `headers` (merged over the
-- client's), `timeout`, `connect_timeout`, `max_retries`, `max_retry_wait`. It shares the
-- client's key, connections and rate limits, and what the client learns as it runs (the
-- organisation of the key): learned through the view, the client and its other views know it.
--   client:with{ headers = { ["X-Request-Source"] = "crm-sync" }, timeout = 10 }:whoami()
---@param opts table
---@return cleanlist.Client
function Client:with(opts)
  if type(opts) ~= "table" then error(config_error("client:with expects a table of options"), 2) end
  settings.check(opts, settings.WITH, "client:with", 2)
  local view = { _parent = self }
  for k, v in pairs(opts) do
    if k == "headers" then
      view.headers = headers.merge(self.headers, v, "client:with", 2)
      view.header_lines = headers.lines(view.headers)
    else
      local least = (k == "max_retries" or k == "max_retry_wait") and 0 or nil
      if (least and (v < least or v ~= v)) or (not least and not settings.finite_positive(v)) then
        error(config_error("client:with: " .. k .. (least and " must not be negative" or " must be positive")), 2)
      end
      view[k] = v
    end
  end
  return setmetatable(view, { __index = self, __tostring = Client.__tostring })
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

--- Query string from a table; array values repeat the key (columns=a&columns=b).
local function query_string(q)
  local keys = {}
  for k in pairs(q) do
    keys[#keys + 1] = k
  end
  sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do
        parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(item)
      end
    elseif v ~= nil and v ~= json.null then
      parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return #parts > 0 and ("?" .. concat(parts, "&")) or ""
end

function Client:_error_from(res, ctx)
  return errors.from_response(res, {
    kind_for_status = core.kind_for_status,
    retry_after = function(v)
      return core.retry_after(v, self.wallclock())
    end,
    credential = self.credential,
    method = ctx.method,
    path = ctx.path,
  })
end

-- One attempt: returns data or nil, err (err carries `sent` for the retry decision).
function Client:_attempt(req, ctx)
  self:_wait_for_slot(ctx)
  -- client.on_send(method, path): told right before each attempt goes on the wire, after the
  -- rate limiter's wait (a recipe records "sent" there, not while the call is still queued).
  if self.on_send then self.on_send(ctx.method, ctx.path) end
  local res, terr = self.transport:request(req)
  if not res then
    local e = errors.new({
      kind = terr.kind or "transport",
      message = terr.message,
      cause = terr.cause,
      method = ctx.method,
      path = ctx.path,
    }, self.credential)
    return nil, e, terr.sent ~= false
  end
  if res.status >= 200 and res.status < 300 then
    if ctx.raw then return res end
    if res.status == 204 or res.body == "" then return {} end
    local data, derr = json.decode(res.body)
    if type(data) ~= "table" then
      return nil,
        errors.new({
          kind = "decode",
          status = res.status,
          method = ctx.method,
          path = ctx.path,
          message = "the response is not a JSON object: " .. tostring(derr or type(data)),
          request_id = res.headers["x-request-id"],
          body = res.body:sub(1, 512),
        }, self.credential),
        true
    end
    return data
  end
  local e = self:_error_from(res, ctx)
  if res.status == 429 then self:_penalize(e) end
  return nil, e, true
end

-- The URL of a request: a path under the base URL, a path under the origin (opts.root), or
-- an absolute URL (a pre-signed download link). nil and a message when it is not acceptable.
function Client:_url(path, opts)
  if path:find("^https?://") then
    local ok, uerr = core.check_base_url(path:match("^[^?#]*"))
    if not ok then return nil, uerr.message end
    return path
  end
  if path:sub(1, 1) ~= "/" then return nil, "the path must start with '/' or be an https:// URL" end
  if path:find("[%c%s]") then return nil, "the path contains spaces or control characters" end
  if path:find(".", 1, true) then
    for seg in path:gmatch("[^/?#]+") do
      if seg == ".." or seg == "." then return nil, "the path may not contain '.' or '..' segments" end
    end
  end
  local query = opts.query
  return (opts.root and self.origin or self.base_url)
    .. path
    .. (query and next(query) ~= nil and query_string(query) or "")
end

local function usage_error(message)
  return errors.new { kind = "invalid_request", message = message }
end

-- Raises an invalid_request error at `level` for a malformed call of client:request (an
-- unknown option, a bad method or path); returns the URL of a good one.
function Client:_check_call(method, path, opts, level)
  if type(opts) ~= "table" then
    error(usage_error("client:request expects a table of options, not a " .. type(opts)), level + 1)
  end
  settings.check(opts, settings.REQUEST, "client:request", level + 1)
  if type(method) ~= "string" or not METHODS[method] then
    error(
      usage_error(
        "client:request: unknown method "
          .. (type(method) == "string" and ("'" .. method:sub(1, 20):gsub("%c", "?") .. "'") or type(method))
      ),
      level + 1
    )
  end
  if type(path) ~= "string" then error(usage_error("client:request: the path must be a string"), level + 1) end
  local url, uerr = self:_url(path, opts)
  if not url then error(usage_error("client:request: " .. uerr), level + 1) end
  return url
end

-- The request the transport sends for a checked call, with the headers of the client (or
-- the view), merged with the call's own when it has some; or nil and the error that keeps it
-- from being sent (the client is closed, the transport cannot send from here, the body
-- cannot be encoded).
function Client:_prepare(method, url, path, opts)
  if self.closed or not self.transport then
    return nil,
      errors.new {
        kind = "config",
        method = method,
        path = path:match("^[^?]*"),
        message = "the client is closed (client:close() was called): nothing was sent; make "
          .. "another with cleanlist.new",
      }
  end
  if self.transport.check then -- a transport that cannot send from here says why (nginx's init)
    local perr = self.transport:check()
    if perr then return nil, errors.new(perr) end
  end
  local lines = opts.headers and headers.lines(headers.merge(self.headers, opts.headers, "client:request", 3))
    or headers.copy(self.header_lines)
  local body
  if opts.body ~= nil then
    local encoded, jerr = json.encode(opts.body)
    if not encoded then
      return nil, errors.new { kind = "invalid_request", message = "cannot encode the body: " .. jerr }
    end
    body = encoded
    lines[#lines + 1] = "Content-Type: application/json"
  end
  return {
    method = method,
    url = url,
    headers = lines,
    body = body,
    credential = opts.sign ~= false and self.credential or nil,
    timeout = self.timeout,
    connect_timeout = self.connect_timeout,
    fresh_connect = opts.fresh_connection == true,
    -- a body held in memory is capped; a streamed one (a download) has its own cap
    max_body = opts.on_chunk and self.max_download_bytes or self.max_body_bytes,
  }
end

--- The request pipeline, and the escape hatch for anything the methods do not cover.
-- method: GET, POST, PATCH, PUT, DELETE or HEAD. path: under the base URL ("/whoami"), or an
-- absolute https:// URL. opts: query (table), body (table, JSON-encoded), idempotency_key
-- (string: the body carries one, so the request may be repeated), root (the path is under the
-- API's origin, not the base URL), sign = false (no Authorization: pre-signed links),
-- on_chunk (function(bytes): a 2xx body streamed to it; the result is then the response
-- {status, headers}), fresh_connection = true (a new connection, so that libcurl never sends
-- the request a second time on its own after a kept-alive connection died: the paid methods
-- set it), safe = true (a POST that only reads, such as a search or an estimate: retried
-- like a GET), headers (extra headers of this call, merged over the client's). Returns the
-- decoded body, or nil and a cleanlist.Error. A malformed call (unknown option, bad method or
-- path) raises.
---@param method "GET"|"POST"|"PATCH"|"PUT"|"DELETE"|"HEAD"
---@param path string
---@param opts? {query?: table, body?: table, idempotency_key?: string, root?: boolean, sign?: boolean, on_chunk?: fun(bytes: string): any, fresh_connection?: boolean, safe?: boolean, headers?: table}
---@return table|nil
---@return cleanlist.Error|nil
function Client:request(method, path, opts)
  if opts == nil then opts = {} end
  local url = self:_check_call(method, path, opts, 2)
  local req, perr = self:_prepare(method, url, path, opts)
  if not req then return nil, perr end
  local delivered = false -- a streamed body that began is never fetched again (no repeats)
  if opts.on_chunk then req.on_chunk = function(bytes)
    delivered = true
    return opts.on_chunk(bytes)
  end end
  local ctx = { method = method, path = path:match("^[^?]*"), raw = opts.on_chunk ~= nil }
  local safe = method == "GET" or method == "HEAD" or opts.safe == true
  local attempt = 0
  while true do
    attempt = attempt + 1
    local data, e, sent = self:_attempt(req, ctx)
    if data then return data end
    local retry, ambiguous, reason = core.retry_decide {
      safe = safe,
      idempotent_key = opts.idempotency_key ~= nil,
      kind = e.kind,
      sent = sent,
      retryable = e.retryable,
      attempt = attempt,
      max_retries = self.max_retries,
    }
    e.attempts, e.retry_reason = attempt, reason
    e.sent = sent and true or false -- false: no byte of the last attempt reached the server
    if ambiguous then e.ambiguous = true end
    if not retry or delivered then return nil, e end
    local wait = self:_retry_wait(e, attempt)
    if wait > self.max_retry_wait then
      e.retry_reason = ("the server asks to wait %s s, more than max_retry_wait (%.0f s)"):format(
        wait < 1e9 and ("%.0f"):format(wait) or "more than 10^9",
        self.max_retry_wait
      )
      return nil, e
    end
    self:_sleep(wait, e.retry_after and "retry_after" or "backoff", method .. " " .. ctx.path)
  end
end

--- Runs functions concurrently on this client's connection pool; see cleanlist.gather.
---@param fns function[]
---@param opts? {concurrency?: integer}
---@return table[]
function Client:gather(fns, opts)
  opts = opts or {}
  if self.transport and self.transport.gather then return self.transport:gather(fns, opts) end
  return scheduler.gather(fns, { concurrency = opts.concurrency, clock = self.clock, sleep = self.sleep })
end

--- Adds the methods of an API group module (a table of functions) to the client class.
function M.mixin(group)
  for name, fn in pairs(group) do
    if type(fn) == "function" then
      if Client[name] then error("BUG: method '" .. name .. "' defined twice") end
      Client[name] = fn
    end
  end
end

M.mixin(require "cleanlist.pacing")
local API_GROUPS = { "workspace", "search", "lists", "enrichment", "agents", "export", "keys", "legacy", "waiting" }
for _, group in ipairs(API_GROUPS) do
  M.mixin(require("cleanlist.api." .. group))
end

return M
