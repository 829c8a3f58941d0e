--- Enrichment (API.md §6.4): a person (async), a company (sync), a search or list-page cohort
-- (by task), a whole list (bulk), and the status of a run. Paid calls take max_credits and
-- dry_run beside their fields (see cleanlist.paid); client:wait follows a run to its end.
local endpoint = require "cleanlist.endpoint"
local validate = require "cleanlist.validate"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

--- Credits per lead by enrichment type (API.md §5).
M.PRICES = { partial = 1, phone_only = 10, full = 11 }

--- by-task data points of a company cohort (the others are a person cohort's).
M.COMPANY_POINTS =
  { Industry = true, Employees = true, Revenue = true, Funding = true, TechStack = true, Domain = true }

local str = { "string", nullable = true }
local TIERS = { "partial", "phone_only", "full" }

-- One enum for the user, the API's spelling per endpoint (API.md §10 #5).
local function tier_underscore(t, field)
  if t[field] == "phone-only" then t[field] = "phone_only" end
end

local PERSON = define {
  "POST",
  "/enrichment/person",
  body = {
    email = str,
    linkedin_url = str,
    person_id = str,
    phone = str,
    first_name = str,
    last_name = str,
    company_name = str,
    domain = str,
    lead_list_id = str,
    quote_id = str,
    enrichment_type = { "string", enum = TIERS, nullable = true },
    include_phone = { "boolean" },
  },
  prepare = function(t)
    tier_underscore(t, "enrichment_type")
  end,
  check = function(t, errs)
    local function has(k)
      return type(t[k]) == "string" and t[k] ~= ""
    end
    if
      not (
        has("email")
        or has("linkedin_url")
        or has("person_id")
        or (has("first_name") and has("last_name") and (has("company_name") or has("domain")))
      )
    then
      validate.add(
        errs,
        { "body" },
        "value_error",
        "needs email, linkedin_url or person_id, or " .. "first_name + last_name + (company_name or domain)"
      )
    end
  end,
  paid = {
    estimate = function(b)
      return { tool = "enrich_person", enrichment_type = b.enrichment_type, include_phone = b.include_phone }
    end,
  },
}

local COMPANY = define {
  "POST",
  "/enrichment/company",
  body = {
    domain = str,
    company_name = str,
    company_ticker = str,
    company_id = str,
    quote_id = str,
  },
  check = function(t, errs)
    if not (t.domain or t.company_name or t.company_ticker or t.company_id) then
      validate.add(errs, { "body" }, "value_error", "needs one of domain, company_name, company_ticker or company_id")
    end
  end,
  paid = {
    cost = function()
      return 1
    end,
  },
}

local function cohort_tool(points)
  for _, p in ipairs(points) do
    if M.COMPANY_POINTS[p] then return "add_company_enrichments" end
  end
  return "add_person_enrichments"
end

local BY_TASK = define {
  "POST",
  "/enrichment/by-task",
  body = {
    task_id = { "string", required = true, min_len = 1 },
    data_points = { "array", required = true, items = "string", min_items = 1 },
    entity_ids = { "array", items = "string", nullable = true },
    lead_list_id = str,
    quote_id = str,
  },
  check = function(t, errs)
    if type(t.data_points) ~= "table" then return end
    local company, person = 0, 0
    for _, p in ipairs(t.data_points) do
      if M.COMPANY_POINTS[p] then
        company = company + 1
      else
        person = person + 1
      end
    end
    if company > 0 and person > 0 then
      validate.add(
        errs,
        { "body", "data_points" },
        "value_error",
        "mixes company data points " .. "(Industry, Employees, Revenue, Funding, TechStack, Domain) with person ones"
      )
    end
  end,
  paid = {
    required = true, -- the v2 schema requires a quote here; the docs do not: one is always sent
    estimate = function(b)
      return {
        tool = cohort_tool(b.data_points),
        task_id = b.task_id,
        data_points = b.data_points,
        entity_ids = b.entity_ids,
      }
    end,
    -- A people cohort's handle resolves to the workflow bound at dispatch.
    find = function(client, b)
      if cohort_tool(b.data_points) ~= "add_person_enrichments" then return nil end
      local st = client:enrichment_status(b.task_id)
      if not st then return nil end
      st.task_id = st.task_id or b.task_id
      return st
    end,
    lost = "wait on its task_id, which names the run",
  },
}

local BULK = define {
  "POST",
  "/enrichment/bulk",
  body = {
    list_id = { "string", required = true, min_len = 1 },
    scope = { "string", enum = { "partial", "full", "phone-only" } },
    quote_id = str,
  },
  prepare = function(t)
    if t.list_id == nil then
      t.list_id, t.lead_list_id = t.lead_list_id, nil
    end
    if t.scope == "phone_only" then t.scope = "phone-only" end
  end,
  paid = {
    required = true,
    estimate = function(b)
      return { tool = "enrich_list", list_id = b.list_id, scope = b.scope or "partial" }
    end,
    lost = "its results land on the list's leads (get_list shows the enriched count)",
  },
}

local STATUS = define { "GET", "/enrichment/status/{workflow_id}" }

--- POST /enrichment/person: starts enriching one person (async; poll with client:wait).
-- Identify them by email, linkedin_url or person_id, or first_name + last_name +
-- (company_name or domain). enrichment_type partial (1 credit), phone_only (10) or full (11).
-- Paid: max_credits, dry_run. Scope enrich:write.
---@param body {email?: string, linkedin_url?: string, person_id?: string, first_name?: string, last_name?: string, company_name?: string, domain?: string, phone?: string, enrichment_type?: "partial"|"phone_only"|"full", include_phone?: boolean, lead_list_id?: string, quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return {workflow_id: string, status: string, credits_reserved: integer, lead_list_id: string}|nil
---@return cleanlist.Error|nil
function M:enrich_person(body)
  return call(self, PERSON, body)
end

--- POST /enrichment/company: one company record, now (1 credit; refunded when not found:
-- 404). Paid: max_credits, dry_run (priced by the client: the API has no estimate for it).
---@param body {domain?: string, company_name?: string, company_ticker?: string, company_id?: string, quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return {company: table, credits_charged: integer}|nil
---@return cleanlist.Error|nil
function M:enrich_company(body)
  return call(self, COMPANY, body)
end

--- POST /enrichment/by-task: enriches a cohort (a search page's or list page's task_id) with
-- data_points: Email, Phone, LinkedIn for people (async, a workflow to wait on); Industry,
-- Employees, Revenue, Funding, TechStack, Domain for companies (sync). The client estimates
-- and sends the quote. Paid: max_credits, dry_run. Scope enrich:write.
---@param body {task_id: string, data_points: string[], entity_ids?: string[], lead_list_id?: string, quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return {workflow_id: string?, status: string, entity_kind: string, credits_reserved: integer, results: table[]}|nil
---@return cleanlist.Error|nil
function M:enrich_by_task(body)
  return call(self, BY_TASK, body)
end

--- POST /enrichment/bulk: enriches every lead of a list (async). scope partial (default),
-- full or phone-only (phone_only is accepted too). The quote is required: the client gets one
-- right before the call. Paid: max_credits, dry_run. Scope enrich:write.
---@param body {list_id: string, scope?: "partial"|"full"|"phone-only", quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return {workflow_id: string, status: string, total_leads: integer, credits_reserved: integer}|nil
---@return cleanlist.Error|nil
function M:enrich_list(body)
  return call(self, BULK, body)
end

--- GET /enrichment/status/{workflow_id}: a run's status, counters and, once terminal, its
-- credits (and `result` for one person). Takes a workflow id or a cl-task_ handle. Free.
---@param workflow_id string
---@return cleanlist.WorkflowStatus|nil
---@return cleanlist.Error|nil
function M:enrichment_status(workflow_id)
  return call(self, STATUS, workflow_id)
end

return M
