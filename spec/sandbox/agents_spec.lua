-- luacheck: std +busted
-- Smart agents: POST /smart-agents/run (quote-gated, validation, approval threshold, metered
-- per row), GET /smart-agents (recent runs), GET /smart-agents/{id} (results that grow while
-- the run progresses over sandbox time), values written onto the leads.
local sandbox = require "spec.helpers.sandbox"
local paid = require "spec.helpers.paid"

local code, null = paid.code, sandbox.null

describe("smart agents", function()
  local sb, p = paid.suite()
  local list_id

  setup(function()
    list_id = p:new_list("Agents spec list", 6)
  end)

  local function run(body)
    return p:post("/smart-agents/run", body)
  end

  local function quoted_run(agent, column, extra_body)
    local q = p:quote { tool = "run_smart_agent", list_id = list_id, agent_type = agent, column_name = column }
    local body = { list_id = list_id, agent_type = agent, column_name = column, quote_id = q }
    for k, v in pairs(extra_body or {}) do
      body[k] = v
    end
    return run(body)
  end

  it("runs title_normalizer: pending, then rows complete and land on the leads", function()
    local before = p:credits()
    local status, body = quoted_run("title_normalizer", "Clean title")
    assert.equals(200, status)
    assert.equals("pending", body.status)
    assert.equals(list_id, body.list_id)
    assert.equals("Clean title", body.column_name)
    assert.equals(3, body.estimated_cost) -- 6 rows x 0.5
    local id = body.smart_agent_task_id
    assert.equals(id, body.smart_agent_task_ids.title_normalizer)
    local _, r0 = p:get("/smart-agents/" .. id)
    assert.equals("pending", r0.status)
    assert.equals(0, #r0.results)
    p:advance(2000 + 3 * 500)
    local _, r1 = p:get("/smart-agents/" .. id)
    assert.equals("processing", r1.status)
    assert.equals(3, #r1.results)
    assert.equals(50, r1.progress)
    p:advance(10000)
    local _, r2 = p:get("/smart-agents/" .. id)
    assert.equals("completed", r2.status)
    assert.equals(100, r2.progress)
    assert.equals(6, r2.total)
    assert.same({ 6, 0 }, { r2.succeeded, r2.failed }) -- seed 7: every row succeeds
    assert.equals(6, #r2.results)
    assert.equals(before - math.ceil(r2.succeeded * 0.5), (p:credits()))
    local _, page = p:get("/lead-lists/" .. list_id .. "/leads")
    local titles = {}
    for _, l in ipairs(page.leads) do
      titles[l.lead_id] = l.title
    end
    local values = {}
    for i, row in ipairs(r2.results) do
      assert.equals(null, row.error)
      assert.is_truthy(titles[row.lead_id], row.lead_id .. " is not a lead of the list")
      values[i] = row.value
    end
    assert.same({
      "Engineering Manager",
      "Human Resources Manager",
      "Senior Systems Administrator",
      "Account Executive Manager",
      "Regional Sales Manager",
      "Director of Data Science",
    }, values)
    -- the export reads the new column
    local s3, export = p:get("/export/json?list_id=" .. list_id .. "&columns=lead_id&columns=Clean%20title")
    assert.equals(200, s3)
    local found = 0
    for _, l in ipairs(export.leads) do
      if type(l["Clean title"]) == "string" then found = found + 1 end
    end
    assert.equals(r2.succeeded, found)
  end)

  it("writes a templated cold intro email per lead", function()
    local _, body = quoted_run("cold_intro_email", "Intro")
    p:advance(20000)
    local _, r = p:get("/smart-agents/" .. body.smart_agent_task_id)
    assert.equals("completed", r.status)
    local ok = 0
    for _, row in ipairs(r.results) do
      if row.error == null then
        assert.matches("^Subject: ", row.value)
        assert.matches("Hi ", row.value)
        ok = ok + 1
      end
    end
    assert.equals(6, ok) -- seed 7: every row gets its email
  end)

  it("requires a prompt for custom_ai (400 validation_error)", function()
    local q = p:quote { tool = "run_smart_agent", list_id = list_id, column_name = "Research" }
    local status, body = run { list_id = list_id, column_name = "Research", quote_id = q }
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
    status, body =
      run { list_id = list_id, column_name = "Research", quote_id = q, prompt = "What does their company sell?" }
    assert.equals(200, status)
    assert.equals(6, body.estimated_cost)
  end)

  it("requires a quote bound to list, agent type and column", function()
    local status, body = run { list_id = list_id, agent_type = "company_intel", column_name = "Intel" }
    assert.equals(422, status)
    assert.same({ "body", "quote_id" }, body.detail[1].loc)
    local q =
      p:quote { tool = "run_smart_agent", list_id = list_id, agent_type = "company_intel", column_name = "Intel" }
    status, body = run { list_id = list_id, agent_type = "company_intel", column_name = "Other column", quote_id = q }
    assert.equals(400, status)
    assert.equals("quote_mismatch", code(body))
    assert.equals("column_name", body.error.details.field)
    status, body = run { list_id = list_id, agent_type = "pain_point_hypothesis", column_name = "Intel", quote_id = q }
    assert.equals(400, status)
    assert.equals("quote_mismatch", code(body))
    assert.equals(200, (run { list_id = list_id, agent_type = "company_intel", column_name = "Intel", quote_id = q }))
    status, body = run { list_id = list_id, agent_type = "company_intel", column_name = "Intel", quote_id = q }
    assert.equals(409, status)
    assert.equals("quote_used", code(body))
  end)

  it("caps the spend at the quote (more rows than quoted)", function()
    local q = p:quote {
      tool = "run_smart_agent",
      list_id = list_id,
      agent_type = "custom_ai",
      column_name = "Capped",
      extra = { max_rows = 2 },
    }
    local status, body = run { list_id = list_id, column_name = "Capped", quote_id = q, prompt = "x", max_rows = 5 }
    assert.equals(400, status)
    assert.equals("spend_cap_exceeded", code(body))
    assert.equals(200, (run { list_id = list_id, column_name = "Capped", quote_id = q, prompt = "x", max_rows = 2 }))
  end)

  it("needs approval for lead_scope all above 500 leads", function()
    local big = p:new_list("Agents spec big list", 501)
    local q = p:quote {
      tool = "run_smart_agent",
      list_id = big,
      agent_type = "title_normalizer",
      column_name = "T",
      extra = { lead_scope = "all" },
    }
    local status, body =
      run { list_id = big, agent_type = "title_normalizer", column_name = "T", lead_scope = "all", quote_id = q }
    assert.equals(400, status)
    assert.equals("approval_required", code(body))
    status, body = run {
      list_id = big,
      agent_type = "title_normalizer",
      column_name = "T",
      lead_scope = "subset",
      max_rows = 10,
      quote_id = q,
    }
    assert.equals(200, status)
    assert.equals(5, body.estimated_cost)
  end)

  it("refuses with insufficient_credits when the balance is below the estimate", function()
    local q = p:quote {
      tool = "run_smart_agent",
      list_id = list_id,
      agent_type = "cold_intro_email",
      column_name = "Broke",
    }
    local before = p:credits()
    p:set_credits(3)
    local status, body = run { list_id = list_id, agent_type = "cold_intro_email", column_name = "Broke", quote_id = q }
    p:set_credits(before)
    assert.equals(400, status)
    assert.equals("insufficient_credits", code(body))
    assert.equals(18, body.error.estimated_cost_credits)
  end)

  it("validates the body (422) and the list (404)", function()
    local status, body = run { list_id = list_id, column_name = "", quote_id = "q" }
    assert.equals(422, status)
    assert.equals("string_too_short", body.detail[1].type)
    status = run { list_id = list_id, column_name = "x", quote_id = "q", max_rows = 0 }
    assert.equals(422, status)
    status = run { list_id = list_id, column_name = "x", quote_id = "q", agent_type = "oracle" }
    assert.equals(422, status)
    status, body = run { list_id = "list_nope", column_name = "x", quote_id = "q", prompt = "p" }
    assert.equals(404, status)
    assert.equals("not_found", code(body))
  end)

  it("lists recent runs, newest first, per list", function()
    local status, body = p:get("/smart-agents?list_id=" .. list_id .. "&limit=3")
    assert.equals(200, status)
    assert.equals(3, body.total)
    assert.equals(3, #body.runs)
    local columns, stamps = {}, {}
    for i, r in ipairs(body.runs) do
      assert.equals(list_id, r.list_id)
      assert.is_true(r.processed <= r.total)
      columns[i], stamps[i] = r.column_name, r.created_at
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", r.created_at)
    end
    assert.same({ "Capped", "Intel", "Research" }, columns) -- the last three runs of this spec
    -- newest first, none after the sandbox clock's now
    local now = os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(sb:control("GET", "/clock").now_ms / 1000))
    assert.is_true(now >= stamps[1] and stamps[1] >= stamps[2] and stamps[2] >= stamps[3])
    assert.equals(422, (p:get("/smart-agents?limit=0")))
    assert.equals(404, (p:get("/smart-agents?list_id=list_nope")))
    status, body = p:get("/smart-agents")
    assert.equals(200, status)
    assert.equals(6, body.total) -- the runs this spec started
  end)

  it("answers 404 for an unknown run and 403 without the scope", function()
    local status, body = p:get("/smart-agents/run_nope")
    assert.equals(404, status)
    assert.equals("not_found", code(body))
    status, body =
      p:post("/smart-agents/run", { list_id = list_id, column_name = "x", quote_id = "q" }, sb.readonly_key)
    assert.equals(403, status)
    assert.equals("insufficient_scope", code(body))
  end)
end)
