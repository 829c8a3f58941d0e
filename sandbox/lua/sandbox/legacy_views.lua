--- The legacy bulk enrichment's answers (API.md §6.8): a contact's result item, a workflow's
-- summary and results, GET /enrich/status bodies and the `enrichment.completed` webhook
-- payload, all views of a workflow of sandbox.legacy (its shape is documented there).
local json = require "sandbox.json"
local util = require "sandbox.util"
local webhooks = require "sandbox.webhooks"

local M = {}

local null = json.null
local floor = math.floor
local iso = util.iso_or_null

M.RESULTS_LIMIT = 250

local opt = util.or_null

--- One contact's result item (the webhook's `results` item, plus workflow_id and lead_id).
function M.item(wf, c)
  local full = c.full_name
  if not full and (c.first_name or c.last_name) then
    full = (c.first_name or "") .. ((c.first_name and c.last_name) and " " or "") .. (c.last_name or "")
  end
  return {
    task_id = c.task_id,
    workflow_id = wf.workflow_id,
    lead_id = c.lead_id,
    status = c.status,
    primary_email = opt(c.email),
    primary_email_status = opt(c.email_status),
    personal_phone_numbers = json.array(c.phone and { c.phone } or {}),
    prospect = {
      first_name = opt(c.first_name),
      last_name = opt(c.last_name),
      full_name = opt(full),
      linkedin_url = opt(c.linkedin_url),
    },
    company = { name = opt(c.company_name), domain = opt(c.company_domain) },
    credits_charged = c.status == "pending" and null or (c.cost or 0),
  }
end

function M.summary(wf)
  return {
    total = #wf.contacts,
    successful = wf.successful,
    failed = wf.failed,
    emails_found = wf.emails_found,
    phones_found = wf.phones_found,
    pending = #wf.contacts - wf.processed,
  }
end

function M.results(wf)
  local out = json.array()
  for i, c in ipairs(wf.contacts) do
    if i > M.RESULTS_LIMIT then break end
    out[i] = M.item(wf, c)
  end
  return out
end

function M.results_endpoint(wf)
  return "/api/v1/public/enrich/status?workflow_id=" .. wf.workflow_id
end

--- The `enrichment.completed` webhook payload (API.md §6.8).
function M.payload(_, wf)
  return {
    event = "enrichment.completed",
    workflow_id = wf.workflow_id,
    lead_list_id = wf.lead_list_id,
    enrichment_type = wf.enrichment_type,
    status = wf.status,
    summary = {
      total = #wf.contacts,
      successful = wf.successful,
      failed = wf.failed,
      emails_found = wf.emails_found,
      phones_found = wf.phones_found,
    },
    results = M.results(wf),
    results_limit = M.RESULTS_LIMIT,
    results_truncated = #wf.contacts > M.RESULTS_LIMIT,
    results_endpoint = M.results_endpoint(wf),
    completed_at = iso(wf.completed_ms),
  }
end

--- GET /enrich/status?workflow_id=: the aggregate (shape chosen by the sandbox).
function M.status_body(state, wf)
  local total = #wf.contacts
  return {
    workflow_id = wf.workflow_id,
    status = wf.status,
    enrichment_type = wf.enrichment_type,
    lead_list_id = wf.lead_list_id,
    total_contacts = total,
    processed = wf.processed,
    progress = total > 0 and floor(wf.processed * 100 / total) or 100,
    summary = M.summary(wf),
    credits_reserved = wf.reserved or 0,
    credits_charged = wf.settled and wf.charged or null,
    credits_refunded = wf.settled and wf.refunded or null,
    webhook_url = opt(wf.webhook_url),
    webhook_status = webhooks.status_of(state, wf),
    created_at = iso(wf.created_ms),
    completed_at = iso(wf.completed_ms),
    results = M.results(wf),
    results_limit = M.RESULTS_LIMIT,
    results_truncated = total > M.RESULTS_LIMIT,
  }
end

--- GET /enrich/status?task_id=: one contact.
function M.task_body(_, wf, i)
  local c = wf.contacts[i]
  local item = M.item(wf, c)
  item.enrichment_type = wf.enrichment_type
  item.workflow_status = wf.status
  item.completed_at = c.status == "pending" and null or iso(c.done_ms)
  return item
end

return M
