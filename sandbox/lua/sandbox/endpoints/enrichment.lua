--- Enrichment (API.md §6.4): POST /enrichment/person (async), POST /enrichment/company (sync),
-- POST /enrichment/by-task (person cohorts async, company cohorts sync), POST /enrichment/bulk
-- (async, quote required), GET /enrichment/status/{workflow_id}. Workflows, billing and
-- outcomes are in sandbox.workflows; quotes in sandbox.quotes; prices in sandbox.costs.
--
-- Quotes: required by /enrichment/bulk; optional (verified and redeemed when given) for person,
-- company and by-task, unless strict quotes are on (`--strict-quotes`, or POST
-- /__sandbox/switches {"strict_quotes": true}; sandbox.switches), which makes by-task answer
-- 400 quote_required without one (V2's rule).
local cohorts = require "sandbox.cohorts"
local company_enrichment = require "sandbox.company_enrichment"
local costs = require "sandbox.costs"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local lists = require "sandbox.lists"
local quotes = require "sandbox.quotes"
local switches = require "sandbox.switches"
local util = require "sandbox.util"
local validate = require "sandbox.validate"
local workflows = require "sandbox.workflows"
local world = require "sandbox.world"

local M = {}

local null = json.null
local format = string.format

local present = util.present

--- The API prefix the request came in on ("/api/v1/public" or "/api/v2").
function M.prefix(ctx)
  local path = ctx.req.path or ""
  if path:sub(1, 7) == "/api/v2" then return "/api/v2" end
  return "/api/v1/public"
end

function M.poll_url(ctx, id)
  return M.prefix(ctx) .. "/enrichment/status/" .. id
end

function M.strict_quotes(ctx)
  return switches.get(ctx.state).strict_quotes and true or false
end

--- The workflow fault knob at dispatch ("normal" | "stuck" | "fail").
function M.fault(ctx)
  local f = ctx.app.faults
  return f and f.workflow or "normal"
end

function M.list_not_found(ctx, list_id)
  return costs.list_not_found(ctx, list_id, {
    fix = 'List your lists with GET /lead-lists, or omit lead_list_id to use "MCP Results".',
    details = { list_id = tostring(list_id):sub(1, 80) },
  })
end

local function invalid(ctx, problem, details, fix)
  return errors.build("validation_error", ctx.request_id, { problem = problem, details = details, fix = fix })
end

local function envelope(ctx, body, note)
  return http.envelope(body, ctx.now_ms(), note)
end

-- The workflows.dispatch spec of a run of `kind` on list at tier reserving cost, for the
-- caller's organisation and user (with the workflow fault knob); the caller adds what the run
-- works on (contact, lead_ids or person_ids, task_id).
local function run_spec(ctx, kind, list, tier, cost)
  return {
    kind = kind,
    org_id = ctx.org.id,
    user_id = ctx.user.id,
    list_id = list.list_id,
    tier = tier,
    fault = M.fault(ctx),
    reserve = cost,
  }
end

--- Dispatches the workflow `spec` (workflows.dispatch, reserving priced.cost), then redeems
-- the quote record rec (costs.authorize): the workflow, or nil, status, body when the balance
-- is short.
function M.launch(ctx, spec, priced, rec)
  local wf = workflows.dispatch(ctx.state, spec)
  if not wf then return nil, costs.insufficient(ctx, priced.tool, priced.cost) end
  quotes.commit(ctx.state, rec)
  return wf
end

local function credits_note(ctx, reserved)
  return format(
    "Reserved %d credits (you have %d left); unused credits are refunded when "
      .. "the run settles. Poll poll_url every few seconds until the status is terminal.",
    reserved,
    ctx.state.credits
  )
end

-- 200 and the body of a dispatched person or bulk run: `fields` with the workflow, its
-- reservation and where to poll it.
local function accepted(ctx, wf, fields)
  fields.workflow_id = wf.workflow_id
  fields.status = "pending"
  fields.credits_reserved = wf.reserved
  fields.poll_url = M.poll_url(ctx, wf.workflow_id)
  return 200, envelope(ctx, fields, credits_note(ctx, wf.reserved))
end

-- ---------------------------------------------------------------------------------------
-- POST /enrichment/person

local str = { type = "string", nullable = true }
local TIER_ENUM = { "partial", "phone_only", "full", "phone-only" }
local SCOPE_ENUM = { "partial", "full", "phone-only", "phone_only" }

M.PERSON_SCHEMA = validate.object {
  lead_list_id = str,
  email = str,
  linkedin_url = str,
  phone = str,
  first_name = str,
  last_name = str,
  company_name = str,
  domain = str,
  person_id = str,
  -- phone-only: the bulk spelling (API.md §10 #5), refused in strict mode (sandbox.switches)
  enrichment_type = { type = "string", nullable = true, enum = TIER_ENUM, lenient_values = { "phone-only" } },
  include_phone = { type = "boolean" },
  quote_id = str,
}

--- "https://linkedin.com/in/<slug>" for any LinkedIn profile URL form, or nil.
function M.canonical_linkedin(url)
  local slug = world.linkedin_slug(url)
  if not slug or slug == "" or slug:find("[%s/]") then return nil end
  return "https://linkedin.com/in/" .. slug
end

local function identity_ok(b)
  if present(b.email) or present(b.linkedin_url) or present(b.person_id) then return true end
  return present(b.first_name) and present(b.last_name) and (present(b.company_name) or present(b.domain))
end

function M.person(ctx)
  local b = ctx.body
  if not identity_ok(b) then
    return invalid(
      ctx,
      "Identify the person with email, linkedin_url or person_id, or with "
        .. "first_name + last_name + (company_name or domain).",
      { field = "email" }
    )
  end
  local linkedin
  if present(b.linkedin_url) then
    linkedin = M.canonical_linkedin(b.linkedin_url)
    if not linkedin then
      return invalid(ctx, "linkedin_url is not a LinkedIn profile URL.", { field = "linkedin_url" })
    end
  end
  if present(b.email) and not tostring(b.email):match("^[^@%s]+@[^@%s]+%.[^@%s]+$") then
    return invalid(ctx, "email is not a valid email address.", { field = "email" })
  end
  local tier =
    costs.tier(present(b.enrichment_type) and b.enrichment_type or (b.include_phone and "phone_only" or "partial"))
  local state = ctx.state
  local list
  if present(b.lead_list_id) then
    list = lists.get(state, b.lead_list_id, ctx)
    if not list then return M.list_not_found(ctx, b.lead_list_id) end
  end
  local args = { enrichment_type = tier }
  local priced, rec, err = costs.authorize(ctx, "enrich_person", args, b.quote_id, { what = "enrich_person" })
  if not priced then return rec, err end
  if not list then list = lists.ensure(state, ctx, lists.MCP_RESULTS) end
  local spec = run_spec(ctx, "person", list, tier, priced.cost)
  spec.contact = {
    email = present(b.email) and b.email or nil,
    linkedin_url = linkedin,
    phone = present(b.phone) and b.phone or nil,
    first_name = present(b.first_name) and b.first_name or nil,
    last_name = present(b.last_name) and b.last_name or nil,
    company_name = present(b.company_name) and b.company_name or nil,
    domain = present(b.domain) and b.domain:lower() or nil,
    person_id = present(b.person_id) and b.person_id or nil,
  }
  local wf, status, body = M.launch(ctx, spec, priced, rec)
  if not wf then return status, body end
  return accepted(ctx, wf, { lead_list_id = list.list_id })
end

-- ---------------------------------------------------------------------------------------
-- POST /enrichment/company

M.COMPANY_SCHEMA = validate.object {
  domain = str,
  company_name = str,
  company_ticker = str,
  company_id = str,
  quote_id = str,
}

function M.company(ctx)
  local b = ctx.body
  if not (present(b.domain) or present(b.company_name) or present(b.company_ticker) or present(b.company_id)) then
    return invalid(
      ctx,
      "Provide at least one of domain, company_name, company_ticker or company_id.",
      { field = "domain" }
    )
  end
  local state = ctx.state
  local priced = require("sandbox.endpoints.credits").enrich_company(ctx)
  local rec, qs, qb = quotes.verify(state, ctx.request_id, b.quote_id, priced.binding, 1, { what = "enrich_company" })
  if rec == nil then return qs, qb end
  if not ledger.charge(state, 1, "enrich company", "enrichment/company") then
    return costs.insufficient(ctx, "enrich_company", 1)
  end
  quotes.commit(state, rec)
  local w = world.of(state)
  local c = company_enrichment.find(w, b)
  if not c then
    ledger.refund(state, 1, "refund: company not found", "enrichment/company")
    local asked = b.domain or b.company_id or b.company_ticker or b.company_name
    return errors.build("not_found", ctx.request_id, {
      problem = "No company matches " .. tostring(asked):sub(1, 80) .. ".",
      cause = "The lookup found no company for the given domain, name, ticker or id; the credit was refunded.",
      fix = "Check the domain (the most reliable key) or try the company's legal name.",
      credits_refunded = 1,
    })
  end
  return 200,
    envelope(ctx, {
      company = world.company_record(w, c),
      credits_charged = 1,
    }, format("Charged 1 credit; %d credits left.", state.credits))
end

-- ---------------------------------------------------------------------------------------
-- POST /enrichment/by-task

M.BY_TASK_SCHEMA = validate.object {
  task_id = { type = "string", required = true },
  data_points = { type = "array", required = true, min_items = 1, items = { type = "string" } },
  entity_ids = { type = "array", nullable = true, items = { type = "string" } },
  lead_list_id = str,
  quote_id = str,
}

-- A company cohort, enriched at once (1 credit per 10 companies enriched): 200 and the results.
local function enrich_companies(ctx, cohort, ids, data_points, rec)
  local state = ctx.state
  local results, enriched = company_enrichment.results(world.of(state), ids, data_points)
  local billed = math.ceil(enriched / 10)
  ledger.charge(state, billed, format("enrich %d companies (%s)", enriched, cohort.task_id), cohort.task_id)
  quotes.commit(state, rec)
  return 200,
    envelope(ctx, {
      task_id = cohort.task_id,
      entity_kind = "company",
      workflow_id = null,
      status = "completed",
      total_entities = #ids,
      credits_reserved = billed,
      results = results,
    }, format("Enriched %d of %d companies for %d credits.", enriched, #ids, billed))
end

-- A person cohort, dispatched as a workflow into the list lead_list_id (else "MCP Results"):
-- 200 and its entities queued.
local function enrich_people(ctx, cohort, lead_list_id, priced, rec)
  local list
  if present(lead_list_id) then
    list = lists.get(ctx.state, lead_list_id, ctx)
    if not list then return M.list_not_found(ctx, lead_list_id) end
  else
    list = lists.ensure(ctx.state, ctx, lists.MCP_RESULTS)
  end
  local ids = priced.entity_ids
  local spec = run_spec(ctx, "cohort", list, priced.tier, priced.cost)
  spec.task_id = cohort.task_id
  if cohort.ref == "lead" then
    spec.lead_ids = ids
  else
    spec.person_ids = ids
  end
  local wf, status, body = M.launch(ctx, spec, priced, rec)
  if not wf then return status, body end
  local results = json.array()
  for i, id in ipairs(ids) do
    results[i] = { entity_id = id, status = "queued", error = null, company = null }
  end
  return 200,
    envelope(ctx, {
      task_id = cohort.task_id,
      entity_kind = "person",
      workflow_id = wf.workflow_id,
      status = "pending",
      total_entities = #ids,
      credits_reserved = wf.reserved,
      results = results,
    }, credits_note(ctx, wf.reserved) .. " Results land in list " .. list.list_id .. ".")
end

function M.by_task(ctx)
  local b = ctx.body
  local cohort, reason = cohorts.get(ctx.state, b.task_id, ctx.org.id)
  if not cohort then return cohorts.error(reason, ctx.request_id, b.task_id) end
  local tool = cohort.kind == "company" and "add_company_enrichments" or "add_person_enrichments"
  local args =
    { task_id = b.task_id, data_points = b.data_points, entity_ids = b.entity_ids ~= null and b.entity_ids or nil }
  local priced, rec, err =
    costs.authorize(ctx, tool, args, b.quote_id, { what = "enrichment/by-task", required = M.strict_quotes(ctx) })
  if not priced then return rec, err end
  if cohort.kind == "company" then return enrich_companies(ctx, cohort, priced.entity_ids, b.data_points, rec) end
  return enrich_people(ctx, cohort, b.lead_list_id, priced, rec)
end

-- ---------------------------------------------------------------------------------------
-- POST /enrichment/bulk

M.BULK_SCHEMA = validate.object {
  list_id = { type = "string", nullable = true, strict = { required = true, nullable = false } },
  -- the quickstart's lead_list_id (API.md §10 #4), the person tiers' phone_only (#5): lenient
  lead_list_id = { type = "string", nullable = true, lenient = true },
  scope = { type = "string", enum = SCOPE_ENUM, lenient_values = { "phone_only" } },
  quote_id = { type = "string", required = true },
}

--- The workflows.dispatch spec of a bulk run over lead_ids reserving cost (kind "bulk", or
-- "csv" for CSV import; M.launch dispatches it).
function M.bulk_spec(ctx, list, lead_ids, tier, cost, kind)
  local spec = run_spec(ctx, kind or "bulk", list, tier, cost)
  spec.lead_ids = lead_ids
  return spec
end

function M.bulk(ctx)
  local b = ctx.body
  local list_id = present(b.list_id) and b.list_id or b.lead_list_id
  if not present(list_id) then
    return validate.response {
      validate.error({ "body", "list_id" }, "missing", "Field required", json.decode(ctx.req.body)),
    }
  end
  local state = ctx.state
  local list = lists.get(state, list_id, ctx)
  if not list then return M.list_not_found(ctx, list_id) end
  if lists.count(list) == 0 then
    return invalid(
      ctx,
      "The list " .. list.list_id .. " has no leads to enrich.",
      { list_id = list.list_id },
      "Add leads first (POST /lead-lists/{list_id}/leads or csv-import)."
    )
  end
  local tier = costs.tier(b.scope or "partial")
  local args = { list_id = list.list_id, scope = tier }
  local priced, rec, err =
    costs.authorize(ctx, "enrich_list", args, b.quote_id, { what = "enrichment/bulk", required = true })
  if not priced then return rec, err end
  local ids = {}
  for i, id in ipairs(lists.lead_ids(list)) do
    ids[i] = id
  end
  local wf, status, body = M.launch(ctx, M.bulk_spec(ctx, list, ids, tier, priced.cost), priced, rec)
  if not wf then return status, body end
  return accepted(ctx, wf, { total_leads = wf.total, estimated_cost = priced.cost })
end

-- ---------------------------------------------------------------------------------------
-- GET /enrichment/status/{workflow_id}

function M.status(ctx)
  local id = ctx.params.workflow_id
  local wf = workflows.get(ctx.state, id, ctx.org.id)
  if not wf then
    return errors.build("not_found", ctx.request_id, {
      problem = "No enrichment workflow " .. tostring(id):sub(1, 80) .. " was found.",
      cause = "The id is not a workflow id (enrich-..., bulk-enrich-...) or a cl-task_ handle "
        .. "bound to a workflow of your organization.",
      fix = "Use the workflow_id returned by the enrichment call.",
    })
  end
  return 200, workflows.status_body(ctx.state, wf, id)
end

function M.register(router)
  router:add("POST", "/enrichment/person", { scope = "enrich:write", body = M.PERSON_SCHEMA, handler = M.person })
  router:add("POST", "/enrichment/company", { scope = "enrich:write", body = M.COMPANY_SCHEMA, handler = M.company })
  router:add("POST", "/enrichment/by-task", { scope = "enrich:write", body = M.BY_TASK_SCHEMA, handler = M.by_task })
  router:add("POST", "/enrichment/bulk", { scope = "enrich:write", body = M.BULK_SCHEMA, handler = M.bulk })
  router:add("GET", "/enrichment/status/{workflow_id}", { scope = "enrich:read", handler = M.status })
end

return M
