--- The usage log behind GET /usage (API.md §6.1): every API request that reached a route is
-- counted in a bucket per (day, key, route, status) with its credits, so recording is O(1)
-- and memory is bounded by the number of distinct buckets, not by traffic. Buckets older than
-- MAX_DAYS are dropped when the day changes; at most MAX_BUCKETS are kept.
--
-- state.data.usage = { day = <current day number>, count = <buckets>, buckets = { [id] = bucket } }
--   bucket = { id (its key), d day number (floor(ms / 86400000)), k key id, r route group
--   ("/api/v1/public/lead-lists/{list_id}"), s HTTP status, n calls, c credits spent }
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local state_mod = require "sandbox.state"

local M = {}

M.MAX_DAYS = 366
M.MAX_BUCKETS = 50000
M.DAY_MS = 86400000

local floor, format = math.floor, string.format

state_mod.register("usage", function()
  return { day = 0, count = 0, buckets = {} }
end)

local function prune(u, today, keep_days)
  local n = 0
  for k, b in pairs(u.buckets) do
    if b.d <= today - keep_days then
      u.buckets[k] = nil
    else
      n = n + 1
    end
  end
  u.count = n
end

--- Counts one request. route: the route group string (prefix .. template, or "(unmatched)"),
-- key_id: the key's id or nil, status: the HTTP status, credits: credits the request spent.
function M.record(state, route, key_id, status, credits, now_ms)
  local u = state.data.usage
  local day = floor(now_ms / M.DAY_MS)
  if day ~= u.day then
    if day > u.day then prune(u, day, M.MAX_DAYS) end
    u.day = day
  end
  local k = key_id or "-"
  local id = format("%d|%s|%d|%s", day, k, status, route)
  local b = u.buckets[id]
  if not b then
    if u.count >= M.MAX_BUCKETS then
      prune(u, day, 7)
      if u.count >= M.MAX_BUCKETS then return nil end
    end
    b = { id = id, d = day, k = k, r = route, s = status, n = 0, c = 0 }
    u.buckets[id] = b
    u.count = u.count + 1
  else
    b.id = id
  end
  b.n = b.n + 1
  if credits and credits ~= 0 then b.c = b.c + credits end
  return b
end

-- "/api/v1/public" or "/api/v2" + route, memoised (absolute routes such as /api/v1/api-keys
-- are kept as they are).
local full_routes = { {}, {} }
local function full_route(route, v2)
  local t = full_routes[v2 and 2 or 1]
  local r = t[route]
  if not r then
    if route:sub(1, 5) == "/api/" then
      r = route
    else
      r = (v2 and "/api/v2" or "/api/v1/public") .. route
    end
    t[route] = r
  end
  return r
end

-- Per usage area and day: route -> key -> status -> bucket, so that counting a request
-- builds no string once its bucket exists.
local index = setmetatable({}, { __mode = "k" })

--- The serve-path hook: counts the API request `entry` (a request-log entry on which
-- init.lua set key_id and route) answered with `status`, with the credits it spent.
function M.note(app, entry, status)
  local state = app.state
  local credits = ledger.take_request_spend(state)
  local key_id = entry.key_id
  if not key_id then return end
  local route = entry.route
  if route then
    route = full_route(route, entry.path:byte(7) == 50) -- "/api/v2..."
  else
    route = "(unmatched)"
  end
  local now = state:now_ms()
  local u = state.data.usage
  local day = floor(now / M.DAY_MS)
  local ix = index[u]
  if not ix or ix.day ~= day then
    ix = { day = day }
    index[u] = ix
  end
  local by_key = ix[route]
  if not by_key then
    by_key = {}
    ix[route] = by_key
  end
  local by_status = by_key[key_id]
  if not by_status then
    by_status = {}
    by_key[key_id] = by_status
  end
  local b = by_status[status]
  if b and u.buckets[b.id] == b and day == u.day then
    b.n = b.n + 1
    if credits ~= 0 then b.c = b.c + credits end
    return
  end
  by_status[status] = M.record(state, route, key_id, status, credits, now)
end

local function iso_day(day)
  return os.date("!%Y-%m-%d", day * 86400)
end

--- The UsageReportResponse for the last `days` days grouped by group_by (tool | key | day |
-- error). `key_names` maps key ids to display names (optional). errors = non-2xx responses.
function M.report(state, days, group_by, now_ms)
  local u = state.data.usage
  local today = floor(now_ms / M.DAY_MS)
  local from = today - days + 1
  local groups, order = {}, {}
  local total_calls, total_credits, total_errors = 0, 0, 0
  for _, b in pairs(u.buckets) do
    if b.d >= from and b.d <= today then
      local is_error = b.s < 200 or b.s >= 300
      local g
      if group_by == "key" then
        g = b.k
      elseif group_by == "day" then
        g = iso_day(b.d)
      elseif group_by == "error" then
        g = is_error and tostring(b.s) or "ok"
      else
        g = b.r
      end
      local row = groups[g]
      if not row then
        row = { group = g, calls = 0, credits_spent = 0, errors = 0 }
        groups[g] = row
        order[#order + 1] = row
      end
      row.calls = row.calls + b.n
      row.credits_spent = row.credits_spent + b.c
      total_calls = total_calls + b.n
      total_credits = total_credits + b.c
      if is_error then
        row.errors = row.errors + b.n
        total_errors = total_errors + b.n
      end
    end
  end
  table.sort(order, function(a, b)
    if group_by == "day" then return a.group > b.group end
    if a.calls ~= b.calls then return a.calls > b.calls end
    return a.group < b.group
  end)
  return {
    days = days,
    group_by = group_by,
    total_calls = total_calls,
    total_credits_spent = total_credits,
    total_errors = total_errors,
    rows = json.array(order),
  }
end

return M
