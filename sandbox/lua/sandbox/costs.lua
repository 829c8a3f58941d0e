--- Pricing and canonical binding of the paid tools (API.md §5, §6.1 estimate). One function,
-- `costs.compute(ctx, tool, r)`, serves both POST /credits/estimate and the paid endpoints, so
-- the binding an estimate signs is byte-for-byte the binding the execution recomputes.
--
-- r (estimate-shaped, already schema-checked): list_id, scope, enrichment_type, include_phone,
-- agent_type, column_name, lead_scope, max_rows, provider, sub_action, campaign_id, task_id,
-- data_points, entity_ids, row_count, filters.
--
-- Returns { tool, binding, row_count, cost, filter_hash, tier?, list?, cohort?, entity_ids? }
-- or nil, status, body (an MCP error: 400 validation_error, 404 not_found).
--
-- Tools, their row source and canonical fields (what the quote binds):
--   enrich_list             list_id (rows = leads in the list); scope (partial | full |
--                           phone-only; include_phone -> phone-only); price 1 / 11 / 10 per lead
--   enrich_person           one row; enrichment_type (include_phone -> phone_only)
--   run_smart_agent         list_id; agent_type (default custom_ai); column_name (top level or
--                           extra.column_name); rows = min(max_rows (100), list size) for
--                           lead_scope subset (default), the whole list for all (extra.lead_scope,
--                           extra.max_rows); price per row by agent type (AGENT_RATES), rounded up
--   sync_to_crm             provider (CRM_PROVIDERS), sub_action (contacts | companies | deals |
--                           contacts+companies ...); rows from list_id, or task_id (+ entity_ids),
--                           or row_count (+ filters); 1 credit per record, 2 for a composite
--                           sub_action ("a+b")
--   sync_to_sequencer       provider (SEQUENCER_PROVIDERS), campaign_id (extra.campaign_id);
--                           rows as for sync_to_crm; 1 credit per record
--   add_person_enrichments  task_id of a person cohort, data_points (Email, Phone, LinkedIn),
--                           entity_ids (subset); tier from data_points; price per entity
--   add_company_enrichments task_id of a company cohort, data_points (Industry, Employees,
--                           Revenue, Funding, TechStack, Domain), entity_ids; 1 credit per 10
--                           companies (rounded up)
--   bulk_import_csv         list_id (the target, bound as the filter), enrichment_type
--                           (top level or extra.enrichment_type); rows = row_count (the rows
--                           to import, from the caller)
-- The row sources (list, cohort, row_count) and their errors are in sandbox.cost_rows.
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local lists = require "sandbox.lists"
local quotes = require "sandbox.quotes"
local sources = require "sandbox.cost_rows"

local M = {}

local format, ceil = string.format, math.ceil
local present, bad, list_of = sources.present, sources.invalid, sources.names

--- 404 not_found for a lead list the caller cannot read (sandbox.cost_rows).
M.list_not_found = sources.list_not_found

M.PRICE = require("sandbox.prices").TIER

M.AGENT_RATES = {
  custom_ai = 1,
  cold_intro_email = 3,
  title_normalizer = 0.5,
  company_intel = 2,
  pain_point_hypothesis = 2,
}
M.AGENT_TYPES = { "custom_ai", "cold_intro_email", "title_normalizer", "company_intel", "pain_point_hypothesis" }

M.CRM_PROVIDERS = { "hubspot", "salesforce", "pipedrive" }
M.SEQUENCER_PROVIDERS = { "smartlead", "instantly", "lemlist", "apollo" }
M.CRM_OBJECTS = { contacts = true, companies = true, deals = true }

M.PERSON_POINTS, M.COMPANY_POINTS = sources.PERSON_POINTS, sources.COMPANY_POINTS

M.TOOLS = {
  enrich_list = { extras = {} },
  enrich_person = { extras = {} },
  run_smart_agent = { extras = { column_name = true, lead_scope = true, max_rows = true } },
  sync_to_crm = { extras = {} },
  sync_to_sequencer = { extras = { campaign_id = true } },
  add_person_enrichments = { extras = {} },
  add_company_enrichments = { extras = {} },
  bulk_import_csv = { extras = { enrichment_type = true } },
}
M.TOOL_NAMES = {
  "add_company_enrichments",
  "add_person_enrichments",
  "bulk_import_csv",
  "enrich_list",
  "enrich_person",
  "run_smart_agent",
  "sync_to_crm",
  "sync_to_sequencer",
}

--- "partial" | "phone_only" | "full" from a scope / enrichment_type spelling, or nil.
function M.tier(s)
  if s == "partial" or s == "full" or s == "phone_only" then return s end
  if s == "phone-only" then return "phone_only" end
  return nil
end

--- The bulk `scope` spelling of a tier.
function M.scope_name(tier)
  return tier == "phone_only" and "phone-only" or tier
end

--- The person tier for by-task data points: Email + Phone -> full, Phone -> phone_only,
-- else partial.
function M.tier_of_points(points)
  local email, phone = false, false
  for _, p in ipairs(points) do
    if p == "Email" then
      email = true
    elseif p == "Phone" then
      phone = true
    end
  end
  if email and phone then return "full" end
  if phone then return "phone_only" end
  return "partial"
end

--- Credits for `rows` smart-agent rows of agent_type (rounded up to whole credits).
function M.agent_cost(agent_type, rows)
  return ceil((M.AGENT_RATES[agent_type] or 1) * rows - 1e-9)
end

local function tier_from(rid, r, field)
  local v = r[field]
  if present(v) then
    local t = M.tier(v)
    if not t then
      return bad(
        rid,
        format("%s must be partial, phone_only (phone-only) or full; got %s.", field, tostring(v)),
        { field = field }
      )
    end
    return t
  end
  if r.include_phone == true then return "phone_only" end
  return "partial"
end

local function one_of(list, v)
  for _, x in ipairs(list) do
    if x == v then return true end
  end
  return false
end

local compute = {}

function compute.enrich_list(ctx, r, out)
  local list, status, body = sources.list(ctx, r, "enrich_list")
  if not list then return nil, status, body end
  local tier, s2, b2 = tier_from(ctx.request_id, r, present(r.scope) and "scope" or "enrichment_type")
  if not tier then return nil, s2, b2 end
  out.list, out.tier = list, tier
  out.row_count = lists.count(list)
  out.cost = out.row_count * M.PRICE[tier]
  out.binding_fields = { list_id = list.list_id, scope = tier }
  out.filter_hash = quotes.filter_hash { list_id = list.list_id }
  return true
end

function compute.enrich_person(ctx, r, out)
  local tier, status, body = tier_from(ctx.request_id, r, present(r.enrichment_type) and "enrichment_type" or "scope")
  if not tier then return nil, status, body end
  out.tier, out.row_count, out.cost = tier, 1, M.PRICE[tier]
  out.binding_fields = { enrichment_type = tier }
  out.filter_hash = "none"
  return true
end

function compute.run_smart_agent(ctx, r, out)
  local list, status, body = sources.list(ctx, r, "run_smart_agent")
  if not list then return nil, status, body end
  local agent = present(r.agent_type) and r.agent_type or "custom_ai"
  if not M.AGENT_RATES[agent] then
    return bad(
      ctx.request_id,
      format("agent_type must be one of %s; got %s.", list_of(M.AGENT_TYPES), tostring(agent)),
      { field = "agent_type" }
    )
  end
  local n = lists.count(list)
  local rows = n
  if r.lead_scope ~= "all" then
    local max = present(r.max_rows) and r.max_rows or 100
    if max < rows then rows = max end
  end
  out.list, out.agent_type = list, agent
  out.row_count, out.cost = rows, M.agent_cost(agent, rows)
  out.binding_fields =
    { list_id = list.list_id, agent_type = agent, column_name = present(r.column_name) and r.column_name or nil }
  out.filter_hash = quotes.filter_hash { list_id = list.list_id }
  return true
end

local function sync_common(ctx, r, out, tool, providers)
  if not present(r.provider) then
    return bad(
      ctx.request_id,
      tool .. " needs provider (" .. list_of(providers) .. ").",
      { field = "provider", allowed = json.array(providers) }
    )
  end
  local provider = tostring(r.provider):lower()
  if not one_of(providers, provider) then
    return bad(
      ctx.request_id,
      format("provider %s is not supported for %s (use %s).", tostring(r.provider), tool, list_of(providers)),
      { field = "provider", allowed = json.array(providers) }
    )
  end
  out.provider = provider
  out.binding_fields = { provider = provider }
  return true
end

function compute.sync_to_crm(ctx, r, out)
  local ok, status, body = sync_common(ctx, r, out, "sync_to_crm", M.CRM_PROVIDERS)
  if not ok then return nil, status, body end
  local sub = present(r.sub_action) and tostring(r.sub_action) or nil
  local objects = 1
  if sub then
    local n = 0
    for part in sub:gmatch("[^+]+") do
      if not M.CRM_OBJECTS[part] then
        return bad(
          ctx.request_id,
          format(
            "sub_action %s is not supported (use contacts, "
              .. "companies, deals, or a composite such as contacts+companies).",
            sub
          ),
          { field = "sub_action" }
        )
      end
      n = n + 1
    end
    if n == 0 then return bad(ctx.request_id, "sub_action must not be empty.", { field = "sub_action" }) end
    objects = n
  end
  out.sub_action = sub
  out.binding_fields.sub_action = sub
  local rows, s2, b2 = sources.sync(ctx, r, "sync_to_crm", out)
  if not rows then return nil, s2, b2 end
  out.row_count = rows
  out.per_record = objects > 1 and 2 or 1
  out.cost = rows * out.per_record
  return true
end

function compute.sync_to_sequencer(ctx, r, out)
  local ok, status, body = sync_common(ctx, r, out, "sync_to_sequencer", M.SEQUENCER_PROVIDERS)
  if not ok then return nil, status, body end
  if present(r.sub_action) then
    return bad(ctx.request_id, "sub_action applies to sync_to_crm only.", { field = "sub_action" })
  end
  out.campaign_id = present(r.campaign_id) and tostring(r.campaign_id) or nil
  out.binding_fields.campaign_id = out.campaign_id
  local rows, s2, b2 = sources.sync(ctx, r, "sync_to_sequencer", out)
  if not rows then return nil, s2, b2 end
  out.row_count, out.per_record = rows, 1
  out.cost = rows
  return true
end

function compute.add_person_enrichments(ctx, r, out)
  local ok, status, body = sources.enrichments(ctx, r, out, "add_person_enrichments", "person")
  if not ok then return nil, status, body end
  out.tier = M.tier_of_points(r.data_points)
  out.cost = out.row_count * M.PRICE[out.tier]
  return true
end

function compute.add_company_enrichments(ctx, r, out)
  local ok, status, body = sources.enrichments(ctx, r, out, "add_company_enrichments", "company")
  if not ok then return nil, status, body end
  out.cost = ceil(out.row_count / 10)
  return true
end

function compute.bulk_import_csv(ctx, r, out)
  local list, status, body = sources.list(ctx, r, "bulk_import_csv")
  if not list then return nil, status, body end
  local tier, s2, b2 = tier_from(ctx.request_id, r, "enrichment_type")
  if not tier then return nil, s2, b2 end
  if not present(r.row_count) or r.row_count < 0 then
    return bad(ctx.request_id, "bulk_import_csv needs row_count (the rows you will import).", { field = "row_count" })
  end
  out.list, out.tier = list, tier
  out.row_count = r.row_count
  out.cost = r.row_count * M.PRICE[tier]
  out.binding_fields = { list_id = list.list_id, enrichment_type = tier }
  out.filter_hash = quotes.filter_hash { list_id = list.list_id }
  return true
end

--- See the module comment.
function M.compute(ctx, tool, r)
  local fn = compute[tool]
  if not fn then
    local status, body = errors.build("validation_error", ctx.request_id, {
      problem = format("Unknown tool %s.", tostring(tool):sub(1, 60)),
      fix = "Use one of: " .. list_of(M.TOOL_NAMES) .. ".",
      details = { field = "tool", allowed = json.array(M.TOOL_NAMES) },
    })
    return nil, status, body
  end
  local out = { tool = tool }
  local ok, status, body = fn(ctx, r, out)
  if not ok then return nil, status, body end
  out.binding = quotes.binding(tool, ctx.org.id, out.binding_fields)
  return out
end

--- 400 insufficient_credits for a `tool` call costing `cost`: status, body.
function M.insufficient(ctx, tool, cost)
  return ledger.insufficient(ctx.request_id, ctx.state, cost, "This " .. tool .. " call")
end

--- The checks before a paid call runs: prices `tool` for r (M.compute), verifies quote_id
-- against the price (quotes.verify; opts: what, required) and checks that the balance covers
-- it. Returns priced and the quote record (false without a quote; pass it to quotes.commit
-- once the call is done), or nil, status, body.
function M.authorize(ctx, tool, r, quote_id, opts)
  local priced, status, body = M.compute(ctx, tool, r)
  if not priced then return nil, status, body end
  local state = ctx.state
  local rec, qs, qb = quotes.verify(state, ctx.request_id, quote_id, priced.binding, priced.cost, opts)
  if rec == nil then return nil, qs, qb end
  if ledger.shortfall(state, priced.cost) then return nil, M.insufficient(ctx, tool, priced.cost) end
  return priced, rec
end

return M
