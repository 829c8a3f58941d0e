-- luacheck: std +busted
-- GET /usage: the usage log of API requests grouped by tool (route), key, day and error, with
-- the credits each request spent and the `days` window on the sandbox clock.
local paid = require "spec.helpers.paid"

local code = paid.code

local function row(body, group)
  for _, r in ipairs(body.rows) do
    if r.group == group then return r end
  end
  return nil
end

describe("usage", function()
  local sb, p = paid.suite()

  it("counts calls, errors and credits per route", function()
    for _ = 1, 3 do
      p:get("/whoami")
    end
    p:get("/lead-lists/list_nope") -- 404
    p:get("/lead-lists/list_nada") -- 404, same route
    p:post("/enrichment/company", { domain = "no-such-company.example" }) -- 404, refunded
    local _, c = p:post("/search/companies", { limit = 1 })
    p:post("/enrichment/company", { domain = c.companies[1].domain }) -- 1 credit
    local status, body = p:get("/usage?days=7&group_by=tool")
    assert.equals(200, status)
    assert.equals(7, body.days)
    assert.equals("tool", body.group_by)
    local whoami = row(body, "/api/v1/public/whoami")
    assert.equals(3, whoami.calls)
    assert.equals(0, whoami.errors)
    local list = row(body, "/api/v1/public/lead-lists/{list_id}")
    assert.equals(2, list.calls)
    assert.equals(2, list.errors)
    local company = row(body, "/api/v1/public/enrichment/company")
    assert.equals(2, company.calls)
    assert.equals(1, company.errors)
    assert.equals(1, company.credits_spent)
    local calls, errs, credits = 0, 0, 0
    for _, r in ipairs(body.rows) do
      calls, errs, credits = calls + r.calls, errs + r.errors, credits + r.credits_spent
    end
    assert.equals(calls, body.total_calls)
    assert.equals(errs, body.total_errors)
    assert.equals(credits, body.total_credits_spent)
    assert.equals(8, body.total_calls) -- this report itself is counted once it is answered
  end)

  it("groups by key, day and error", function()
    p:get("/whoami", sb.readonly_key)
    local _, by_key = p:get("/usage?group_by=key")
    assert.equals(1, row(by_key, "ak_sbx0read").calls)
    assert.same( -- the full key's calls in this spec so far, 3 of them errors, 1 credit spent
      { group = "ak_sbx0full", calls = 9, errors = 3, credits_spent = 1 },
      row(by_key, "ak_sbx0full")
    )
    local _, by_day = p:get("/usage?group_by=day")
    assert.equals(1, #by_day.rows)
    assert.matches("^%d%d%d%d%-%d%d%-%d%d$", by_day.rows[1].group)
    assert.equals(by_day.total_calls, by_day.rows[1].calls)
    local _, by_error = p:get("/usage?group_by=error")
    assert.equals(3, row(by_error, "404").calls)
    assert.equals(by_error.total_calls - by_error.total_errors, row(by_error, "ok").calls)
  end)

  it("counts /api/v2 calls under their own prefix", function()
    sb:http("GET", sb.root .. "/api/v2/whoami", { key = sb.key })
    local _, body = p:get("/usage")
    assert.equals(1, row(body, "/api/v2/whoami").calls)
  end)

  it("keeps to the days window of the sandbox clock", function()
    local _, before = p:get("/usage?days=1")
    p:advance(2 * 86400 * 1000)
    p:get("/whoami")
    local _, today = p:get("/usage?days=1")
    assert.equals(1, today.total_calls)
    local _, week = p:get("/usage?days=7")
    assert.is_true(week.total_calls >= before.total_calls + 2)
    local _, days = p:get("/usage?days=7&group_by=day")
    assert.equals(2, #days.rows)
    assert.is_true(days.rows[1].group > days.rows[2].group) -- newest first
  end)

  it("validates days and group_by (422) and needs admin:api_keys", function()
    local status, body = p:get("/usage?days=0")
    assert.equals(422, status)
    assert.same({ "query", "days" }, body.detail[1].loc)
    status = p:get("/usage?days=366")
    assert.equals(422, status)
    status, body = p:get("/usage?group_by=planet")
    assert.equals(422, status)
    assert.same({ "query", "group_by" }, body.detail[1].loc)
    status, body = p:get("/usage", sb.readonly_key)
    assert.equals(403, status)
    assert.equals("insufficient_scope", code(body))
  end)
end)
