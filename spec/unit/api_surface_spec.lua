-- Unit specs of the API surface over the fake transport: kinds by code, legacy codes, nested
-- redaction, JSON null, request options, announced waits, the time scale, quote flow.
local cleanlist = require "cleanlist"
local json = require "cjson"
local make = require("spec.helpers.fake_client").new

local function mcp_error(status, code, extra)
  local e = { code = code, problem = code .. " happened", retryable = false, request_id = "req_1" }
  for k, v in pairs(extra or {}) do
    e[k] = v
  end
  return { status = status, body = json.encode { error = e } }
end

describe("error kinds", function()
  for code, status in pairs {
    quote_required = 400,
    quote_invalid = 400,
    quote_expired = 400,
    quote_used = 409,
    quote_mismatch = 400,
  } do
    it(code .. " is kind quote", function()
      local c, fake = make()
      fake:push(mcp_error(status, code))
      local _, err = c:enrich_list { list_id = "list_1", quote_id = "qte_v1_x" }
      assert.equals("quote", err.kind)
      assert.equals(code, err.code)
      assert.equals(status, err.status)
    end)
  end

  it("spend_cap_exceeded is kind spend_cap; 409 without a code is conflict", function()
    local c, fake = make()
    fake:push(mcp_error(400, "spend_cap_exceeded"))
    local _, err = c:enrich_list { list_id = "list_1", quote_id = "qte_v1_x" }
    assert.equals("spend_cap", err.kind)
    fake:push { status = 409, body = '{"detail":"Conflict"}' }
    _, err = c:whoami()
    assert.equals("conflict", err.kind)
    assert.equals("conflict", err.code)
  end)

  it("gives legacy {detail} errors a code after their status", function()
    local c, fake = make()
    for status, code in pairs {
      [401] = "not_authenticated",
      [402] = "insufficient_credits",
      [400] = "bad_request",
      [404] = "not_found",
    } do
      fake:push { status = status, body = '{"detail":"Something"}' }
      local _, err = c:legacy_validate_key()
      assert.equals(code, err.code)
      if status == 402 then assert.equals("insufficient_credits", err.kind) end
    end
  end)

  it("scrubs the key from nested error fields", function()
    local c, fake, _, key = make()
    fake:push(mcp_error(400, "validation_error", { details = { echo = { "Bearer " .. key } } }))
    local _, err = c:whoami()
    assert.is_nil(err.details.echo[1]:find(key, 1, true))
    fake:push { status = 422, body = json.encode { detail = { { loc = { "body" }, msg = key } } } }
    _, err = c:whoami()
    assert.is_nil(err.detail[1].msg:find(key, 1, true))
    assert.is_nil(tostring(err):find(key, 1, true))
  end)
end)

describe("cleanlist.null", function()
  it("prints as null and encodes back to null", function()
    assert.equals("null", tostring(cleanlist.null))
    local c, fake = make()
    fake:push { status = 200, body = '{"list_id":"l1"}' }
    assert(c:update_list("l1", { description = cleanlist.null }))
    assert.equals('{"description":null}', fake.requests[1].body)
  end)
end)

describe("client:request", function()
  it("raises on a misspelt option or a non-table", function()
    local c = make()
    local ok, err = pcall(c.request, c, "POST", "/x", { bdy = {} })
    assert.is_false(ok)
    assert.matches("bdy", tostring(err))
    ok, err = pcall(c.request, c, "GET", "/x", "body")
    assert.is_false(ok)
    assert.matches("table", tostring(err))
  end)

  it("refuses an injected method and a path that climbs out of the base", function()
    local c, fake = make()
    assert.is_false(pcall(c.request, c, "DELETE /ok HTTP/1.1\r\nX-Inj: 1", "/ok"))
    assert.is_false(pcall(c.request, c, "GET", "/../../ok"))
    assert.equals(0, #fake.requests)
  end)

  it("takes an absolute URL as it is and leaves Authorization off when sign = false", function()
    local c, fake = make()
    fake:push { status = 200, body = "{}" }
    assert(c:request("GET", "https://files.example.test/x.csv?sig=1", { sign = false }))
    assert.equals("https://files.example.test/x.csv?sig=1", fake.requests[1].url)
    assert.is_nil(fake.requests[1].credential)
  end)
end)

describe("announced waits", function()
  it("tells on_wait of a Retry-After wait before sleeping it", function()
    local seen = {}
    local c, fake, sleeps = make {
      max_retries = 1,
      on_wait = function(i)
        seen[#seen + 1] = i
      end,
    }
    fake:push { status = 429, headers = { ["retry-after"] = "58" }, body = '{"detail":"x"}' }
    fake:push { status = 200, body = "{}" }
    assert(c:whoami())
    assert.same({ 58 }, sleeps)
    assert.equals(1, #seen)
    assert.equals("retry_after", seen[1].reason)
    assert.equals(58, seen[1].seconds)
    assert.equals("rate limited: waiting 58 s (Retry-After) before retrying GET /whoami", seen[1].message)
  end)
end)

describe("time scale", function()
  it("is the option, and never applied from the environment to a remote API", function()
    assert.equals(600, (make { time_scale = 600 }).time_scale)
    assert.equals(1, (make()).time_scale)
  end)
end)

describe("paid calls", function()
  it("refuses over max_credits after the estimate, sending nothing else", function()
    local c, fake = make()
    fake:push {
      status = 200,
      body = json.encode { quote_id = "q1", estimated_cost = 30, available_credits = 100, sufficient = true },
    }
    local res, err = c:enrich_list { list_id = "l1", scope = "full", max_credits = 29 }
    assert.is_nil(res)
    assert.equals("spend_cap", err.kind)
    assert.equals(1, #fake.requests)
    assert.matches("/credits/estimate$", fake.requests[1].url)
    assert.same({ tool = "enrich_list", list_id = "l1", scope = "full" }, json.decode(fake.requests[1].body))
  end)

  it("runs at exactly max_credits with the quote, and re-estimates once on quote_expired", function()
    local c, fake = make()
    local quote = function(id)
      return {
        status = 200,
        body = json.encode { quote_id = id, estimated_cost = 30, available_credits = 100, sufficient = true },
      }
    end
    fake:push(quote("q1"))
    fake:push(mcp_error(400, "quote_expired"))
    fake:push(quote("q2"))
    fake:push { status = 200, body = '{"workflow_id":"bulk-enrich-1","status":"pending"}' }
    local res = assert(c:enrich_list { list_id = "l1", scope = "phone_only", max_credits = 30 })
    assert.equals("bulk-enrich-1", res.workflow_id)
    assert.equals("q2", res.estimate.quote_id)
    assert.same({ list_id = "l1", scope = "phone-only", quote_id = "q2" }, json.decode(fake.requests[4].body))
  end)
end)

describe("client:wait", function()
  it("returns a result that is already final (a company cohort) without polling", function()
    local c, fake = make()
    local done = { status = "completed", entity_kind = "company", workflow_id = cleanlist.null, task_id = "cl-task_1" }
    assert.equals(done, (c:wait(done)))
    assert.equals(0, #fake.requests)
  end)
end)
