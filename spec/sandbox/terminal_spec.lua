-- luacheck: std +busted
-- Every end of a run the sandbox can give, and its ledger: the workflow faults that script how
-- the next runs end (errors -> completed_with_errors, fail -> failed with the charge kept,
-- fail_refund -> failed with the reservation refunded) and POST /__sandbox/workflows/{id}/cancel
-- (cancelled now: the leads done charged, the rest refunded; 409 on an ended run, 404 on an
-- unknown id), for enrichment workflows and legacy bulk workflows. Charged + refunded is the
-- reservation every time, and the balance moves by the charge alone.
local sandbox = require "spec.helpers.sandbox"
local paid = require "spec.helpers.paid"

local code, null = paid.code, sandbox.null

describe("how an enrichment workflow ends", function()
  local sb, p = paid.suite()
  local list_id

  setup(function()
    list_id = p:new_list("Terminal spec list", 10) -- partial: 10 credits reserved
    sb:control("POST", "/clock", { time_scale = 1e-6 }) -- only advance_ms moves the clock
  end)

  after_each(function()
    sb:control("DELETE", "/faults")
  end)

  -- Dispatches a bulk run of the list under workflow fault `fault`; returns its workflow id
  -- and the balance before it.
  local function dispatch(fault)
    local _, status = sb:control("POST", "/faults", { workflow = fault })
    assert.equals(200, status)
    local q = p:quote { tool = "enrich_list", list_id = list_id }
    local before = p:credits()
    local st, body = p:post("/enrichment/bulk", { list_id = list_id, quote_id = q })
    assert.equals(200, st)
    assert.equals(10, body.credits_reserved)
    return body.workflow_id, before
  end

  local function cancel(id)
    return sb:control("POST", "/workflows/" .. id .. "/cancel")
  end

  -- The ledger rows of workflow id (reserve, then a refund when something came back).
  local function rows_of(id)
    local _, ledger = p:credits()
    local out = {}
    for _, row in ipairs(ledger) do
      if row.ref == id then out[#out + 1] = { row.kind, row.delta } end
    end
    return out
  end

  it("normal: completed, charged for the 8 emails found, 2 refunded", function()
    local id, before = dispatch("normal")
    local s = p:settle(id)
    assert.equals("completed", s.status)
    assert.same({ 10, 10, 8, 2 }, { s.total, s.processed, s.completed, s.failed })
    assert.same({ 8, 2, "not_applicable" }, { s.credits_charged, s.credits_refunded, s.refund_status })
    assert.equals(null, s.message)
    assert.equals(before - 8, p:credits())
    assert.same({ { "reserve", -10 }, { "refund", 2 } }, rows_of(id))
  end)

  it("errors: completed_with_errors, the 1st, 4th, 7th and 10th leads in error, charged 5", function()
    local id, before = dispatch("errors")
    local s = p:settle(id)
    assert.equals("completed_with_errors", s.status)
    assert.equals(100, s.progress)
    assert.same({ 10, 10, 5, 5 }, { s.total, s.processed, s.completed, s.failed })
    assert.same({ 5, 5, "not_applicable" }, { s.credits_charged, s.credits_refunded, s.refund_status })
    assert.equals(null, s.refund_message)
    assert.equals(5, s.summary.emails_found)
    assert.equals(before - 5, p:credits())
    assert.same({ { "reserve", -10 }, { "refund", 5 } }, rows_of(id))
  end)

  it("errors: a single person's run ends completed_with_errors, its result failed, charged 0", function()
    sb:control("POST", "/faults", { workflow = "errors" })
    local before = p:credits()
    local _, body = p:post("/enrichment/person", { email = "terminal@example.org" })
    local s = p:settle(body.workflow_id)
    assert.equals("completed_with_errors", s.status)
    assert.same({ 1, 1, 0, 1 }, { s.total, s.processed, s.completed, s.failed })
    assert.equals("failed", s.result.status)
    assert.same({ 0, 1, "not_applicable" }, { s.credits_charged, s.credits_refunded, s.refund_status })
    assert.equals(before, p:credits())
  end)

  it("fail: failed at half the leads, the whole reservation kept, pending_review", function()
    local id, before = dispatch("fail")
    local s = p:settle(id)
    assert.equals("failed", s.status)
    assert.same({ 5, 50 }, { s.processed, s.progress })
    assert.same({ 10, 0, "pending_review" }, { s.credits_charged, s.credits_refunded, s.refund_status })
    assert.matches("^This prepaid run failed after credits were charged", s.refund_message)
    assert.equals(s.refund_message, s.message)
    assert.equals(before - 10, p:credits())
    assert.same({ { "reserve", -10 } }, rows_of(id))
  end)

  it("fail_refund: failed at half the leads, the whole reservation refunded, not_applicable", function()
    local id, before = dispatch("fail_refund")
    local s = p:settle(id)
    assert.equals("failed", s.status)
    assert.same({ 5, 50 }, { s.processed, s.progress })
    assert.same({ 0, 10, "not_applicable" }, { s.credits_charged, s.credits_refunded, s.refund_status })
    assert.equals(null, s.refund_message)
    assert.equals("The run failed; its 10 unused credits were refunded.", s.message)
    assert.equals(before, p:credits())
    assert.same({ { "reserve", -10 }, { "refund", 10 } }, rows_of(id))
  end)

  it("cancel: a running run ends cancelled now, its 4 leads done charged, pending_review", function()
    local id, before = dispatch("stuck")
    p:advance(2000 + 4500) -- 4 leads processed
    local body, status = cancel(id)
    assert.equals(200, status)
    assert.equals(id, body.workflow_id)
    assert.equals("cancelled", body.status)
    assert.same({ 4, 40, 4 }, { body.processed, body.progress, body.completed })
    assert.same({ 4, 6, "pending_review" }, { body.credits_charged, body.credits_refunded, body.refund_status })
    assert.matches("^This prepaid run was cancelled after credits were charged", body.refund_message)
    assert.equals(before - 4, p:credits())
    assert.same({ { "reserve", -10 }, { "refund", 6 } }, rows_of(id))
    p:advance(3600 * 1000) -- it stays as it ended
    local _, s = p:status(id)
    assert.same({ "cancelled", 4, 4 }, { s.status, s.processed, s.credits_charged })
    assert.equals(before - 4, p:credits())
  end)

  it("cancel: a pending run ends cancelled with everything refunded, not_applicable", function()
    local id, before = dispatch("normal")
    local body, status = cancel(id)
    assert.equals(200, status)
    assert.same({ "cancelled", 0 }, { body.status, body.processed })
    assert.same({ 0, 10, "not_applicable" }, { body.credits_charged, body.credits_refunded, body.refund_status })
    assert.equals("The run was cancelled; its 10 unused credits were refunded.", body.message)
    assert.equals(before, p:credits())
  end)

  it("cancel: by the cl-task_ handle bound to a run", function()
    local task_id = p:search(3)
    local st, res = p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email" } })
    assert.equals(200, st)
    local body, status = cancel(task_id)
    assert.equals(200, status)
    assert.equals(task_id, body.workflow_id)
    assert.equals("cancelled", body.status)
    assert.equals(res.credits_reserved, body.credits_refunded)
  end)

  it("cancel: 409 conflict on a run that has ended, 404 on an unknown id", function()
    local id = dispatch("normal")
    local s = p:settle(id)
    local body, status = cancel(id)
    assert.equals(409, status)
    assert.equals("conflict", code(body))
    assert.equals("completed", body.error.run_status)
    local _, again = p:status(id)
    assert.same({ "completed", s.credits_charged }, { again.status, again.credits_charged })
    body, status = cancel("bulk-enrich-00000000")
    assert.equals(404, status)
    assert.equals("not_found", code(body))
    body, status = cancel("run_00000000")
    assert.equals(404, status)
    assert.equals("There is no enrichment or legacy bulk workflow run_00000000.", body.error.problem)
  end)
end)

describe("how a legacy bulk workflow ends", function()
  local sb = sandbox.suite { reset = true, args = { "--rate-limit", "off", "--seed", "7" } }

  before_each(function()
    sb:control("POST", "/clock", { time_scale = 1e-6 }) -- only advance_ms moves the clock
  end)

  local function contacts(n)
    local t = {}
    for i = 1, n do
      t[i] = { first_name = "Ada" .. i, last_name = "Lovelace", company_domain = "example" .. i .. ".org" }
    end
    return t
  end

  local function submit(n)
    local status, job = sb:api("POST", "/enrich/bulk", { body = { contacts = contacts(n), enrichment_type = "full" } })
    assert.equals(200, status)
    return job.workflow_id
  end

  local function status_of(id)
    local _, s = sb:api("GET", "/enrich/status?workflow_id=" .. id)
    return s
  end

  local function credits()
    return (sb:control("GET", "/credits")).credits
  end

  it("cancel: the contacts done stay charged, the rest cancelled and refunded", function()
    local before = credits()
    local id = submit(20) -- full: 220 reserved
    sb:control("POST", "/clock", { advance_ms = 1000 + 1200 })
    local body, status = sb:control("POST", "/workflows/" .. id .. "/cancel")
    assert.equals(200, status)
    assert.equals("cancelled", body.status)
    assert.same(
      { 220, 3, 23, 197 },
      { body.credits_reserved, body.processed, body.credits_charged, body.credits_refunded }
    )
    assert.equals("completed", body.results[3].status)
    assert.equals("cancelled", body.results[4].status)
    assert.equals("cancelled", body.results[20].status)
    assert.equals(before - 23, credits())
    sb:control("POST", "/clock", { advance_ms = 60000 })
    local s = status_of(id)
    assert.same({ "cancelled", 3, 23 }, { s.status, s.processed, s.credits_charged })
    local again, st = sb:control("POST", "/workflows/" .. id .. "/cancel")
    assert.equals(409, st)
    assert.equals("cancelled", again.error.run_status)
  end)

  it("fail_refund: failed, charged 0, the whole reservation refunded", function()
    local before = credits()
    sb:control("POST", "/faults", { workflow = "fail_refund" })
    local id = submit(6)
    sb:control("POST", "/clock", { advance_ms = 60000 })
    local s = status_of(id)
    sb:control("DELETE", "/faults")
    assert.equals("failed", s.status)
    assert.same({ 66, 0, 66 }, { s.credits_reserved, s.credits_charged, s.credits_refunded })
    assert.equals(before, credits())
  end)

  it("fail: failed, the contacts done charged, the rest refunded", function()
    local before = credits()
    local id = submit(6)
    sb:control("POST", "/clock", { advance_ms = 1000 + 600 })
    assert.equals("processing", status_of(id).status) -- the contacts due are done
    sb:control("POST", "/faults", { workflow = "fail" })
    local s = status_of(id)
    sb:control("DELETE", "/faults")
    assert.equals("failed", s.status)
    assert.equals(66, s.credits_charged + s.credits_refunded)
    assert.same({ 2, 22 }, { s.summary.successful, s.credits_charged })
    assert.equals(before - 22, credits())
  end)
end)
