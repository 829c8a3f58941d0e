-- luacheck: std +busted
-- `cleanlist sandbox --strict` and the switch `strict`: each spelling or field the default
-- sandbox accepts for the seeds (API.md §10 #4, #5 and the estimate's top-level column_name)
-- is accepted by default (and GET /export/json's columns[]: ignored under --strict), refused under --strict with the v2 schema's 422 (pydantic detail:
-- type and loc), and its v2 spelling passes under --strict. POST /__sandbox/reset returns the
-- switch to the flag's value.
local paid = require "spec.helpers.paid"
local api = require "spec.helpers.api"

local b64 = api.b64

-- The world of one sandbox the cases run in: a list of 3 leads and a person of the world.
local function world(p)
  local _, ids = p:search(1)
  return { list_id = p:new_list("strict spec", 3), person_id = ids[1] }
end

local function bulk(p, w, body)
  body.quote_id = p:quote { tool = "enrich_list", list_id = w.list_id, scope = "phone-only" }
  return p:post("/enrichment/bulk", body)
end

-- One case per leniency: post(p, w, lenient) sends the seeds' spelling (lenient true) or the
-- v2 one; ok(status, body) checks the answer that both get where they are accepted; refused
-- lists the errors {loc, type} of the strict 422, in the order of the detail.
local CASES = {
  {
    name = "POST /enrichment/bulk lead_list_id (v2: list_id)",
    post = function(p, w, lenient)
      local key = lenient and "lead_list_id" or "list_id"
      return bulk(p, w, { [key] = w.list_id, scope = "phone-only" })
    end,
    ok = function(status, body)
      assert.equals(200, status)
      assert.equals(3, body.total_leads)
      assert.equals(30, body.credits_reserved)
    end,
    refused = { { { "body", "list_id" }, "missing" }, { { "body", "lead_list_id" }, "extra_forbidden" } },
  },
  {
    name = "POST /enrichment/bulk scope phone_only (v2: phone-only)",
    post = function(p, w, lenient)
      return bulk(p, w, { list_id = w.list_id, scope = lenient and "phone_only" or "phone-only" })
    end,
    ok = function(status, body)
      assert.equals(200, status)
      assert.equals(30, body.credits_reserved)
    end,
    refused = { { { "body", "scope" }, "enum", "Input should be 'partial', 'full' or 'phone-only'" } },
  },
  {
    name = "POST /enrichment/person enrichment_type phone-only (v2: phone_only)",
    post = function(p, w, lenient)
      local tier = lenient and "phone-only" or "phone_only"
      return p:post("/enrichment/person", { person_id = w.person_id, enrichment_type = tier })
    end,
    ok = function(status, body)
      assert.equals(200, status)
      assert.equals(10, body.credits_reserved)
    end,
    refused = { { { "body", "enrichment_type" }, "enum", "Input should be 'partial', 'phone_only' or 'full'" } },
  },
  {
    name = "POST /lead-lists/{id}/csv-import enrichment_type phone-only (v2: phone_only)",
    post = function(p, _, lenient)
      local _, list = p:post("/lead-lists", { name = "strict csv " .. tostring(lenient) .. os.clock() })
      return p:post("/lead-lists/" .. list.list_id .. "/csv-import", {
        csv_content_base64 = b64(api.CSV),
        column_mapping = api.CSV_MAPPING,
        enrichment_type = lenient and "phone-only" or "phone_only",
      })
    end,
    ok = function(status, body)
      assert.equals(201, status)
      assert.equals(4, body.rows_imported)
      assert.matches("^bulk%-enrich%-", body.workflow_id)
    end,
    refused = { { { "body", "enrichment_type" }, "enum", "Input should be 'partial', 'phone_only' or 'full'" } },
  },
  {
    name = "POST /credits/estimate top-level column_name (v2: extra.column_name)",
    post = function(p, w, lenient)
      local body = { tool = "run_smart_agent", list_id = w.list_id, agent_type = "title_normalizer" }
      if lenient then
        body.column_name = "Title"
      else
        body.extra = { column_name = "Title" }
      end
      return p:estimate(body)
    end,
    ok = function(status, body)
      assert.equals(200, status)
      assert.equals(3, body.row_count)
      assert.equals(2, body.estimated_cost) -- 0.5 per row, rounded up
    end,
    refused = { { { "body", "column_name" }, "extra_forbidden", "Extra inputs are not permitted" } },
  },
}

-- The sorted column names of the first row of GET /export/json for list_id and a query tail.
local function export_keys(p, list_id, tail)
  local status, body = p:get("/export/json?list_id=" .. list_id .. "&limit=1" .. tail)
  assert.equals(200, status)
  local keys = {}
  for k in pairs(body.leads[1]) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

-- Asserts the strict 422 of `case`: status, then each error's type and loc (and msg if given).
local function assert_refused(case, status, body)
  assert.equals(422, status, case.name)
  assert.equals(#case.refused, #body.detail, case.name)
  for i, want in ipairs(case.refused) do
    local got = body.detail[i]
    assert.same(want[1], got.loc, case.name)
    assert.equals(want[2], got.type, case.name)
    if want[3] then assert.equals(want[3], got.msg, case.name) end
  end
end

describe("the default sandbox (lenient)", function()
  local sb, p = paid.suite()
  local w

  setup(function()
    w = world(p)
  end)

  for _, case in ipairs(CASES) do
    it("accepts " .. case.name, function()
      case.ok(case.post(p, w, true))
    end)
  end

  it("takes GET /export/json's columns under the name columns[] too", function()
    assert.same({ "email", "title" }, export_keys(p, w.list_id, "&columns%5B%5D=email&columns%5B%5D=title"))
  end)

  it("has the switch strict off; POST /__sandbox/switches turns it on, reset turns it off", function()
    local person = CASES[3]
    assert.is_false(sb:control("GET", "/switches").strict)
    local res, status = sb:control("POST", "/switches", { strict = true })
    assert.equals(200, status)
    assert.is_true(res.strict)
    assert_refused(person, person.post(p, w, true))
    sb:reset()
    assert.is_false(sb:control("GET", "/switches").strict)
    person.ok(person.post(p, w, true))
  end)
end)

describe("cleanlist sandbox --strict", function()
  local sb, p = paid.suite { "--strict" }
  local w

  setup(function()
    w = world(p)
  end)

  for _, case in ipairs(CASES) do
    it("refuses " .. case.name .. " with the schema's 422, before charging", function()
      local before = p:credits()
      assert_refused(case, case.post(p, w, true))
      assert.equals(before, (p:credits()))
    end)

    it("accepts the v2 spelling instead of " .. case.name, function()
      case.ok(case.post(p, w, false))
    end)
  end

  it("ignores GET /export/json's columns[] (an unknown query name), takes columns", function()
    local all = export_keys(p, w.list_id, "")
    assert.is_true(#all > 2)
    assert.same(all, export_keys(p, w.list_id, "&columns%5B%5D=email&columns%5B%5D=title"))
    assert.same({ "email", "title" }, export_keys(p, w.list_id, "&columns=email&columns=title"))
  end)

  it("has the switch strict on; off lets the seeds' spellings in, reset returns it to the flag", function()
    local bulk_alias = CASES[1]
    assert.is_true(sb:control("GET", "/switches").strict)
    local res, status = sb:control("POST", "/switches", { strict = false })
    assert.equals(200, status)
    assert.is_false(res.strict)
    bulk_alias.ok(bulk_alias.post(p, w, true))
    sb:reset()
    assert.is_true(sb:control("GET", "/switches").strict)
    local _, ids = p:search(1)
    assert_refused(CASES[3], CASES[3].post(p, { person_id = ids[1] }, true))
  end)

  it("refuses an unknown switch with 400 and names strict among the switches", function()
    local res, status = sb:control("POST", "/switches", { strictness = true })
    assert.equals(400, status)
    assert.matches("strict_quotes, csv_import, strict", res.error.problem, 1, true)
  end)
end)
