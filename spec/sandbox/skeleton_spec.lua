-- luacheck: std +busted
-- The sandbox's first slice over real HTTP (curl CLI): identity and balance, the error
-- envelope, routing, request ids, the request log, keep-alive and scripted responses.
-- Secrets and the process lifecycle are in process_spec.lua.
local sandbox = require "spec.helpers.sandbox"
local api = require "spec.helpers.api"

local ALL_SCOPES = {
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
local ENVELOPE = { "task_id", "timestamp_ms", "agent_instructions", "usage", "message" }
local null = sandbox.null
local set_of = api.set_of

local function is_integer(v)
  return type(v) == "number" and v == math.floor(v)
end

local function is_string_or_null(v)
  return type(v) == "string" or v == null
end

-- Checks body against a closed schema: required keys present, no unknown keys, each value
-- accepted by its type check.
local function assert_schema(body, fields, required)
  assert.is_table(body)
  for _, k in ipairs(required) do
    assert.is_not_nil(body[k], "missing required field " .. k)
  end
  for k, v in pairs(body) do
    local check = fields[k]
    assert.is_function(check, "unexpected field " .. tostring(k))
    assert.is_true(check(v), "bad value for " .. k .. ": " .. tostring(v))
  end
end

local function string_array(v)
  if type(v) ~= "table" then return false end
  for _, s in ipairs(v) do
    if type(s) ~= "string" then return false end
  end
  return true
end

local function with_envelope(fields)
  fields.task_id = is_string_or_null
  fields.agent_instructions = is_string_or_null
  fields.usage = is_string_or_null
  fields.message = is_string_or_null
  fields.timestamp_ms = function(v)
    return v == null or is_integer(v)
  end
  return fields
end

local WHOAMI_FIELDS = with_envelope {
  user_email = is_string_or_null,
  user_id = is_string_or_null,
  user_name = is_string_or_null,
  organization_id = function(v)
    return type(v) == "string"
  end,
  organization_name = is_string_or_null,
  auth_type = function(v)
    return v == "clerk_jwt" or v == "api_key" or v == "oauth"
  end,
  scopes = string_array,
  tier = function(v)
    return v == "free" or v == "starter" or v == "pro" or v == "enterprise"
  end,
  appsumo_tier = function(v)
    return v == null or is_integer(v)
  end,
  features = string_array,
}
local WHOAMI_REQUIRED = { "user_email", "organization_id", "auth_type", "scopes", "tier", "features" }

local BALANCE_FIELDS = with_envelope {
  organization_id = function(v)
    return type(v) == "string"
  end,
  credits = function(v)
    return is_integer(v) and v >= 0
  end,
}

-- Calls fn() with the sandbox clock held still (time scale 1e-9, then back as it was); returns the
-- clock's reading and fn's results, so an answer's timestamp_ms can be compared to it exactly.
local function at_held_clock(sb, fn)
  local scale = sb:control("GET", "/clock").time_scale
  sb:control("POST", "/clock", { time_scale = 1e-9 })
  local now_ms = sb:control("GET", "/clock").now_ms
  local a, b, c, d = fn()
  sb:control("POST", "/clock", { time_scale = scale })
  return now_ms, a, b, c, d
end

-- The full MCP error envelope (API.md §3.1).
local function assert_envelope(body, headers, code, retryable)
  assert.is_table(body)
  local e = body.error
  assert.is_table(e, "no error object")
  assert.are.equal(code, e.code)
  assert.is_string(e.problem)
  assert.is_true(#e.problem > 0)
  assert.is_true(is_string_or_null(e.cause))
  assert.is_true(is_string_or_null(e.fix))
  assert.are.equal(retryable, e.retryable)
  assert.are.equal("https://docs.cleanlist.ai/errors/" .. code:gsub("_", "-"), e.docs_url)
  assert.is_truthy(tostring(e.request_id):match("^req_%x+$"))
  assert.are.equal(20, #e.request_id)
  assert.are.equal(e.request_id, headers["x-request-id"])
  assert.is_truthy((headers["content-type"] or ""):match("^application/json"))
  return e
end

describe("sandbox", function()
  local sb = sandbox.suite { args = { "--seed", "7" }, reset = true }

  describe("GET /whoami", function()
    it("matches WhoamiResponse for the full-access key", function()
      local now_ms, status, body, headers, raw = at_held_clock(sb, function()
        return sb:api("GET", "/whoami")
      end)
      assert.are.equal(200, status)
      assert.is_truthy(headers["content-type"]:match("^application/json"))
      assert.is_truthy(headers["x-request-id"]:match("^req_%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x$"))
      assert_schema(body, WHOAMI_FIELDS, WHOAMI_REQUIRED)
      for _, k in ipairs(ENVELOPE) do
        assert.is_not_nil(body[k], "envelope field " .. k)
      end
      assert.are.equal("api_key", body.auth_type)
      assert.are.equal("pro", body.tier)
      assert.are.equal(null, body.appsumo_tier)
      assert.are.equal("v***@example.com", body.user_email)
      assert.are.equal("user_2sbxVeraOkafor", body.user_id)
      assert.are.equal("Vera Okafor", body.user_name)
      assert.are.equal("org_2sbxSandboxLabs", body.organization_id)
      assert.are.equal("Sandbox Labs", body.organization_name)
      assert.are.same(ALL_SCOPES, body.scopes)
      local sorted = {}
      for i, f in ipairs(body.features) do
        sorted[i] = f
      end
      table.sort(sorted)
      assert.are.same(sorted, body.features)
      assert.is_true(set_of(body.features).api_access)
      assert.are.equal(now_ms, body.timestamp_ms)
      -- an integer literal on the wire, not 1.7e+12
      assert.is_truthy(raw:match('"timestamp_ms":%d+[,}]'))
      assert.are.equal("You have 5000 credits remaining.", body.agent_instructions)
    end)

    it("shows the read-only key as another user of the same organisation", function()
      local _, full = sb:api("GET", "/whoami")
      local status, ro = sb:api("GET", "/whoami", { key = sb.readonly_key })
      assert.are.equal(200, status)
      assert_schema(ro, WHOAMI_FIELDS, WHOAMI_REQUIRED)
      assert.are.equal(full.organization_id, ro.organization_id)
      assert.are.same(
        { "user_2sbxRowanReed", "Rowan Reed", "r***@example.com" },
        { ro.user_id, ro.user_name, ro.user_email }
      )
      assert.are.same({ "people:read", "companies:read", "lists:read", "enrich:read" }, ro.scopes)
      assert.are.equal(null, ro.agent_instructions)
    end)

    it("is served under /api/v2 too", function()
      local status, body, headers = sb:http("GET", sb.root .. "/api/v2/whoami", { key = sb.key })
      assert.are.equal(200, status)
      body = sandbox.decode(body)
      assert_schema(body, WHOAMI_FIELDS, WHOAMI_REQUIRED)
      assert.are.same(ALL_SCOPES, body.scopes)
      assert.is_truthy(headers["x-request-id"]:match("^req_%x+$"))
    end)
  end)

  describe("GET /credits/balance", function()
    it("matches CreditsBalanceResponse", function()
      local now_ms, status, body, headers = at_held_clock(sb, function()
        return sb:api("GET", "/credits/balance")
      end)
      assert.are.equal(200, status)
      assert_schema(body, BALANCE_FIELDS, { "organization_id", "credits" })
      assert.are.equal(5000, body.credits)
      assert.are.equal("You have 5000 credits remaining.", body.agent_instructions)
      assert.are.equal(now_ms, body.timestamp_ms)
      assert.are.equal("org_2sbxSandboxLabs", body.organization_id)
      assert.is_truthy(headers["x-request-id"]:match("^req_%x+$"))
    end)

    it("follows /__sandbox/credits and reset", function()
      local res, st = sb:control("POST", "/credits", { credits = 42 })
      assert.are.equal(200, st)
      assert.are.equal(42, res.credits)
      local _, body = sb:api("GET", "/credits/balance")
      assert.are.equal(42, body.credits)
      assert.are.equal("You have 42 credits remaining.", body.agent_instructions)
      sb:control("POST", "/reset")
      _, body = sb:api("GET", "/credits/balance")
      assert.are.equal(5000, body.credits)
    end)

    it("rejects a bad /__sandbox/credits body", function()
      local res, st = sb:control("POST", "/credits", { credits = -1 })
      assert.are.equal(400, st)
      assert.are.equal("validation_error", res.error.code)
      res, st = sb:control("POST", "/credits", { credits = 1.5 })
      assert.are.equal(400, st)
      assert.are.equal("validation_error", res.error.code)
      local _, body = sb:api("GET", "/credits/balance")
      assert.are.equal(5000, body.credits)
    end)

    it("answers 403 insufficient_scope to the read-only key", function()
      local status, body, headers = sb:api("GET", "/credits/balance", { key = sb.readonly_key })
      assert.are.equal(403, status)
      local e = assert_envelope(body, headers, "insufficient_scope", false)
      assert.are.same({ "credits:read" }, e.details.required_scopes)
      local _, who = sb:api("GET", "/whoami", { key = sb.readonly_key })
      assert.are.same(who.scopes, e.details.granted_scopes)
    end)
  end)

  describe("authentication", function()
    it("answers 401 unauthenticated without an Authorization header", function()
      local status, body, headers = sb:api("GET", "/whoami", { key = false })
      assert.are.equal(401, status)
      assert_envelope(body, headers, "unauthenticated", false)
      assert.is_truthy((headers["www-authenticate"] or ""):match("^Bearer"))
    end)

    it("answers 401 unauthenticated to a scheme other than Bearer", function()
      for _, value in ipairs { "Basic " .. sb.key, "Token " .. sb.key, sb.key, "Bearer" } do
        local status, body, headers =
          sb:api("GET", "/credits/balance", { key = false, headers = { Authorization = value } })
        assert.are.equal(401, status, value)
        assert_envelope(body, headers, "unauthenticated", false)
      end
      local status = sb:api("GET", "/whoami", { key = false, headers = { ["X-API-Key"] = sb.key } })
      assert.are.equal(401, status)
    end)

    it("accepts the scheme name in any case", function()
      local status = sb:api("GET", "/whoami", { key = false, headers = { Authorization = "bearer " .. sb.key } })
      assert.are.equal(200, status)
    end)

    it("answers 401 invalid_api_key to an unknown key", function()
      local status, body, headers = sb:api("GET", "/whoami", { key = "clapi_not_a_real_key_0123456789" })
      assert.are.equal(401, status)
      local e = assert_envelope(body, headers, "invalid_api_key", false)
      assert.are.equal("https://docs.cleanlist.ai/errors/invalid-api-key", e.docs_url)
    end)
  end)

  describe("routing", function()
    it("answers 404 not_found for an unknown API path under both prefixes", function()
      local status, body, headers = sb:api("GET", "/no/such/thing")
      assert.are.equal(404, status)
      assert_envelope(body, headers, "not_found", false)
      local st2, text, h2 = sb:http("GET", sb.root .. "/api/v2/nope", { key = sb.key })
      assert.are.equal(404, st2)
      assert_envelope(sandbox.decode(text), h2, "not_found", false)
    end)

    it("answers 404 outside the API and control paths", function()
      local status, text, headers = sb:http("GET", sb.root .. "/")
      assert.are.equal(404, status)
      assert_envelope(sandbox.decode(text), headers, "not_found", false)
    end)

    it("answers 405 method_not_allowed with Allow on a known path", function()
      local status, body, headers = sb:api("POST", "/whoami", { body = {} })
      assert.are.equal(405, status)
      assert_envelope(body, headers, "method_not_allowed", false)
      assert.are.equal("GET", headers.allow)
      status = sb:api("DELETE", "/credits/balance")
      assert.are.equal(405, status)
    end)

    it("never serves control endpoints under the API prefix", function()
      for _, prefix in ipairs { "/api/v1/public", "/api/v2" } do
        local status, text, headers = sb:http("GET", sb.root .. prefix .. "/__sandbox/health")
        assert.are.equal(404, status)
        assert_envelope(sandbox.decode(text), headers, "not_found", false)
      end
    end)

    it("serves /__sandbox/health without auth, with the version of `cleanlist --version`", function()
      local body, status = sb:control("GET", "/health")
      assert.are.equal(200, status)
      local version = sandbox.cli("--version"):match("^cleanlist (%d+%.%d+%.%d+) ")
      assert.are.equal(require("cleanlist").VERSION, version)
      assert.are.same({ ok = true, version = version }, body)
    end)

    it("answers 404 and 405 in the envelope on control paths", function()
      local body, status = sb:control("GET", "/nope")
      assert.are.equal(404, status)
      assert.are.equal("not_found", body.error.code)
      body, status = sb:control("POST", "/health")
      assert.are.equal(405, status)
      assert.are.equal("method_not_allowed", body.error.code)
    end)
  end)

  describe("request ids", function()
    local function first_ids(n)
      local ids = {}
      for i = 1, n do
        local _, _, headers = sb:api("GET", "/whoami")
        ids[i] = headers["x-request-id"]
      end
      return ids
    end

    it("are distinct, and repeat after a reset (deterministic from the seed)", function()
      local a = first_ids(3)
      assert.are_not.equal(a[1], a[2])
      assert.are_not.equal(a[2], a[3])
      sb:control("POST", "/reset")
      assert.are.same(a, first_ids(3))
    end)

    it("are the same for the same seed and differ for another seed", function()
      local a = first_ids(2)
      local same = sandbox.start { args = { "--seed", "7" } }
      local other = sandbox.start { args = { "--seed", "8" } }
      local ok, err = pcall(function()
        local ids_same, ids_other = {}, {}
        for i = 1, 2 do
          local _, _, h1 = same:api("GET", "/whoami")
          local _, _, h2 = other:api("GET", "/whoami")
          ids_same[i], ids_other[i] = h1["x-request-id"], h2["x-request-id"]
        end
        assert.are.same(a, ids_same)
        assert.are_not.equal(a[1], ids_other[1])
      end)
      same:stop()
      other:stop()
      assert(ok, err)
    end)
  end)

  describe("request log", function()
    it("records API requests with method, path, raw query, conn, headers and status", function()
      sb:api("GET", "/whoami?a=1&b=%20x", {
        headers = { ["User-Agent"] = "spec-agent/1.0", ["X-Custom"] = "yes" },
      })
      sb:api("GET", "/credits/balance", { key = sb.readonly_key })
      sb:control("GET", "/health") -- control requests are not logged
      local log = sb:requests()
      assert.are.equal(2, #log)
      local a, b = log[1], log[2]
      assert.are.equal(1, a.seq)
      assert.are.equal(2, b.seq)
      assert.are.equal("GET", a.method)
      assert.are.equal("/api/v1/public/whoami", a.path)
      assert.are.equal("a=1&b=%20x", a.query)
      assert.are.equal("", b.query)
      assert.is_true(is_integer(a.conn))
      assert.are.equal("spec-agent/1.0", a.headers["user-agent"])
      assert.are.equal("yes", a.headers["x-custom"])
      assert.are.equal(200, a.status)
      assert.are.equal(403, b.status)
      assert.is_truthy(a.request_id:match("^req_%x+$"))
    end)

    it("redacts the Authorization header to the scheme, prefix and last four", function()
      sb:api("GET", "/whoami")
      sb:api("GET", "/whoami", { key = sb.readonly_key })
      sb:api("GET", "/whoami", { key = false, headers = { Authorization = "Basic dXNlcjpwYXNzd29yZA==" } })
      local log = sb:requests()
      assert.are.equal("Bearer clapi_\226\128\166" .. sb.key:sub(-4), log[1].headers.authorization)
      assert.are.equal("Bearer clapi_\226\128\166" .. sb.readonly_key:sub(-4), log[2].headers.authorization)
      assert.are.equal("Basic \226\128\166ZA==", log[3].headers.authorization)
    end)

    it("is cleared by DELETE /__sandbox/requests", function()
      sb:api("GET", "/whoami")
      local res, status = sb:control("DELETE", "/requests")
      assert.are.equal(200, status)
      assert.is_true(res.ok)
      assert.are.equal(0, #sb:requests())
      sb:api("GET", "/whoami")
      assert.are.equal(1, #sb:requests())
    end)
  end)

  describe("keep-alive", function()
    it("serves two requests on one connection", function()
      local cmd = table.concat({
        "curl -sS -o /dev/null -o /dev/null",
        "-w '%{http_code}:%{num_connects} '",
        "-H",
        sandbox.quote("Authorization: Bearer " .. sb.key),
        sandbox.quote(sb.base_url .. "/whoami"),
        sandbox.quote(sb.base_url .. "/credits/balance"),
      }, " ")
      local out = sandbox.run(cmd)
      assert.are.equal("200:1 200:0 ", out)
      local log = sb:requests()
      assert.are.equal(2, #log)
      assert.are.equal(log[1].conn, log[2].conn)
      -- and a new connection gets a new id
      sb:api("GET", "/whoami")
      log = sb:requests()
      assert.are_not.equal(log[2].conn, log[3].conn)
    end)
  end)

  describe("scripted responses", function()
    it("serve a non-JSON 502 verbatim, then the real handler resumes", function()
      local page = "<html><body><h1>502 Bad Gateway</h1></body></html>\n"
      local res, status = sb:control("POST", "/script", {
        responses = {
          { status = 502, headers = { ["Content-Type"] = "text/html" }, body = page },
          { status = 503, headers = { ["Retry-After"] = "1" }, body = "" },
        },
      })
      assert.are.equal(200, status)
      assert.are.equal(2, res.queued)
      local st, text, headers = sb:http("GET", "/whoami", { key = sb.key })
      assert.are.equal(502, st)
      assert.are.equal(page, text)
      assert.are.equal("text/html", headers["content-type"])
      assert.is_truthy(headers["x-request-id"]:match("^req_%x+$"))
      st, text, headers = sb:http("GET", "/credits/balance")
      assert.are.equal(503, st)
      assert.are.equal("", text)
      assert.are.equal("1", headers["retry-after"])
      assert.is_truthy(headers["content-type"]:match("^application/json"))
      local st3, body = sb:api("GET", "/whoami")
      assert.are.equal(200, st3)
      assert.are.equal("api_key", body.auth_type)
      local log = sb:requests()
      assert.are.same({ 502, 503, 200 }, { log[1].status, log[2].status, log[3].status })
    end)

    it("can be inspected and cleared", function()
      sb:control("POST", "/script", { responses = { { status = 500 }, { status = 500 } } })
      local res = sb:control("GET", "/script")
      assert.are.equal(2, res.pending)
      sb:control("DELETE", "/script")
      assert.are.equal(0, sb:control("GET", "/script").pending)
      assert.are.equal(200, (sb:api("GET", "/whoami")))
    end)

    it("reject a malformed script", function()
      for _, bad in ipairs {
        { responses = { { status = 42 } } },
        { responses = { { status = 200, headers = { X = { 1 } } } } },
        { nope = true },
      } do
        local res, status = sb:control("POST", "/script", bad)
        assert.are.equal(400, status)
        assert.are.equal("validation_error", res.error.code)
      end
      local status = sb:http("POST", sb.root .. "/__sandbox/script", { body = "{not json" })
      assert.are.equal(400, status)
      assert.are.equal(0, sb:control("GET", "/script").pending)
    end)

    it("turn a Lua error in a handler into a 500 internal_error envelope", function()
      sb:control("POST", "/script", { responses = { { raise = "boom" } } })
      local status, body, headers = sb:api("GET", "/whoami")
      assert.are.equal(500, status)
      local e = assert_envelope(body, headers, "internal_error", true)
      assert.is_truthy(e.cause:match("boom"))
      assert.are.equal(200, (sb:api("GET", "/whoami")))
      assert.are.equal(500, sb:requests()[1].status)
    end)

    it("survive an error outside the handlers' own trap (C fallback)", function()
      sb:control("POST", "/script", { responses = { { crash = "kaboom" } } })
      local status, body, headers = sb:api("GET", "/whoami")
      assert.are.equal(500, status)
      assert_envelope(body, headers, "internal_error", true)
      assert.are.equal(200, (sb:api("GET", "/whoami")))
    end)
  end)
end)
