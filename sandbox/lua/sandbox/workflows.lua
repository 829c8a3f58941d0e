--- Enrichment workflows (API.md §2.5, §6.4, §7): pending -> running -> completed /
-- completed_with_errors / failed, driven by the sandbox clock and computed lazily: whenever
-- the state is read (a status poll, or `tick` on any API request) a workflow is advanced to
-- "now" by processing the leads whose time has come. No timers; --time-scale and
-- POST /__sandbox/clock speed everything up.
--
-- Timing (virtual ms): a run starts START_MS after dispatch, then processes one lead per
-- per_lead_ms (PERSON_MS for a single person, LEAD_MS = 1 lead/s for bulk, cohort and CSV runs;
-- a 600-lead bulk run takes 10 minutes, 1 s with --time-scale 600).
--
-- A lead's outcome comes from the world's hidden truth (sandbox.world person.truth: email
-- found ~85%, phone ~40%); a contact that matches no world person gets a seeded synthetic
-- outcome (found less often); a lead with no usable identifier is an error (the run then ends
-- completed_with_errors). The rules: sandbox.outcomes. Billing is pay-for-results: partial 1 credit per email found,
-- phone_only 10 per phone found, full 1 + 10; at settle the unused reservation is refunded, so
-- charged + refunded = reserved.
--
-- Faults (app.faults.workflow, captured at dispatch; sandbox.faults): "stuck" stops at half the
-- leads and never leaves running; "fail" ends failed at half the leads and keeps the
-- reservation charged (refund_status pending_review with a refund_message); "fail_refund" ends
-- failed at half the leads with the reservation refunded (charged 0, not_applicable);
-- "errors" makes every third lead (1st, 4th, ...) an error, so the run ends
-- completed_with_errors charged for the others' results.
--
-- M.cancel (POST /__sandbox/workflows/{id}/cancel, sandbox.cancel) ends a run cancelled at
-- once: the leads processed so far stay charged, the rest of the reservation is refunded; as
-- a prepaid run that ends with credits charged, it says pending_review (API.md §2.5).
--
-- State area `workflows`: { by_id, active (ids of non-terminal runs), by_task (cl-task_ ->
-- workflow id), seq, next_due (virtual ms of the next event of any active run; a request
-- before then does no work) }.
local http = require "sandbox.http"
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local outcomes = require "sandbox.outcomes"
local person_run = require "sandbox.workflow_person"
local state_mod = require "sandbox.state"

local M = {}

M.START_MS = 2000
M.PERSON_MS = 3000
M.LEAD_MS = 1000
M.FAR = 2 ^ 52

M.PRICE = require("sandbox.prices").TIER

M.TERMINAL = { completed = true, completed_with_errors = true, failed = true, cancelled = true }

M.REFUND_MESSAGE = "This prepaid run failed after credits were charged. The charge is under "
  .. "review and will be refunded manually: contact support@cleanlist.ai with the workflow id."
M.CANCEL_MESSAGE = "This prepaid run was cancelled after credits were charged for the leads it "
  .. "had processed; the rest of the reservation was refunded. The charge is under review: "
  .. "contact support@cleanlist.ai with the workflow id."
M.SCRIPTED_ERROR = "provider error (a sandbox workflow fault)"

local null = json.null
local floor, format = math.floor, string.format

state_mod.register("workflows", function()
  return { by_id = {}, active = json.array(), by_task = {}, seq = 0, next_due = M.FAR }
end)

local tickers = {}

--- Registers fn(state, now) -> next_due (virtual ms or nil) to run on `tick` (smart agents).
function M.on_tick(fn)
  tickers[#tickers + 1] = fn
end

local function area(state)
  return state.data.workflows
end

--- Lets `tick` run no later than virtual time t.
function M.wake(state, t)
  local a = area(state)
  if t < a.next_due then a.next_due = t end
end

--- Normalises an enrichment type / bulk scope ("phone-only" -> "phone_only").
function M.tier(s)
  if s == "phone-only" then return "phone_only" end
  return s
end

--- Credits per lead for a tier.
function M.price(tier)
  return M.PRICE[M.tier(tier)] or 1
end

local function copy(list)
  if not list then return nil end
  local t = json.array()
  for i, v in ipairs(list) do
    t[i] = v
  end
  return t
end

--- Creates a workflow and reserves its credits. spec: kind ("person" | "bulk" | "cohort" |
-- "csv"), org_id, user_id, list_id, tier, lead_ids (array; for "cohort" runs with person refs
-- use person_ids instead), person_ids, contact (person runs: the contact fields), fault,
-- task_id (a cl-task_ handle to bind), reserve (credits to reserve; default price × total).
-- Returns the workflow, or nil when the balance is short (nothing reserved).
function M.dispatch(state, spec)
  local a = area(state)
  local now = state:now_ms()
  local total = spec.kind == "person" and 1 or #(spec.lead_ids or spec.person_ids or {})
  local tier = M.tier(spec.tier or "partial")
  a.seq = a.seq + 1
  local prefix = spec.kind == "person" and "enrich-" or "bulk-enrich-"
  local wf = {
    workflow_id = leads.mint(state, prefix, a.seq, 61),
    kind = spec.kind,
    org_id = spec.org_id,
    user_id = spec.user_id,
    list_id = spec.list_id,
    enrichment_type = tier,
    created_ms = now,
    start_ms = now + M.START_MS,
    per_lead_ms = spec.kind == "person" and M.PERSON_MS or M.LEAD_MS,
    lead_ids = copy(spec.lead_ids),
    person_ids = copy(spec.person_ids),
    contact = spec.contact,
    total = total,
    processed = 0,
    completed = 0,
    failed = 0,
    errors = 0,
    emails_found = 0,
    phones_found = 0,
    cost = 0,
    status = "pending",
    fault = spec.fault or "normal",
    task_id = spec.task_id,
    mcp = true,
  }
  local reserve = spec.reserve or M.price(tier) * total
  if not ledger.reserve(state, wf, reserve, wf.workflow_id) then
    a.seq = a.seq - 1
    return nil
  end
  a.by_id[wf.workflow_id] = wf
  a.active[#a.active + 1] = wf.workflow_id
  if spec.task_id then a.by_task[spec.task_id] = wf.workflow_id end
  M.wake(state, wf.start_ms)
  return wf
end

--- The workflow for a workflow id or a cl-task_ handle bound at dispatch (same org), or nil.
function M.get(state, id, org_id)
  local a = area(state)
  local wf = a.by_id[id]
  if not wf and type(id) == "string" then
    local wid = a.by_task[id]
    wf = wid and a.by_id[wid]
  end
  if wf and org_id and wf.org_id ~= org_id then return nil end
  return wf
end

local function target_list(state, wf)
  local list = wf.list_id and state.data.lists.by_id[wf.list_id]
  return list
end

-- Whether lead i of wf ends in error by the "errors" fault (the 1st, 4th, 7th...).
local function scripted_error(wf, i)
  return wf.fault == "errors" and i % 3 == 1
end

local function process_one(state, wf, i)
  local lead, o, probe
  if wf.kind == "person" then
    lead, o, probe = person_run.process(state, wf, scripted_error(wf, i) and M.SCRIPTED_ERROR)
  elseif scripted_error(wf, i) then
    o = { found = false, error = M.SCRIPTED_ERROR, cost = 0 }
  else
    if wf.person_ids then
      lead = leads.from_person(state, wf.org_id, wf.person_ids[i])
    else
      lead = leads.get(state, wf.lead_ids[i])
    end
    if lead then
      o = outcomes.outcome(state, lead, wf.enrichment_type)
    else
      o = { found = false, error = "lead no longer exists", cost = 0 }
    end
  end
  if o.error then wf.errors = wf.errors + 1 end
  if o.found then
    wf.completed = wf.completed + 1
    leads.set_enrichment(state, lead, {
      email = o.email,
      email_status = o.email_status,
      phone = o.phone,
      provider = o.provider,
      enrichment_type = wf.enrichment_type,
    })
  else
    wf.failed = wf.failed + 1
  end
  if o.email then wf.emails_found = wf.emails_found + 1 end
  if o.phone then wf.phones_found = wf.phones_found + 1 end
  wf.cost = wf.cost + o.cost
  wf.processed = wf.processed + 1
  local list = target_list(state, wf)
  if lead and list and (wf.kind == "cohort" or (wf.kind == "person" and o.found)) then
    lists.add_leads(state, list, { lead.lead_id })
  end
  if wf.kind == "person" then wf.result = person_run.result(wf, lead, probe, o) end
end

-- How many leads a run may process in all (faults stop it half way).
local function limit(wf)
  if wf.fault == "stuck" or wf.fault == "fail" or wf.fault == "fail_refund" then return floor(wf.total / 2) end
  return wf.total
end

-- The credits billed when wf ends with status: a failed run keeps its reservation for manual
-- review ("fail") or has it swept back ("fail_refund"); the others pay for their results.
local function bill(wf, status)
  if status == "failed" then return wf.fault == "fail_refund" and 0 or (wf.reserved or 0) end
  return wf.cost
end

local function finish(state, wf, status)
  wf.status = status
  ledger.settle(state, wf, bill(wf, status), wf.workflow_id)
  wf.refund_status = "not_applicable"
  if (status == "failed" or status == "cancelled") and (wf.charged or 0) > 0 then
    -- A prepaid run that ends so with credits charged is not auto-refunded: under review.
    wf.refund_status = "pending_review"
    wf.refund_message = status == "failed" and M.REFUND_MESSAGE or M.CANCEL_MESSAGE
  end
  wf.finished_ms = state:now_ms()
end

--- Ends a non-terminal wf cancelled now (advanced to now first). Returns wf, or nil and its
-- terminal status when it had already ended.
function M.cancel(state, wf)
  M.advance(state, wf, state:now_ms())
  if M.TERMINAL[wf.status] then return nil, wf.status end
  ledger.background(state, finish, state, wf, "cancelled")
  M.wake(state, state:now_ms()) -- the next tick drops it from the active runs
  return wf
end

--- Advances wf to virtual time now. Returns the virtual time of its next event (M.FAR when
-- terminal or stuck).
function M.advance(state, wf, now)
  if M.TERMINAL[wf.status] then return M.FAR end
  if now < wf.start_ms then return wf.start_ms end
  wf.status = "running"
  local cap = limit(wf)
  local due = floor((now - wf.start_ms) / wf.per_lead_ms)
  if due > cap then due = cap end
  if due > wf.processed then
    ledger.background(state, function()
      for i = wf.processed + 1, due do
        process_one(state, wf, i)
      end
    end)
  end
  if wf.processed >= cap then
    if wf.fault == "stuck" then return M.FAR end
    local done_at = wf.start_ms + cap * wf.per_lead_ms
    if wf.fault == "fail" or wf.fault == "fail_refund" then
      done_at = done_at + wf.per_lead_ms
      if now < done_at then return done_at end
      ledger.background(state, finish, state, wf, "failed")
    else
      ledger.background(state, finish, state, wf, wf.errors > 0 and "completed_with_errors" or "completed")
    end
    return M.FAR
  end
  return wf.start_ms + (wf.processed + 1) * wf.per_lead_ms
end

--- Advances every active workflow (and registered tickers) when something is due. O(1) when
-- nothing is: this runs before every API request.
function M.tick(state)
  local a = area(state)
  local now = state:now_ms()
  if now < a.next_due then return end
  local next_due = M.FAR
  local active, keep = a.active, json.array()
  for _, id in ipairs(active) do
    local wf = a.by_id[id]
    if wf then
      local d = M.advance(state, wf, now)
      if not M.TERMINAL[wf.status] then keep[#keep + 1] = id end
      if d < next_due then next_due = d end
    end
  end
  a.active = keep
  for _, fn in ipairs(tickers) do
    local d = fn(state, now)
    if d and d < next_due then next_due = d end
  end
  a.next_due = next_due
end

--- The status response's message for a run that ended failed or cancelled, else null.
function M.message(wf)
  if wf.status ~= "failed" and wf.status ~= "cancelled" then return null end
  if wf.refund_message then return wf.refund_message end
  local what = wf.status == "failed" and "The run failed" or "The run was cancelled"
  if (wf.refunded or 0) > 0 then return format("%s; its %d unused credits were refunded.", what, wf.refunded) end
  return what .. "."
end

--- WorkflowStatusResponse for wf (advanced to now first).
function M.status_body(state, wf, handle)
  local now = state:now_ms()
  M.advance(state, wf, now)
  local terminal = M.TERMINAL[wf.status]
  local progress = null
  if wf.status ~= "pending" then
    progress = wf.total > 0 and floor(wf.processed * 100 / wf.total) or 100
    if wf.status == "completed" or wf.status == "completed_with_errors" then progress = 100 end
  end
  local result = null
  if terminal and wf.kind == "person" and wf.result then result = wf.result end
  local summary = { emails_found = wf.emails_found, phones_found = wf.phones_found }
  local note
  if terminal then
    note = format(
      "Run %s: %d of %d leads enriched; charged %d credits, refunded %d.",
      wf.status,
      wf.completed,
      wf.total,
      wf.charged or 0,
      wf.refunded or 0
    )
  else
    note = format("Run %s: %d of %d leads processed. Poll again in a few seconds.", wf.status, wf.processed, wf.total)
  end
  return http.envelope({
    workflow_id = handle or wf.workflow_id,
    status = wf.status,
    progress = progress,
    total = wf.total,
    processed = wf.processed,
    completed = wf.completed,
    failed = wf.failed,
    enrichment_type = wf.enrichment_type,
    lead_list_id = wf.list_id or null,
    summary = summary,
    refund_status = terminal and wf.refund_status or null,
    refund_message = terminal and wf.refund_message or null,
    result = result,
    credits_charged = terminal and wf.charged or null,
    credits_refunded = terminal and wf.refunded or null,
    task_id = wf.task_id or null,
    message = M.message(wf),
  }, now, note)
end

return M
