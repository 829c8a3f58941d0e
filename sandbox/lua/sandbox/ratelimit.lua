--- Rate limits (API.md §4): 30 requests per minute per API key and 60 per minute per
-- organisation (all its keys together), as sliding 60-second windows of the sandbox clock.
--
-- Decisions (the docs do not say):
--   * Only authenticated requests to an existing route count; the check runs after
--     authentication and before the scope check, so a 403 still uses up budget.
--   * A refused (429) request does not use up budget: a client that waits Retry-After and
--     retries gets through, however often it was refused meanwhile.
--   * Retry-After and retry_after_ms are real time: the sandbox-clock wait divided by the time
--     scale, rounded up (Retry-After in whole seconds, at least 1).
--   * The legacy endpoints (route.legacy = true, or one of M.LEGACY_PATHS) are limited per
--     organisation and per endpoint (the seeds: "per-organization, per-endpoint"), at the
--     per-organisation limit, in buckets of their own that do not touch the MCP budgets; over
--     it they answer 429 {"detail":"Rate limit exceeded"} with Retry-After.
-- Cost: nothing when disabled; two ring-buffer lookups (O(1)) per request when enabled.
--
-- For endpoint modules: mark a legacy route with `legacy = true` in its router:add entry
-- (M.is_legacy(route) also knows the four legacy paths by their templates).
local errors = require "sandbox.errors"
local json = require "sandbox.json"

local M = {}
M.__index = M

M.WINDOW_MS = 60000
M.DEFAULT_PER_KEY = 30
M.DEFAULT_PER_ORG = 60

--- Templates of the legacy Public API's rate-limited routes (GET /credits/balance is shared
-- with the MCP API and answers with the MCP envelope).
M.LEGACY_PATHS = {
  ["/auth/validate-key"] = true,
  ["/enrich/bulk"] = true,
  ["/enrich/status"] = true,
  ["/webhooks/deliveries"] = true,
}

local format, floor = string.format, math.floor

--- True when route answers errors the legacy way ({"detail": ...}).
function M.is_legacy(route)
  return route.legacy == true or M.LEGACY_PATHS[route.template] == true
end

--- config: rate_limit (boolean, default true), rate_limit_key, rate_limit_org.
function M.new(config, clock)
  local self = setmetatable({ clock = clock }, M)
  self.initial = {
    enabled = config.rate_limit ~= false,
    per_key = config.rate_limit_key or M.DEFAULT_PER_KEY,
    per_org = config.rate_limit_org or M.DEFAULT_PER_ORG,
  }
  self:reset()
  return self
end

--- Back to the flags' settings with empty windows.
function M:reset()
  self.enabled = self.initial.enabled
  self.per_key = self.initial.per_key
  self.per_org = self.initial.per_org
  self:clear()
end

--- Empties every window.
function M:clear()
  self.key_rings, self.org_rings, self.legacy_rings = {}, {}, {}
end

--- Applies {enabled, per_key, per_org} (each optional; validated by the caller). A change of a
-- limit empties the windows.
function M:configure(t)
  if t.enabled ~= nil then self.enabled = t.enabled end
  local changed = false
  if t.per_key and t.per_key ~= self.per_key then
    self.per_key, changed = t.per_key, true
  end
  if t.per_org and t.per_org ~= self.per_org then
    self.per_org, changed = t.per_org, true
  end
  if changed then self:clear() end
end

function M:info()
  return { enabled = self.enabled, per_key = self.per_key, per_org = self.per_org, window_ms = M.WINDOW_MS }
end

-- A window is a ring of the times of the last `limit` accepted requests: slots 1..limit, `h`
-- the next slot to write, `n` how many are filled. Full and its oldest time within the window
-- means refused.
local function ring_of(rings, name)
  local r = rings[name]
  if not r then
    r = { h = 1, n = 0 }
    rings[name] = r
  end
  return r
end

-- Milliseconds (sandbox clock) until the window admits one more request; 0 when it does.
local function wait_ms(r, limit, now)
  if r.n < limit then return 0 end
  local w = r[r.h] + M.WINDOW_MS - now
  return w > 0 and w or 0
end

local function push(r, limit, now)
  r[r.h] = now
  r.h = r.h % limit + 1
  if r.n < limit then r.n = r.n + 1 end
end

local LEGACY_BODY = '{"detail":"Rate limit exceeded"}'

--- Checks (and on success records) a request by `key` to `route`. Returns nil when allowed,
-- else status, body, headers of the 429 to send.
function M:check(key, route, rid)
  local now = self.clock.now_ms()
  if route.legacy == true or M.LEGACY_PATHS[route.template] then
    local r = ring_of(self.legacy_rings, key.org.id .. " " .. route.template)
    local w = wait_ms(r, self.per_org, now)
    if w == 0 then
      push(r, self.per_org, now)
      return nil
    end
    local real = self.clock:real_ms(w)
    return 429, LEGACY_BODY, { ["Retry-After"] = format("%d", M.seconds(real)) }
  end
  local kr = ring_of(self.key_rings, key.id)
  local orr = ring_of(self.org_rings, key.org.id)
  local wk = wait_ms(kr, self.per_key, now)
  local wo = wait_ms(orr, self.per_org, now)
  if wk == 0 and wo == 0 then
    push(kr, self.per_key, now)
    push(orr, self.per_org, now)
    return nil
  end
  local by_key = wk >= wo
  local real = self.clock:real_ms(by_key and wk or wo)
  local limit = by_key and self.per_key or self.per_org
  local scope = by_key and "API key" or "organization"
  local status, body = errors.build("rate_limited", rid, {
    problem = format("Rate limit exceeded: %d requests per minute per %s.", limit, scope),
    cause = format("This %s sent %d requests in the last 60 seconds.", scope, limit),
    fix = "Wait for the Retry-After interval, then retry; spread requests to stay under the " .. "limit.",
    retry_after_ms = real,
    details = {
      limit = limit,
      window_seconds = floor(M.WINDOW_MS / 1000),
      limit_scope = by_key and "api_key" or "organization",
    },
  })
  return status, json.encode(body), { ["Retry-After"] = format("%d", M.seconds(real)) }
end

--- Whole seconds for a Retry-After header: ms rounded up, at least 1.
function M.seconds(ms)
  local s = floor(ms / 1000)
  if s * 1000 < ms then s = s + 1 end
  return s < 1 and 1 or s
end

return M
