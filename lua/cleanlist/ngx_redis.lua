--- cleanlist.ngx_redis: the Redis store of rate-limit buckets spoken over nginx's cosockets,
-- so that sharing the API's budget across machines never blocks a worker. It says to Redis
-- what the hiredis store (core/cl_redis.c) says: the same script, keys and arguments, from
-- cleanlist.core (cl_redis_proto.h); only the wire (RESP over ngx.socket.tcp) is its own.
-- Connections are kept in nginx's pool; after a failure the store answers "unreachable" at
-- once for 5 s (the caller limits itself alone meanwhile), then tries again.
local core = require "cleanlist.core"

local ngx = ngx -- luacheck: ignore 113 (nginx's global)
local concat, tostring, tonumber = table.concat, tostring, tonumber

local M = {}

local RETRY_SECONDS = 5

local Store = {}
Store.__index = Store

-- value, or nil and the failure as the C modules give theirs: {kind = "transport", message}.
local function failure(value, message)
  if value ~= nil then return value end
  return nil, { kind = "transport", message = message }
end

--- The store at url (as rate_limit.store); nil, err for a malformed URL. Nothing is
-- connected until the first operation. Failures are {kind, message}, as the hiredis store's.
function M.store(url, timeout)
  local u, err = core.redis_url(url)
  if not u then return nil, err end
  local auth = u.password and ngx.md5((u.user or "") .. ":" .. u.password) or ""
  return setmetatable({
    u = u,
    timeout_ms = math.floor((timeout or 1) * 1000),
    next_try = 0,
    -- connections of another database or password are not the same
    pool = ("cleanlist:redis:%s:%s"):format(u.where, auth),
  }, Store)
end

function Store:where()
  return self.u.where
end

local function encode(args)
  local parts = { "*" .. #args }
  for _, a in ipairs(args) do
    a = tostring(a)
    parts[#parts + 1] = "$" .. #a
    parts[#parts + 1] = a
  end
  parts[#parts + 1] = ""
  return concat(parts, "\r\n")
end

-- One reply: value; or nil, message, true for an error reply; or nil, message for a lost one.
local function read_reply(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  local kind, rest = line:sub(1, 1), line:sub(2)
  if kind == "+" then return rest end
  if kind == "-" then return nil, rest, true end
  if kind == ":" then return tonumber(rest) end
  if kind == "$" then
    local n = tonumber(rest)
    if not n or n < 0 then return false end
    local data, rerr = sock:receive(n + 2)
    if not data then return nil, rerr end
    return data:sub(1, n)
  end
  if kind == "*" then
    local out = {}
    for i = 1, tonumber(rest) or 0 do
      local v, verr, refused = read_reply(sock)
      if v == nil and not refused then return nil, verr end
      out[i] = v
    end
    return out
  end
  return nil, "an unexpected answer from Redis"
end

local function call(sock, args)
  local ok, err = sock:send(encode(args))
  if not ok then return nil, err end
  return read_reply(sock)
end

-- A connection ready for commands (authenticated, on its database); nil, message.
function Store:_connect()
  local sock = ngx.socket.tcp()
  sock:settimeout(self.timeout_ms)
  local u = self.u
  local ok, err
  if u.unix then
    ok, err = sock:connect("unix:" .. u.host, { pool = self.pool })
  else
    ok, err = sock:connect(u.host, u.port, { pool = self.pool })
  end
  if not ok then return nil, err end
  if (sock:getreusedtimes() or 0) == 0 then
    if u.password then
      local res, aerr = call(sock, u.user and { "AUTH", u.user, u.password } or { "AUTH", u.password })
      if not res then
        sock:close()
        return nil, "Redis refused the password: " .. tostring(aerr)
      end
    end
    if u.db ~= 0 then
      local res, serr = call(sock, { "SELECT", u.db })
      if not res then
        sock:close()
        return nil, "Redis refused the database number: " .. tostring(serr)
      end
    end
  end
  return sock
end

-- One step of one bucket, or of two taken together (the arguments of core.redis_args after
-- op): the script's answer as a number; nil, message.
function Store:_run(op, ...)
  if ngx.now() < self.next_try then return nil, "unreachable" end
  local sock, err = self:_connect()
  if not sock then
    self.next_try = ngx.now() + RETRY_SECONDS
    return nil, err
  end
  local args = core.redis_args(op, ...)
  for _ = 1, 2 do
    if not self.sha then
      local sha, lerr = call(sock, { "SCRIPT", "LOAD", core.REDIS_SCRIPT })
      if type(sha) ~= "string" or #sha ~= 40 then
        sock:close()
        self.next_try = ngx.now() + RETRY_SECONDS
        return nil, "Redis did not load the script: " .. tostring(lerr)
      end
      self.sha = sha
    end
    local res, rerr, refused = call(sock, { "EVALSHA", self.sha, unpack(args) }) -- luacheck: ignore 113
    if res ~= nil then
      sock:setkeepalive(60000, 16)
      local wait = tonumber(res)
      if not wait or wait < 0 then return nil, "an unexpected answer from Redis" end
      return wait
    end
    if not (refused and tostring(rerr):find("^NOSCRIPT")) then
      sock:close()
      if not refused then self.next_try = ngx.now() + RETRY_SECONDS end
      return nil, tostring(rerr)
    end
    self.sha = nil -- the server restarted or its scripts were flushed: load it again, once
  end
  sock:close()
  return nil, "Redis does not keep the script"
end

--- As the hiredis store: store:acquire(id, limit, window, burst, margin[, delay[, id2,
-- limit2, window2, burst2, margin2]]) -> seconds | nil, err; a second bucket is reserved
-- at one start with the first, atomically.
function Store:acquire(name, limit, window, burst, margin, delay, ...)
  return failure(self:_run("acquire", delay or 0, 0, name, limit, window, burst or 1, margin or 0.02, ...))
end

function Store:peek(name, limit, window, burst, margin, delay)
  return failure(self:_run("peek", delay or 0, 0, name, limit, window, burst or 1, margin or 0.02))
end

function Store:penalize(name, limit, window, burst, margin, delay, retry_after)
  local ok, err = self:_run("penalize", delay or 0, retry_after or 0, name, limit, window, burst or 1, margin or 0.02)
  if ok == nil then return failure(nil, err) end
  return true
end

return M
