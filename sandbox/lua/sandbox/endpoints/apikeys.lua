--- API keys: the public listing GET /api-keys (API.md §6.1, ApiKeysResponse) and the
-- key-management family at the absolute path /api/v1/api-keys (§6.7; Clerk JWT only).
--
-- Management shapes are UNKNOWN in the sources; the sandbox answers:
--   POST /api/v1/api-keys {"name": "..."}          201 ApiKeyInfo + {"key": "clapi_…" (the full
--                                                   secret, shown once), "message"}
--   GET  /api/v1/api-keys                          200 {"keys": [ApiKeyInfo + revoked_at]}
--   POST /api/v1/api-keys/{key_id}/revoke          200 {"key_id", "is_active": false,
--                                                   "revoked": true, "already_revoked",
--                                                   "revoked_at"}
--   POST /api/v1/api-keys/revoke-all               200 {"revoked": N, "key_ids": [...]}
--   GET  /api/v1/api-keys/{key_id}/requests?limit  200 {"key_id", "requests": [{request_id,
--                                                   method, path, query, status, timestamp_ms,
--                                                   created_at}], "total"} newest first, from
--                                                   the sandbox request log (last 1000 API
--                                                   requests; not kept by --state)
-- Errors use the MCP envelope: 401 unauthenticated (no credential, a clapi_ key, or an unknown
-- session token), 403 feature_gated (the organisation's plan lacks api_access), 403
-- key_limit_reached (already 10 active keys; built-in keys count), 404 not_found (a key of
-- another user or organisation, or no such key); a body that fails validation → 422
-- {"detail":[...]} as FastAPI does.
local apikeys = require "sandbox.apikeys"
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local validate = require "sandbox.validate"
local http = require "sandbox.http"

local M = {}

local null = json.null

M.BASE = "/api/v1/api-keys"

local function unauthenticated(rid, problem, cause)
  local status, body = errors.build("unauthenticated", rid, {
    problem = problem,
    cause = cause,
    fix = "Send `Authorization: Bearer <Clerk session JWT>`; the sandbox's sessions are listed "
      .. "in `cleanlist sandbox --help`.",
  })
  return nil, status, body
end

--- Route authentication for the management family: a sandbox Clerk session JWT only.
function M.authenticate_jwt(state, req, rid)
  local value = req.headers.authorization or ""
  if value:match("^%s*$") then
    return unauthenticated(
      rid,
      "No credentials were sent.",
      "API-key management needs a Clerk session JWT in the Authorization header."
    )
  end
  local scheme, token = value:match("^%s*(%S+)%s+(%S+)%s*$")
  if not scheme or scheme:lower() ~= "bearer" then
    return unauthenticated(
      rid,
      "The Authorization header is not a Bearer credential.",
      "Only `Authorization: Bearer <token>` is accepted."
    )
  end
  if token:sub(1, 6) == apikeys.KEY_PREFIX then
    return unauthenticated(
      rid,
      "API-key management accepts a Clerk session JWT only.",
      "The Bearer token is a clapi_ API key; API keys cannot create, list or revoke keys."
    )
  end
  local session = apikeys.session(state, token)
  if not session then
    return unauthenticated(
      rid,
      "The Clerk session token is not valid.",
      "The Bearer token is not a session this sandbox issued (malformed, expired or unknown)."
    )
  end
  req.key_id = session.id
  return session
end

local function info_with_revocation(state, row)
  local info = apikeys.info(state, row)
  info.revoked_at = apikeys.stamp(row.revoked_ms)
  return info
end

--- GET /api-keys (public): ApiKeysResponse, the caller's keys in the caller's organisation.
function M.list_public(ctx)
  local keys = json.array()
  for _, row in ipairs(apikeys.keys_of(ctx.state, ctx.user, ctx.org)) do
    keys[#keys + 1] = apikeys.info(ctx.state, row)
  end
  return 200, { keys = keys }
end

function M.list(ctx)
  local keys = json.array()
  for _, row in ipairs(apikeys.keys_of(ctx.state, ctx.user, ctx.org)) do
    keys[#keys + 1] = info_with_revocation(ctx.state, row)
  end
  return 200, { keys = keys }
end

local CREATE = validate.object({
  name = { type = "string", required = true, min_len = 1, max_len = apikeys.NAME_MAX },
}, { open = true })

-- Before the body's validation: the plan must include API access.
local function api_access(ctx)
  local org = ctx.org
  if not apikeys.has_api_access(org) then
    return errors.build("feature_gated", ctx.request_id, {
      problem = "The organization's plan does not include API access.",
      cause = "Creating an API key needs the api_access feature; " .. org.name .. " is on a plan without it.",
    })
  end
end

function M.create(ctx)
  local state, user, org, body = ctx.state, ctx.user, ctx.org, ctx.body
  local name = body.name:match("^%s*(.-)%s*$")
  if name == "" then
    return validate.response({
      validate.error({ "body", "name" }, "string_too_short", "String should have at least 1 character", body.name),
    })
  end
  local active = apikeys.active_count(state, user, org)
  if active >= apikeys.MAX_ACTIVE then
    return errors.build("key_limit_reached", ctx.request_id, {
      cause = string.format("%s has %d active keys; the limit is %d per user.", user.name, active, apikeys.MAX_ACTIVE),
      details = { active_keys = active, max_active_keys = apikeys.MAX_ACTIVE },
    })
  end
  local row, secret = apikeys.create(state, user, org, name)
  local out = apikeys.info(state, row)
  out.key = secret
  out.revoked_at = null
  out.message = "Copy this key now: it is shown only once and cannot be retrieved later."
  return 201, out
end

-- The caller's key named by the key_id path parameter, or nil and a 404 status, body.
local function own_key(ctx)
  local key_id = ctx.params.key_id
  local row = apikeys.find(ctx.state, key_id, ctx.user, ctx.org)
  if not row then
    return nil,
      errors.build("not_found", ctx.request_id, {
        problem = "There is no API key " .. http.scrub(tostring(key_id)) .. " for this user.",
        cause = "The key id is unknown, or the key belongs to another user or organization.",
        fix = "List your keys with GET /api/v1/api-keys.",
      })
  end
  return row
end

function M.revoke(ctx)
  local row, status, body = own_key(ctx)
  if not row then return status, body end
  local changed = apikeys.revoke(ctx.state, row)
  return 200,
    {
      key_id = row.key_id,
      is_active = false,
      revoked = true,
      already_revoked = not changed,
      revoked_at = apikeys.stamp(row.revoked_ms),
    }
end

function M.revoke_all(ctx)
  local ids = json.array()
  for _, row in ipairs(apikeys.keys_of(ctx.state, ctx.user, ctx.org)) do
    if apikeys.revoke(ctx.state, row) then ids[#ids + 1] = row.key_id end
  end
  return 200, { revoked = #ids, key_ids = ids }
end

function M.requests(ctx)
  local row, status, body = own_key(ctx)
  if not row then return status, body end
  local query = http.parse_query(ctx.req.query)
  local limit, err = validate.query_int(query, "limit", 100, 1, 500)
  if err then return validate.response({ err }) end
  local log = ctx.app.log
  local out = json.array()
  for seq = log.last, log.first, -1 do
    local e = log.items[seq]
    if e and e.key_id == row.key_id then
      out[#out + 1] = {
        request_id = e.request_id,
        method = e.method,
        path = e.path,
        query = (e.query ~= nil and e.query ~= "") and e.query or null,
        status = e.status or null,
        timestamp_ms = e.time_ms,
        created_at = apikeys.stamp(e.time_ms),
      }
      if #out >= limit then break end
    end
  end
  return 200, { key_id = row.key_id, requests = out, total = #out }
end

function M.register(router)
  apikeys.install()
  router:add("GET", "/api-keys", { scope = "admin:api_keys", handler = M.list_public })
  local function mgmt(method, template, handler, route)
    route = route or {}
    route.absolute, route.authenticate, route.handler = true, M.authenticate_jwt, handler
    router:add(method, M.BASE .. template, route)
  end
  mgmt("POST", "", M.create, { guard = api_access, body = CREATE })
  mgmt("GET", "", M.list)
  mgmt("POST", "/revoke-all", M.revoke_all)
  mgmt("POST", "/{key_id}/revoke", M.revoke)
  mgmt("GET", "/{key_id}/requests", M.requests)
end

return M
