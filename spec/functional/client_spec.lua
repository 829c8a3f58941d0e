-- The client over the real libcurl transport against the sandbox on loopback.
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"

describe("client against the sandbox", function()
  local sb = sandbox.suite { clear = true }

  local function client(opts)
    return clients.new(sb, opts)
  end

  it("reads whoami with the documented fields and envelope", function()
    -- the sandbox clock held still, so the envelope's timestamp is its reading
    local scale = sb:control("GET", "/clock").time_scale
    sb:control("POST", "/clock", { time_scale = 1e-9 })
    local now_ms = sb:control("GET", "/clock").now_ms
    local me = assert(client():whoami())
    sb:control("POST", "/clock", { time_scale = scale })
    assert.equals("api_key", me.auth_type)
    assert.equals("org_2sbxSandboxLabs", me.organization_id)
    assert.equals("Sandbox Labs", me.organization_name)
    assert.equals("user_2sbxVeraOkafor", me.user_id)
    assert.equals("Vera Okafor", me.user_name)
    assert.equals("v***@example.com", me.user_email)
    assert.same({
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
    }, me.scopes)
    assert.equals("pro", me.tier)
    assert.same({ -- sorted
      "api_access",
      "data_source_csv_upload",
      "enrich_email",
      "enrich_phone",
      "search_people",
      "sync_to_crm",
    }, me.features)
    assert.equals(now_ms, me.timestamp_ms)
    assert.equals("You have 5000 credits remaining.", me.agent_instructions)
    assert.is_nil(me.error)
  end)

  it("reads the credit balance", function()
    local c = client()
    local b = assert(c:credits_balance())
    assert.equals(5000, b.credits) -- the seeded organisation's balance
    assert.equals("org_2sbxSandboxLabs", b.organization_id)
    assert.matches(tostring(b.credits), b.agent_instructions, 1, true)
    sb:control("POST", "/credits", { credits = 1234 })
    assert.equals(1234, assert(c:credits_balance()).credits)
  end)

  it("sends the key as a Bearer token, its User-Agent, and reuses one connection", function()
    local c = client()
    for _ = 1, 3 do
      assert(c:whoami())
    end
    local log = sb:requests()
    assert.equals(3, #log)
    local last4 = sb.key:sub(-4)
    for _, r in ipairs(log) do
      assert.equals("Bearer clapi_\226\128\166" .. last4, r.headers.authorization)
      assert.matches("^cleanlist%-lua/" .. cleanlist.VERSION:gsub("%.", "%%."), r.headers["user-agent"])
      assert.equals("application/json", r.headers.accept)
      assert.equals(log[1].conn, r.conn)
    end
  end)

  it("opens a new connection for a call that asks for one, and only for that call", function()
    local c = client()
    assert(c:whoami())
    assert(c:request("GET", "/whoami", { fresh_connection = true }))
    assert(c:whoami())
    assert(c:request("GET", "/credits/balance", { fresh_connection = true }))
    assert(c:whoami())
    local log = sb:requests()
    assert.equals(5, #log)
    local seen = { [log[1].conn] = true }
    for i = 2, 5 do
      if i % 2 == 0 then
        assert.is_nil(seen[log[i].conn], "call " .. i .. " asked for a new connection")
      else
        assert.is_true(seen[log[i].conn], "call " .. i .. " should reuse one") -- no new one
      end
      seen[log[i].conn] = true
    end
  end)

  it("returns a 401 for an unknown key as an auth error with its request id", function()
    local c = client { api_key = "clapi_not_a_key_the_sandbox_knows" }
    local res, err = c:whoami()
    assert.is_nil(res)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals("invalid_api_key", err.code)
    assert.matches("^req_%x+$", err.request_id)
    assert.is_false(err.retryable)
    assert.is_nil(tostring(err):find("clapi_not_a_key", 1, true))
  end)

  it("authenticates a Clerk session token and reports it as such", function()
    local jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGVhbmxpc3Qtc2FuZGJveCIsInN1YiI6InVz"
      .. "ZXJfMnNieFZlcmFPa2Fmb3IiLCJvcmdfaWQiOiJvcmdfMnNieFNhbmRib3hMYWJzIiwiZXhwIjo0MTAyNDQ0OD"
      .. "AwfQ.nTDycN4Igew-MG3VBwkswrjYtAX83dTav5OOdiJrPJ0"
    local me = assert(client { api_key = jwt }:whoami())
    assert.equals("clerk_jwt", me.auth_type)
    assert.matches("^[^*]+@", me.user_email)
  end)

  it("returns a 403 insufficient_scope for a key without credits:read", function()
    local c = client { api_key = sb.readonly_key }
    assert.truthy(c:whoami())
    local _, err = c:credits_balance()
    assert.equals("permission", err.kind)
    assert.equals("insufficient_scope", err.code)
    assert.same({ "credits:read" }, err.details.required_scopes)
  end)

  it("reports a non-JSON error page and retries a GET before giving up", function()
    local html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    sb:control("POST", "/script", {
      responses = {
        { status = 502, headers = { ["Content-Type"] = "text/html" }, body = html },
        { status = 502, headers = { ["Content-Type"] = "text/html" }, body = html },
      },
    })
    local slept = {}
    local c = client {
      max_retries = 1,
      sleep = function(s)
        slept[#slept + 1] = s
      end,
    }
    local _, err = c:whoami()
    assert.equals("server", err.kind)
    assert.equals(502, err.status)
    assert.equals(2, err.attempts)
    assert.matches("text/html", err.message)
    assert.equals(1, #slept)
    assert.equals(2, #sb:requests())
  end)

  it("reports a 200 whose body is not JSON as a decode error", function()
    sb:control("POST", "/script", { responses = { { status = 200, body = "{truncated" } } })
    local _, err = client():whoami()
    assert.equals("decode", err.kind)
  end)

  it("waits as Retry-After says, then succeeds", function()
    sb:control("POST", "/script", {
      responses = {
        {
          status = 503,
          headers = { ["Retry-After"] = "2" },
          body = '{"error":{"code":"unavailable",'
            .. '"problem":"down","retryable":true,"request_id":"req_0000000000000001"}}',
        },
      },
    })
    local slept = {}
    local c = client {
      max_retries = 2,
      sleep = function(s)
        slept[#slept + 1] = s
      end,
    }
    assert.truthy(c:whoami())
    assert.same({ 2 }, slept)
    assert.equals(2, #sb:requests())
  end)

  it("reports a host that refuses connections, retrying only what is safe", function()
    local slept = 0
    local c = cleanlist.new {
      api_key = sb.key,
      base_url = "http://127.0.0.1:1/api/v1/public",
      rate_limit = false,
      max_retries = 2,
      sleep = function()
        slept = slept + 1
      end,
    }
    local _, err = c:request("POST", "/lead-lists", { body = { name = "x" } })
    assert.equals("transport", err.kind)
    assert.equals(3, err.attempts)
    assert.is_nil(err.ambiguous)
    assert.equals(2, slept)
    assert.matches("127%.0%.0%.1", err.message)
  end)

  it("gives a redacted trace", function()
    local lines = {}
    local c = client {
      trace = function(l)
        lines[#lines + 1] = l
      end,
    }
    assert(c:whoami())
    local all = table.concat(lines, "\n")
    assert.matches("> GET /api/v1/public/whoami", all, 1, true)
    assert.matches("Authorization: [REDACTED]", all, 1, true)
    assert.is_nil(all:find(sb.key, 1, true))
  end)
end)

describe("concurrent calls against the sandbox", function()
  local sb = sandbox.suite()

  it("overlaps requests on several connections and returns results in order", function()
    local c = cleanlist.new { api_key = sb.key, base_url = sb.base_url, rate_limit = false }
    local fns = {}
    for i = 1, 8 do
      fns[i] = (i % 2 == 0) and function()
        return c:credits_balance()
      end or function()
        return c:whoami()
      end
    end
    local r = c:gather(fns)
    for i = 1, 8 do
      if i % 2 == 0 then
        assert.equals(5000, r[i][1].credits)
      else
        assert.equals("api_key", r[i][1].auth_type)
      end
    end
    local conns = {}
    for _, req in ipairs(sb:requests()) do
      conns[req.conn] = true
    end
    local n = 0
    for _ in pairs(conns) do
      n = n + 1
    end
    assert.truthy(n > 1, "all requests went over one connection: they did not overlap")
  end)

  it("runs tasks of two clients in one gather", function()
    local a = cleanlist.new { api_key = sb.key, base_url = sb.base_url, rate_limit = false }
    local b = cleanlist.new { api_key = sb.readonly_key, base_url = sb.base_url, rate_limit = false }
    local r = cleanlist.gather {
      function()
        return a:credits_balance()
      end,
      function()
        return b:credits_balance()
      end,
    }
    assert.equals(5000, r[1][1].credits)
    assert.equals("permission", r[2][2].kind)
  end)
end)
