--- API keys and sandbox Clerk sessions (API.md §1.2, §6.1 GET /api-keys, §6.7): the keys users
-- create through `POST /api/v1/api-keys`, revocation, `last_used_at`, and the fixed sandbox
-- Clerk JWTs that the key-management routes require.
--
-- State area `apikeys` (JSON-serialisable, saved by --state):
--   keys      { [key_id] = {key_id, name, user_id, org_id, hash, last4, created_ms,
--                            revoked_ms?} }  -- created keys; `hash` = SHA-256 of the secret,
--                                               the secret itself is never stored
--   order     [key_id, ...]                   -- creation order
--   by_hash   { [sha256 hex] = key_id }
--   revoked   { [key_id] = ms }               -- revoked built-in keys
--   last_used { [key_id] = ms }
--   created_ms                                -- when the built-in keys "were created" (reset)
--   seq                                       -- keys created so far (id / secret stream)
--
-- Identity. The sandbox organisation "Sandbox Labs" (state.org, plan pro, feature api_access)
-- has two users: Vera Okafor (state.users.owner, every scope) and Rowan Reed (state.users.reader,
-- the read-only scopes). A second organisation, "Sumo Garage" (AppSumo tier 2, no api_access),
-- has one user, Theo Lind: his session can list keys but creating one answers 403
-- feature_gated, and his session is refused on the public API (403 feature_gated).
-- Scopes are granted per user: a key (or session) carries its user's scopes.
--
-- Credentials (M.resolve is installed as state.resolve_key, so auth accepts them everywhere):
--   * the built-in keys (state.keys) unless revoked;
--   * created keys (`clapi_` + 40 hex from the seeded PRNG) unless revoked;
--   * the fixed sandbox Clerk JWTs below (HS256 with the published sandbox secret
--     "cleanlist-sandbox-jwt-not-a-secret"; test credentials of the sandbox, not secrets).
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local prng = require "sandbox.prng"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"

local M = {}

local null = json.null
local format, floor, sub, find = string.format, math.floor, string.sub, string.find

M.MAX_ACTIVE = 10 -- active keys per user (D); the 11th → 403 key_limit_reached
M.KEY_PREFIX = "clapi_"
M.NAME_MAX = 100

--- The sandbox Clerk session JWTs, one per sandbox user (also in `cleanlist sandbox --help`).
M.JWT = {
  vera = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6InVz"
    .. "ZXJfMnNieFZlcmFPa2Fmb3IiLCJvcmdfaWQiOiJvcmdfMnNieFNhbmRib3hMYWJzIiwiZXhwIjo0MTAyNDQ0OD"
    .. "AwfQ.nTDycN4Igew-MG3VBwkswrjYtAX83dTav5OOdiJrPJ0",
  rowan = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6In"
    .. "VzZXJfMnNieFJvd2FuUmVlZCIsIm9yZ19pZCI6Im9yZ18yc2J4U2FuZGJveExhYnMiLCJleHAiOjQxMDI0NDQ4MD"
    .. "B9.DcDkYOGrpmwe2c9N1WfRGaizqZH8wLJe5KVlqRIUKpk",
  theo = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6InVz"
    .. "ZXJfMnNieFRoZW9MaW5kIiwib3JnX2lkIjoib3JnXzJzYnhTdW1vR2FyYWdlIiwiZXhwIjo0MTAyNDQ0ODAwfQ"
    .. ".-f0gEQAgFnchIn09s77DlQHByYNLX63ELKKG5jH13OA",
}

-- Error codes of this module (added to the shared catalogue).
errors.catalogue.revoked_api_key = errors.catalogue.revoked_api_key
  or {
    status = 401,
    retryable = false,
    problem = "The API key has been revoked.",
    cause = "The bearer token matches a key that was revoked; revocation takes effect at once.",
    fix = "Create a new key (POST /api/v1/api-keys, or Settings > API Keys) and use it instead.",
  }
errors.catalogue.key_limit_reached = errors.catalogue.key_limit_reached
  or {
    status = 403,
    retryable = false,
    problem = "The user already has the maximum number of active API keys.",
    fix = "Revoke a key you no longer use (POST /api/v1/api-keys/{key_id}/revoke), then create " .. "the new one.",
  }

state_mod.register("apikeys", function(state)
  return {
    keys = {},
    order = json.array(),
    by_hash = {},
    revoked = {},
    last_used = {},
    created_ms = state:now_ms(),
    seq = 0,
  }
end)

--- "YYYY-MM-DD HH:MM:SS" (UTC) for epoch milliseconds (ApiKeyInfo.created_at/last_used_at).
function M.stamp(ms)
  if ms == nil then return null end
  return os.date("!%Y-%m-%d %H:%M:%S", floor(ms / 1000))
end

-- The identity around state's built-in one: users and orgs by id, per-user scopes, the
-- second organisation and the JWT sessions. Built once per state (identity survives resets).
local function identity(state)
  local id = rawget(state, "_apikeys_identity")
  if id then return id end
  local org, owner, reader = state.org, state.users.owner, state.users.reader
  local gated_features = {}
  for _, f in ipairs(state_mod.FEATURES) do
    if f ~= "api_access" then gated_features[#gated_features + 1] = f end
  end
  local garage = {
    id = "org_2sbxSumoGarage",
    name = "Sumo Garage",
    tier = "free",
    appsumo_tier = 2,
    features = json.array(util.sorted_copy(gated_features)),
    api_access = false,
  }
  local theo = { id = "user_2sbxTheoLind", name = "Theo Lind", email = "theo.lind@example.com" }
  id = { orgs = {}, users = {}, scopes = {}, builtin = {}, jwts = {} }
  id.orgs[org.id], id.orgs[garage.id] = org, garage
  id.users[owner.id], id.users[reader.id], id.users[theo.id] = owner, reader, theo
  id.user_org = { [owner.id] = org, [reader.id] = org, [theo.id] = garage }
  local function grant(user, list)
    id.scopes[user.id] = { list = json.array(list), set = util.set_of(list) }
  end
  grant(theo, state_mod.ALL_SCOPES)
  for _, k in pairs(state.keys) do
    grant(k.user, k.scopes)
    id.builtin[#id.builtin + 1] = k
  end
  if not id.scopes[owner.id] then grant(owner, state_mod.ALL_SCOPES) end
  if not id.scopes[reader.id] then grant(reader, state_mod.READONLY_SCOPES) end
  table.sort(id.builtin, function(a, b)
    return a.id < b.id
  end)
  for name, user in pairs { vera = owner, rowan = reader, theo = theo } do
    local s = id.scopes[user.id]
    id.jwts[M.JWT[name]] = {
      id = "sess_" .. user.id,
      name = "Clerk session (sandbox)",
      user = user,
      org = id.user_org[user.id],
      scopes = s.list,
      scope_set = s.set,
      auth_type = "clerk_jwt",
      jwt = true,
    }
  end
  rawset(state, "_apikeys_identity", id)
  return id
end
M.identity = identity

local function area(state)
  return state.data.apikeys
end

-- The organisation has the api_access feature (a plan with API access).
function M.has_api_access(org)
  if org.api_access ~= nil then return org.api_access end
  for _, f in ipairs(org.features or {}) do
    if f == "api_access" then return true end
  end
  return false
end

-- SHA-256 of a token (sandbox.native when present; a plain-Lua fallback keeps unit use working).
local sha256
do
  local ok, native = pcall(require, "sandbox.native")
  if ok and type(native) == "table" and native.sha256_hex then
    sha256 = native.sha256_hex
  else
    sha256 = function(s)
      return "plain:" .. s
    end
  end
end

-- Runtime cache token -> key record (or false), tied to the identity of the area table so
-- that reset and restore start afresh; flushed when a key is created.
local cache = { area = nil, map = {}, size = 0 }

local function cache_for(a)
  if cache.area ~= a then
    cache.area, cache.map, cache.size = a, {}, 0
  end
  return cache.map
end

local function flush()
  cache.area = nil
end

-- The runtime record of a created key (the shape auth and handlers use for built-in keys).
local function record_of(state, k, token)
  local id = identity(state)
  local user, org = id.users[k.user_id], id.orgs[k.org_id]
  if not user or not org then return false end
  local s = id.scopes[user.id]
  return {
    id = k.key_id,
    token = token,
    name = k.name,
    user = user,
    org = org,
    prefix = M.KEY_PREFIX,
    last4 = k.last4,
    scopes = s.list,
    scope_set = s.set,
    auth_type = "api_key",
  }
end

--- state.resolve_key: the credential record for a bearer token, or nil and an error code
-- ("revoked_api_key", "feature_gated"; nil = invalid). `builtin` is state.keys[token].
function M.resolve(state, token, builtin, req)
  local a = area(state)
  if builtin then
    local id = builtin.id
    if a.revoked[id] then return nil, "revoked_api_key" end
    a.last_used[id] = req and req.time_ms or state:now_ms()
    return builtin
  end
  local map = cache_for(a)
  local rec = map[token]
  if rec == nil then
    if find(token, ".", 1, true) then
      rec = identity(state).jwts[token] or false
    elseif sub(token, 1, 6) == M.KEY_PREFIX then
      local key_id = a.by_hash[sha256(token)]
      rec = key_id and a.keys[key_id] and record_of(state, a.keys[key_id], token) or false
    else
      rec = false
    end
    if cache.size >= 1024 then
      map = {}
      cache.map, cache.size = map, 0
    end
    map[token], cache.size = rec, cache.size + 1
  end
  if not rec then return nil end
  if rec.jwt then
    if not M.has_api_access(rec.org) then return nil, "feature_gated" end
    return rec
  end
  local k = a.keys[rec.id]
  if not k then return nil end
  if k.revoked_ms then return nil, "revoked_api_key" end
  a.last_used[rec.id] = req and req.time_ms or state:now_ms()
  return rec
end

--- The session record for a sandbox Clerk JWT, or nil.
function M.session(state, token)
  return identity(state).jwts[token]
end

--- Installs the resolver (called when the endpoint module registers).
function M.install()
  state_mod.resolve_key = M.resolve
end

-- Keys ---------------------------------------------------------------------------------------

local function builtin_row(state, k)
  local a = area(state)
  return {
    key_id = k.id,
    user_id = k.user.id,
    org_id = k.org.id,
    name = k.name,
    last4 = k.last4,
    created_ms = a.created_ms,
    revoked_ms = a.revoked[k.id],
    builtin = true,
  }
end

--- Every key of `user` in `org` (built-in first, then created ones, oldest first), as rows
-- {key_id, user_id, org_id, name, last4, created_ms, revoked_ms, builtin}.
function M.keys_of(state, user, org)
  local a, out = area(state), {}
  for _, k in ipairs(identity(state).builtin) do
    if k.user.id == user.id and k.org.id == org.id then out[#out + 1] = builtin_row(state, k) end
  end
  for _, key_id in ipairs(a.order) do
    local k = a.keys[key_id]
    if k and k.user_id == user.id and k.org_id == org.id then out[#out + 1] = k end
  end
  return out
end

--- The row of key_id when it belongs to user in org, else nil.
function M.find(state, key_id, user, org)
  if type(key_id) ~= "string" then return nil end
  for _, row in ipairs(M.keys_of(state, user, org)) do
    if row.key_id == key_id then return row end
  end
  return nil
end

function M.active_count(state, user, org)
  local n = 0
  for _, row in ipairs(M.keys_of(state, user, org)) do
    if not row.revoked_ms then n = n + 1 end
  end
  return n
end

--- ApiKeyInfo for a row (scopes: the user's, since grants are per user).
function M.info(state, row)
  local s = identity(state).scopes[row.user_id]
  return {
    key_id = row.key_id,
    key_prefix = M.KEY_PREFIX,
    key_last4 = row.last4,
    name = row.name or null,
    scopes = s and s.list or json.array(),
    created_at = M.stamp(row.created_ms),
    last_used_at = M.stamp(area(state).last_used[row.key_id]),
    is_active = not row.revoked_ms,
  }
end

--- Creates a key for user in org: the row and the full secret (shown once, never stored).
function M.create(state, user, org, name)
  local a = area(state)
  a.seq = a.seq + 1
  -- One generator per key from (seed, sequence): reproducible, and restart-safe with --state.
  local g = prng.new(state.config.seed, 700000 + a.seq)
  local key_id = "ak_" .. g:hex(8)
  while a.keys[key_id] do
    key_id = "ak_" .. g:hex(8)
  end
  local secret = M.KEY_PREFIX .. g:hex(40)
  local row = {
    key_id = key_id,
    name = name,
    user_id = user.id,
    org_id = org.id,
    hash = sha256(secret),
    last4 = sub(secret, -4),
    created_ms = state:now_ms(),
  }
  a.keys[key_id] = row
  a.order[#a.order + 1] = key_id
  a.by_hash[row.hash] = key_id
  flush()
  return row, secret
end

--- Revokes a row (idempotent): true when it was active.
function M.revoke(state, row)
  if row.revoked_ms then return false end
  local ms = state:now_ms()
  local a = area(state)
  if row.builtin then
    a.revoked[row.key_id] = ms
  else
    a.keys[row.key_id].revoked_ms = ms
  end
  row.revoked_ms = ms
  return true
end

--- For messages: "ak_…" ids are safe to show; secrets never are.
function M.describe(row)
  return format("%s (%s…%s)", row.key_id, M.KEY_PREFIX, row.last4)
end

return M
