-- luacheck: std +busted
-- API keys (API.md §6.1 GET /api-keys, §6.7 the /api/v1/api-keys management family): the
-- public listing, Clerk-JWT-only management, create → use → revoke → 401, feature_gated, the
-- key cap, per-key request logs, revoke-all, and the routing of the absolute path.
local sandbox = require "spec.helpers.sandbox"

local null = sandbox.null
local STAMP = "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$"

-- The decoded text of a base64url segment (no padding), as a JWT carries it.
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function b64url_decode(s)
  local bits, out = {}, {}
  for i = 1, #s do
    local v = B64:find(s:sub(i, i), 1, true) - 1
    for b = 5, 0, -1 do
      bits[#bits + 1] = math.floor(v / 2 ^ b) % 2
    end
  end
  for i = 1, #bits - 7, 8 do
    local byte = 0
    for b = 0, 7 do
      byte = byte * 2 + bits[i + b]
    end
    out[#out + 1] = string.char(byte)
  end
  return table.concat(out)
end

describe("API keys", function()
  local sb = sandbox.suite { reset = true }
  local jwt

  local function mgmt(method, path, token, body)
    local status, text, headers =
      sb:http(method, sb.root .. "/api/v1/api-keys" .. (path or ""), { key = token, body = body })
    return status, sandbox.decode(text), headers, text
  end

  local function create(token, name)
    local status, body = mgmt("POST", "", token, { name = name })
    assert.equals(201, status, type(body) == "table" and body.error and body.error.code or nil)
    return body
  end

  -- The sandbox Clerk JWTs, read from `cleanlist sandbox --help` (so the help text is checked).
  setup(function()
    jwt = sandbox.jwts()
  end)

  it("prints one three-part JWT per sandbox user in --help", function()
    -- each token's claims name its user and organisation
    local users = {
      vera = { "user_2sbxVeraOkafor", "org_2sbxSandboxLabs" },
      rowan = { "user_2sbxRowanReed", "org_2sbxSandboxLabs" },
      theo = { "user_2sbxTheoLind", "org_2sbxSumoGarage" },
    }
    for who, want in pairs(users) do
      local parts = { (jwt[who] or ""):match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]+)$") }
      assert.equals(3, #parts, "no JWT for " .. who .. " in --help")
      local claims = sandbox.decode(b64url_decode(parts[2]))
      assert.same({ "cleanlist-sandbox", want[1], want[2] }, { claims.iss, claims.sub, claims.org_id })
    end
  end)

  describe("GET /api-keys (public)", function()
    it("lists the caller's keys with prefix and last 4 only", function()
      local status, body, _, raw = sb:api("GET", "/api-keys")
      assert.equals(200, status)
      assert.equals(1, #body.keys) -- the read-only key belongs to another user
      local k = body.keys[1]
      assert.equals("ak_sbx0full", k.key_id)
      assert.equals("clapi_", k.key_prefix)
      assert.equals(sb.key:sub(-4), k.key_last4)
      assert.is_true(k.is_active)
      assert.matches(STAMP, k.created_at)
      assert.matches(STAMP, k.last_used_at) -- this very request used it
      assert.equals(12, #k.scopes)
      assert.is_nil(raw:find(sb.key, 1, true), "the secret leaked")
      local keys = {}
      for name in pairs(k) do
        keys[#keys + 1] = name
      end
      table.sort(keys)
      assert.same(
        { "created_at", "is_active", "key_id", "key_last4", "key_prefix", "last_used_at", "name", "scopes" },
        keys
      )
    end)

    it("is served under /api/v2 too", function()
      local status, body = sb:http("GET", sb.root .. "/api/v2/api-keys", { key = sb.key })
      assert.equals(200, status)
      assert.equals("ak_sbx0full", sandbox.decode(body).keys[1].key_id)
    end)

    it("needs admin:api_keys (403) and a credential (401)", function()
      local status, body = sb:api("GET", "/api-keys", { key = sb.readonly_key })
      assert.equals(403, status)
      assert.equals("insufficient_scope", body.error.code)
      status, body = sb:api("GET", "/api-keys", { key = false })
      assert.equals(401, status)
      assert.equals("unauthenticated", body.error.code)
    end)

    it("shows a new key and keeps last_used_at current", function()
      local new = create(jwt.vera, "listing")
      local _, body = sb:api("GET", "/api-keys")
      assert.equals(2, #body.keys)
      assert.equals(new.key_id, body.keys[2].key_id)
      assert.equals(null, body.keys[2].last_used_at)
      sb:control("POST", "/clock", { advance_ms = 3600000 })
      assert.equals(200, (sb:api("GET", "/whoami", { key = new.key })))
      _, body = sb:api("GET", "/api-keys")
      assert.matches(STAMP, body.keys[2].last_used_at)
      assert.is_true(body.keys[2].last_used_at > body.keys[2].created_at)
    end)
  end)

  describe("management authentication", function()
    it("refuses a clapi_ key with 401 and says a Clerk JWT is needed", function()
      local status, body, headers = mgmt("GET", "", sb.key)
      assert.equals(401, status)
      assert.equals("unauthenticated", body.error.code)
      assert.matches("Clerk session JWT", body.error.problem)
      assert.matches("^req_%x+$", body.error.request_id)
      assert.equals(headers["x-request-id"], body.error.request_id)
      assert.equals('Bearer realm="cleanlist"', headers["www-authenticate"])
    end)

    it("refuses no credential, another scheme and an unknown JWT", function()
      assert.equals(401, (mgmt("GET", "", nil)))
      local status =
        sb:http("GET", sb.root .. "/api/v1/api-keys", { headers = { Authorization = "Basic " .. jwt.vera } })
      assert.equals(401, status)
      local forged = jwt.vera:gsub("%.[%w_%-]+$", ".c2lnbmF0dXJl")
      local st, body = mgmt("GET", "", forged)
      assert.equals(401, st)
      assert.equals("unauthenticated", body.error.code)
    end)

    it("lists with a JWT, revoked keys included", function()
      local status, body = mgmt("GET", "", jwt.rowan)
      assert.equals(200, status)
      assert.equals(1, #body.keys)
      assert.equals("ak_sbx0read", body.keys[1].key_id)
      assert.equals(null, body.keys[1].revoked_at)
    end)

    it("answers 405 with Allow for an unknown method", function()
      local status, _, headers = mgmt("DELETE", "", jwt.vera)
      assert.equals(405, status)
      assert.equals("GET, POST", headers["allow"])
    end)
  end)

  describe("POST /api/v1/api-keys", function()
    it("creates a key shown once that works at once with the user's scopes", function()
      local body = create(jwt.vera, "Production server")
      assert.matches("^clapi_[%x]+$", body.key)
      assert.matches("^ak_", body.key_id)
      assert.equals(body.key:sub(-4), body.key_last4)
      assert.equals("Production server", body.name)
      assert.is_true(body.is_active)
      assert.equals(null, body.last_used_at)
      local status, who = sb:api("GET", "/whoami", { key = body.key })
      assert.equals(200, status)
      assert.equals("user_2sbxVeraOkafor", who.user_id)
      assert.equals(12, #who.scopes)
      -- never shown again
      local _, _, _, raw = mgmt("GET", "", jwt.vera)
      assert.is_nil(raw:find(body.key, 1, true))
      local _, _, _, raw2 = sb:api("GET", "/api-keys")
      assert.is_nil(raw2:find(body.key, 1, true))
      for _, r in ipairs(sb:requests()) do
        assert.is_nil((r.headers.authorization or ""):find(body.key, 1, true))
      end
    end)

    it("gives a read-only user's key the read-only scopes", function()
      local body = create(jwt.rowan, "reader")
      local _, who = sb:api("GET", "/whoami", { key = body.key })
      assert.equals("user_2sbxRowanReed", who.user_id)
      assert.equals(4, #who.scopes)
      local status, err = sb:api("POST", "/lead-lists", { key = body.key, body = { name = "x" } })
      assert.equals(403, status)
      assert.equals("insufficient_scope", err.error.code)
    end)

    it("answers 403 feature_gated when the organisation lacks api_access", function()
      local status, body = mgmt("POST", "", jwt.theo, { name = "nope" })
      assert.equals(403, status)
      assert.equals("feature_gated", body.error.code)
      assert.equals("https://docs.cleanlist.ai/errors/feature-gated", body.error.docs_url)
      status, body = mgmt("GET", "", jwt.theo)
      assert.equals(200, status)
      assert.equals(0, #body.keys)
      status, body = sb:api("GET", "/whoami", { key = jwt.theo })
      assert.equals(403, status)
      assert.equals("feature_gated", body.error.code)
    end)

    it("validates the name (422 with loc)", function()
      local status, body = mgmt("POST", "", jwt.vera, {})
      assert.equals(422, status)
      assert.same({ "body", "name" }, body.detail[1].loc)
      assert.equals("missing", body.detail[1].type)
      status, body = mgmt("POST", "", jwt.vera, { name = "   " })
      assert.equals(422, status)
      assert.equals("string_too_short", body.detail[1].type)
      status, body = mgmt("POST", "", jwt.vera, { name = string.rep("n", 101) })
      assert.equals(422, status)
      assert.equals("string_too_long", body.detail[1].type)
      status, body = mgmt("POST", "", jwt.vera, { name = 7 })
      assert.equals(422, status)
      assert.equals("string_type", body.detail[1].type)
      status = sb:http(
        "POST",
        sb.root .. "/api/v1/api-keys",
        { key = jwt.vera, body = "{x", headers = { ["Content-Type"] = "application/json" } }
      )
      assert.equals(422, status)
    end)

    it("caps a user at 10 active keys (403 key_limit_reached), built-in key included", function()
      local made = {}
      for i = 1, 9 do
        made[i] = create(jwt.vera, "k" .. i)
      end
      local status, body = mgmt("POST", "", jwt.vera, { name = "eleventh" })
      assert.equals(403, status)
      assert.equals("key_limit_reached", body.error.code)
      assert.equals(10, body.error.details.active_keys)
      assert.equals(200, (mgmt("POST", "/" .. made[3].key_id .. "/revoke", jwt.vera)))
      create(jwt.vera, "after a revoke")
      -- Rowan's count is his own
      create(jwt.rowan, "rowan's")
    end)
  end)

  describe("revocation", function()
    it("create → use → revoke → 401 revoked_api_key at once", function()
      local k = create(jwt.vera, "short-lived")
      assert.equals(200, (sb:api("GET", "/credits/balance", { key = k.key })))
      local status, body = mgmt("POST", "/" .. k.key_id .. "/revoke", jwt.vera)
      assert.equals(200, status)
      assert.equals(k.key_id, body.key_id)
      assert.is_false(body.is_active)
      assert.is_false(body.already_revoked)
      assert.matches(STAMP, body.revoked_at)
      status, body = sb:api("GET", "/credits/balance", { key = k.key })
      assert.equals(401, status)
      assert.equals("revoked_api_key", body.error.code)
      assert.is_false(body.error.retryable)
      -- the legacy API says it its way
      status, body = sb:api("GET", "/auth/validate-key", { key = k.key })
      assert.equals(401, status)
      assert.same({ detail = "Not authenticated" }, body)
      -- listed as inactive, revoking again is harmless
      local _, list = mgmt("GET", "", jwt.vera)
      assert.is_false(list.keys[2].is_active)
      assert.matches(STAMP, list.keys[2].revoked_at)
      status, body = mgmt("POST", "/" .. k.key_id .. "/revoke", jwt.vera)
      assert.equals(200, status)
      assert.is_true(body.already_revoked)
    end)

    it("answers 404 for an unknown key or another user's key", function()
      local status, body = mgmt("POST", "/ak_doesnotexist/revoke", jwt.vera)
      assert.equals(404, status)
      assert.equals("not_found", body.error.code)
      local k = create(jwt.vera, "vera's")
      status = mgmt("POST", "/" .. k.key_id .. "/revoke", jwt.rowan)
      assert.equals(404, status)
      assert.equals(200, (sb:api("GET", "/whoami", { key = k.key })))
    end)

    it("revoke-all revokes every active key of the user and nobody else's", function()
      local a, b = create(jwt.rowan, "a"), create(jwt.rowan, "b")
      local v = create(jwt.vera, "vera keeps this")
      local status, body = mgmt("POST", "/revoke-all", jwt.rowan)
      assert.equals(200, status)
      assert.equals(3, body.revoked)
      table.sort(body.key_ids)
      local want = { a.key_id, b.key_id, "ak_sbx0read" }
      table.sort(want)
      assert.same(want, body.key_ids)
      for _, key in ipairs { a.key, b.key, sb.readonly_key } do
        assert.equals(401, (sb:api("GET", "/whoami", { key = key })))
      end
      assert.equals(200, (sb:api("GET", "/whoami", { key = v.key })))
      assert.equals(200, (sb:api("GET", "/whoami")))
      status, body = mgmt("POST", "/revoke-all", jwt.rowan)
      assert.equals(200, status)
      assert.equals(0, body.revoked)
      -- reset brings the built-in key back
      sb:control("POST", "/reset")
      assert.equals(200, (sb:api("GET", "/whoami", { key = sb.readonly_key })))
    end)
  end)

  describe("GET /api/v1/api-keys/{key_id}/requests", function()
    it("lists that key's requests, newest first, and honours limit", function()
      local k = create(jwt.vera, "logged")
      sb:api("GET", "/whoami", { key = k.key })
      sb:api("GET", "/credits/balance", { key = k.key })
      sb:api("GET", "/whoami") -- another key: not listed
      local status, body = mgmt("GET", "/" .. k.key_id .. "/requests", jwt.vera)
      local _
      assert.equals(200, status)
      assert.equals(2, body.total)
      assert.equals("/api/v1/public/credits/balance", body.requests[1].path)
      assert.equals("/api/v1/public/whoami", body.requests[2].path)
      assert.equals(200, body.requests[1].status)
      assert.matches("^req_%x+$", body.requests[1].request_id)
      assert.matches(STAMP, body.requests[1].created_at)
      _, body = mgmt("GET", "/" .. k.key_id .. "/requests?limit=1", jwt.vera)
      assert.equals(1, #body.requests)
      status, body = mgmt("GET", "/" .. k.key_id .. "/requests?limit=0", jwt.vera)
      assert.equals(422, status)
      assert.same({ "query", "limit" }, body.detail[1].loc)
      assert.equals(404, (mgmt("GET", "/ak_nope/requests", jwt.vera)))
      assert.equals(404, (mgmt("GET", "/" .. k.key_id .. "/requests", jwt.rowan)))
    end)
  end)

  describe("routing of the absolute path", function()
    it("serves /api/v1/api-keys only at its full path", function()
      assert.equals(404, (sb:http("GET", sb.root .. "/api/v1/public/api/v1/api-keys", { key = jwt.vera })))
      assert.equals(404, (sb:http("GET", sb.root .. "/api/v2/api/v1/api-keys", { key = jwt.vera })))
      assert.equals(404, (sb:http("GET", sb.root .. "/api/v1/api-keysx", { key = jwt.vera })))
      assert.equals(404, (sb:http("GET", sb.root .. "/api/v1/api-keys/health", { key = jwt.vera })))
    end)

    it("logs management requests like API requests, with the JWT redacted", function()
      sb:control("DELETE", "/requests")
      mgmt("GET", "", jwt.vera)
      local log = sb:requests()
      assert.equals(1, #log)
      assert.equals("/api/v1/api-keys", log[1].path)
      assert.equals(200, log[1].status)
      assert.is_nil(log[1].headers.authorization:find(jwt.vera, 1, true))
    end)
  end)
end)
