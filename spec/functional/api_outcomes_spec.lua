-- Every paid outcome known: a paid call whose answer is lost after the server may have acted
-- (a 2xx with a broken body, a cut connection, a proxy's 502) is reconciled by the client
-- before it returns, through its single-use quote and the run it finds; what cannot be found
-- is said. GETs answered with a broken body are retried. The sandbox's ledger is the judge.
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local recipe = require "spec.helpers.recipe"

local calls, count = wire.calls, recipe.count
local SALES = "Example: Sales leaders in Software (US)" -- 25 leads
local START = 5000

-- The next API requests: the first `pass` served as they are, then `fault`.
local function script(sb, pass, fault)
  local responses = {}
  for i = 1, pass do
    responses[i] = { fault = "stall", ms = 0 }
  end
  responses[#responses + 1] = fault
  sb:control("POST", "/script", { responses = responses })
end

-- The ledger rows of kind `kind` (all refs).
local function ledger_kinds(sb, kind)
  local n = 0
  for _, row in ipairs((sb:control("GET", "/credits")).ledger) do
    if row.kind == kind then n = n + 1 end
  end
  return n
end

describe("paid outcomes against the sandbox", function()
  local sb = sandbox.suite {
    args = { "--time-scale", "600", "--rate-limit", "off", "--seed", "7" },
    reset = true,
    clear = true,
  }
  local client = clients.scaled(600)

  local function cohort(c, n)
    local page = assert(c:search_people { job_titles = { "VP Sales" }, limit = n })
    sb:clear()
    return page.task_id
  end

  it("by-task answered 200 with a cut body: finds the run it started, charged once", function()
    local c = client(sb)
    local task_id = cohort(c, 5)
    script(sb, 1, { fault = "truncated" }) -- the estimate, then the by-task call runs, body cut
    local res = assert(c:enrich_by_task { task_id = task_id, data_points = { "Email" } })
    assert.is_true(res.recovered)
    assert.matches("ran", res.recovery)
    assert.equals(task_id, res.task_id)
    assert.same({
      "POST /credits/estimate",
      "POST /enrichment/by-task",
      "POST /enrichment/by-task",
      "GET /enrichment/status/" .. task_id,
    }, calls(sb))
    assert.same({ 200, 200, 409, 200 }, wire.statuses(sb))
    assert.equals(1, ledger_kinds(sb, "reserve"))
    local done = assert(c:wait(res, { timeout = 60 }))
    assert.equals("completed", done.status)
    assert.equals(5, done.credits_charged + done.credits_refunded)
    assert.equals(START - done.credits_charged, (sb:control("GET", "/credits")).credits)
  end)

  it("by-task answered by a proxy's 502 before it ran: sent again with its quote, charged once", function()
    local c = client(sb)
    local task_id = cohort(c, 5)
    script(sb, 1, { fault = "502" })
    local res = assert(c:enrich_by_task { task_id = task_id, data_points = { "Email" } })
    assert.is_true(res.recovered)
    assert.matches("had not run", res.recovery)
    assert.matches("^bulk%-enrich%-", res.workflow_id)
    assert.equals(5, res.credits_reserved)
    assert.same({ 200, 502, 200 }, wire.statuses(sb))
    local sent = wire.bodies(sb, "POST", "/enrichment/by-task")
    assert.equals(sent[1].quote_id, sent[2].quote_id)
    assert.equals(1, ledger_kinds(sb, "reserve"))
  end)

  it("a smart agent whose answer was cut: finds the run of the list's column, charged once", function()
    local c = client(sb)
    local list_id = wire.list_named(c, SALES)
    sb:clear()
    script(sb, 1, { fault = "malformed" })
    local res = assert(c:run_smart_agent {
      list_id = list_id,
      column_name = "Title (clean)",
      agent_type = "title_normalizer",
      max_rows = 10,
    })
    assert.is_true(res.recovered)
    assert.matches("^run_", res.smart_agent_task_id)
    assert.equals("Title (clean)", res.column_name)
    assert.equals(1, count(calls(sb), "GET /smart-agents"))
    local done = assert(c:wait(res.smart_agent_task_id, { timeout = 60 }))
    assert.equals("completed", done.status)
    local page = assert(c:list_smart_agents { list_id = list_id })
    assert.equals(1, #page.runs) -- one run, not two
  end)

  it("a list's bulk enrichment that ran with its answer lost says so, and is charged once", function()
    local c = client(sb)
    local list_id = wire.list_named(c, SALES)
    sb:clear()
    script(sb, 1, { fault = "truncated" })
    local res, err = c:enrich_list { list_id = list_id }
    assert.is_nil(res)
    assert.is_true(err.ran)
    assert.is_false(err.ambiguous)
    assert.matches("the call ran %(the API says its quote is used%)", err.message)
    assert.matches("get_list", err.message)
    assert.same({ 200, 200, 409 }, wire.statuses(sb))
    assert.equals(1, ledger_kinds(sb, "reserve"))
  end)

  it("a company enrichment (no quote) whose answer was cut stays unknown, and says so", function()
    local c = client(sb)
    local domain = assert(c:search_people { limit = 1 }).people[1].company_domain
    sb:clear()
    script(sb, 0, { fault = "truncated" })
    local res, err = c:enrich_company { domain = domain }
    assert.is_nil(res)
    assert.equals("decode", err.kind)
    assert.is_true(err.ambiguous)
    assert.matches("the outcome is unknown", tostring(err))
    assert.same({ "POST /enrichment/company" }, calls(sb)) -- not sent twice
    assert.equals(START - 1, (sb:control("GET", "/credits")).credits)
  end)

  it("a legacy bulk call (no quote, no key in the API) whose answer was cut says what to check", function()
    local c = client(sb)
    script(sb, 0, { fault = "truncated" })
    local res, err = c:legacy_enrich_bulk {
      contacts = {
        { first_name = "Lee", last_name = "Park", company_domain = "example.org" },
      },
    }
    assert.is_nil(res)
    assert.is_true(err.ambiguous)
    assert.matches("gives no way to learn whether contacts 1%-1 were taken", err.fix)
    assert.matches("legacy_credits_balance", tostring(err))
    assert.same({ "POST /enrich/bulk" }, calls(sb)) -- not sent twice
  end)

  it("retries a GET answered 200 with a broken body", function()
    local c = client(sb, { max_retries = 2, time_scale = 600 })
    script(sb, 0, { fault = "malformed" })
    local me = assert(c:whoami())
    assert.equals("Vera Okafor", me.user_name)
    assert.same({ "GET /whoami", "GET /whoami" }, calls(sb))
  end)
end)
