--- The sandbox world: one organisation, its users, the built-in API keys and the credits
-- ledger. `State:reset()` restores everything to what `State.new` built.
local json = require "sandbox.json"

local M = {}
M.__index = M

--- Every scope of API.md §1.3, in the order the docs list them.
M.ALL_SCOPES = {
  "people:read", "companies:read", "lists:read", "lists:write", "enrich:read", "enrich:write",
  "credits:read", "export:read", "sync:write", "smart_agents:read", "smart_agents:write",
  "admin:api_keys",
}

M.READONLY_SCOPES = { "people:read", "companies:read", "lists:read", "enrich:read" }

M.FEATURES = {
  "api_access", "data_source_csv_upload", "enrich_email", "enrich_phone", "search_people",
  "sync_to_crm",
}

M.INITIAL_CREDITS = 5000

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

local function sorted_copy(list)
  local t = {}
  for i, v in ipairs(list) do
    t[i] = v
  end
  table.sort(t)
  return t
end

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
    id = "user_2sbxVeraOkafor", name = "Vera Okafor", email = "vera.okafor@example.com",
  }
  local reader = {
    id = "user_2sbxRowanReed", name = "Rowan Reed", email = "rowan.reed@example.com",
  }
  local function key(token, id, name, user, scopes)
    return {
      token = token, id = id, name = name, user = user, org = org,
      prefix = token:sub(1, 10), last4 = token:sub(-4),
      scopes = json.array(scopes), scope_set = set_of(scopes),
    }
  end
  local keys = {
    [config.api_key] = key(config.api_key, "ak_sbx0full", "Sandbox full access", owner,
      M.ALL_SCOPES),
    [config.readonly_key] = key(config.readonly_key, "ak_sbx0read", "Sandbox read only", reader,
      M.READONLY_SCOPES),
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

function M:reset()
  self.credits = M.INITIAL_CREDITS
  self.ledger = {}
  self:record(M.INITIAL_CREDITS, "initial grant")
end

function M:now_ms()
  return self.config.now_ms()
end

--- Appends a ledger row for a change of `delta` credits (the balance is already updated).
function M:record(delta, reason)
  self.ledger[#self.ledger + 1] = {
    time_ms = self:now_ms(), delta = delta, balance = self.credits, reason = reason,
  }
end

--- The key record for a bearer token, or nil.
function M:key(token)
  return self.keys[token]
end

--- Sets the organisation's balance (a non-negative integer).
function M:set_credits(n, reason)
  local delta = n - self.credits
  self.credits = n
  self:record(delta, reason or "set")
end

return M
