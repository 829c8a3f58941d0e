--- cleanlist.ratelimit: the client-side limiter, shared by every client of the process.
-- The API allows 30 requests a minute per key and 60 per organisation (all its keys and
-- members), counted in a sliding window. One bucket per key and one per organisation, each
-- sized to the window (core/cl_ratelimit.h: never more than the limit in any window, the whole
-- limit for a steady caller, bursts paced); the buckets live for the
-- process, so two clients built with one key share one budget, and clients of three keys of
-- one organisation share the organisation's.
local core = require "cleanlist.core"

local M = {}

local buckets = {} -- "key:" fingerprint or "org:" id, .. limits -> bucket
local organizations = {} -- key fingerprint -> organisation id (learned from /whoami)

-- margin: the window is widened by this share against network jitter (the server counts
-- arrivals, the client starts): 2 % costs 2 % of the rate and keeps requests that left a
-- window apart from arriving closer.
M.DEFAULTS = { per_key = 30, per_org = 60, window = 60, burst = 5, margin = 0.02, store_timeout = 1 }

-- A bucket shared with other processes: `backend` keeps the state (a file of this machine, or
-- Redis for several machines) and `own` is the process's bucket, kept in step with the
-- process's own starts. When the backend fails, `own` serves and that is said once; the
-- backend is tried again on the next call (a store reconnects at most every few seconds).
local Shared = {}
Shared.__index = Shared

local function say(text)
  io.stderr:write("cleanlist: ", text, "\n")
end

-- One notice per place (a file path or a store) and state: down once, up again once.
local notices = {}
local function notice(place, down, reason)
  local key = place .. (down and "\0down" or "\0up")
  if notices[key] or (not down and not notices[place .. "\0down"]) then return end
  notices[key] = true
  if down then
    say(
      ("the rate limit is no longer shared through %s (%s); this process limits itself " .. "alone"):format(
        place,
        tostring(reason or "it failed")
      )
    )
  else
    say(("the rate limit is shared through %s again"):format(place))
  end
end

-- err: the Redis stores' {kind, message} (as every C module's failure), a lua_shared_dict's
-- message, or nil (a file bucket gives no reason).
function Shared:_result(value, err)
  if value == nil then
    notice(self.place, true, type(err) == "table" and err.message or err)
  else
    notice(self.place, false)
  end
  return value
end

function Shared:acquire(now)
  -- The process's own starts are a part of all starts, so its own bucket's answer is a bound
  -- too: it keeps a fresh backend (a Redis restarted empty) from bursting over this process's
  -- recent history, and it is ready when the backend fails.
  local w = self:_result(self.backend.acquire(now)) or 0
  return w + self.own:acquire(now + w)
end

function Shared:penalize(now, retry_after)
  self.own:penalize(now, retry_after)
  self:_result(self.backend.penalize(now, retry_after))
end

local function shared_bucket(place, backend, limit, limits, err, yields)
  local own = core.bucket(limit, limits.window, limits.burst, limits.margin)
  local b = setmetatable({ place = place, backend = backend, own = own, yields = yields }, Shared)
  if err then notice(place, true, err) end
  return b
end

-- The file: under $XDG_RUNTIME_DIR (else /tmp), named after the key's fingerprint (or the
-- organisation), the server and the limits, never the key (core.shared_bucket: a lock per
-- operation, nothing stuck when a process dies).
local function file_bucket(id, limit, limits)
  local dir = os.getenv("XDG_RUNTIME_DIR")
  if not dir or dir == "" then dir = "/tmp" end
  local name = (id .. "@" .. (limits.origin or "")):gsub("[^%w%.%-]", "_")
  local path = ("%s/cleanlist-ratelimit-%s"):format(dir, name)
  local file, err = core.shared_bucket(path, limit, limits.window, limits.burst, limits.margin)
  if not file then
    notice("the file " .. path, true, err.message)
    return core.bucket(limit, limits.window, limits.burst, limits.margin)
  end
  local backend = {
    acquire = function(now)
      return file:acquire(now)
    end,
    penalize = function(now, retry_after)
      return file:penalize(now, retry_after) or nil
    end,
  }
  local b = shared_bucket("the file " .. path, backend, limit, limits)
  b.file = file -- for reserve, to take it together with another
  return b
end

-- Redis: one connection per store URL for the process; the bucket's keys are named like the
-- file. The store keeps time by the Redis server's clock; `now` (the client's clock) only says
-- how far ahead of the present the caller asks, as acquire(now + wait) of a second bucket.
local stores = {}

--- Opens (once per process) the Redis store at url; nil, message for a malformed URL or a
-- build without Redis. A store that is down now is returned and said so. With `cosockets`
-- (a client on nginx's cosockets) the store speaks to Redis over cosockets too
-- (cleanlist.ngx_redis), and connects at its first use.
function M.store(url, timeout, cosockets)
  local cache = (cosockets and "ngx|" or "") .. url
  local entry = stores[cache]
  if entry then return entry.store, nil, entry.down end
  if cosockets then
    local store, err = require("cleanlist.ngx_redis").store(url, timeout)
    if not store then return nil, err.message end
    stores[cache] = { store = store }
    return store
  end
  local ok, redis = pcall(require, "cleanlist.redis")
  if not ok then
    return nil,
      "rate_limit.store needs Redis support, which this build of cleanlist lacks "
        .. "(rebuild with libhiredis-dev installed)"
  end
  local store, reachable, err = redis.store(url, timeout)
  if not store then return nil, reachable.message end
  entry = { store = store, down = not reachable and err.message or nil }
  stores[cache] = entry
  return store, nil, entry.down
end

local function redis_bucket(id, limit, limits)
  local store, err, down = M.store(limits.store, limits.store_timeout, limits.cosockets)
  if not store then error(err, 0) end
  local name = id .. "@" .. (limits.origin or "")
  local w, b_, m = limits.window, limits.burst, limits.margin
  local function ahead(now)
    return math.max(0, now - limits.clock())
  end
  local backend = {
    acquire = function(now)
      return store:acquire(name, limit, w, b_, m, ahead(now))
    end,
    penalize = function(now, retry_after)
      return store:penalize(name, limit, w, b_, m, ahead(now), retry_after)
    end,
  }
  local b = shared_bucket("Redis at " .. store:where(), backend, limit, limits, down, limits.cosockets)
  -- what reserve needs to take this bucket together with another of the same store
  b.redis = { store = store, name = name, limit = limit, window = w, burst = b_, margin = m, ahead = ahead }
  return b
end

-- nginx's shared memory (lua_shared_dict): every worker of one nginx shares the bucket. Each
-- operation holds a lock (an atomic dict:add) across read, step and write; nothing in between
-- yields, so the lock is held for microseconds. The bytes are those of cl_ratelimit.h
-- (core.bucket_state), times of the monotonic clock every worker shares.
local LOCK_TTL = 1 -- seconds: a worker that died holding the lock holds it no longer
local LOCK_WAIT = 0.5 -- seconds a caller waits for the lock before it limits itself alone

-- Takes the shared dict's locks of the buckets `parts` (in their order: the key's before the
-- organisation's, always), runs fn(), and lets them go. nil, message when a lock cannot be had.
local function locked(dict, parts, fn)
  local ngx = ngx -- luacheck: ignore 113
  local entered = core.monotonic()
  local held = 0
  local function release()
    for i = held, 1, -1 do
      dict:delete(parts[i].lock)
    end
  end
  for i, part in ipairs(parts) do
    local waited = 0
    while true do
      local ok, err = dict:add(part.lock, true, LOCK_TTL)
      if ok then break end
      if err ~= "exists" or waited >= LOCK_WAIT then
        release()
        return nil, err ~= "exists" and err or "its lock is held too long"
      end
      ngx.sleep(0.001)
      waited = waited + 0.001
    end
    held = i
  end
  -- fn gets the time spent waiting for the locks: its `now` is that much later
  local ok, a, b = pcall(fn, core.monotonic() - entered)
  release()
  if not ok then error(a, 0) end
  return a, b
end

-- One step of one bucket kept in the dict at `now`; the new state is written back.
local function step(dict, part, op, now, arg)
  local wait, state =
    core.bucket_state(dict:get(part.key), op, now, part.limit, part.window, part.burst, part.margin, arg)
  local ok, err = dict:set(part.key, state)
  if not ok then return nil, err end
  return wait
end

local function shm_bucket(id, limit, limits)
  local dict = ngx.shared[limits.shm] -- luacheck: ignore 113
  local key = "cleanlist:" .. id .. "@" .. (limits.origin or "")
  local part = {
    key = key,
    lock = key .. ":lock",
    limit = limit,
    window = limits.window,
    burst = limits.burst,
    margin = limits.margin,
  }
  local function run(op, now, arg)
    return locked(dict, { part }, function(waited)
      local w = step(dict, part, op, now + waited, arg)
      return w and w + waited
    end)
  end
  local backend = {
    acquire = function(now)
      return run("acquire", now)
    end,
    penalize = function(now, retry_after)
      return run("penalize", now, retry_after)
    end,
  }
  local b = shared_bucket("nginx's lua_shared_dict " .. limits.shm, backend, limit, limits, nil, true)
  b.shm = { dict = dict, part = part } -- for reserve, to take it together with another
  return b
end

-- Two buckets of one dict reserved at one start, the latest either allows, under both locks:
-- no worker reserves between them, and both record the start the request will have.
local function shm_pair(k, o, now)
  return locked(k.dict, { k.part, o.part }, function(waited)
    now = now + waited
    local wk = step(k.dict, k.part, "peek", now)
    local wo = step(o.dict, o.part, "peek", now)
    if not (wk and wo) then return nil, "cannot read the buckets" end
    local at = now + math.max(wk, wo)
    local a1, a2 = step(k.dict, k.part, "acquire", at), step(o.dict, o.part, "acquire", at)
    if not (a1 and a2) then return nil, "cannot write the buckets" end
    return at - now + math.max(a1, a2) + waited
  end)
end

local function shared(id, limit, limits)
  -- numbers written one way on every engine (Lua 5.4 writes 1.0 where LuaJIT writes 1), so
  -- that processes of both share one bucket
  id = ("%s/%.9g/%.9g/%.9g/%.9g"):format(id, limit, limits.window, limits.burst, limits.margin)
  local how = limits.store and "redis" or limits.shm and "shm" or limits.share == true and "file" or "process"
  local key = how .. ":" .. (limits.shm or limits.store or "") .. "|" .. id .. "@" .. tostring(limits.origin)
  local b = buckets[key]
  if not b then
    if how == "shm" then
      b = shm_bucket(id, limit, limits)
    elseif how == "redis" then
      b = redis_bucket(id, limit, limits)
    elseif how == "file" then
      b = file_bucket(id, limit, limits)
    else
      b = core.bucket(limit, limits.window, limits.burst, limits.margin)
    end
    buckets[key] = b
  end
  return b
end

-- Under nginx a step of a shared bucket may yield (Redis over cosockets, waiting for the shared
-- dict's lock) and let another light thread of the worker reserve in between. Reservations
-- taken out of order would make the worker's own bound push one back past the slot the shared
-- bucket gave it, and a start later than its slot lets a start a window after that slot
-- arrive within one window of it: a 429. So the worker takes its reservations one at a time.
local reserving -- an ngx.semaphore of one, made at the first reservation that needs it

--- The seconds to wait before a request may start, reserved in the key's bucket and
-- the organisation's (when there is one). A request starts at the later of its two slots, and
-- a bucket whose slot came earlier would count it as started before it did: another caller
-- reserving between the two steps could then push the organisation's slot a whole interval
-- past the key's, and the key's request a window later would arrive within one window of
-- this one. Two buckets in files, one shared dict or one Redis are therefore reserved
-- together, at one start, in one step; in-process buckets cannot be interleaved.
function M.reserve(bucket, org_bucket, clock)
  local lock
  if bucket.yields or (org_bucket and org_bucket.yields) then
    reserving = reserving or require("ngx.semaphore").new(1)
    lock = reserving
  end
  if lock then lock:wait(10) end
  -- the present once it is this caller's turn: a wait counts from here
  local now = clock()
  local ok, wait = pcall(function()
    -- both in one shared dict, or one Redis: reserved together at one start, in one step
    local w
    local ks, os_ = bucket.shm, org_bucket and org_bucket.shm
    local k, o = bucket.redis, org_bucket and org_bucket.redis
    local kf, of = bucket.file, org_bucket and org_bucket.file
    if kf and of then
      w = bucket:_result(kf:acquire_with(of, now))
    elseif ks and os_ and ks.dict == os_.dict then
      w = bucket:_result(shm_pair(ks, os_, now))
    elseif k and o and k.store == o.store then
      w = bucket:_result(
        k.store:acquire(
          k.name,
          k.limit,
          k.window,
          k.burst,
          k.margin,
          k.ahead(now),
          o.name,
          o.limit,
          o.window,
          o.burst,
          o.margin
        )
      )
    end
    if w then
      w = w + bucket.own:acquire(now + w)
      return w + org_bucket.own:acquire(now + w)
    end
    w = bucket:acquire(now)
    if org_bucket then w = w + org_bucket:acquire(now + w) end
    return w
  end)
  if lock then lock:post(1) end
  if not ok then error(wait, 0) end
  -- the wait counts from `now`; the caller sleeps from the present, which the steps (a lock, a
  -- round trip to Redis) have moved on
  return math.max(0, now + wait - clock())
end

--- Returns the bucket for a credential under the given limits (a table like DEFAULTS).
function M.bucket(credential, limits)
  return shared("key:" .. credential:fingerprint(), limits.per_key, limits)
end

--- Returns the bucket of an organisation (limits.per_org requests per window).
function M.org_bucket(organization_id, limits)
  return shared("org:" .. organization_id, limits.per_org, limits)
end

local learners = {} -- key fingerprint -> the coroutine (or "main") asking /whoami for it now

--- Who is asking the organisation of the key now (nil: nobody).
function M.learner(credential)
  return learners[credential:fingerprint()]
end

function M.set_learner(credential, who)
  learners[credential:fingerprint()] = who
end

--- The organisation a key belongs to, when a client of the process has learned it.
function M.organization_of(credential)
  return organizations[credential:fingerprint()]
end

function M.remember_organization(credential, organization_id)
  organizations[credential:fingerprint()] = organization_id
end

return M
