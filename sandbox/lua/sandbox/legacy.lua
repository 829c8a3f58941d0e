--- The legacy Public API's bulk enrichment (API.md §6.8): workflows of 1–250 contacts that
-- progress lazily with the sandbox clock, their per-contact tasks, credits, and the protected
-- per-user "DEFAULT" list. The answers and the `enrichment.completed` webhook payload are
-- built by sandbox.legacy_views; a contact's result by sandbox.outcomes.
--
-- Timeline of a workflow (sandbox time; --time-scale speeds it up, POST /__sandbox/clock
-- advances it): it starts 1 s after submission, then contacts finish one after another, every
-- 100–400 ms (seeded), so 250 contacts take about a minute. Progress is computed when the
-- workflow is read (GET /enrich/status, GET /webhooks/deliveries) and by M.pump, which runs at
-- the start of every request and on the ticks of the sandbox's timer that it asks for while
-- work is pending (app.tick_in), so a workflow completes and its webhook goes out without
-- anybody polling.
--
-- Costs per contact (charged only for results; failed enrichments cost 0): none 0 (normalise
-- only), partial 1 (email found), phone_only 10 (phone found), full 1 per email + 10 per phone
-- (at most 11), prospecting_only 1 (the contact matched a known person). The maximum is
-- reserved at submission (402 {"detail":"Insufficient credits"} when the balance is short) and
-- settled at completion, the unused part refunded.
--
-- Faults: `app.faults.workflow` "stuck" freezes progress while it is set; "fail" ends running
-- workflows `failed` (unprocessed contacts failed, not charged) at their next advance, the
-- contacts done charged; "fail_refund" does the same with the whole reservation refunded
-- (charged 0); "errors" runs them normally. M.cancel (POST /__sandbox/workflows/{id}/cancel)
-- ends one `cancelled` now: the contacts done are charged, the others end "cancelled".
--
-- State area `legacy`:
--   workflows { [workflow_id] = wf }, order [workflow_id...], tasks { [task_id] = {w, i} },
--   active { [workflow_id] = true } (not yet terminal), active_n, next_due_ms, seq
-- wf: workflow_id, org_id, user_id, enrichment_type, webhook_url, lead_list_id, created_ms,
--   start_ms, done_ms (when the last contact finishes), status ("processing" | "completed" |
--   "failed" | "cancelled"), completed_ms, processed, successful, failed, emails_found, phones_found, cost,
--   reserved/charged/refunded/settled (sandbox.ledger), contacts [c]
-- c: task_id, lead_id, done_ms, first_name, last_name, full_name, company_name,
--   company_domain, linkedin_url, status ("pending" | "completed" | "failed" | "cancelled"), email,
--   email_status, phone, cost
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local ledger = require "sandbox.ledger"
local lists = require "sandbox.lists"
local outcomes = require "sandbox.outcomes"
local prng = require "sandbox.prng"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"
local views = require "sandbox.legacy_views"
local webhooks = require "sandbox.webhooks"
local world = require "sandbox.world"

local M = {}

local format = string.format

M.MAX_CONTACTS = 250
M.START_DELAY_MS = 1000
M.GAP_MIN_MS, M.GAP_MAX_MS = 100, 400
M.TYPES = { "none", "partial", "phone_only", "full", "prospecting_only" }
M.MAX_COST = require("sandbox.prices").LEGACY_MAX
M.RESULTS_LIMIT = views.RESULTS_LIMIT

-- The answers' and the webhook's shapes (sandbox.legacy_views).
M.item, M.summary, M.results = views.item, views.summary, views.results
M.results_endpoint, M.payload = views.results_endpoint, views.payload
M.status_body, M.task_body = views.status_body, views.task_body

state_mod.register("legacy", function()
  return {
    workflows = {},
    order = json.array(),
    tasks = {},
    active = {},
    active_n = 0,
    next_due_ms = false,
    seq = 0,
  }
end)

local function area(state)
  return state.data.legacy
end

--- A version-4-shaped UUID from generator g.
function M.uuid(g)
  local h = g:hex(32)
  local variant = ({ "8", "9", "a", "b" })[g:int(1, 4)]
  return format("%s-%s-4%s-%s%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(14, 16), variant, h:sub(18, 20), h:sub(21, 32))
end

local function str(v)
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  return v ~= "" and v or nil
end

--- Normalised contact fields from a validated request contact.
function M.contact_fields(raw)
  return {
    first_name = str(raw.first_name),
    last_name = str(raw.last_name),
    company_name = str(raw.company_name) or str(raw.company),
    company_domain = str(raw.company_domain) or str(raw.domain),
    linkedin_url = str(raw.linkedin_url),
    email = str(raw.email),
    title = str(raw.title) or str(raw.job_title),
  }
end

--- True when the contact has what the docs require: linkedin_url, or first_name + last_name +
-- (company_domain or company_name).
function M.contact_ok(f)
  return f.linkedin_url ~= nil
    or (f.first_name ~= nil and f.last_name ~= nil and (f.company_domain ~= nil or f.company_name ~= nil))
end

--- The maximum cost of `n` contacts of enrichment type `t`.
function M.max_cost(t, n)
  return (M.MAX_COST[t] or 1) * n
end

-- The lead for a contact: the org's lead of the matching world person, else a new one.
local function lead_for(state, org_id, f)
  local w = world.of(state)
  local p = world.match(w, f)
  if p then
    local lead = leads.from_person(state, org_id, p.id)
    if lead then return lead end
  end
  return leads.create(state, org_id, {
    first_name = f.first_name,
    last_name = f.last_name,
    company_name = f.company_name,
    company_domain = f.company_domain,
    linkedin_url = f.linkedin_url,
    email = f.email,
    title = f.title,
    source = "legacy",
  })
end

local function recompute_due(a)
  local due = false
  for id in pairs(a.active) do
    local wf = a.workflows[id]
    if wf and (not due or wf.done_ms < due) then due = wf.done_ms end
  end
  a.next_due_ms = due
end

--- Creates a workflow (the caller validated the request and checked credits with
-- M.max_cost): returns wf, or nil when the reservation failed (balance short).
-- who: {user, org}; contacts: array of M.contact_fields tables.
function M.submit(state, who, contacts, enrichment_type, webhook_url)
  local a = area(state)
  local seq = a.seq + 1
  local g = prng.new(state.config.seed, 800000 + seq)
  local workflow_id = "public_bulk_" .. M.uuid(g)
  local now = state:now_ms()
  local wf = {
    workflow_id = workflow_id,
    org_id = who.org.id,
    user_id = who.user.id,
    enrichment_type = enrichment_type,
    webhook_url = webhook_url or nil,
    created_ms = now,
    start_ms = now + M.START_DELAY_MS,
    status = "processing",
    processed = 0,
    successful = 0,
    failed = 0,
    emails_found = 0,
    phones_found = 0,
    cost = 0,
    contacts = json.array(),
  }
  if not ledger.reserve(state, wf, M.max_cost(enrichment_type, #contacts), workflow_id) then return nil end
  a.seq = seq
  local list = lists.ensure(
    state,
    who,
    lists.LEGACY_DEFAULT,
    { protected = true, description = "Contacts sent to the legacy bulk enrichment API." }
  )
  wf.lead_list_id = list.list_id
  local t, ids = wf.start_ms, {}
  for i, f in ipairs(contacts) do
    t = t + g:int(M.GAP_MIN_MS, M.GAP_MAX_MS)
    local lead = lead_for(state, who.org.id, f)
    ids[i] = lead.lead_id
    local c = {
      task_id = M.uuid(g),
      lead_id = lead.lead_id,
      done_ms = t,
      status = "pending",
      first_name = f.first_name or lead.first_name,
      last_name = f.last_name or lead.last_name,
      company_name = f.company_name or lead.company,
      company_domain = f.company_domain or lead.domain,
      linkedin_url = f.linkedin_url or lead.linkedin_url,
    }
    wf.contacts[i] = c
    a.tasks[c.task_id] = { w = workflow_id, i = i }
  end
  wf.done_ms = t
  lists.add_leads(state, list, ids)
  a.workflows[workflow_id] = wf
  a.order[#a.order + 1] = workflow_id
  a.active[workflow_id] = true
  a.active_n = a.active_n + 1
  if not a.next_due_ms or wf.done_ms < a.next_due_ms then a.next_due_ms = wf.done_ms end
  return wf
end

-- Works out one contact's result and writes it onto its lead.
local function process(state, wf, c, fail)
  local t = wf.enrichment_type
  local lead = leads.get(state, c.lead_id)
  local person = lead and leads.person(state, lead)
  local truth = person and person.truth or outcomes.contact_truth(state, c)
  local ok, cost, email, phone = outcomes.contact_outcome(t, truth, person ~= nil, fail)
  c.status = ok and "completed" or "failed"
  c.email, c.email_status, c.phone, c.cost = email, email and truth.email_status or nil, phone, cost
  if person then
    c.first_name, c.last_name = person.first_name, person.last_name
    c.full_name = person.full_name
    local co = world.company_of(world.of(state), person)
    c.company_name, c.company_domain = co.name, co.domain
  end
  wf.processed = wf.processed + 1
  if ok then
    wf.successful = wf.successful + 1
  else
    wf.failed = wf.failed + 1
  end
  if email then wf.emails_found = wf.emails_found + 1 end
  if phone then wf.phones_found = wf.phones_found + 1 end
  wf.cost = wf.cost + cost
  if lead and (email or phone) then
    leads.set_enrichment(state, lead, {
      email = email,
      email_status = email and truth.email_status or nil,
      phone = phone,
      provider = truth.provider,
      enrichment_type = (t == "phone_only" or t == "full") and t or "partial",
    })
  end
end

-- Ends wf with status at `at`, billing `charge` (default: the results' cost).
local function finish(state, wf, status, at, charge)
  local a = area(state)
  wf.status = status
  wf.completed_ms = at
  ledger.settle(state, wf, charge or wf.cost, wf.workflow_id)
  a.active[wf.workflow_id] = nil
  a.active_n = a.active_n - 1
  recompute_due(a)
  if wf.webhook_url then webhooks.schedule(state, wf, views.payload(state, wf), at) end
end

--- Brings wf up to `now` (applies finished contacts; completes it when all are done).
-- fault: app.faults.workflow ("normal" | "stuck" | "fail").
function M.advance(state, wf, now, fault)
  if wf.status ~= "processing" or fault == "stuck" then return wf end
  ledger.background(state, function()
    local cs = wf.contacts
    if fault == "fail" or fault == "fail_refund" then
      for i = wf.processed + 1, #cs do
        process(state, wf, cs[i], true)
      end
      finish(state, wf, "failed", now, fault == "fail_refund" and 0 or nil)
      return
    end
    local i = wf.processed + 1
    while cs[i] and cs[i].done_ms <= now do
      process(state, wf, cs[i], false)
      i = i + 1
    end
    if wf.processed >= #cs then finish(state, wf, "completed", wf.done_ms) end
  end)
  return wf
end

--- Ends a processing wf `cancelled` now (advanced to now first, under the app's fault): the
-- contacts done stay charged, the others end "cancelled" and the rest of the reservation is
-- refunded. Returns wf, or nil and its status when it had already ended.
function M.cancel(app, wf)
  local state = app.state
  local now = state:now_ms()
  M.advance(state, wf, now, M.fault_of(app))
  if wf.status ~= "processing" then return nil, wf.status end
  ledger.background(state, function()
    for i = wf.processed + 1, #wf.contacts do
      local c = wf.contacts[i]
      c.status, c.cost, c.done_ms = "cancelled", 0, now
    end
    finish(state, wf, "cancelled", now)
  end)
  return wf
end

--- The workflow for an id in any organisation (not advanced), or nil.
function M.find(state, workflow_id)
  return area(state).workflows[workflow_id]
end

local function fault_of(app)
  local f = app and app.faults
  return f and f.workflow or "normal"
end
M.fault_of = fault_of

--- The workflow (advanced to now) when it belongs to who's organisation, else nil.
function M.workflow(app, who, workflow_id)
  local state = app.state
  local wf = type(workflow_id) == "string" and area(state).workflows[workflow_id]
  if not wf or wf.org_id ~= who.org.id then return nil end
  return M.advance(state, wf, state:now_ms(), fault_of(app))
end

--- The workflow and contact index of a task (advanced to now), or nil.
function M.task(app, who, task_id)
  local t = type(task_id) == "string" and area(app.state).tasks[task_id]
  if not t then return nil end
  local wf = M.workflow(app, who, t.w)
  if not wf then return nil end
  return wf, t.i
end

-- Background progress --------------------------------------------------------------------

M.RETRY_MS = 500 -- after a failed pump, the next tick comes this much later (real ms)

--- Runs at the start of every request and on the timer's ticks (app:tick): completes due
-- workflows, moves webhook deliveries along, and while anything is pending asks the timer for
-- the next tick (app.tick_in). Cheap when there is nothing to do.
function M.pump(app)
  local state = app.state
  local a = state.data.legacy
  if a.active_n == 0 and webhooks.idle(state) then
    webhooks.quiet(app)
    return
  end
  local ok, wait = pcall(function()
    local now = state:now_ms()
    if a.active_n > 0 and a.next_due_ms and now >= a.next_due_ms then
      local fault = fault_of(app)
      for _, id in ipairs(util.sorted_keys(a.active)) do
        local wf = a.workflows[id]
        if wf and wf.done_ms <= now then M.advance(state, wf, now, fault) end
      end
    end
    return webhooks.pump(app, now, a.active_n > 0 and a.next_due_ms or nil)
  end)
  if not ok then
    if app.log_error then app:log_error({ method = "PUMP", path = "/enrich/bulk" }, "legacy", wait) end
    wait = M.RETRY_MS
  end
  if wait > 0 and app.tick_in then app.tick_in(wait) end
end

return M
