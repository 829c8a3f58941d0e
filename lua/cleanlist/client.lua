--- cleanlist.client: the client object and its request pipeline.
-- One pipeline serves every endpoint: URL and body building, client-side rate limiting,
-- the attempt loop with the retry policy of cleanlist.core, and the mapping of every
-- failure to a cleanlist.Error returned as `nil, err`.
local core = require "cleanlist.core"
local errors = require "cleanlist.errors"
local ratelimit = require "cleanlist.ratelimit"
local scheduler = require "cleanlist.scheduler"
local json = require "cleanlist.json"
local ngx_transport = require "cleanlist.transport.ngx"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local setmetatable, error = setmetatable, error
local concat, sort = table.concat, table.sort

local M = {}
---@class cleanlist.Client
local Client = {}
Client.__index = Client
M.Client = Client

local VERSION = core.VERSION
local ENGINE = (type(jit) == "table" and jit.version) or _VERSION
M.USER_AGENT = "cleanlist-lua/" .. VERSION .. " (" .. ENGINE .. ")"

local OPTIONS = {
  api_key = "string", base_url = "string", timeout = "number", connect_timeout = "number",
  max_retries = "number", transport = "table|string", clock = "function", sleep = "function",
  random = "function", wallclock = "function", trace = "function", ca_file = "string",
  rate_limit = "table|boolean", backoff_base = "number", backoff_cap = "number",
  max_retry_wait = "number", on_wait = "function", organization_id = "string",
  time_scale = "number", max_body_bytes = "number", max_download_bytes = "number",
  proxy = "string|boolean", headers = "table",
}
-- The options of client:with (a view of the client with other settings).
local WITH_OPTIONS = {
  headers = "table", timeout = "number", connect_timeout = "number", max_retries = "number",
  max_retry_wait = "number",
}

-- Waits shorter than this are not announced through on_wait.
local ANNOUNCE_AFTER = 1.0

-- The options of client:request.
local REQUEST_OPTIONS = {
  query = "table", body = "table", idempotency_key = "string", sign = "boolean",
  on_chunk = "function", root = "boolean", fresh_connection = "boolean", safe = "boolean",
  headers = "table",
}
local METHODS = { GET = true, POST = true, PATCH = true, PUT = true, DELETE = true, HEAD = true }

local function config_error(message)
  return errors.new { kind = "config", message = message }
end

-- Raises a config error for an unknown option or one of the wrong type; `what` names the call.
local function check_options(opts, known, what, level)
  for k, v in pairs(opts) do
    local want = known[k]
    if not want then
      error(config_error("unknown option '" .. tostring(k) .. "' for " .. what), level + 1)
    end
    if not want:find(type(v), 1, true) then
      error(config_error("option '" .. k .. "' of " .. what .. " must be a " .. want .. ", not a "
        .. type(v)), level + 1)
    end
  end
end

-- Headers the client and the transport write themselves: framing, credentials, the body's
-- type and the User-Agent. An extra header may not replace them.
local OWN_HEADERS = {
  authorization = true, ["proxy-authorization"] = true, host = true, ["content-length"] = true,
  ["transfer-encoding"] = true, connection = true, ["content-type"] = true, ["user-agent"] = true,
  expect = true, te = true, upgrade = true,
}

-- Extra headers {name = value} checked and merged over `base` (a table keyed by the lower-case
-- name, holding {name, value}); returns the merged table. Values are never quoted back in an
-- error: a header may carry a secret.
local function merge_headers(base, extra, what, level)
  local merged = {}
  for k, v in pairs(base or {}) do merged[k] = v end
  for name, value in pairs(extra) do
    if type(name) ~= "string" or not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
      error(config_error(what .. ": a header name is a token (letters, digits, '-'), not "
        .. (type(name) == "string" and ("'" .. name:sub(1, 40):gsub("%c", "?") .. "'") or type(name))), level + 1)
    end
    if OWN_HEADERS[name:lower()] then
      error(config_error(what .. ": the client sets " .. name .. " itself"), level + 1)
    end
    if type(value) == "number" then value = tostring(value) end
    if type(value) ~= "string" or value:find("[%z\1-\8\10-\31\127]") then
      error(config_error(what .. ": the value of header " .. name
        .. " must be a string without line breaks or control characters"), level + 1)
    end
    merged[name:lower()] = { name, value }
  end
  return merged
end

-- The "Name: value" lines of a merged header table, in name order (Accept first when absent).
local function header_lines(merged)
  local lines = {}
  if not (merged and merged.accept) then lines[1] = "Accept: application/json" end
  local names = {}
  for k in pairs(merged or {}) do names[#names + 1] = k end
  sort(names)
  for _, k in ipairs(names) do lines[#lines + 1] = merged[k][1] .. ": " .. merged[k][2] end
  return lines
end

-- The proxy option as the transport takes it: a URL, "" for none (false), nil for the
-- environment's (http_proxy, https_proxy, no_proxy). The URL is never quoted back: it may
-- hold a password.
local function proxy_of(opt)
  if opt == nil then return nil end
  if opt == false then return "" end
  if opt == true or opt == "" or opt:find("[%s%c]") then
    error(config_error("proxy is a proxy URL such as http://proxy.example:3128, or false for "
      .. "none (by default libcurl follows http_proxy, https_proxy and no_proxy)"), 4)
  end
  return opt
end

local function rate_limits(opt)
  if opt == false then return nil end
  local limits = {}
  for k, v in pairs(ratelimit.DEFAULTS) do limits[k] = v end
  if type(opt) == "table" then
    for k, v in pairs(opt) do
      local off = k == "per_org" and v == false
      local zero_ok = k == "margin" and v == 0
      if k == "share" then
        if type(v) ~= "boolean" then error(config_error("rate_limit.share is true or false"), 4) end
      elseif k == "shm" then
        if v ~= false and type(v) ~= "string" then
          error(config_error("rate_limit.shm names a lua_shared_dict of nginx.conf"), 4)
        end
      elseif k == "store" then
        if v ~= false and type(v) ~= "string" then
          error(config_error("rate_limit.store is a Redis URL (redis://host:port/db) or false"), 4)
        end
      elseif limits[k] == nil or (not off and (type(v) ~= "number" or (v <= 0 and not zero_ok))) then
        error(config_error("rate_limit." .. tostring(k) .. " is not a positive known limit"), 4)
      end
      limits[k] = v
    end
  end
  return limits
end

-- The sandbox started by `cleanlist --sandbox --time-scale X` exports its speed; a client
-- pointed at a loopback sandbox agrees with it on time. Never applied to a remote API.
local function time_scale_of(opt, loopback)
  if opt then
    if opt <= 0 then error(config_error("time_scale must be positive"), 4) end
    return opt
  end
  local env = tonumber(os.getenv("CLEANLIST_TIME_SCALE") or "")
  if loopback and env and env > 0 then return env end
  return 1
end

--- cleanlist.new{...}: see README. Configuration problems (no key, a malformed key, a bad
-- base URL, unknown options) raise a cleanlist.Error of kind "config" before anything is sent.
---@param opts? table
---@return cleanlist.Client
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error(config_error("cleanlist.new expects a table of options"), 2) end
  check_options(opts, OPTIONS, "cleanlist.new", 2)
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
    organization_id = opts.organization_id,
    time_scale = time_scale_of(opts.time_scale, parsed.loopback),
    headers = opts.headers and merge_headers(nil, opts.headers, "cleanlist.new", 3),
  }, Client)
  self.origin = self.base_url:match("^(https?://[^/]+)")
  if self.timeout <= 0 or self.connect_timeout <= 0 then
    error(config_error("timeout and connect_timeout must be positive"), 2)
  end
  if self.max_body_bytes < 1 or self.max_download_bytes < 1 then
    error(config_error("max_body_bytes and max_download_bytes must be positive"), 2)
  end
  local limits = rate_limits(opts.rate_limit)
  if limits then
    limits.window = limits.window / self.time_scale
    -- Shared with the other processes of the machine (a file per key and server) when talking
    -- to the real API; a loopback sandbox or an injected clock keeps it in the process unless
    -- rate_limit.share says otherwise.
    if limits.share == nil then limits.share = not parsed.loopback end
    if opts.clock then limits.share = false end
    -- Shared across machines through Redis: the option, else $CLEANLIST_RATE_LIMIT_STORE
    -- (store = false keeps the variable out).
    if limits.store == nil then limits.store = os.getenv("CLEANLIST_RATE_LIMIT_STORE") end
    if limits.store == "" or limits.store == false then limits.store = nil end
    -- inside nginx, a lua_shared_dict named "cleanlist" is where the workers share the buckets
    -- unless rate_limit.shm names another (or false), or a store shares them more widely
    local in_nginx = ngx_transport.in_nginx()
    if limits.shm == nil and not limits.store and in_nginx and ngx.shared.cleanlist then -- luacheck: ignore 113
      limits.shm = "cleanlist"
    end
    if limits.shm == false then limits.shm = nil end
    if limits.shm and not (in_nginx and ngx.shared[limits.shm]) then -- luacheck: ignore 113
      error(config_error(in_nginx and ("rate_limit.shm: nginx.conf declares no "
        .. "lua_shared_dict " .. limits.shm .. " (add: lua_shared_dict " .. limits.shm .. " 1m;)")
        or "rate_limit.shm works only inside nginx"), 2)
    end
    -- a client on cosockets reaches Redis over cosockets too: no step blocks the worker
    limits.cosockets = in_nginx and (opts.transport == nil or opts.transport == "ngx")
    if limits.store then
      local store, serr = ratelimit.store(limits.store, limits.store_timeout, limits.cosockets)
      if not store then error(config_error(serr), 2) end
    end
    limits.origin = self.origin
    limits.clock = self.clock
    self.limits = limits
    self.bucket = ratelimit.bucket(credential, limits)
    if limits.per_org then
      self.organization_id = self.organization_id or ratelimit.organization_of(credential)
      if self.organization_id then
        self.org_bucket = ratelimit.org_bucket(self.organization_id, limits)
      end
    end
  end
  local transport, terr = opts.transport
  if transport == nil or type(transport) == "string" then
    -- inside nginx, cosockets (never libcurl unless asked: it would block the worker)
    local which = transport or (ngx_transport.in_nginx() and "ngx" or "curl")
    if which ~= "curl" and which ~= "ngx" then
      error(config_error("transport is \"curl\", \"ngx\" or a transport object"), 2)
    end
    transport, terr = require("cleanlist.transport." .. which).new {
      user_agent = M.USER_AGENT, ca_file = opts.ca_file, trace = opts.trace,
      proxy = proxy_of(opts.proxy),
    }
    if not transport then error(config_error("cannot set up the transport: " .. terr.message), 2) end
  end
  self.transport = transport
  -- waits: the option, else the transport's own (ngx.sleep under nginx), else a real sleep
  self.sleep = opts.sleep or transport.sleep or core.sleep
  return self
end

function Client:__tostring()
  return "cleanlist.Client(" .. self.base_url .. ", " .. self.credential:mask() .. ")"
end

--- Closes the client's connections; a closed client refuses further calls.
--- Closes the client's connections. Closing twice is fine; a call made afterwards returns
-- nil and an error of kind "config". A view made by client:with shares its parent's
-- connections: closing a view closes the view only.
function Client:close()
  if rawget(self, "_parent") == nil and self.transport then self.transport:close() end
  self.closed = true
end

--- A view of this client whose calls carry other settings: extra `headers` (merged over the
-- client's), `timeout`, `connect_timeout`, `max_retries`, `max_retry_wait`. It shares the
-- client's key, connections and rate limits.
--   client:with{ headers = { ["X-Request-Source"] = "crm-sync" }, timeout = 10 }:whoami()
---@param opts table
---@return cleanlist.Client
function Client:with(opts)
  if type(opts) ~= "table" then error(config_error("client:with expects a table of options"), 2) end
  check_options(opts, WITH_OPTIONS, "client:with", 2)
  local view = { _parent = self }
  for k, v in pairs(opts) do
    if k == "headers" then
      view.headers = merge_headers(self.headers, v, "client:with", 2)
    else
      local least = (k == "max_retries" or k == "max_retry_wait") and 0 or nil
      if (least and v < least) or (not least and v <= 0) then
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

local WAIT_MESSAGES = {
  rate_limit = "rate limit: waiting %s before %s",
  retry_after = "rate limited: waiting %s (Retry-After) before retrying %s",
  backoff = "waiting %s before retrying %s",
  poll = "waiting %s before polling %s again",
}

local function seconds_text(s)
  if s < 10 then return ("%.1f s"):format(s) end
  return ("%.0f s"):format(s)
end

--- Waits: a timer of the scheduler inside a task, the client's sleep elsewhere. A wait of a
-- second or more is announced first through on_wait (the option, else cleanlist.on_wait):
-- on_wait{reason = "rate_limit" | "retry_after" | "backoff" | "poll", seconds =, what =, message =}.
function Client:_sleep(seconds, reason, what)
  if seconds <= 0 then return end
  local hook = self.on_wait or package.loaded.cleanlist and package.loaded.cleanlist.on_wait
  if hook and reason and seconds >= ANNOUNCE_AFTER then
    what = what or "the request"
    hook { reason = reason, seconds = seconds, what = what,
      message = WAIT_MESSAGES[reason]:format(seconds_text(seconds), what) }
  end
  if scheduler.in_task() then
    scheduler.sleep(seconds)
    return
  end
  -- A signal ends core.sleep early (Ctrl-C's hook runs between the pieces): sleep the rest.
  local left = self.sleep(seconds)
  while type(left) == "number" and left > 0 do left = self.sleep(left) end
end

-- The per-organisation bucket needs the organisation's id: given as an option, learned by
-- another client of the process, or asked of /whoami once per key and process (free; it
-- counts against the key). Calls that need it while another call of the process asks (inside
-- cleanlist.gather, or nginx's light threads) wait for that answer instead of asking again,
-- so that none goes out without the organisation's slot.
function Client:_learn_organization()
  local me = scheduler.current()
  self._asked_org = true
  local learner = ratelimit.learner(self.credential)
  if learner == nil then
    ratelimit.set_learner(self.credential, me)
    local ok, res = scheduler.pcall(self.request, self, "GET", "/whoami")
    ratelimit.set_learner(self.credential, nil)
    if not ok then error(res, 0) end
    local org = res and type(res.organization_id) == "string" and res.organization_id
    if org then
      ratelimit.remember_organization(self.credential, org)
      -- the lookup itself counts against the organisation: its slot is taken now, so that the
      -- keys of an organisation running at its limit do not meet a 429 for their lookups
      ratelimit.org_bucket(org, self.limits):acquire(self.clock())
    end
  elseif learner ~= me then
    while ratelimit.learner(self.credential) do self:_sleep(0.005) end
  end
  local org = ratelimit.organization_of(self.credential)
  if org then
    self.organization_id = org
    self.org_bucket = ratelimit.org_bucket(org, self.limits)
  end
end

function Client:_wait_for_slot(ctx)
  if not self.bucket then return end
  if self.limits.per_org and not self.org_bucket then
    local learner = ratelimit.learner(self.credential)
    -- not asked yet, or another call asks now (wait for its answer)
    if not self._asked_org or (learner and learner ~= scheduler.current()) then
      self:_learn_organization()
    end
  end
  local wait = ratelimit.reserve(self.bucket, self.org_bucket, self.clock)
  self:_sleep(wait, "rate_limit", ctx.method .. " " .. ctx.path)
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
  self:_wait_for_slot(ctx)
  -- client.on_send(method, path): told right before each attempt goes on the wire, after the
  -- rate limiter's wait (a recipe records "sent" there, not while the call is still queued).
  if self.on_send then self.on_send(ctx.method, ctx.path) end
  local res, terr = self.transport:request(req)
  if not res then
    local e = errors.new({
      kind = terr.kind or "transport", message = terr.message, cause = terr.cause,
      method = ctx.method, path = ctx.path,
    }, self.credential)
    return nil, e, terr.sent ~= false
  end
  if res.status >= 200 and res.status < 300 then
    if ctx.raw then return res end
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
    local now = self.clock()
    self.bucket:penalize(now, e.retry_after or self.backoff_base)
    if self.org_bucket then self.org_bucket:penalize(now, e.retry_after or self.backoff_base) end
  end
  return nil, e, true
end

-- The wait before the next attempt: the server's Retry-After when it gave one, else
-- exponential backoff with jitter.
function Client:_retry_wait(e, attempt)
  local backoff = core.backoff(attempt, self.backoff_base, self.backoff_cap, self.random())
  -- "Retry-After: 0" (or a date already past) is no reason to hammer: the backoff then.
  if e.retry_after and e.retry_after > 0 then return e.retry_after end
  return backoff
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
  return (opts.root and self.origin or self.base_url) .. path
    .. (query and next(query) ~= nil and query_string(query) or "")
end

local function usage_error(message)
  return errors.new { kind = "invalid_request", message = message }
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
-- like a GET). Returns the decoded body, or nil and a cleanlist.Error. A malformed
-- call (unknown option, bad method or path) raises.
---@param method "GET"|"POST"|"PATCH"|"PUT"|"DELETE"|"HEAD"
---@param path string
---@param opts? {query?: table, body?: table, idempotency_key?: string, root?: boolean, sign?: boolean, on_chunk?: fun(bytes: string): any, fresh_connection?: boolean, safe?: boolean}
---@return table|nil
---@return cleanlist.Error|nil
function Client:request(method, path, opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(usage_error("client:request expects a table of options, not a " .. type(opts)), 2)
  end
  check_options(opts, REQUEST_OPTIONS, "client:request", 2)
  if type(method) ~= "string" or not METHODS[method] then
    error(usage_error("client:request: unknown method " .. (type(method) == "string"
      and ("'" .. method:sub(1, 20):gsub("%c", "?") .. "'") or type(method))), 2)
  end
  if type(path) ~= "string" then error(usage_error("client:request: the path must be a string"), 2) end
  local url, uerr = self:_url(path, opts)
  if not url then error(usage_error("client:request: " .. uerr), 2) end
  if self.closed or not self.transport then
    return nil, errors.new { kind = "config", method = method, path = path:match("^[^?]*"),
      message = "the client is closed (client:close() was called): nothing was sent; make "
        .. "another with cleanlist.new" }
  end
  if self.transport.check then -- a transport that cannot send from here says why (nginx's init)
    local perr = self.transport:check()
    if perr then return nil, errors.new(perr) end
  end
  local headers = header_lines(opts.headers
    and merge_headers(self.headers, opts.headers, "client:request", 2) or self.headers)
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
    method = method, url = url, headers = headers, body = body,
    credential = opts.sign ~= false and self.credential or nil,
    timeout = self.timeout, connect_timeout = self.connect_timeout,
    fresh_connect = opts.fresh_connection == true,
    -- a body held in memory is capped; a streamed one (a download) has its own cap
    max_body = opts.on_chunk and self.max_download_bytes or self.max_body_bytes,
  }
  local delivered = false -- a streamed body that began is never fetched again (no repeats)
  if opts.on_chunk then
    req.on_chunk = function(bytes)
      delivered = true
      return opts.on_chunk(bytes)
    end
  end
  local ctx = { method = method, path = path:match("^[^?]*"), raw = opts.on_chunk ~= nil }
  local safe = method == "GET" or method == "HEAD" or opts.safe == true
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
    e.sent = sent and true or false -- false: no byte of the last attempt reached the server
    if ambiguous then e.ambiguous = true end
    if not retry or delivered then return nil, e end
    local wait = self:_retry_wait(e, attempt)
    if wait > self.max_retry_wait then
      e.retry_reason = ("the server asks to wait %s s, more than max_retry_wait (%.0f s)")
        :format(wait < 1e9 and ("%.0f"):format(wait) or "more than 10^9", self.max_retry_wait)
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
  return scheduler.gather(fns, { concurrency = opts.concurrency, clock = self.clock,
    sleep = self.sleep })
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

for _, group in ipairs { "workspace", "search", "lists", "enrichment", "agents", "export",
  "keys", "legacy", "waiting" } do
  M.mixin(require("cleanlist.api." .. group))
end


return M
