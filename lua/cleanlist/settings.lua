--- cleanlist.settings: the options of cleanlist.new, client:with and client:request (their
-- names and types), and what cleanlist.new derives from them: the proxy, the time scale, the
-- rate limits with where their buckets are shared, and the transport.
local errors = require "cleanlist.errors"
local ratelimit = require "cleanlist.ratelimit"
local ngx_transport = require "cleanlist.transport.ngx"

local type, pairs, tostring, error = type, pairs, tostring, error

local M = {}

--- The options of cleanlist.new: name -> the types it takes ("table|string").
M.NEW = {
  api_key = "string",
  base_url = "string",
  timeout = "number",
  connect_timeout = "number",
  max_retries = "number",
  transport = "table|string",
  clock = "function",
  sleep = "function",
  random = "function",
  wallclock = "function",
  trace = "function",
  ca_file = "string",
  rate_limit = "table|boolean",
  backoff_base = "number",
  backoff_cap = "number",
  max_retry_wait = "number",
  on_wait = "function",
  organization_id = "string",
  time_scale = "number",
  max_body_bytes = "number",
  max_download_bytes = "number",
  proxy = "string|boolean",
  headers = "table",
}

--- The options of client:with (a view of the client with other settings).
M.WITH = {
  headers = "table",
  timeout = "number",
  connect_timeout = "number",
  max_retries = "number",
  max_retry_wait = "number",
}

--- The options of client:request.
M.REQUEST = {
  query = "table",
  body = "table",
  idempotency_key = "string",
  sign = "boolean",
  on_chunk = "function",
  root = "boolean",
  fresh_connection = "boolean",
  safe = "boolean",
  headers = "table",
}

--- A cleanlist.Error of kind "config".
---@param message string
function M.config_error(message)
  return errors.new { kind = "config", message = message }
end
local config_error = M.config_error

--- Raises a config error for an unknown option or one of the wrong type; `what` names the
-- call, `level` is error's level (of the caller).
---@param opts table
---@param known table
---@param what string
---@param level integer
function M.check(opts, known, what, level)
  for k, v in pairs(opts) do
    local want = known[k]
    if not want then error(config_error("unknown option '" .. tostring(k) .. "' for " .. what), level + 1) end
    if not want:find(type(v), 1, true) then
      error(
        config_error("option '" .. k .. "' of " .. what .. " must be a " .. want .. ", not a " .. type(v)),
        level + 1
      )
    end
  end
end

--- The proxy option as the transport takes it: a URL, "" for none (false), nil for the
-- environment's (http_proxy, https_proxy, no_proxy). The URL is never quoted back: it may
-- hold a password.
---@param opt string|boolean|nil
---@return string|nil
function M.proxy(opt)
  if opt == nil then return nil end
  if opt == false then return "" end
  if opt == true or opt == "" or opt:find("[%s%c]") then
    error(
      config_error(
        "proxy is a proxy URL such as http://proxy.example:3128, or false for "
          .. "none (by default libcurl follows http_proxy, https_proxy and no_proxy)"
      ),
      4
    )
  end
  return opt
end

--- The speed of time: the option; else, for a client pointed at a loopback sandbox, the
-- speed `cleanlist --sandbox --time-scale X` exports (never applied to a remote API); else 1.
---@param opt number|nil
---@param loopback boolean
---@return number
function M.time_scale(opt, loopback)
  if opt then
    if opt <= 0 then error(config_error("time_scale must be positive"), 4) end
    return opt
  end
  local env = tonumber(os.getenv("CLEANLIST_TIME_SCALE") or "")
  if loopback and env and env > 0 then return env end
  return 1
end

--- True for a number above 0 and below infinity (not NaN).
---@param v any
---@return boolean
function M.finite_positive(v)
  return type(v) == "number" and v > 0 and v < math.huge
end
local finite_positive = M.finite_positive

-- The numbers of the rate_limit option: what each must be, and the test.
local LIMITS = {
  per_key = {
    "a number of requests, at least 1",
    function(v)
      return finite_positive(v) and v >= 1
    end,
  },
  per_org = {
    "a number of requests, at least 1, or false",
    function(v)
      return v == false or (finite_positive(v) and v >= 1)
    end,
  },
  window = { "a positive number of seconds", finite_positive },
  burst = { "a positive number of requests", finite_positive },
  margin = {
    "a share of the window, at least 0 and below 1",
    function(v)
      return type(v) == "number" and v >= 0 and v < 1
    end,
  },
  store_timeout = { "a positive number of seconds", finite_positive },
}

-- The rate_limit option over the defaults (nil: false, no limiting).
local function rate_limit_option(opt)
  if opt == false then return nil end
  local limits = {}
  for k, v in pairs(ratelimit.DEFAULTS) do
    limits[k] = v
  end
  if type(opt) ~= "table" then return limits end
  for k, v in pairs(opt) do
    local rule = LIMITS[k]
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
    elseif not rule then
      error(
        config_error(
          "rate_limit has no setting '"
            .. tostring(k)
            .. "' (it takes per_key, per_org, window, burst, margin, share, shm, store, store_timeout)"
        ),
        4
      )
    elseif not rule[2](v) then
      local was = type(v) == "number" and tostring(v) or ("a " .. type(v))
      error(config_error("rate_limit." .. k .. " must be " .. rule[1] .. ", not " .. was), 4)
    end
    limits[k] = v
  end
  return limits
end

-- Where the buckets are shared: limits.share (a file per key and server, with the other
-- processes of the machine), limits.store (Redis, across machines), limits.shm (nginx's
-- workers), and whether the store is reached over cosockets.
local function sharing(limits, opts, loopback)
  -- Shared with the other processes of the machine when talking to the real API; a loopback
  -- sandbox or an injected clock keeps it in the process unless rate_limit.share says otherwise.
  if limits.share == nil then limits.share = not loopback end
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
    error(
      config_error(
        in_nginx
            and ("rate_limit.shm: nginx.conf declares no lua_shared_dict %s (add: lua_shared_dict %s 1m;)"):format(
              limits.shm,
              limits.shm
            )
          or "rate_limit.shm works only inside nginx"
      ),
      3
    )
  end
  -- a client on cosockets reaches Redis over cosockets too: no step blocks the worker
  limits.cosockets = in_nginx and (opts.transport == nil or opts.transport == "ngx")
  if limits.store then
    local store, serr = ratelimit.store(limits.store, limits.store_timeout, limits.cosockets)
    if not store then error(config_error(serr), 3) end
  end
end

--- The rate limits of a client made with `opts` (nil: rate_limit = false): the limits of
-- cleanlist.ratelimit with the window scaled to the client's time, where the buckets are
-- shared, and the client's origin and clock.
---@param opts table the options of cleanlist.new
---@param client {time_scale: number, origin: string, clock: function}
---@param loopback boolean the base URL is on loopback (a sandbox)
---@return table|nil
function M.rate_limits(opts, client, loopback)
  local limits = rate_limit_option(opts.rate_limit)
  if not limits then return nil end
  limits.window = limits.window / client.time_scale
  sharing(limits, opts, loopback)
  limits.origin = client.origin
  limits.clock = client.clock
  return limits
end

--- The transport of a client: the option's object, else a new "curl" or "ngx" transport (by
-- default cosockets inside nginx, never libcurl unless asked: it would block the worker).
---@param opts table the options of cleanlist.new
---@param user_agent string
---@return table
function M.transport(opts, user_agent)
  local transport = opts.transport
  if transport ~= nil and type(transport) ~= "string" then return transport end
  local which = transport or (ngx_transport.in_nginx() and "ngx" or "curl")
  if which ~= "curl" and which ~= "ngx" then
    error(config_error('transport is "curl", "ngx" or a transport object'), 3)
  end
  local made, terr = require("cleanlist.transport." .. which).new {
    user_agent = user_agent,
    ca_file = opts.ca_file,
    trace = opts.trace,
    proxy = M.proxy(opts.proxy),
  }
  if not made then error(config_error("cannot set up the transport: " .. terr.message), 3) end
  return made
end

return M
