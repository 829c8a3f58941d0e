-- luacheck: std +busted
-- Enrichment: person (async), company (sync), by-task (person async / company sync), bulk
-- (async, quote required), status (workflow ids and cl-task_ handles), workflow progress over
-- sandbox time, pay-for-results settlement, workflow faults, and a 10-minute bulk run under
-- --time-scale.
local sandbox = require "spec.helpers.sandbox"
local paid = require "spec.helpers.paid"

local code, null = paid.code, sandbox.null

local function invariants(s)
  assert.equals(s.processed, s.completed + s.failed)
  assert.is_true(s.processed <= s.total)
  if paid.TERMINAL[s.status] then
    -- the run's own account of what it charged and refunded agrees with the fields
    local said = ("charged %d credits, refunded %d."):format(s.credits_charged, s.credits_refunded)
    assert.is_truthy(s.agent_instructions:find(said, 1, true), s.agent_instructions)
  else
    assert.equals(null, s.credits_charged)
    assert.equals(null, s.refund_status)
  end
end

describe("enrichment", function()
  local sb, p = paid.suite()
  local list_id

  setup(function()
    list_id = p:new_list("Enrichment spec list", 10)
  end)

  describe("POST /enrichment/person", function()
    it("reserves the tier price, lands in MCP Results and settles with an inline result", function()
      local _, ids, found = p:search(1, { seniorities = { "vp" } })
      local row = found.people[1]
      local before = p:credits()
      local status, body = p:post("/enrichment/person", {
        first_name = row.first_name,
        last_name = row.last_name,
        domain = row.company_domain,
        enrichment_type = "full",
      })
      assert.equals(200, status)
      assert.equals("pending", body.status)
      assert.equals(11, body.credits_reserved)
      assert.matches("^enrich%-", body.workflow_id)
      assert.equals("/api/v1/public/enrichment/status/" .. body.workflow_id, body.poll_url)
      assert.equals(before - 11, (p:credits()))
      local s1, list = p:get("/lead-lists/" .. body.lead_list_id)
      assert.equals(200, s1)
      assert.equals("MCP Results", list.name)
      local _, early = p:status(body.workflow_id)
      assert.equals("pending", early.status)
      assert.equals(null, early.result)
      invariants(early)
      local s = p:settle(body.workflow_id, 5000)
      invariants(s)
      assert.equals(1, s.total)
      -- seed 7: nothing found for this VP, so nothing charged and all 11 refunded
      assert.same({ 0, 11 }, { s.credits_charged, s.credits_refunded })
      assert.equals(row.full_name, s.result.full_name)
      assert.equals("failed", s.result.status)
      assert.equals("", s.result.lead_id)
      assert.equals(null, s.result.email)
      assert.equals(before, (p:credits()))
      -- a second run reuses the same MCP Results list
      local _, again = p:post("/enrichment/person", { person_id = ids[1] })
      assert.equals(body.lead_list_id, again.lead_list_id)
      assert.equals(1, again.credits_reserved)
    end)

    it("maps the legacy include_phone to phone_only", function()
      local status, body =
        p:post("/enrichment/person", { email = "someone@example.org", include_phone = true, lead_list_id = list_id })
      assert.equals(200, status)
      assert.equals(10, body.credits_reserved)
      assert.equals(list_id, body.lead_list_id)
    end)

    it("canonicalises LinkedIn URLs in any form", function()
      local _, _, found = p:search(1, { seniorities = { "director" } })
      local slug = found.people[1].linkedin_url:match("/in/([^/]+)$")
      for _, form in ipairs {
        "https://uk.linkedin.com/in/" .. slug .. "/?trk=abc",
        "linkedin.com/pub/" .. slug,
        slug,
      } do
        local status, body = p:post("/enrichment/person", { linkedin_url = form })
        assert.equals(200, status)
        local s = p:settle(body.workflow_id, 5000)
        assert.equals(found.people[1].full_name, s.result.full_name)
      end
      local status, body = p:post("/enrichment/person", {
        linkedin_url = "https://www.linkedin.com/company/acme",
      })
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
    end)

    it("enforces the identity rule, the list, the schema and the balance", function()
      local status, body = p:post("/enrichment/person", { first_name = "Jane", last_name = "Doe" })
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
      status, body = p:post("/enrichment/person", { email = "a@b.co", lead_list_id = "list_nope" })
      assert.equals(404, status)
      assert.equals("not_found", code(body))
      status, body = p:post("/enrichment/person", { email = "a@b.co", nickname = "J" })
      assert.equals(422, status)
      assert.equals("extra_forbidden", body.detail[1].type)
      status, body = p:post("/enrichment/person", { email = "a@b.co", enrichment_type = "everything" })
      assert.equals(422, status)
      assert.same({ "body", "enrichment_type" }, body.detail[1].loc)
      local before = p:credits()
      p:set_credits(5)
      status, body = p:post("/enrichment/person", { email = "a@b.co", enrichment_type = "full" })
      p:set_credits(before)
      assert.equals(400, status)
      assert.equals("insufficient_credits", code(body))
      assert.equals(6, body.error.shortfall_credits)
      status, body = p:post("/enrichment/person", { email = "a@b.co" }, sb.readonly_key)
      assert.equals(403, status)
      assert.equals("insufficient_scope", code(body))
    end)

    it("verifies and redeems an optional quote", function()
      local q = p:quote { tool = "enrich_person", enrichment_type = "partial" }
      assert.equals(200, (p:post("/enrichment/person", { email = "q@b.co", quote_id = q })))
      local status, body = p:post("/enrichment/person", { email = "q@b.co", quote_id = q })
      assert.equals(409, status)
      assert.equals("quote_used", code(body))
      q = p:quote { tool = "enrich_person", enrichment_type = "partial" }
      status, body = p:post("/enrichment/person", { email = "q@b.co", quote_id = q, enrichment_type = "full" })
      assert.equals(400, status)
      assert.equals("quote_mismatch", code(body))
    end)
  end)

  describe("POST /enrichment/company", function()
    it("looks up by domain, fuzzy name, ticker and id for one credit", function()
      local _, res = p:post("/search/companies", { limit = 5 })
      local c = res.companies[1]
      local before = p:credits()
      local scale = sb:control("GET", "/clock").time_scale
      sb:control("POST", "/clock", { time_scale = 1e-9 }) -- held: timestamp_ms is the clock's reading
      local now_ms = sb:control("GET", "/clock").now_ms
      local status, body = p:post("/enrichment/company", { domain = "www." .. c.domain })
      sb:control("POST", "/clock", { time_scale = scale })
      assert.equals(200, status)
      assert.equals(1, body.credits_charged)
      assert.equals(c.company_id, body.company.company_id)
      assert.equals(c.industry, body.company.industry)
      assert.equals(now_ms, body.timestamp_ms)
      assert.equals(before - 1, (p:credits()))
      _, body = p:post("/enrichment/company", { company_name = c.name:upper() .. ", Inc." })
      assert.equals(c.company_id, body.company.company_id)
      _, body = p:post("/enrichment/company", { company_id = c.company_id })
      assert.equals(c.domain, body.company.domain)
      local _, pub = p:post("/search/companies", { limit = 1, funding_stages = { "Public" } })
      local ticker = pub.companies[1].ticker
      if type(ticker) == "string" then
        _, body = p:post("/enrichment/company", { company_ticker = ticker:lower() })
        assert.equals(pub.companies[1].company_id, body.company.company_id)
      end
    end)

    it("answers 404 not_found for an unknown company and refunds the credit", function()
      local before = p:credits()
      local status, body = p:post("/enrichment/company", { domain = "no-such-company.example" })
      assert.equals(404, status)
      assert.equals("not_found", code(body))
      local after, ledger = p:credits()
      assert.equals(before, after)
      assert.equals(1, ledger[#ledger].delta)
      assert.equals(-1, ledger[#ledger - 1].delta)
    end)

    it("needs at least one identifier", function()
      local status, body = p:post("/enrichment/company", {})
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
      status = p:post("/enrichment/company", { domain = 42 })
      assert.equals(422, status)
    end)
  end)

  describe("POST /enrichment/by-task", function()
    it("dispatches a person cohort and binds the cl-task_ handle to the workflow", function()
      local task_id, ids, found = p:search(4, { departments = { "Sales" } })
      local status, body =
        p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email", "Phone" }, lead_list_id = list_id })
      assert.equals(200, status)
      assert.equals("person", body.entity_kind)
      assert.equals("pending", body.status)
      assert.equals(4, body.total_entities)
      assert.equals(44, body.credits_reserved)
      assert.equals(task_id, body.task_id)
      assert.matches("^bulk%-enrich%-", body.workflow_id)
      for i, r in ipairs(body.results) do
        assert.equals(ids[i], r.entity_id)
        assert.equals("queued", r.status)
      end
      local _, by_handle = p:status(task_id)
      assert.equals(task_id, by_handle.workflow_id)
      assert.equals(4, by_handle.total)
      local s = p:settle(task_id)
      invariants(s)
      assert.equals(44, s.credits_charged + s.credits_refunded)
      assert.equals(null, s.result)
      local _, page = p:get("/lead-lists/" .. list_id .. "/leads?limit=500")
      local names = {}
      for _, l in ipairs(page.leads) do
        names[l.full_name] = true
      end
      for _, row in ipairs(found.people) do
        assert.is_true(names[row.full_name], row.full_name .. " is in the list")
      end
    end)

    it("prices an entity_ids subset and refuses ids outside the cohort", function()
      local task_id, ids = p:search(5)
      local status, body =
        p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Phone" }, entity_ids = { ids[1], ids[3] } })
      assert.equals(200, status)
      assert.equals(2, body.total_entities)
      assert.equals(20, body.credits_reserved)
      status, body = p:post(
        "/enrichment/by-task",
        { task_id = task_id, data_points = { "Email" }, entity_ids = { ids[1], "123456789" } }
      )
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
    end)

    it("enriches a company cohort synchronously", function()
      local _, res = p:post("/search/companies", { limit = 12 })
      local before = p:credits()
      local status, body =
        p:post("/enrichment/by-task", { task_id = res.task_id, data_points = { "Industry", "Employees" } })
      assert.equals(200, status)
      assert.equals("company", body.entity_kind)
      assert.equals("completed", body.status)
      assert.equals(null, body.workflow_id)
      assert.equals(12, body.total_entities)
      assert.equals(2, body.credits_reserved)
      assert.equals(before - 2, (p:credits()))
      for i, r in ipairs(body.results) do
        local found = res.companies[i]
        assert.equals(found.company_id, r.entity_id)
        assert.equals("enriched", r.status)
        assert.equals(found.industry, r.company.industry)
        assert.equals(found.employee_count, r.company.employee_count)
        assert.is_nil(r.company.tech_stack)
      end
      status, body = p:post("/enrichment/by-task", { task_id = res.task_id, data_points = { "Email" } })
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
    end)

    it("answers 404 for an unknown or expired task and 422 without data_points", function()
      local status, body = p:post("/enrichment/by-task", { task_id = "cl-task_nope", data_points = { "Email" } })
      assert.equals(404, status)
      assert.equals("not_found", code(body))
      local task_id = p:search(2)
      p:advance(3601000)
      status, body = p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email" } })
      assert.equals(404, status)
      assert.equals("expired", body.error.details.reason)
      status, body = p:post("/enrichment/by-task", { task_id = task_id, data_points = {} })
      assert.equals(422, status)
      assert.equals("too_short", body.detail[1].type)
    end)

    it("requires a quote in strict mode and accepts a matching one", function()
      local _, st = sb:control("POST", "/switches", { strict_quotes = true })
      assert.equals(200, st)
      local task_id = p:search(3)
      local status, body = p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email" } })
      assert.equals(400, status)
      assert.equals("quote_required", code(body))
      local q = p:quote { tool = "add_person_enrichments", task_id = task_id, data_points = { "Email" } }
      status, body = p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email" }, quote_id = q })
      sb:control("POST", "/switches", { strict_quotes = false })
      assert.equals(200, status)
      assert.equals(3, body.credits_reserved)
    end)
  end)

  describe("POST /enrichment/bulk", function()
    it("accepts the legacy lead_list_id and both phone-only spellings", function()
      local q = p:quote { tool = "enrich_list", list_id = list_id, scope = "phone-only" }
      local status, body = p:post("/enrichment/bulk", { lead_list_id = list_id, scope = "phone_only", quote_id = q })
      assert.equals(200, status)
      assert.equals(body.total_leads * 10, body.credits_reserved)
      assert.equals(body.credits_reserved, body.estimated_cost)
      local s = p:settle(body.workflow_id)
      assert.equals("phone_only", s.enrichment_type)
      assert.equals(0, s.summary.emails_found)
      assert.equals(10 * s.summary.phones_found, s.credits_charged)
    end)

    it("refuses an empty list (400) and an unknown list (404)", function()
      local _, empty = p:post("/lead-lists", { name = "Enrichment spec empty" })
      local status, body =
        p:post("/enrichment/bulk", { list_id = empty.list_id, quote_id = "qte_v1_1_" .. string.rep("0", 64) })
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
      status, body = p:post("/enrichment/bulk", { list_id = "list_nope", quote_id = "x" })
      assert.equals(404, status)
      assert.equals("not_found", code(body))
    end)
  end)

  describe("GET /enrichment/status/{workflow_id}", function()
    it("shows live counters while running", function()
      local l = p:new_list("Enrichment spec progress", 20)
      local q = p:quote { tool = "enrich_list", list_id = l }
      local _, body = p:post("/enrichment/bulk", { list_id = l, quote_id = q })
      p:advance(2000 + 7500)
      local _, s = p:status(body.workflow_id)
      assert.equals("running", s.status)
      assert.equals(7, s.processed)
      assert.equals(35, s.progress)
      invariants(s)
      p:advance(20000)
      local _, done = p:status(body.workflow_id)
      assert.equals("completed", done.status)
      assert.equals(100, done.progress)
      invariants(done)
      assert.equals(20, done.credits_charged + done.credits_refunded)
      assert.equals(done.completed, done.credits_charged)
    end)

    it("answers 404 for an unknown id and needs enrich:read", function()
      local status, body = p:status("bulk-enrich-00000000")
      assert.equals(404, status)
      assert.equals("not_found", code(body))
    end)
  end)

  describe("workflow faults", function()
    after_each(function()
      sb:control("DELETE", "/faults")
    end)

    it("fail: ends failed, keeps the charge and asks for review", function()
      sb:control("POST", "/faults", { workflow = "fail" })
      local q = p:quote { tool = "enrich_list", list_id = list_id }
      local _, body = p:post("/enrichment/bulk", { list_id = list_id, quote_id = q })
      local s = p:settle(body.workflow_id)
      assert.equals("failed", s.status)
      assert.equals("pending_review", s.refund_status)
      assert.equals(
        "This prepaid run failed after credits were charged. The charge is under review and will be "
          .. "refunded manually: contact support@cleanlist.ai with the workflow id.",
        s.refund_message
      )
      assert.equals(body.credits_reserved, s.credits_charged)
      assert.equals(0, s.credits_refunded)
      invariants(s)
    end)

    it("stuck: never leaves running", function()
      sb:control("POST", "/faults", { workflow = "stuck" })
      local _, body = p:post("/enrichment/person", { email = "stuck@example.org" })
      p:advance(24 * 3600 * 1000)
      local _, s = p:status(body.workflow_id)
      assert.equals("running", s.status)
      assert.equals(null, s.refund_status)
      assert.equals(null, s.credits_charged)
    end)
  end)
end)

describe("a 10-minute bulk enrichment under --time-scale 600", function()
  local _, p = paid.suite { "--time-scale", "600" }

  it("enriches 600 leads (full) in seconds of real time", function()
    local l = p:new_list("Ten minute scenario", 600)
    p:set_credits(10000)
    local q = p:quote { tool = "enrich_list", list_id = l, scope = "full" }
    local status, body = p:post("/enrichment/bulk", { list_id = l, scope = "full", quote_id = q })
    assert.equals(200, status)
    assert.equals(600, body.total_leads)
    assert.equals(6600, body.credits_reserved)
    local started = os.time()
    local _, s = sandbox.poll(80, 0.1, function()
      local _, st = p:status(body.workflow_id)
      invariants(st)
      return paid.TERMINAL[st.status], st
    end)
    assert.is_true(os.time() - started <= 8, "took too long")
    assert.equals("completed", s.status)
    assert.equals(600, s.processed)
    assert.equals(6600, s.credits_charged + s.credits_refunded)
    assert.equals(s.summary.emails_found + 10 * s.summary.phones_found, s.credits_charged)
    -- seed 7's rates: 494 emails (82%) and 237 phones (40%) among the 600
    assert.same({ emails_found = 494, phones_found = 237 }, s.summary)
    assert.equals(494 + 10 * 237, s.credits_charged)
    assert.equals(10000 - s.credits_charged, (p:credits()))
    local _, detail = p:get("/lead-lists/" .. l)
    assert.equals(s.completed, detail.enriched_count)
  end)
end)
