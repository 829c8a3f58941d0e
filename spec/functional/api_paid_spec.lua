-- The paid methods of the client against a real sandbox (--time-scale 600): what each one
-- reserves, charges and refunds by the documented prices (README "Credits, quotes and costs"),
-- the quote flow of cleanlist.paid (estimate, max_credits, dry_run, explicit and expired
-- quotes), the errors each one documents, the spellings it sends, and the legacy bulk API's
-- chunking. Every expectation about the wire is read from the sandbox's request log.
local cjson = require "cjson"
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local loc_text = wire.loc_text
local paid = require "spec.helpers.paid"

local ARGS = { "--time-scale", "600", "--rate-limit", "off", "--seed", "7" }
local START = 5000 -- the organisation's credits after a reset
local calls, statuses = wire.calls, wire.statuses
local bodies, list_named, refused = wire.bodies, wire.list_named, wire.refused_result
local SALES = "Example: Sales leaders in Software (US)" -- 25 leads, seeded by every reset
local FINTECH = "Example: Engineering leaders in Fintech" -- 40 leads
local null = cleanlist.null

-- One sandbox per describe block, reset (5000 credits, the seeded lists) and its log emptied
-- before every test.
local function suite()
  return sandbox.suite { args = ARGS, reset = true, clear = true }
end

local client = clients.scaled(600)

local function balance(sb)
  return (sb:control("GET", "/credits")).credits
end

local function ledger(sb)
  return (sb:control("GET", "/credits")).ledger
end

-- The ledger rows whose ref is `ref`, and the sum of their deltas.
local function ledger_of(sb, ref)
  local rows, sum = {}, 0
  for _, row in ipairs(ledger(sb)) do
    if row.ref == ref then
      rows[#rows + 1] = row
      sum = sum + row.delta
    end
  end
  return rows, sum
end

-- A terminal run settled as documented: charged + refunded = reserved, and the ledger holds
-- its reservation and the refund of the rest under its id.
local function settled(sb, workflow_id, reserved, st, charged)
  if charged then assert.equals(charged, st.credits_charged) end
  assert.equals(reserved, st.credits_charged + st.credits_refunded)
  local rows, sum = ledger_of(sb, workflow_id)
  assert.equals("reserve", rows[1].kind)
  assert.equals(-reserved, rows[1].delta)
  assert.equals(-st.credits_charged, sum)
end

-- A run just started (it may have settled some of its leads since): one reading of the
-- ledger holds its reservation of `reserved` first, and the balance is `start` (START by
-- default) plus what the ledger moved under its id since.
local function reserved_in(sb, workflow_id, reserved, start)
  local now = sb:control("GET", "/credits")
  local rows, sum = {}, 0
  for _, row in ipairs(now.ledger) do
    if row.ref == workflow_id then
      rows[#rows + 1] = row
      sum = sum + row.delta
    end
  end
  assert.same({ "reserve", -reserved }, { rows[1].kind, rows[1].delta })
  assert.equals((start or START) + sum, now.credits)
  assert.is_true(sum >= -reserved and sum <= 0, "the run moved more than it reserved")
end

-- A 400 envelope of the MCP API, for scripted responses.
local function envelope(code, problem)
  return cjson.encode {
    error = {
      code = code,
      problem = problem,
      retryable = false,
      docs_url = "https://docs.cleanlist.ai/errors/" .. code:gsub("_", "-"),
      request_id = "req_00000000000000aa",
    },
  }
end

local PRICES = { partial = 1, phone_only = 10, full = 11 }

describe("enrich_person against the sandbox", function()
  local sb = suite()

  it("reserves 1, 10 or 11 credits by type and settles what it found", function()
    local c = client(sb)
    local found = assert(c:search_people { limit = 3 })
    sb:clear()
    local types = { "partial", "phone_only", "full" }
    local runs = {}
    for i, t in ipairs(types) do
      runs[i] = assert(c:enrich_person { person_id = found.people[i].person_id, enrichment_type = t })
      assert.equals(PRICES[t], runs[i].credits_reserved)
      assert.equals("pending", runs[i].status)
      assert.matches("^enrich%-", runs[i].workflow_id)
      assert.is_nil(runs[i].estimate) -- the quote is optional here: none without max_credits
    end
    assert.same({ "POST /enrichment/person", "POST /enrichment/person", "POST /enrichment/person" }, calls(sb))
    assert.equals(START - 22, balance(sb))
    local done, errs = c:wait_all(runs)
    assert.is_nil(errs)
    local charged = 0
    for i, st in ipairs(done) do
      local t, r = types[i], done[i].result
      assert.equals(types[i], st.enrichment_type)
      assert.equals(found.people[i].full_name, r.full_name)
      assert.equals(found.people[i].linkedin_url:match("/in/(.-)$"), r.linkedin_url:match("/in/(.-)$"))
      if t == "partial" then assert.equals(null, r.phone) end
      if t == "phone_only" then assert.equals(null, r.email) end
      -- pay for results: 1 per email found (partial, full), 10 per phone (phone_only, full);
      -- seed 7: the partial run finds the email, the phone_only run no phone, the full run both
      local want = (r.email ~= null and 1 or 0) + (r.phone ~= null and 10 or 0)
      assert.equals(want, st.credits_charged)
      settled(sb, runs[i].workflow_id, runs[i].credits_reserved, st, ({ 1, 0, 11 })[i])
      charged = charged + st.credits_charged
    end
    assert.equals(START - 12, balance(sb))
  end)

  it("sends the enrichment_type spelling of the person endpoint (phone-only as phone_only)", function()
    local c = client(sb)
    local res = assert(c:enrich_person { email = "ada@example.com", enrichment_type = "phone-only" })
    assert.equals(10, res.credits_reserved)
    assert.equals("phone_only", bodies(sb, "POST", "/enrichment/person")[1].enrichment_type)
    reserved_in(sb, res.workflow_id, 10)
  end)

  it("refuses a person it cannot identify and sends nothing", function()
    local c = client(sb)
    local res, err = c:enrich_person { first_name = "Ada", last_name = "Lovelace" }
    refused(sb, res, err, { "body" }, "value_error")
    res, err = c:enrich_person { email = "ada@example.com", enrichment_type = "gold" }
    refused(sb, res, err, { "body", "enrichment_type" }, "enum")
  end)

  it("returns insufficient_credits when the balance is 0, reserving nothing", function()
    sb:control("POST", "/credits", { credits = 0 })
    local rows = #ledger(sb)
    local res, err = client(sb):enrich_person { email = "ada@example.com", enrichment_type = "full" }
    assert.is_nil(res)
    assert.equals("insufficient_credits", err.kind)
    assert.equals("insufficient_credits", err.code)
    assert.equals(400, err.status)
    assert.equals(11, err.estimated_cost_credits)
    assert.equals(0, err.available_credits)
    assert.equals(11, err.shortfall_credits)
    assert.same({ "POST /enrichment/person" }, calls(sb))
    assert.equals(0, balance(sb))
    assert.equals(rows, #ledger(sb))
  end)

  it("uses a quote once: a second call with it is a 409 quote_used", function()
    local c = client(sb)
    local q = paid.new(sb):quote { tool = "enrich_person", enrichment_type = "partial" }
    sb:clear()
    local res = assert(c:enrich_person { email = "ada@example.com", quote_id = q })
    assert.equals(1, res.credits_reserved)
    local again, err = c:enrich_person { email = "grace@example.com", quote_id = q }
    assert.is_nil(again)
    assert.equals("quote", err.kind)
    assert.equals("quote_used", err.code)
    assert.equals(409, err.status)
    assert.same({ "POST /enrichment/person", "POST /enrichment/person" }, calls(sb))
    reserved_in(sb, res.workflow_id, 1)
  end)
end)

describe("the quote flow of a paid call against the sandbox", function()
  local sb = suite()

  it("refuses an estimate above max_credits with spend_cap, sending only the estimate", function()
    local c = client(sb)
    local res, err = c:enrich_person { email = "ada@example.com", enrichment_type = "full", max_credits = 10 }
    assert.is_nil(res)
    assert.equals("spend_cap", err.kind)
    assert.equals("spend_cap", err.code)
    assert.equals(11, err.estimated_cost_credits)
    assert.equals(10, err.max_credits)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    local est = bodies(sb, "POST", "/credits/estimate")[1]
    assert.equals("enrich_person", est.tool)
    assert.equals("full", est.enrichment_type)
    assert.equals(START, balance(sb))
  end)

  it("refuses a list enrichment above max_credits before any paid call", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res, err = c:enrich_list { list_id = list_id, scope = "full", max_credits = 100 }
    assert.is_nil(res)
    assert.equals("spend_cap", err.kind)
    assert.equals(25 * 11, err.estimated_cost_credits)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    assert.equals(START, balance(sb))
  end)

  it(
    "answers a dry run with the estimate and its quote, spending nothing; the quote then "
      .. "serves the real call as given",
    function()
      local c = client(sb)
      local list_id = list_named(c, SALES)
      sb:clear()
      local dry = assert(c:enrich_list { list_id = list_id, scope = "full", dry_run = true })
      assert.is_true(dry.dry_run)
      assert.equals(275, dry.estimated_cost)
      assert.matches("^qte_v1_%d+_%x+$", dry.quote_id)
      assert.equals(dry.quote_id, dry.estimate.quote_id)
      assert.equals(START, dry.available_credits)
      assert.is_true(dry.sufficient)
      assert.equals(list_id, dry.request.list_id)
      assert.equals("full", dry.request.scope)
      assert.same({ "POST /credits/estimate" }, calls(sb))
      assert.equals(START, balance(sb))

      sb:clear()
      local res = assert(c:enrich_list { list_id = list_id, scope = "full", quote_id = dry.quote_id })
      assert.same({ "POST /enrichment/bulk" }, calls(sb)) -- no estimate: the quote is used as given
      assert.equals(dry.quote_id, bodies(sb, "POST", "/enrichment/bulk")[1].quote_id)
      assert.equals(275, res.credits_reserved)
      assert.is_nil(res.estimate)
      assert.equals(START - 275, balance(sb))
    end
  )

  it("refuses with insufficient_credits when the estimate says the balance is short", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:control("POST", "/credits", { credits = 20 })
    sb:clear()
    local res, err = c:enrich_list { list_id = list_id }
    assert.is_nil(res)
    assert.equals("insufficient_credits", err.kind)
    assert.equals("insufficient_credits", err.code)
    assert.equals(25, err.estimated_cost_credits)
    assert.equals(20, err.available_credits)
    assert.equals(5, err.shortfall_credits)
    assert.is_false(err.estimate.sufficient)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    assert.equals(20, balance(sb))
  end)

  it("keeps the quote the paid call used in res.estimate", function()
    local c = client(sb)
    local res = assert(c:enrich_person { email = "ada@example.com", enrichment_type = "full", max_credits = 11 })
    assert.same({ "POST /credits/estimate", "POST /enrichment/person" }, calls(sb))
    local sent = bodies(sb, "POST", "/enrichment/person")[1]
    assert.equals(res.estimate.quote_id, sent.quote_id)
    assert.is_nil(sent.max_credits)
    assert.equals(11, res.estimate.estimated_cost)
    assert.equals(11, res.credits_reserved)
    reserved_in(sb, res.workflow_id, 11)
  end)

  it("replaces a quote the paid call finds expired (scripted) once, and succeeds", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    sb:control("POST", "/script", {
      responses = {
        { fault = "stall", ms = 0 }, -- the estimate, served as it is
        { status = 400, body = envelope("quote_expired", "The quote expired.") },
      },
    })
    local res = assert(c:enrich_list { list_id = list_id })
    assert.same(
      { "POST /credits/estimate", "POST /enrichment/bulk", "POST /credits/estimate", "POST /enrichment/bulk" },
      calls(sb)
    )
    assert.same({ 200, 400, 200, 200 }, statuses(sb))
    -- A quote is signed over its request and the second it was issued, so the fresh one may
    -- carry the same id as the refused one: what counts is that it was asked for again.
    local sent = bodies(sb, "POST", "/enrichment/bulk")
    assert.equals(2, #sent)
    assert.equals(sent[2].quote_id, res.estimate.quote_id)
    assert.equals(25, res.credits_reserved)
    reserved_in(sb, res.workflow_id, 25)
  end)

  it("replaces a quote that really expired on the way (a slow estimate), and succeeds", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    -- 800 ms of real time is 480 s of sandbox time: more than a quote's 300 s.
    sb:control("POST", "/script", { responses = { { fault = "stall", ms = 800 } } })
    local res = assert(c:enrich_list { list_id = list_id })
    assert.same(
      { "POST /credits/estimate", "POST /enrichment/bulk", "POST /credits/estimate", "POST /enrichment/bulk" },
      calls(sb)
    )
    assert.same({ 200, 400, 200, 200 }, statuses(sb))
    local sent = bodies(sb, "POST", "/enrichment/bulk")
    assert.equals(sent[2].quote_id, res.estimate.quote_id)
    reserved_in(sb, res.workflow_id, 25)
  end)

  it("re-estimates only once: a second expired quote is the caller's error", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local expired = { status = 400, body = envelope("quote_expired", "The quote expired.") }
    sb:control(
      "POST",
      "/script",
      { responses = { { fault = "stall", ms = 0 }, expired, { fault = "stall", ms = 0 }, expired } }
    )
    local res, err = c:enrich_list { list_id = list_id }
    assert.is_nil(res)
    assert.equals("quote", err.kind)
    assert.equals("quote_expired", err.code)
    assert.equals(400, err.status)
    assert.equals(4, #calls(sb))
    assert.equals(START, balance(sb))
  end)
end)

describe("enrich_company against the sandbox", function()
  local sb = suite()

  it("returns the company of a known domain for 1 credit", function()
    local c = client(sb)
    local row = assert(c:search_people { limit = 1 }).people[1]
    sb:clear()
    local res = assert(c:enrich_company { domain = row.company_domain })
    assert.equals(row.company_domain, res.company.domain)
    assert.equals(row.company_name, res.company.name)
    assert.equals(row.company_id, res.company.company_id)
    assert.equals(row.industry, res.company.industry)
    assert.equals(1, res.credits_charged)
    assert.same({ "POST /enrichment/company" }, calls(sb)) -- no estimate: the client prices it
    assert.equals(START - 1, balance(sb))
    local rows = ledger(sb)
    assert.equals(-1, rows[#rows].delta)
    assert.equals("charge", rows[#rows].kind)
  end)

  it("returns not_found for an unknown domain and refunds the credit", function()
    local c = client(sb)
    local res, err = c:enrich_company { domain = "no-such-company.invalid" }
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    assert.equals("not_found", err.code)
    assert.equals(404, err.status)
    assert.equals(START, balance(sb))
    local rows = ledger(sb)
    assert.same({ -1, 1 }, { rows[#rows - 1].delta, rows[#rows].delta })
    assert.equals("refund", rows[#rows].kind)
  end)

  it("refuses a call without any company identifier and sends nothing", function()
    local res, err = client(sb):enrich_company {}
    refused(sb, res, err, { "body" }, "value_error")
  end)

  it("prices itself for a dry run and max_credits (the API has no estimate for it)", function()
    local c = client(sb)
    local dry = assert(c:enrich_company { domain = "example.com", dry_run = true })
    assert.is_true(dry.dry_run)
    assert.equals(1, dry.estimated_cost)
    assert.equals("client", dry.estimate.priced_by)
    assert.is_nil(dry.quote_id)
    assert.equals(START, dry.available_credits)
    assert.is_true(dry.sufficient)
    assert.same({ "GET /credits/balance" }, calls(sb))
    sb:clear()
    local res, err = c:enrich_company { domain = "example.com", max_credits = 0 }
    assert.is_nil(res)
    assert.equals("spend_cap", err.kind)
    assert.same({}, calls(sb))
    assert.equals(START, balance(sb))
  end)

  -- libcurl sends a request again by itself when a kept-alive connection turns out dead
  -- before any answer; for a paid call that would be a second charge behind the caller's back.
  it("is never sent twice when the connection dies after the server acted (one charge)", function()
    local c = client(sb)
    local row = assert(c:search_people { limit = 1 }).people[1] -- the connection is now kept alive
    sb:clear()
    sb:control("POST", "/script", { responses = { { fault = "reset", execute = true } } })
    local res, err = c:enrich_company { domain = row.company_domain }
    assert.is_nil(res)
    assert.equals("transport", err.kind)
    assert.is_true(err.ambiguous)
    assert.is_true(err.sent)
    assert.same({ "POST /enrichment/company" }, calls(sb))
    assert.equals(START - 1, balance(sb))
  end)

  it("returns insufficient_credits when the balance is 0", function()
    sb:control("POST", "/credits", { credits = 0 })
    local rows = #ledger(sb)
    local res, err = client(sb):enrich_company { domain = "example.com" }
    assert.is_nil(res)
    assert.equals("insufficient_credits", err.kind)
    assert.equals(400, err.status)
    assert.equals(0, balance(sb))
    assert.equals(rows, #ledger(sb))
  end)
end)

describe("enrich_by_task against the sandbox", function()
  local sb = suite()

  it("prices a person cohort per person by its data points (Email 1, Phone 10, both 11)", function()
    local c = client(sb)
    local found = assert(c:search_people { limit = 4 })
    sb:clear()
    for points, per in pairs { Email = 1, Phone = 10, ["Email+Phone"] = 11 } do
      local dp = {}
      for p in points:gmatch("[^+]+") do
        dp[#dp + 1] = p
      end
      local dry = assert(c:enrich_by_task { task_id = found.task_id, data_points = dp, dry_run = true })
      assert.equals(4 * per, dry.estimated_cost, points)
      assert.equals(4, dry.estimate.row_count)
    end
    for _, body in ipairs(bodies(sb, "POST", "/credits/estimate")) do
      assert.equals("add_person_enrichments", body.tool)
      assert.equals(found.task_id, body.task_id)
    end
    assert.equals(3, #calls(sb))
    assert.equals(START, balance(sb))
  end)

  it("starts a person cohort (async, quoted) and settles it; the cohort handle finds the run", function()
    local c = client(sb)
    local found = assert(c:search_people { limit = 4 })
    sb:clear()
    local res = assert(c:enrich_by_task { task_id = found.task_id, data_points = { "Email", "Phone" } })
    assert.same({ "POST /credits/estimate", "POST /enrichment/by-task" }, calls(sb))
    assert.equals(res.estimate.quote_id, bodies(sb, "POST", "/enrichment/by-task")[1].quote_id)
    assert.equals("person", res.entity_kind)
    assert.equals("pending", res.status)
    assert.matches("^bulk%-enrich%-", res.workflow_id)
    assert.equals(44, res.credits_reserved)
    assert.equals(44, res.estimate.estimated_cost)
    assert.equals(#found.people, #res.results)
    for i, r in ipairs(res.results) do
      assert.equals(found.people[i].person_id, r.entity_id)
      assert.equals("queued", r.status)
    end
    assert.equals(START - 44, balance(sb))
    local st = assert(client(sb):wait(found.task_id))
    assert.equals("completed", st.status)
    assert.equals(4, st.processed)
    assert.equals("full", st.enrichment_type)
    -- seed 7: 4 emails and 1 phone found among the 4 people
    assert.same({ emails_found = 4, phones_found = 1 }, st.summary)
    settled(sb, res.workflow_id, 44, st, 4 + 10)
    assert.equals(START - 14, balance(sb))
  end)

  it("enriches a company cohort at once for 1 credit per 10 companies", function()
    local c = client(sb)
    local found = assert(c:search_companies { limit = 12 })
    sb:clear()
    local res = assert(c:enrich_by_task { task_id = found.task_id, data_points = { "Industry" } })
    assert.same({ "POST /credits/estimate", "POST /enrichment/by-task" }, calls(sb))
    assert.equals("add_company_enrichments", bodies(sb, "POST", "/credits/estimate")[1].tool)
    assert.equals(2, res.estimate.estimated_cost)
    assert.equals("company", res.entity_kind)
    assert.equals("completed", res.status)
    assert.equals(null, res.workflow_id)
    assert.equals(12, #res.results)
    local enriched = 0
    for i, r in ipairs(res.results) do
      assert.equals(found.companies[i].company_id, r.entity_id)
      if r.status == "enriched" then
        enriched = enriched + 1
        assert.equals(found.companies[i].industry, r.company.industry)
      end
    end
    assert.equals(12, enriched) -- seed 7: every company of the cohort is known
    assert.equals(2, res.credits_reserved) -- 1 credit per 10 enriched, rounded up
    assert.equals(START - 2, balance(sb))
    local rows = ledger(sb)
    assert.equals(-2, rows[#rows].delta)
  end)

  it("refuses empty or mixed data points and sends nothing", function()
    local c = client(sb)
    local res, err = c:enrich_by_task { task_id = "cl-task_0000", data_points = {} }
    refused(sb, res, err, { "body", "data_points" }, "too_short")
    res, err = c:enrich_by_task { task_id = "cl-task_0000", data_points = { "Email", "Industry" } }
    refused(sb, res, err, { "body", "data_points" }, "value_error")
  end)

  it("returns not_found for an unknown cohort from its estimate, paying nothing", function()
    local res, err = client(sb):enrich_by_task { task_id = "cl-task_00000000", data_points = { "Email" } }
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    assert.equals(404, err.status)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    assert.equals(START, balance(sb))
  end)
end)

describe("enrich_list against the sandbox", function()
  local sb = suite()

  it("estimates, sends the quote, reserves 1 credit per lead and settles", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res = assert(c:enrich_list { list_id = list_id })
    assert.same({ "POST /credits/estimate", "POST /enrichment/bulk" }, calls(sb))
    local est = bodies(sb, "POST", "/credits/estimate")[1]
    assert.same({ tool = "enrich_list", list_id = list_id, scope = "partial" }, est)
    local sent = bodies(sb, "POST", "/enrichment/bulk")[1]
    assert.equals(list_id, sent.list_id)
    assert.equals(res.estimate.quote_id, sent.quote_id)
    assert.matches("^bulk%-enrich%-", res.workflow_id)
    assert.equals(25, res.total_leads)
    assert.equals(25, res.credits_reserved)
    local st = assert(c:wait(res))
    assert.equals("completed", st.status)
    assert.equals(25, st.total)
    -- partial: 1 per email found; seed 7 finds 20 of the 25
    assert.same({ emails_found = 20, phones_found = 0 }, st.summary)
    settled(sb, res.workflow_id, 25, st, 20)
    assert.equals(START - 20, balance(sb))
  end)

  it("sends scope phone_only as phone-only and lead_list_id as list_id", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res = assert(c:enrich_list { lead_list_id = list_id, scope = "phone_only" })
    local est = bodies(sb, "POST", "/credits/estimate")[1]
    local sent = bodies(sb, "POST", "/enrichment/bulk")[1]
    assert.equals("phone-only", est.scope)
    assert.equals("phone-only", sent.scope)
    assert.equals(list_id, sent.list_id)
    assert.is_nil(sent.lead_list_id)
    assert.equals(250, res.credits_reserved)
    reserved_in(sb, res.workflow_id, 250)
  end)

  it("refuses a call without a list and sends nothing", function()
    local res, err = client(sb):enrich_list { scope = "full" }
    refused(sb, res, err, { "body", "list_id" }, "missing")
  end)

  it("answers a reused quote with kind quote and the 409", function()
    local c = client(sb)
    local list_id = list_named(c, FINTECH)
    local q = paid.new(sb):quote { tool = "enrich_list", list_id = list_id, scope = "partial" }
    sb:clear()
    assert(c:enrich_list { list_id = list_id, quote_id = q })
    local res, err = c:enrich_list { list_id = list_id, quote_id = q }
    assert.is_nil(res)
    assert.equals("quote", err.kind)
    assert.equals("quote_used", err.code)
    assert.equals(409, err.status)
    assert.same({ "POST /enrichment/bulk", "POST /enrichment/bulk" }, calls(sb))
    assert.equals(START - 40, balance(sb))
  end)
end)

describe("run_smart_agent against the sandbox", function()
  local sb = suite()

  it("estimates the run per row, bills what succeeds, and fills the column", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res = assert(c:run_smart_agent {
      list_id = list_id,
      column_name = "Opening line",
      agent_type = "cold_intro_email",
      max_rows = 5,
    })
    assert.same({ "POST /credits/estimate", "POST /smart-agents/run" }, calls(sb))
    local est = bodies(sb, "POST", "/credits/estimate")[1]
    assert.equals("run_smart_agent", est.tool)
    assert.equals("cold_intro_email", est.agent_type)
    assert.same({ column_name = "Opening line", max_rows = 5 }, est.extra)
    assert.equals(res.estimate.quote_id, bodies(sb, "POST", "/smart-agents/run")[1].quote_id)
    assert.matches("^run_", res.smart_agent_task_id)
    assert.equals(15, res.estimated_cost) -- 5 rows at 3 credits
    assert.equals(15, res.estimate.estimated_cost)
    assert.equals(5, res.estimate.row_count)
    local st = assert(c:wait(res))
    assert.equals("completed", st.status)
    assert.equals(5, st.total)
    assert.equals(5, st.succeeded) -- seed 7: no row fails
    assert.equals(0, st.failed)
    for _, row in ipairs(st.results) do
      if row.error == null then assert.matches("^Subject: ", row.value) end
    end
    local rows, spent = ledger_of(sb, res.smart_agent_task_id)
    assert.equals(5, #rows) -- one charge of 3 per row
    assert.equals(-15, spent)
    assert.equals(START - 15, balance(sb))
  end)

  it("refuses custom_ai (the default) without a prompt and sends nothing", function()
    local c = client(sb)
    local res, err = c:run_smart_agent { list_id = "list_x", column_name = "Answer" }
    refused(sb, res, err, { "body", "prompt" }, "missing")
    res, err = c:run_smart_agent { list_id = "list_x", column_name = "Answer", agent_type = "custom_ai", prompt = "" }
    refused(sb, res, err, { "body", "prompt" })
  end)

  it("returns approval_required for lead_scope all over 500 leads, spending nothing", function()
    local list_id = paid.new(sb):new_list("Big list", 501)
    sb:clear()
    local res, err = client(sb):run_smart_agent {
      list_id = list_id,
      column_name = "Title",
      agent_type = "title_normalizer",
      lead_scope = "all",
    }
    assert.is_nil(res)
    assert.equals("approval_required", err.code)
    assert.equals(400, err.status)
    assert.same({ "POST /credits/estimate", "POST /smart-agents/run" }, calls(sb))
    assert.equals(START, balance(sb))
  end)

  it("refuses with insufficient_credits from the estimate when the balance is short", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:control("POST", "/credits", { credits = 10 })
    sb:clear()
    local res, err = c:run_smart_agent {
      list_id = list_id,
      column_name = "Opening line",
      agent_type = "cold_intro_email",
      max_rows = 5,
    }
    assert.is_nil(res)
    assert.equals("insufficient_credits", err.kind)
    assert.equals(15, err.estimated_cost_credits)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    assert.equals(10, balance(sb))
  end)
end)

describe("sync_to_crm and sync_to_sequencer against the sandbox", function()
  local sb = suite()

  it("syncs a list to a CRM at 2 credits a record for a composite sub_action", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res = assert(c:sync_to_crm { provider = "hubspot", list_id = list_id, sub_action = "contacts+companies" })
    assert.same({ "POST /credits/estimate", "POST /sync/crm" }, calls(sb))
    local est = bodies(sb, "POST", "/credits/estimate")[1]
    assert.same(
      { tool = "sync_to_crm", provider = "hubspot", sub_action = "contacts+companies", list_id = list_id },
      est
    )
    assert.equals(res.estimate.quote_id, bodies(sb, "POST", "/sync/crm")[1].quote_id)
    assert.equals(50, res.estimate.estimated_cost)
    assert.equals("contacts+companies", res.sub_action)
    assert.equals(25, res.total)
    -- seed 7: one of the 25 is already in the CRM
    assert.same({ 24, 1, 0, 0 }, { res.created, res.updated, res.skipped, res.failed })
    assert.equals(25, #res.records)
    assert.equals(50, res.credits_charged) -- 2 a record written
    assert.equals(START - 50, balance(sb))
    assert.equals(-50, select(2, ledger_of(sb, res.sync_id)))
    -- synced again, the records it created are updates
    local again = assert(c:sync_to_crm { provider = "hubspot", list_id = list_id, sub_action = "contacts+companies" })
    assert.equals(0, again.created)
    assert.equals(res.created + res.updated, again.updated)
    assert.equals(res.failed, again.failed)
    assert.equals(50, again.credits_charged)
    assert.equals(START - 100, balance(sb))
  end)

  it("refuses a sync without a source and sends nothing", function()
    local res, err = client(sb):sync_to_crm { provider = "hubspot" }
    refused(sb, res, err, { "body" }, "value_error")
  end)

  it("returns the estimate's validation_error for an unknown provider, paying nothing", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res, err = c:sync_to_crm { provider = "zoho", list_id = list_id }
    assert.is_nil(res)
    assert.equals("invalid_request", err.kind)
    assert.equals("validation_error", err.code)
    assert.equals(400, err.status)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    assert.equals(START, balance(sb))
  end)

  it("syncs a list to a sequencer campaign at 1 credit a lead added", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res = assert(c:sync_to_sequencer { provider = "smartlead", list_id = list_id, campaign_id = "cmp_spec" })
    local est = bodies(sb, "POST", "/credits/estimate")[1]
    assert.equals("sync_to_sequencer", est.tool)
    assert.same({ campaign_id = "cmp_spec" }, est.extra)
    assert.equals("cmp_spec", bodies(sb, "POST", "/sync/sequencer")[1].campaign_id)
    assert.equals(25, res.estimate.estimated_cost)
    assert.equals("cmp_spec", res.campaign_id)
    -- seed 7: 11 leads without a verified email are skipped, 2 fail at the provider
    assert.same({ 12, 11, 2 }, { res.created, res.skipped, res.failed })
    assert.equals("completed_with_errors", res.status)
    assert.equals(12, res.credits_charged)
    assert.equals(START - 12, balance(sb))
    assert.equals(-12, select(2, ledger_of(sb, res.sync_id)))
  end)

  it("refuses a sequencer sync above max_credits before any paid call", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    sb:clear()
    local res, err = c:sync_to_sequencer { provider = "smartlead", list_id = list_id, max_credits = 10 }
    assert.is_nil(res)
    assert.equals("spend_cap", err.kind)
    assert.equals(25, err.estimated_cost_credits)
    assert.same({ "POST /credits/estimate" }, calls(sb))
    assert.equals(START, balance(sb))
  end)
end)

describe("the legacy API against the sandbox", function()
  local sb = suite()

  local function contacts(n)
    local t = {}
    for i = 1, n do
      t[i] = { first_name = "Pat" .. i, last_name = "Doe", company_domain = "example.com" }
    end
    return t
  end

  it("validates the key", function()
    local res = assert(client(sb):legacy_validate_key())
    assert.is_true(res.valid)
    assert.equals("org_2sbxSandboxLabs", res.organization_id)
    assert.equals("user_2sbxVeraOkafor", res.user_id)
  end)

  it("answers an unknown key with a 401 named not_authenticated", function()
    local res, err = client(sb, { api_key = "clapi_not_a_key_the_sandbox_knows" }):legacy_validate_key()
    assert.is_nil(res)
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals("not_authenticated", err.code)
    assert.equals("Not authenticated", err.message)
  end)

  it("reads the balance the ledger holds", function()
    local res = assert(client(sb):legacy_credits_balance())
    assert.equals(balance(sb), res.credits)
    assert.equals("org_2sbxSandboxLabs", res.organization_id)
    local _, err = client(sb, { api_key = sb.readonly_key }):legacy_credits_balance()
    assert.equals("permission", err.kind)
    assert.equals(403, err.status)
  end)

  it("sends 600 contacts as calls of 250, 250 and 100 and merges them in order", function()
    local c = client(sb)
    local job = assert(c:legacy_enrich_bulk { contacts = contacts(600), enrichment_type = "partial" })
    assert.same({ "POST /enrich/bulk", "POST /enrich/bulk", "POST /enrich/bulk" }, calls(sb))
    local sent = bodies(sb, "POST", "/enrich/bulk")
    assert.same({ 250, 250, 100 }, { #sent[1].contacts, #sent[2].contacts, #sent[3].contacts })
    assert.same(
      { "Pat1", "Pat251", "Pat501" },
      { sent[1].contacts[1].first_name, sent[2].contacts[1].first_name, sent[3].contacts[1].first_name }
    )
    assert.equals("partial", sent[3].enrichment_type)
    assert.equals(3, #job.workflow_ids)
    assert.equals(3, #job.batches)
    assert.is_nil(job.workflow_id)
    assert.equals(600, job.total_contacts)
    assert.equals(600, #job.task_ids)
    local merged = {}
    for i, b in ipairs(job.batches) do
      assert.matches("^public_bulk_", b.workflow_id)
      assert.equals(b.workflow_id, job.workflow_ids[i])
      for _, id in ipairs(b.task_ids) do
        merged[#merged + 1] = id
      end
    end
    assert.same(merged, job.task_ids)
    for _, i in ipairs { 1, 250, 251, 600 } do -- task i is contact i
      local task = assert(c:legacy_enrich_status { task_id = job.task_ids[i] })
      assert.equals("Pat" .. i, task.prospect.first_name)
    end
    local done, errs = c:wait_all(job.workflow_ids)
    assert.is_nil(errs)
    local charged = 0
    for i, st in ipairs(done) do
      assert.equals("completed", st.status)
      assert.equals(({ 250, 250, 100 })[i], st.credits_reserved)
      -- seed 7: emails found for 178, 178 and 64 of the contacts
      settled(sb, job.workflow_ids[i], st.credits_reserved, st, ({ 178, 178, 64 })[i])
      charged = charged + st.credits_charged
    end
    assert.equals(START - 420, balance(sb))
  end)

  it("returns what earlier calls dispatched when a later call fails (402)", function()
    sb:control("POST", "/credits", { credits = 300 }) -- the first 250 fit, the next 250 do not
    local res, err = client(sb):legacy_enrich_bulk { contacts = contacts(600) }
    assert.is_nil(res)
    assert.equals("insufficient_credits", err.kind)
    assert.equals("insufficient_credits", err.code)
    assert.equals(402, err.status)
    assert.same({ "POST /enrich/bulk", "POST /enrich/bulk" }, calls(sb))
    assert.same({ 200, 402 }, statuses(sb))
    assert.equals(1, #err.dispatched.workflow_ids)
    assert.equals(250, #err.dispatched.task_ids)
    assert.equals(250, err.dispatched.total_contacts)
    assert.matches("251", err.message)
    -- one reservation, the first call's: the maximum, 1 credit per contact
    local reserves = {}
    for _, row in ipairs(ledger(sb)) do
      if row.kind == "reserve" then reserves[#reserves + 1] = { row.ref, row.delta } end
    end
    assert.same({ { err.dispatched.workflow_ids[1], -250 } }, reserves)
    reserved_in(sb, err.dispatched.workflow_ids[1], 250, 300)
  end)

  it("answers a short balance with the 402 as insufficient_credits", function()
    sb:control("POST", "/credits", { credits = 0 })
    local res, err = client(sb):legacy_enrich_bulk { contacts = contacts(1) }
    assert.is_nil(res)
    assert.equals("insufficient_credits", err.kind)
    assert.equals("insufficient_credits", err.code)
    assert.equals(402, err.status)
    assert.equals("Insufficient credits", err.message)
    assert.equals(0, balance(sb))
  end)

  it("refuses contacts without identifiers where the server would, sending nothing", function()
    local body = {
      contacts = {
        { first_name = "Ada" },
        { linkedin_url = "https://www.linkedin.com/in/ada" },
        { last_name = "Hopper", company_name = "Cobol Systems" },
      },
    }
    local res, err = client(sb):legacy_enrich_bulk(body)
    refused(sb, res, err, { "body", "contacts", 0 }, "value_error")
    refused(sb, res, err, { "body", "contacts", 2 }, "value_error")
    assert.equals(2, #err.detail)
    -- the server's 422 for the same body names the same contacts
    local status, server = sb:api("POST", "/enrich/bulk", { body = body })
    assert.equals(422, status)
    local theirs, ours = {}, {}
    for i, d in ipairs(server.detail) do
      theirs[i] = loc_text(d.loc)
    end
    for i, d in ipairs(err.detail) do
      ours[i] = loc_text(d.loc)
    end
    assert.same(theirs, ours)
  end)

  it("prices itself at the maximum for a dry run and max_credits", function()
    local c = client(sb)
    local dry = assert(c:legacy_enrich_bulk { contacts = contacts(300), enrichment_type = "full", dry_run = true })
    assert.equals(300 * 11, dry.estimated_cost)
    assert.equals(START, dry.available_credits)
    assert.is_true(dry.sufficient)
    assert.is_nil(dry.quote_id)
    assert.equals(300, #dry.request.contacts)
    assert.same({ "GET /credits/balance" }, calls(sb))
    sb:clear()
    -- short: a dry run is refused like the call would be, the price in the error
    local short, serr = c:legacy_enrich_bulk { contacts = contacts(500), enrichment_type = "full", dry_run = true }
    assert.is_nil(short)
    assert.equals("insufficient_credits", serr.kind)
    assert.equals(5500, serr.estimated_cost_credits)
    assert.equals(START, serr.available_credits)
    assert.same({ "GET /credits/balance" }, calls(sb))
    sb:clear()
    local res, err = c:legacy_enrich_bulk { contacts = contacts(300), max_credits = 299 }
    assert.is_nil(res)
    assert.equals("spend_cap", err.kind)
    assert.equals(300, err.estimated_cost_credits)
    assert.same({}, calls(sb))
    assert.equals(START, balance(sb))
  end)
end)
