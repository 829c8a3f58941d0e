--- The sandbox's state: one organisation, its users, the built-in API keys (immutable), and
-- `state.data`, the one table that holds everything that changes.
--
-- Rules for every module that keeps state:
--   * all mutable state lives under `state.data.<area>` as plain JSON-serialisable values
--     (strings, numbers, booleans, arrays, string-keyed tables; no functions, no metatables,
--     no sparse arrays), so that `--state FILE` can save and restore it and reset can rebuild it;
--   * an area is created by an initialiser registered with `M.register(area, fn)`, where
--     fn(state) returns the area's fresh table; reset() calls every initialiser;
--   * time comes from `state:now_ms()` (the sandbox clock, which --time-scale speeds up),
--     never from os.time.
-- `state.credits` and `state.ledger` are shorthands for data.credits and data.ledger.
local json = require "sandbox.json"
local util = require "sandbox.util"

local M = {}

--- Every scope of API.md §1.3, in the order the docs list them.
M.ALL_SCOPES = {
  "people:read",
  "companies:read",
  "lists:read",
  "lists:write",
  "enrich:read",
  "enrich:write",
  "credits:read",
  "export:read",
  "sync:write",
  "smart_agents:read",
  "smart_agents:write",
  "admin:api_keys",
}

M.READONLY_SCOPES = { "people:read", "companies:read", "lists:read", "enrich:read" }

M.FEATURES = {
  "api_access",
  "data_source_csv_upload",
  "enrich_email",
  "enrich_phone",
  "search_people",
  "sync_to_crm",
}

M.INITIAL_CREDITS = 5000

local set_of, sorted_copy = util.set_of, util.sorted_copy

-- Immutable identity: built once per sandbox, shared by resets.
local function build_identity(config)
  local org = {
    id = "org_2sbxSandboxLabs",
    name = "Sandbox Labs",
    tier = "pro",
    appsumo_tier = json.null,
    features = json.array(sorted_copy(M.FEATURES)),
  }
  local owner = {
    id = "user_2sbxVeraOkafor",
    name = "Vera Okafor",
    email = "vera.okafor@example.com",
  }
  local reader = {
    id = "user_2sbxRowanReed",
    name = "Rowan Reed",
    email = "rowan.reed@example.com",
  }
  local function key(token, id, name, user, scopes)
    return {
      token = token,
      id = id,
      name = name,
      user = user,
      org = org,
      prefix = token:sub(1, 10),
      last4 = token:sub(-4),
      scopes = json.array(scopes),
      scope_set = set_of(scopes),
    }
  end
  local keys = {
    [config.api_key] = key(config.api_key, "ak_sbx0full", "Sandbox full access", owner, M.ALL_SCOPES),
    [config.readonly_key] = key(config.readonly_key, "ak_sbx0read", "Sandbox read only", reader, M.READONLY_SCOPES),
  }
  return org, { owner = owner, reader = reader }, keys
end

--- config: api_key, readonly_key, now_ms (function).
function M.new(config)
  local self = setmetatable({ config = config }, M)
  self.org, self.users, self.keys = build_identity(config)
  self:reset()
  return self
end

local initialisers, areas = {}, {}

--- Registers the initialiser of a state area (see the module comment). Idempotent per area.
function M.register(area, fn)
  if not initialisers[area] then areas[#areas + 1] = area end
  initialisers[area] = fn
end

M.register("credits", function()
  return M.INITIAL_CREDITS
end)
M.register("ledger", function()
  return {}
end)

--- Rebuilds every area from its initialiser.
function M:reset()
  self.data = {}
  for _, area in ipairs(areas) do
    self.data[area] = initialisers[area](self)
  end
  self:record(M.INITIAL_CREDITS, "initial grant")
end

--- Replaces the data with a saved copy (from --state); areas missing from it start fresh.
function M:restore(data)
  self:reset()
  for area, v in pairs(data) do
    if initialisers[area] then self.data[area] = v end
  end
end

-- state.credits / state.ledger read and write data.credits / data.ledger.
local SHORTHANDS = { credits = true, ledger = true }
function M.__index(self, k)
  if SHORTHANDS[k] then return rawget(self, "data")[k] end
  return M[k]
end
function M.__newindex(self, k, v)
  if SHORTHANDS[k] then
    rawget(self, "data")[k] = v
  else
    rawset(self, k, v)
  end
end

function M:now_ms()
  return self.config.now_ms()
end

--- Appends a ledger row for a change of `delta` credits (the balance is already updated).
function M:record(delta, reason)
  self.ledger[#self.ledger + 1] = {
    time_ms = self:now_ms(),
    delta = delta,
    balance = self.credits,
    reason = reason,
  }
end

--- The key record for a bearer token, or nil and an error code. M.resolve_key (installed by
-- sandbox.apikeys) adds created keys, revocation, Clerk sessions and last_used_at.
function M:key(token, req)
  local resolve = M.resolve_key
  if resolve then return resolve(self, token, self.keys[token], req) end
  return self.keys[token]
end

--- Sets the organisation's balance (a non-negative integer).
function M:set_credits(n, reason)
  local delta = n - self.credits
  self.credits = n
  self:record(delta, reason or "set")
end

return M
