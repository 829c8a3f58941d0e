-- Following runs with the real client against a sandbox: client:wait on every kind of run id
-- (enrich-…, bulk-enrich-…, cl-task_…, run_…, public_bulk_…) and on the tables the dispatching
-- calls return, its timeout and progress hook, wait_all, the free methods that read runs
-- (enrichment_status, get_smart_agent_results, list_smart_agents, legacy_enrich_status,
-- legacy_webhook_deliveries), and the per-organisation bucket shared by clients of three keys
-- of one organisation. Every end of a run (completed, completed_with_errors, failed with the
-- charge kept or refunded, cancelled) is an answer with the sandbox's values; a timeout or a
-- failed poll is an error whose outcome is unknown.
local cjson = require "cjson"
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local paid = require "spec.helpers.paid"
-- every wait that should end is bounded: a run that never ends fails the spec in seconds
local BOUND = { timeout = 30 }

local ARGS = { "--time-scale", "600", "--rate-limit", "off", "--seed", "7" }
local PREFIX = wire.PREFIX
local calls, list_named, refused = wire.calls, wire.list_named, wire.refused_result
local SALES = "Example: Sales leaders in Software (US)" -- 25 leads, seeded by every reset
local FINTECH = "Example: Engineering leaders in Fintech" -- 40 leads
local null = cleanlist.null
local monotonic = require("cleanlist.core").monotonic

local TERMINAL = { completed = true, completed_with_errors = true, failed = true, cancelled = true }

local function suite(args)
  return sandbox.suite { args = args or ARGS, reset = true, clear = true }
end

local client = clients.scaled(600)

local function legacy_contacts(n)
  local t = {}
  for i = 1, n do
    t[i] = { first_name = "Lee" .. i, last_name = "Park", company_domain = "example.org" }
  end
  return t
end

describe("client:wait against the sandbox", function()
  local sb = suite()

  it("follows an enrich- id to its end and returns the person's result", function()
    local c = client(sb)
    local row = assert(c:search_people { limit = 1 }).people[1]
    local res = assert(c:enrich_person { person_id = row.person_id, enrichment_type = "partial" })
    assert.matches("^enrich%-", res.workflow_id)
    local st = assert(c:wait(res.workflow_id, BOUND))
    assert.equals("completed", st.status)
    assert.equals(res.workflow_id, st.workflow_id)
    assert.equals(1, st.total)
    assert.equals(1, st.processed)
    assert.same(
      { "completed", row.full_name, "soren@primemintsoftware.io" },
      { st.result.status, st.result.full_name, st.result.email }
    )
    local status_gets = 0
    for _, call in ipairs(calls(sb)) do
      if call == "GET /enrichment/status/" .. res.workflow_id then status_gets = status_gets + 1 end
    end
    assert.equals(status_gets, st.polls) -- one request a poll
    assert.same({ 1, 0 }, { st.credits_charged, st.credits_refunded })
  end)

  it("follows a bulk-enrich- id, telling on_progress of a growing count", function()
    local c = client(sb)
    local res = assert(c:enrich_list { list_id = list_named(c, FINTECH) })
    assert.matches("^bulk%-enrich%-", res.workflow_id)
    local seen = {}
    local st = assert(c:wait(res.workflow_id, {
      timeout = BOUND.timeout,
      on_progress = function(s)
        seen[#seen + 1] = { status = s.status, processed = s.processed }
      end,
    }))
    assert.equals("completed", st.status)
    assert.equals(40, st.total)
    assert.equals(40, st.processed)
    assert.equals(st.polls, #seen)
    assert.truthy(#seen >= 2, "on_progress was called " .. #seen .. " time(s)")
    for i = 2, #seen do
      assert.truthy(seen[i].processed >= seen[i - 1].processed, "processed went down at poll " .. i)
    end
    assert.truthy(seen[1].processed < seen[#seen].processed)
    assert.equals(40, seen[#seen].processed)
    assert.equals("completed", seen[#seen].status)
    for i = 1, #seen - 1 do
      assert.is_nil(TERMINAL[seen[i].status])
    end
  end)

  it("follows a cl-task_ cohort handle to the run bound to it", function()
    local c = client(sb)
    local found = assert(c:search_people { limit = 3 })
    local res = assert(c:enrich_by_task { task_id = found.task_id, data_points = { "Email" } })
    local st = assert(c:wait(found.task_id, BOUND))
    assert.equals("completed", st.status)
    assert.equals(found.task_id, st.workflow_id)
    assert.equals(3, st.processed)
    assert.equals(res.credits_reserved, st.credits_charged + st.credits_refunded)
    local by_id = assert(c:enrichment_status(res.workflow_id))
    assert.equals(st.credits_charged, by_id.credits_charged)
    assert.equals(res.workflow_id, by_id.workflow_id)
  end)

  it("follows a smart-agent run_ id to its end", function()
    local c = client(sb)
    local res = assert(c:run_smart_agent {
      list_id = list_named(c, SALES),
      column_name = "Title",
      agent_type = "title_normalizer",
      max_rows = 4,
    })
    local st = assert(c:wait(res.smart_agent_task_id, BOUND))
    assert.equals("completed", st.status)
    assert.equals(res.smart_agent_task_id, st.smart_agent_task_id)
    assert.equals(4, st.total)
    assert.equals(4, #st.results)
    assert.equals(100, st.progress)
  end)

  it("follows a legacy public_bulk_ id to its end", function()
    local c = client(sb)
    local job = assert(c:legacy_enrich_bulk { contacts = legacy_contacts(20) })
    assert.matches("^public_bulk_", job.workflow_id)
    local st = assert(c:wait(job.workflow_id, BOUND))
    assert.equals("completed", st.status)
    assert.equals(job.workflow_id, st.workflow_id)
    assert.equals(20, st.total_contacts)
    assert.equals(20, st.processed)
    assert.equals(st.credits_reserved, st.credits_charged + st.credits_refunded)
  end)

  it("gives up after opts.timeout on a stuck run, with the last status it saw", function()
    local c = client(sb)
    local list_id = list_named(c, SALES)
    local _, code = sb:control("POST", "/faults", { workflow = "stuck" })
    assert.equals(200, code)
    local res = assert(c:enrich_list { list_id = list_id })
    local t0 = monotonic()
    local st, err = c:wait(res, { timeout = 0.4 })
    local took = monotonic() - t0
    assert.is_nil(st)
    assert.equals("timeout", err.kind)
    assert.equals("wait_timeout", err.code)
    assert.equals("running", err.last_status.status)
    assert.equals(12, err.last_status.processed) -- a stuck run stops at half its 25 leads
    assert.equals(25, err.last_status.total)
    assert.truthy(err.polls >= 2)
    assert.truthy(took >= 0.35 and took < 3, ("waited %.2f s"):format(took))
    assert.matches(res.workflow_id, err.message, 1, true)
  end)

  it("returns the poll's error for an unknown run and refuses a target it cannot follow", function()
    local c = client(sb)
    local st, err = c:wait("enrich-00000000")
    assert.is_nil(st)
    assert.equals("not_found", err.kind)
    assert.equals(404, err.status)
    assert.equals(1, err.polls)
    sb:clear()
    st, err = c:wait({})
    assert.is_nil(st)
    assert.equals("invalid_request", err.kind)
    st, err = c:wait("")
    assert.is_nil(st)
    assert.equals("invalid_request", err.kind)
    assert.same({}, calls(sb))
  end)
end)

describe("client:wait on every end of a run", function()
  local sb = suite()

  -- Dispatches the 25-lead SALES list (partial: 25 reserved) under workflow fault `fault`.
  local function run_under(c, fault)
    local _, code = sb:control("POST", "/faults", { workflow = fault })
    assert.equals(200, code)
    return assert(c:enrich_list { list_id = list_named(c, SALES) })
  end

  local function numbers(st)
    return {
      st.status,
      st.processed,
      st.completed,
      st.failed,
      st.credits_charged,
      st.credits_refunded,
      st.refund_status,
    }
  end

  it("completed, completed_with_errors, failed (both refunds) and cancelled, each with its values", function()
    local c = client(sb)
    local done = assert(c:wait(run_under(c, "normal"), BOUND))
    assert.same({ "completed", 25, 20, 5, 20, 5, "not_applicable" }, numbers(done))
    local errs = assert(c:wait(run_under(c, "errors"), BOUND))
    assert.same({ "completed_with_errors", 25, 13, 12, 13, 12, "not_applicable" }, numbers(errs))
    local kept = assert(c:wait(run_under(c, "fail"), BOUND))
    assert.same({ "failed", 12, 9, 3, 25, 0, "pending_review" }, numbers(kept))
    assert.matches("^This prepaid run failed after credits were charged", kept.refund_message)
    local swept = assert(c:wait(run_under(c, "fail_refund"), BOUND))
    assert.same({ "failed", 12, 9, 3, 0, 25, "not_applicable" }, numbers(swept))
    assert.equals("The run failed; its 25 unused credits were refunded.", swept.message)
    local stuck = run_under(c, "stuck")
    sb:control("POST", "/clock", { advance_ms = 60000 }) -- stuck at 12 of its 25 leads
    local _, code = sb:control("POST", "/workflows/" .. stuck.workflow_id .. "/cancel")
    assert.equals(200, code)
    local cancelled = assert(c:wait(stuck, BOUND))
    assert.same({ "cancelled", 12, 9, 3, 9, 16, "pending_review" }, numbers(cancelled))
    assert.equals(1, cancelled.polls)
  end)

  it("wait_all returns the four ends in order, none of them an error", function()
    local c = client(sb)
    local runs = {}
    for i, fault in ipairs { "normal", "errors", "fail", "fail_refund" } do
      runs[i] = run_under(c, fault)
    end
    local out, errs = c:wait_all(runs, BOUND)
    assert.is_nil(errs)
    assert.same(
      { "completed", "completed_with_errors", "failed", "failed" },
      { out[1].status, out[2].status, out[3].status, out[4].status }
    )
    assert.same(
      { 20, 13, 25, 0 },
      { out[1].credits_charged, out[2].credits_charged, out[3].credits_charged, out[4].credits_charged }
    )
    assert.same(
      { "not_applicable", "not_applicable", "pending_review", "not_applicable" },
      { out[1].refund_status, out[2].refund_status, out[3].refund_status, out[4].refund_status }
    )
  end)

  it("a timeout says the outcome is unknown, and a later wait learns it", function()
    local c = client(sb)
    local res = run_under(c, "stuck")
    local st, err = c:wait(res, { timeout = 0.3 })
    assert.is_nil(st)
    assert.same({ "timeout", "unknown", "running" }, { err.kind, err.outcome, err.last_status.status })
    assert.matches("its outcome is unknown, the run goes on", err.message, 1, true)
    sb:control("POST", "/workflows/" .. res.workflow_id .. "/cancel")
    st = assert(c:wait(res.workflow_id, BOUND))
    assert.same({ "cancelled", 12 }, { st.status, st.processed })
  end)

  it("a poll that fails says the outcome is unknown", function()
    local c = client(sb)
    local st, err = c:wait("enrich-00000000")
    assert.is_nil(st)
    assert.same({ "not_found", "unknown", 1 }, { err.kind, err.outcome, err.polls })
  end)

  it("a smart-agent run that runs out of credits ends failed, and so does the wait", function()
    local c = client(sb)
    sb:control("DELETE", "/faults")
    sb:control("POST", "/clock", { time_scale = 1e-6 }) -- held while the balance is cut
    local res = assert(c:run_smart_agent {
      list_id = list_named(c, SALES),
      column_name = "Intro",
      agent_type = "cold_intro_email",
      max_rows = 10,
    })
    sb:control("POST", "/credits", { credits = 7 }) -- 3 a row: two rows, then out
    sb:control("POST", "/clock", { time_scale = 600 })
    local st = assert(c:wait(res.smart_agent_task_id, BOUND))
    assert.same({ "failed", "The run stopped: the organization ran out of credits." }, { st.status, st.message })
    assert.same({ 10, 2, 1 }, { st.total, st.succeeded, st.failed })
  end)

  it("a legacy job cancelled or failed ends the wait with its status", function()
    local c = client(sb)
    sb:control("POST", "/faults", { workflow = "fail_refund" })
    local job = assert(c:legacy_enrich_bulk { contacts = legacy_contacts(4) })
    local st = assert(c:wait(job.workflow_id, BOUND))
    assert.same({ "failed", 0, 4 }, { st.status, st.credits_charged, st.credits_refunded })
    sb:control("POST", "/faults", { workflow = "stuck" })
    job = assert(c:legacy_enrich_bulk { contacts = legacy_contacts(4) })
    sb:control("POST", "/workflows/" .. job.workflow_id .. "/cancel")
    st = assert(c:wait(job.workflow_id, BOUND))
    assert.same({ "cancelled", 0, 0, 4 }, { st.status, st.processed, st.credits_charged, st.credits_refunded })
  end)
end)

describe("client:wait_all against the sandbox", function()
  local sb = suite()

  it("waits on three runs of three kinds at once and returns their statuses in order", function()
    local c = client(sb)
    local person = assert(c:enrich_person { email = "ada@example.com" })
    local agent = assert(c:run_smart_agent {
      list_id = list_named(c, SALES),
      column_name = "Intel",
      agent_type = "company_intel",
      max_rows = 3,
    })
    local legacy = assert(c:legacy_enrich_bulk { contacts = legacy_contacts(5) })
    local out, errs = c:wait_all({ person, agent, legacy }, BOUND)
    assert.is_nil(errs)
    assert.equals(3, #out)
    assert.equals("completed", out[1].status)
    assert.equals(person.workflow_id, out[1].workflow_id)
    assert.same({ "completed", "ada@example.com" }, { out[1].result.status, out[1].result.email })
    assert.equals("completed", out[2].status)
    assert.equals(agent.smart_agent_task_id, out[2].smart_agent_task_id)
    assert.equals(3, out[2].total)
    assert.equals("completed", out[3].status)
    assert.equals(legacy.workflow_id, out[3].workflow_id)
    assert.equals(5, out[3].total_contacts)
  end)

  it("reports a failed wait at its position and still returns the others", function()
    local c = client(sb)
    local a = assert(c:enrich_person { email = "a@example.com" })
    local b = assert(c:enrich_person { email = "b@example.com" })
    local out, errs = c:wait_all({ a.workflow_id, "enrich-00000000", b.workflow_id }, BOUND)
    assert.equals("not_found", errs[2].kind)
    assert.is_nil(errs[1])
    assert.is_nil(errs[3])
    assert.is_nil(out[2])
    assert.same({ "completed", "completed" }, { out[1].status, out[3].status })
    assert.same({ "a@example.com", "b@example.com" }, { out[1].result.email, out[3].result.email })
  end)
end)

describe("the methods that read runs, against the sandbox", function()
  local sb = suite()

  it("enrichment_status: pending with nothing settled, then terminal with its credits", function()
    local c = client(sb)
    local p = paid.new(sb)
    sb:control("POST", "/clock", { time_scale = 1 }) -- the run stays pending until advanced
    local res = assert(c:enrich_person { email = "ada@example.com", enrichment_type = "full" })
    local st = assert(c:enrichment_status(res.workflow_id))
    assert.equals(res.workflow_id, st.workflow_id)
    assert.equals("pending", st.status)
    assert.equals(null, st.progress)
    assert.equals(null, st.credits_charged)
    assert.equals(null, st.result)
    assert.equals("full", st.enrichment_type)
    assert.equals(res.lead_list_id, st.lead_list_id)
    p:advance(60000)
    st = assert(c:enrichment_status(res.workflow_id))
    assert.equals("completed", st.status)
    assert.equals(100, st.progress)
    assert.equals("not_applicable", st.refund_status)
    assert.same({ 1, 10 }, { st.credits_charged, st.credits_refunded })
    assert.same({ "completed", "ada@example.com", null }, { st.result.status, st.result.email, st.result.phone })
  end)

  it("enrichment_status: an unknown id is not_found; an empty one is refused", function()
    local c = client(sb)
    local res, err = c:enrichment_status("bulk-enrich-00000000")
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    assert.equals("not_found", err.code)
    assert.equals(404, err.status)
    sb:clear()
    res, err = c:enrichment_status("")
    refused(sb, res, err, { "path", "workflow_id" }, "missing")
  end)

  it("get_smart_agent_results and list_smart_agents read the runs of a list", function()
    local c = client(sb)
    local sales, fintech = list_named(c, SALES), list_named(c, FINTECH)
    local first = assert(
      c:run_smart_agent { list_id = sales, column_name = "Title", agent_type = "title_normalizer", max_rows = 3 }
    )
    local second = assert(
      c:run_smart_agent { list_id = fintech, column_name = "Pain", agent_type = "pain_point_hypothesis", max_rows = 2 }
    )
    assert(c:wait_all({ first, second }, BOUND))

    local st = assert(c:get_smart_agent_results(first.smart_agent_task_id))
    assert.equals("completed", st.status)
    assert.equals(3, st.total)
    assert.equals(3, st.succeeded + st.failed)
    local members = {}
    for _, lead in ipairs(assert(c:list_leads_in_list(sales, { limit = 100 })).leads) do
      members[lead.lead_id] = true
    end
    for _, row in ipairs(st.results) do
      assert.truthy(members[row.lead_id], row.lead_id)
    end

    local all = assert(c:list_smart_agents())
    assert.equals(2, all.total)
    assert.equals(second.smart_agent_task_id, all.runs[1].task_id) -- newest first
    assert.equals(first.smart_agent_task_id, all.runs[2].task_id)
    local one = assert(c:list_smart_agents { list_id = sales })
    assert.equals(1, one.total)
    local run = one.runs[1]
    assert.equals(first.smart_agent_task_id, run.task_id)
    assert.equals(sales, run.list_id)
    assert.equals("Title", run.column_name)
    assert.equals("title_normalizer", run.agent_type)
    assert.equals("completed", run.status)
    assert.equals(3, run.processed)
    assert.equals(1, assert(c:list_smart_agents { limit = 1 }).total)
  end)

  it("get_smart_agent_results and list_smart_agents: not_found, and limits refused", function()
    local c = client(sb)
    local res, err = c:get_smart_agent_results("run_00000000")
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    assert.equals(404, err.status)
    res, err = c:list_smart_agents { list_id = "list_00000000" }
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    sb:clear()
    res, err = c:list_smart_agents { limit = 0 }
    refused(sb, res, err, { "query", "limit" }, "greater_than_equal")
    res, err = c:list_smart_agents { limit = 101 }
    refused(sb, res, err, { "query", "limit" }, "less_than_equal")
  end)

  it("legacy_enrich_status reads a workflow and one contact; unknown ids are not_found", function()
    local c = client(sb)
    local job = assert(c:legacy_enrich_bulk { contacts = legacy_contacts(3) })
    assert(c:wait(job.workflow_id, BOUND))
    local st = assert(c:legacy_enrich_status { workflow_id = job.workflow_id })
    assert.equals("completed", st.status)
    assert.equals(3, st.total_contacts)
    assert.equals(3, #st.results)
    for i, r in ipairs(st.results) do
      assert.equals(job.task_ids[i], r.task_id)
      assert.equals("Lee" .. i, r.prospect.first_name)
    end
    local one = assert(c:legacy_enrich_status { task_id = job.task_ids[2] })
    assert.equals(job.task_ids[2], one.task_id)
    assert.equals(job.workflow_id, one.workflow_id)
    assert.equals("Lee2 Park", one.prospect.full_name)
    local res, err = c:legacy_enrich_status { workflow_id = "public_bulk_00000000" }
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    assert.equals("not_found", err.code)
    assert.equals(404, err.status)
  end)

  it("legacy_enrich_status refuses anything but exactly one of workflow_id and task_id", function()
    local c = client(sb)
    local res, err = c:legacy_enrich_status {}
    refused(sb, res, err, { "query" }, "value_error")
    res, err = c:legacy_enrich_status { workflow_id = "public_bulk_x", task_id = "t" }
    refused(sb, res, err, { "query" }, "value_error")
  end)

  it("legacy_webhook_deliveries shows the delivery of a finished workflow's webhook", function()
    local c = client(sb)
    sb:control("DELETE", "/webhook-sink")
    local job =
      assert(c:legacy_enrich_bulk { contacts = legacy_contacts(2), webhook_url = sb.root .. "/__sandbox/webhook-sink" })
    assert(c:wait(job.workflow_id, BOUND))
    local ok, d = sandbox.poll(100, 0.05, function()
      local r = assert(c:legacy_webhook_deliveries { workflow_id = job.workflow_id })
      return r.status == "delivered", r
    end)
    assert.truthy(ok, "the webhook was not delivered: " .. cjson.encode(d))
    assert.equals(job.workflow_id, d.workflow_id)
    assert.equals(sb.root .. "/__sandbox/webhook-sink", d.webhook_url)
    assert.equals(1, #d.deliveries)
    local row = d.deliveries[1]
    assert.equals("delivered", row.status)
    assert.equals(200, row.response_code)
    assert.equals(1, row.attempt)
    assert.equals("enrichment.completed", row.event)
    local sink = sb:control("GET", "/webhook-sink")
    assert.equals(1, sink.count)
    assert.equals(job.workflow_id, sink.received[1].body.workflow_id)
  end)

  it("legacy_webhook_deliveries: an unknown workflow is not_found; none is refused", function()
    local c = client(sb)
    local res, err = c:legacy_webhook_deliveries { workflow_id = "public_bulk_00000000" }
    assert.is_nil(res)
    assert.equals("not_found", err.kind)
    assert.equals(404, err.status)
    sb:clear()
    res, err = c:legacy_webhook_deliveries {}
    refused(sb, res, err, { "query", "workflow_id" }, "missing")
  end)
end)

describe("the per-organisation bucket across three keys of one organisation", function()
  -- Real time here (time scale 1): the request log's time_ms is then wall time in ms. No reset
  -- between the tests: keys are minted from the seed, so a reset would mint the same keys again,
  -- and the process remembers the organisation of a key it has seen.
  local sb = sandbox.suite { args = { "--rate-limit", "off", "--seed", "7" }, clear = true }
  local PER_ORG = 6
  local TOLERANCE = 0.1 -- seconds of scheduling jitter allowed (half a paced interval)

  -- Three new keys of Vera's organisation and a client of each with the given window.
  local function org_clients(window)
    local admin = clients.new(sb, { api_key = sandbox.jwts().vera })
    local keys, cs = {}, {}
    for i = 1, 3 do
      local k = assert(admin:create_api_key { name = ("org bucket %s #%d"):format(window, i) })
      keys[i] = k.key
      cs[i] = clients.new(
        sb,
        { api_key = k.key, rate_limit = { per_key = 30, per_org = PER_ORG, window = window, burst = 1 } }
      )
    end
    sb:clear()
    return cs, keys
  end

  -- Checks the log: one /whoami per key, before that key's other requests; and at most
  -- PER_ORG of the other requests (all keys together) in any window of `window` seconds.
  local function check_log(keys, window, n)
    local log = sb:requests()
    local whoami, times = {}, {}
    for _, r in ipairs(log) do
      local last4 = r.headers.authorization:sub(-4)
      if r.path == PREFIX .. "/whoami" then
        whoami[last4] = (whoami[last4] or 0) + 1
      else
        assert.equals(1, whoami[last4], "a request of key …" .. last4 .. " before its /whoami")
        times[#times + 1] = r.time_ms / 1000
      end
    end
    for _, k in ipairs(keys) do
      assert.equals(1, whoami[k:sub(-4)])
    end
    assert.equals(n, #times)
    table.sort(times)
    local worst, at = 0, nil
    for i = 1, #times do
      local count = 0
      for j = i, #times do
        if times[j] - times[i] < window - TOLERANCE then count = count + 1 end
      end
      if count > worst then
        worst, at = count, times[i] - times[1]
      end
    end
    assert.truthy(
      worst <= PER_ORG,
      ("%d requests of the organisation within %.2f s (from " .. "%.3f s into the run); the bucket allows %d"):format(
        worst,
        window,
        at or 0,
        PER_ORG
      )
    )
    -- paced: n requests need (n - 1) intervals of window / PER_ORG
    assert.truthy(times[#times] - times[1] >= (n - 1) * window / PER_ORG - TOLERANCE)
  end

  it("paces three clients each making calls one after another", function()
    local W = 1.2
    local cs, keys = org_clients(W)
    local fns = {}
    for i, c in ipairs(cs) do
      fns[i] = function()
        for _ = 1, 4 do
          assert(c:credits_balance())
        end
        return true
      end
    end
    local results = cleanlist.gather(fns)
    for i = 1, 3 do
      assert.is_true(results[i][1])
    end
    check_log(keys, W, 12)
  end)

  it("paces three clients each running several calls at once", function()
    local W = 1.25
    local cs, keys = org_clients(W)
    local fns = {}
    for i = 1, 12 do
      local c = cs[(i - 1) % 3 + 1]
      fns[i] = function()
        return c:credits_balance()
      end
    end
    local results = cleanlist.gather(fns)
    for i = 1, 12 do
      assert.is_table(results[i][1], tostring(results[i][2]))
    end
    check_log(keys, W, 12)
  end)
end)
