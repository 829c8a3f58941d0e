--- Bearer authentication and scope checks (API.md §1.2, §1.3).
local errors = require "sandbox.errors"
local json = require "sandbox.json"

local M = {}

local function fail(code, rid, fields)
  local status, body = errors.build(code, rid, fields)
  return nil, status, body
end

-- Parsing an Authorization value: "ok" and the token, or the failure's problem and cause.
local function parse(value)
  if value:match("^%s*$") then return "missing" end
  local scheme, token = value:match("^%s*(%S+)%s*(.-)%s*$")
  if scheme:lower() ~= "bearer" then return "scheme" end
  if token == "" then return "empty" end
  return "ok", token
end

local failures = {
  missing = {
    problem = "No credentials were sent.",
    cause = "The request has no Authorization header.",
  },
  scheme = {
    problem = "The Authorization header is not a Bearer credential.",
    cause = "Only `Authorization: Bearer <token>` is accepted; X-API-Key and HTTP Basic " .. "are not.",
  },
  empty = {
    problem = "The Bearer token is empty.",
    cause = "The Authorization header names the Bearer scheme but carries no token.",
  },
}

-- Clients send the same header on every request: remember how it parsed.
local parsed, parsed_size = {}, 0

--- The key record for req, or nil, status, body (a 401 envelope).
function M.authenticate(state, req, rid)
  local value = req.headers.authorization or ""
  local p = parsed[value]
  if not p then
    local verdict, token = parse(value)
    p = { verdict = verdict, token = token }
    if parsed_size >= 1024 then
      parsed, parsed_size = {}, 0
    end
    parsed[value], parsed_size = p, parsed_size + 1
  end
  if p.verdict ~= "ok" then
    local f = failures[p.verdict]
    return fail("unauthenticated", rid, { problem = f.problem, cause = f.cause })
  end
  local key, why = state:key(p.token, req)
  if not key then
    return fail(why or "invalid_api_key", rid) -- why: "revoked_api_key", "feature_gated"
  end
  return key
end

--- nil when key holds `scope`, else status, body (a 403 insufficient_scope envelope).
function M.require_scope(key, scope, rid)
  if scope == nil or key.scope_set[scope] then return nil end
  local _, status, body = fail("insufficient_scope", rid, {
    problem = "This endpoint requires the " .. scope .. " scope.",
    cause = "The credential was not granted " .. scope .. ".",
    details = {
      required_scopes = json.array { scope },
      granted_scopes = key.scopes,
    },
  })
  return status, body
end

return M
