-- Unit specs of the client pipeline over the fake transport (no network).
local cleanlist = require "cleanlist"
local fake_transport = require "cleanlist.transport.fake"
local json = require "cjson"

local fake_client = require "spec.helpers.fake_client"

local KEY = fake_client.KEY
local make = fake_client.new

local function envelope(code, status, extra)
  local e = {
    code = code,
    problem = code .. " happened",
    cause = json.null,
    fix = "do the fix",
    retryable = false,
    docs_url = "https://docs.cleanlist.ai/errors/" .. code:gsub("_", "-"),
    request_id = "req_00000000000000aa",
  }
  for k, v in pairs(extra or {}) do
    e[k] = v
  end
  return { status = status, body = json.encode { error = e }, headers = { ["content-type"] = "application/json" } }
end

describe("cleanlist.new", function()
  it("refuses an empty key, naming the option", function()
    local ok, err = pcall(cleanlist.new, { api_key = "", rate_limit = false })
    assert.is_false(ok)
    assert.is_true(cleanlist.is_error(err))
    assert.equals("config", err.kind)
    assert.matches("api_key", tostring(err))
  end)

  it("refuses a key that is not a Cleanlist key without quoting it", function()
    local ok, err = pcall(cleanlist.new, { api_key = "sk_live_abcdef" })
    assert.is_false(ok)
    assert.matches("clapi_", err.message)
    assert.is_nil(tostring(err):find("sk_live_abcdef", 1, true))
  end)

  it("refuses a key with a pasted scheme or a line break", function()
    for _, bad in ipairs { "Bearer clapi_abc123", "clapi_abc\r\nX: y", " clapi_abc" } do
      local ok, err = pcall(cleanlist.new, { api_key = bad })
      assert.is_false(ok)
      assert.equals("config", err.kind)
    end
  end)

  it("accepts a JWT session token", function()
    local c = cleanlist.new {
      api_key = "eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl",
      transport = fake_transport.new(),
      rate_limit = false,
    }
    assert.matches("REDACTED", tostring(c))
  end)

  it("refuses plain http to a remote host and malformed URLs", function()
    for _, url in ipairs {
      "http://api.cleanlist.ai/api/v1/public",
      "api.cleanlist.ai",
      "https://",
      "https://host:99999/x",
      "https://a b/",
    } do
      local ok, err = pcall(cleanlist.new, { api_key = KEY, base_url = url })
      assert.is_false(ok, url)
      assert.equals("config", err.kind)
    end
  end)

  it("raises on unknown options and wrong option types", function()
    assert.has_error(function()
      cleanlist.new { api_key = KEY, tiemout = 3 }
    end)
    local ok, err = pcall(cleanlist.new, { api_key = KEY, timeout = "3" })
    assert.is_false(ok)
    assert.matches("timeout", err.message)
  end)

  it("never shows the key in tostring(client)", function()
    local c, _, _, key = make()
    assert.is_nil(tostring(c):find(key, 1, true))
    assert.matches("clapi_", tostring(c))
  end)
end)

describe("client:whoami", function()
  it("returns the decoded body with envelope fields kept", function()
    local c, fake = make()
    fake:push {
      status = 200,
      body = json.encode {
        user_email = "v***@example.com",
        organization_id = "org_1",
        auth_type = "api_key",
        scopes = { "credits:read" },
        tier = "pro",
        features = { "api_access" },
        timestamp_ms = 1717430400000,
        agent_instructions = "hi",
        task_id = json.null,
      },
    }
    local me = assert(c:whoami())
    assert.equals("org_1", me.organization_id)
    assert.equals(1717430400000, me.timestamp_ms)
    assert.equals("hi", me.agent_instructions)
    assert.equals(cleanlist.null, me.task_id)
    local req = fake.requests[1]
    assert.equals("GET", req.method)
    assert.equals("https://api.example.test/api/v1/public/whoami", req.url)
    assert.is_nil(req.body)
    assert.same({ "Accept: application/json" }, req.headers)
    assert.matches("clapi_", req.credential:mask())
  end)

  it("reads the balance from /credits/balance", function()
    local c, fake = make()
    fake:push { status = 200, body = '{"organization_id":"org_1","credits":4820}' }
    assert.equals(4820, c:credits_balance().credits)
    assert.matches("/credits/balance$", fake.requests[1].url)
  end)
end)

describe("error mapping", function()
  it("parses the MCP envelope of a 401", function()
    local c, fake = make()
    fake:push(envelope("invalid_api_key", 401))
    local res, err = c:whoami()
    assert.is_nil(res)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals("invalid_api_key", err.code)
    assert.equals("req_00000000000000aa", err.request_id)
    assert.equals("do the fix", err.fix)
    assert.is_nil(err.cause)
    assert.is_false(err.retryable)
    local s = tostring(err)
    assert.matches("HTTP 401", s)
    assert.matches("invalid_api_key", s)
    assert.matches("req_00000000000000aa", s)
    assert.equals(1, err.attempts)
  end)

  it("keeps scope details of a 403 and credit fields of insufficient_credits", function()
    local c, fake = make()
    fake:push(
      envelope("insufficient_scope", 403, { details = { required_scopes = { "credits:read" }, granted_scopes = {} } })
    )
    local _, err = c:credits_balance()
    assert.equals("permission", err.kind)
    assert.same({ "credits:read" }, err.details.required_scopes)
    fake:push(
      envelope(
        "insufficient_credits",
        400,
        { estimated_cost_credits = 110, available_credits = 40, shortfall_credits = 70 }
      )
    )
    _, err = c:request("POST", "/enrichment/bulk", { body = { list_id = "l" } })
    assert.equals("insufficient_credits", err.kind)
    assert.equals(70, err.shortfall_credits)
    assert.is_nil(err.ambiguous)
  end)

  it("parses the legacy detail shapes", function()
    local c, fake = make()
    fake:push { status = 402, body = '{"detail":"Insufficient credits"}' }
    local _, err = c:request("POST", "/enrich/bulk", { body = { contacts = {} } })
    assert.equals("insufficient_credits", err.kind)
    assert.equals("Insufficient credits", err.message)
    fake:push {
      status = 422,
      body = json.encode {
        detail = {
          { type = "value_error", loc = { "body", "contacts", 7 }, msg = "bad contact" },
          { type = "missing", loc = { "body", "x" }, msg = "required" },
        },
      },
    }
    _, err = c:request("POST", "/enrich/bulk", { body = { contacts = {} } })
    assert.equals("invalid_request", err.kind)
    assert.matches("body%.contacts%.7: bad contact", err.message)
    assert.equals(2, #err.detail)
  end)

  it("reports a 200 that is not JSON as a decode error, after retrying a GET", function()
    local c, fake = make { max_retries = 1 }
    fake:push { status = 200, body = "<html>hello</html>" }
    fake:push { status = 200, body = "<html>again</html>" }
    local _, err = c:whoami()
    assert.equals("decode", err.kind)
    assert.matches("not a JSON object", err.message)
    assert.equals(2, err.attempts)
    assert.is_nil(err.ambiguous)
  end)

  it("says a POST answered 200 with a broken body may have run, and does not repeat it", function()
    local c, fake = make { max_retries = 3 }
    fake:push { status = 200, body = '{"list_id": "list_1", "na' }
    local _, err = c:request("POST", "/lead-lists", { body = { name = "x" } })
    assert.equals("decode", err.kind)
    assert.is_true(err.ambiguous)
    assert.equals(1, err.attempts)
  end)

  it("scrubs the key from anything the server echoes back", function()
    local c, fake, _, key = make()
    fake:push { status = 400, body = json.encode { detail = "bad key " .. key } }
    local _, err = c:whoami()
    assert.is_nil(tostring(err):find(key, 1, true))
    assert.is_nil(err.message:find(key, 1, true))
    assert.matches("REDACTED", err.message)
  end)
end)

describe("retries", function()
  it("retries a GET on 503 and honours Retry-After", function()
    local c, fake, sleeps = make()
    fake:push { status = 503, body = "", headers = { ["retry-after"] = "3" } }
    fake:push { status = 200, body = '{"credits":1}' }
    assert.equals(1, c:credits_balance().credits)
    assert.same({ 3 }, sleeps)
    assert.equals(2, #fake.requests)
  end)

  it("lets a short Retry-After win over its own backoff", function()
    local c, fake, sleeps = make { backoff_base = 2 }
    fake:push { status = 503, body = "", headers = { ["retry-after"] = "0.2" } }
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami())
    assert.same({ 0.2 }, sleeps)
  end)

  it("backs off on Retry-After: 0 instead of trying again at once", function()
    local c, fake, sleeps = make {
      backoff_base = 2,
      random = function()
        return 0
      end,
    }
    fake:push { status = 503, body = "", headers = { ["retry-after"] = "0" } }
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami())
    assert.same({ 1.5 }, sleeps) -- the first backoff: 2 s jittered down to 75 %
  end)

  it("says an absurd Retry-After in words, not in 300 digits", function()
    local c, fake = make { max_retry_wait = 30 }
    fake:push { status = 429, body = "", headers = { ["retry-after"] = ("9"):rep(300) } }
    local _, err = c:whoami()
    assert.equals("rate_limited", err.kind)
    assert.matches("wait more than 10%^9 s", err.retry_reason)
    assert.is_true(#err.retry_reason < 120)
  end)

  it("gives up rather than wait longer than max_retry_wait", function()
    local c, fake, sleeps = make { max_retry_wait = 30 }
    fake:push { status = 429, body = "", headers = { ["retry-after"] = "3600" } }
    local _, err = c:whoami()
    assert.equals("rate_limited", err.kind)
    assert.equals(3600, err.retry_after)
    assert.matches("max_retry_wait", err.retry_reason)
    assert.same({}, sleeps)
  end)

  it("reads Retry-After given as an HTTP date", function()
    local c, fake, sleeps = make()
    fake:push { status = 429, body = "", headers = { ["retry-after"] = "Sun, 06 Nov 1994 08:49:47 GMT" } }
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami())
    assert.same({ 10 }, sleeps)
  end)

  it("backs off exponentially when there is no hint, then gives up", function()
    local c, fake, sleeps = make { max_retries = 2 }
    for _ = 1, 3 do
      fake:push { status = 502, body = "<html>Bad gateway</html>" }
    end
    local _, err = c:whoami()
    assert.equals("server", err.kind)
    assert.equals(3, err.attempts)
    assert.matches("not an API error", err.message)
    assert.same({ 0.375, 0.75 }, sleeps)
  end)

  it("retries a connection failure where nothing was sent, for any method", function()
    local c, fake = make()
    fake:push_error { kind = "transport", message = "refused", sent = false }
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:request("POST", "/lead-lists", { body = { name = "x" } }))
    assert.equals(2, #fake.requests)
  end)

  it("does not repeat a POST that may have been acted on, and says so", function()
    local c, fake = make()
    fake:push { status = 502, body = "bad gateway" }
    local _, err = c:request("POST", "/enrichment/person", { body = { email = "a@b.c" } })
    assert.equals(1, #fake.requests)
    assert.is_true(err.ambiguous)
    assert.matches("outcome is unknown", tostring(err))
    fake:push_error { kind = "timeout", message = "timed out", sent = true }
    _, err = c:request("POST", "/enrichment/person", { body = { email = "a@b.c" } })
    assert.equals("timeout", err.kind)
    assert.is_true(err.ambiguous)
  end)

  it("repeats a POST whose body carries an idempotency key, with the same body", function()
    local c, fake = make()
    fake:push { status = 500, body = "" }
    fake:push { status = 200, body = '{"added":1}' }
    local body = { lead_ids = { "a" }, idempotency_key = "k1" }
    assert.equals(1, c:request("POST", "/lead-lists/l/leads", { body = body, idempotency_key = "k1" }).added)
    assert.equals(fake.requests[1].body, fake.requests[2].body)
  end)

  it("retries a POST when the server marks the error retryable", function()
    local c, fake = make()
    fake:push(envelope("internal_error", 500, { retryable = true }))
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:request("POST", "/x", { body = {} }))
  end)

  it("does not retry 4xx", function()
    local c, fake = make()
    fake:push(envelope("not_found", 404))
    local _, err = c:whoami()
    assert.equals("not_found", err.kind)
    assert.equals(1, #fake.requests)
  end)
end)

describe("client-side rate limiting", function()
  it("paces requests beyond the burst", function()
    local now = 0
    local c, fake, sleeps = make {
      rate_limit = { per_key = 3, window = 60, burst = 1, per_org = false, margin = 0 },
      clock = function()
        return now
      end,
    }
    c.sleep = function(s)
      sleeps[#sleeps + 1] = s
      now = now + s
    end
    for _ = 1, 3 do
      fake:push { status = 200, body = "{}" }
    end
    for _ = 1, 3 do
      assert.truthy(c:whoami())
    end
    assert.same({ 20, 20 }, sleeps)
  end)

  it("sends the whole limit in a window, then waits for the window and its margin", function()
    local now = 0
    local c, fake, sleeps = make {
      rate_limit = { per_key = 3, window = 60, burst = 3, per_org = false },
      clock = function()
        return now
      end,
    }
    c.sleep = function(s)
      sleeps[#sleeps + 1] = s
      now = now + s
    end
    for _ = 1, 7 do
      fake:push { status = 200, body = "{}" }
    end
    for _ = 1, 7 do
      assert.truthy(c:whoami())
    end
    -- three at once; three more once the first three are 60 s (+2 %) old; the seventh once
    -- the fourth is: three in every window, none more
    assert.equals(2, #sleeps, table.concat(sleeps, " "))
    assert.near(61.2, sleeps[1], 1e-9)
    assert.near(61.2, sleeps[2], 1e-9)
    assert.near(122.4, now, 1e-9)
  end)

  it("refuses a rate_limit store that is not a Redis URL, before connecting anywhere", function()
    for _, bad in ipairs {
      5,
      true,
      "http://127.0.0.1:6379",
      "redis://",
      "redis://h:0/0",
      "redis://h/x",
      "unix://relative.sock",
    } do
      local ok, err = pcall(make, { rate_limit = { store = bad } })
      assert.is_false(ok, tostring(bad))
      assert.equals("config", err.kind)
      assert.matches("rate_limit.store", err.message, 1, true)
    end
    local ok, err = pcall(make, { rate_limit = { store = "rediss://127.0.0.1:6380/0" } })
    assert.is_false(ok)
    assert.matches("TLS", err.message, 1, true)
  end)

  it("refuses a rate_limit margin that is not a share", function()
    assert.has_error(function()
      make { rate_limit = { margin = -0.1 } }
    end)
  end)

  it("pauses the key and its organisation on a 429 until its Retry-After, then resumes", function()
    local now = 100
    local fake = fake_transport.new()
    local sleeps = {}
    local function mk(key)
      return cleanlist.new {
        api_key = key,
        transport = fake,
        max_retries = 0,
        organization_id = "org_pause_spec",
        clock = function()
          return now
        end,
        on_wait = function() end,
        sleep = function(s)
          sleeps[#sleeps + 1] = s
          now = now + s
        end,
        rate_limit = { per_key = 30, per_org = 60, window = 60, burst = 5 },
      }
    end
    local a, b, other = mk("clapi_pause_spec_key_a1"), mk("clapi_pause_spec_key_a1"), mk("clapi_pause_spec_key_b2")
    fake:push {
      status = 429,
      headers = { ["retry-after"] = "30" },
      body = '{"error":{"code":"rate_limited","problem":"slow down"}}',
    }
    local res, err = a:whoami()
    assert.is_nil(res)
    assert.equals("rate_limited", err.kind)
    assert.equals(30, err.retry_after)
    assert.same({}, sleeps) -- nothing waited yet: the 429 came at once
    fake:push { status = 200, body = "{}" }
    assert.truthy(other:whoami()) -- another key of the organisation waits out the Retry-After
    assert.same({ 30 }, sleeps)
    fake:push { status = 200, body = "{}" }
    now = 100 -- another client of the same key, at the moment of the 429
    assert.truthy(b:whoami())
    assert.same({ 30, 30 }, sleeps)
    fake:push { status = 200, body = "{}" }
    assert.truthy(b:whoami()) -- resumed: no pause left
    assert.same({ 30, 30 }, sleeps)
  end)

  it("pauses the key on a 429 when there is no organisation bucket", function()
    local now = 0
    local fake = fake_transport.new()
    local sleeps = {}
    local function mk()
      return cleanlist.new {
        api_key = "clapi_pause_spec_key_c3",
        transport = fake,
        max_retries = 0,
        clock = function()
          return now
        end,
        on_wait = function() end,
        sleep = function(s)
          sleeps[#sleeps + 1] = s
          now = now + s
        end,
        rate_limit = { per_key = 30, per_org = false, window = 60, burst = 5 },
      }
    end
    local a, b = mk(), mk()
    fake:push { status = 429, headers = { ["retry-after"] = "12" }, body = "{}" }
    assert.is_nil((a:whoami()))
    fake:push { status = 200, body = "{}" }
    assert.truthy(b:whoami())
    assert.same({ 12 }, sleeps)
  end)

  it("is shared by two clients of one key", function()
    local k = "clapi_shared_bucket_key_42"
    local fake = fake_transport.new()
    local sleeps = {}
    local function mk()
      return cleanlist.new {
        api_key = k,
        transport = fake,
        clock = function()
          return 5
        end,
        sleep = function(s)
          sleeps[#sleeps + 1] = s
        end,
        rate_limit = { per_key = 2, window = 60, burst = 1, per_org = false, margin = 0 },
      }
    end
    local a, b = mk(), mk()
    fake:push { status = 200, body = "{}" }
    fake:push { status = 200, body = "{}" }
    a:whoami()
    b:whoami()
    assert.same({ 30 }, sleeps)
  end)
end)

describe("query strings", function()
  it("encodes values and repeats array keys", function()
    local c, fake = make()
    fake:push { status = 200, body = "{}" }
    c:request("GET", "/export/json", { query = { list_id = "a b&c", columns = { "email", "phone" } } })
    assert.equals(
      "https://api.example.test/api/v1/public/export/json?columns=email&columns=phone&list_id=a%20b%26c",
      fake.requests[1].url
    )
  end)
end)

describe("cleanlist.check", function()
  it("returns the result or raises the error table", function()
    assert.same({ 1 }, cleanlist.check({ 1 }, nil))
    local e = require("cleanlist.errors").new { kind = "auth", message = "no" }
    local ok, raised = pcall(cleanlist.check, nil, e)
    assert.is_false(ok)
    assert.equals(e, raised)
  end)
end)
