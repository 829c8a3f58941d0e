--- The legacy Public API (API.md §6.8): key validation, bulk enrichment of contacts (with an
-- optional webhook), its status and webhook deliveries. Errors come as {"detail": ...}; the
-- client gives them a `code` named after the status. The legacy balance is
-- client:credits_balance() (the same path).
local endpoint = require "cleanlist.endpoint"
local paid = require "cleanlist.paid"
local validate = require "cleanlist.validate"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

--- Contacts per POST /enrich/bulk (the API's hard cap); legacy_enrich_bulk splits above it.
M.LEGACY_BATCH = 250

--- Credits per contact at most, by legacy enrichment type.
M.LEGACY_PRICES = { none = 0, partial = 1, phone_only = 10, full = 11, prospecting_only = 1 }

local TYPES = { "none", "partial", "phone_only", "full", "prospecting_only" }

local function check_contacts(t, errs)
  if type(t.contacts) ~= "table" then return end
  for i, c in ipairs(t.contacts) do
    local loc = { "body", "contacts", i - 1 }
    if type(c) ~= "table" then
      validate.add(errs, loc, "dict_type", "should be a table of contact fields")
    else
      local function has(k)
        return type(c[k]) == "string" and c[k] ~= ""
      end
      if
        not (
          has("linkedin_url")
          or (has("first_name") and has("last_name") and (has("company_domain") or has("company_name")))
        )
      then
        validate.add(
          errs,
          loc,
          "value_error",
          "Each contact must include linkedin_url OR " .. "first_name + last_name + (company_domain or company_name)."
        )
      end
    end
  end
end

local BULK_FIELDS = {
  contacts = { "array", required = true, min_items = 1 },
  enrichment_type = { "string", enum = TYPES },
  webhook_url = { "string", nullable = true },
}
local BULK = define {
  "POST",
  "/enrich/bulk",
  body = BULK_FIELDS,
  check = check_contacts,
  prepare = function(t)
    if t.enrichment_type == "phone-only" then t.enrichment_type = "phone_only" end
  end,
  paid = {
    cost = function(b)
      return #b.contacts * M.LEGACY_PRICES[b.enrichment_type or "partial"]
    end,
  },
}
local VALIDATE = define { "GET", "/auth/validate-key" }
local STATUS = define {
  "GET",
  "/enrich/status",
  query = {
    workflow_id = { "string", min_len = 1 },
    task_id = { "string", min_len = 1 },
  },
  check = function(t, errs)
    if (t.workflow_id == nil) == (t.task_id == nil) then
      validate.add(errs, { "query" }, "value_error", "Provide exactly one of workflow_id or task_id.")
    end
  end,
}
local DELIVERIES =
  define { "GET", "/webhooks/deliveries", query = {
    workflow_id = { "string", required = true, min_len = 1 },
  } }

--- GET /auth/validate-key: checks the key without spending anything.
---@return {valid: boolean, user_id: string?, organization_id: string?}|nil
---@return cleanlist.Error|nil
function M:legacy_validate_key()
  return call(self, VALIDATE)
end

-- One batch of at most LEGACY_BATCH contacts, sent as it is.
local function send_batch(self, path, t, contacts)
  local body = {}
  for k, v in pairs(t) do
    body[k] = v
  end
  body.contacts = contacts
  return endpoint.send(self, BULK, path, body)
end

--- POST /enrich/bulk: enriches any number of contacts (each with linkedin_url, or first_name +
-- last_name + company_domain or company_name), split into calls of 250 that go out under the
-- rate limiter. enrichment_type none, partial (default), phone_only, full or
-- prospecting_only; webhook_url gets one delivery per call's workflow. Paid (priced by the
-- client at the maximum): max_credits, dry_run. The result merges the calls: workflow_ids,
-- task_ids (one per contact, in order), total_contacts, and `batches` (each call's answer);
-- workflow_id is set when there was one call. When a later call fails, err.dispatched holds
-- what the earlier ones started (they run and are billed): nothing is lost.
---@param body {contacts: table[], enrichment_type?: string, webhook_url?: string, max_credits?: number, dry_run?: boolean}
---@return {workflow_ids: string[], workflow_id: string?, task_ids: string[], total_contacts: integer, batches: table[]}|nil
---@return cleanlist.Error|nil
function M:legacy_enrich_bulk(body)
  local path, t, opts = endpoint.prepare(BULK, body)
  if not path then return nil, t end
  if opts.max_credits ~= nil or opts.dry_run then
    local est, err = paid.quote_for(self, BULK, t, opts)
    if not est then return nil, err end
    if opts.dry_run then return paid.dry_run(est, t) end
  end
  local all = t.contacts
  local merged = { workflow_ids = {}, task_ids = {}, total_contacts = 0, batches = {}, status = "processing" }
  for first = 1, #all, M.LEGACY_BATCH do
    local batch = {}
    for i = first, math.min(first + M.LEGACY_BATCH - 1, #all) do
      batch[#batch + 1] = all[i]
    end
    local res, err = send_batch(self, path, t, batch)
    if not res then
      if err.ambiguous then
        -- The legacy API has no quote and no idempotency key: nothing can tell the client
        -- whether the job started. Say what to check before sending these contacts again.
        err.fix = (
          "the legacy API gives no way to learn whether contacts %d-%d were taken: "
          .. "check the balance (legacy_credits_balance) or your webhook before sending them "
          .. "again"
        ):format(first, first + #batch - 1)
      end
      if #merged.batches > 0 then
        err.dispatched = merged
        err.message = err.message
          .. (" (contacts %d-%d; the %d before them were dispatched: " .. "see err.dispatched)"):format(
            first,
            first + #batch - 1,
            first - 1
          )
      end
      return nil, err
    end
    merged.batches[#merged.batches + 1] = res
    merged.workflow_ids[#merged.workflow_ids + 1] = res.workflow_id
    for _, id in ipairs(res.task_ids or {}) do
      merged.task_ids[#merged.task_ids + 1] = id
    end
    merged.total_contacts = merged.total_contacts + (res.total_contacts or #batch)
  end
  if #merged.batches == 1 then
    for k, v in pairs(merged.batches[1]) do
      if merged[k] == nil then merged[k] = v end
    end
    merged.workflow_id = merged.batches[1].workflow_id
  end
  return merged
end

--- GET /enrich/status: a legacy workflow (workflow_id) or one contact (task_id). Free.
---@param query {workflow_id?: string, task_id?: string}
---@return table|nil
---@return cleanlist.Error|nil
function M:legacy_enrich_status(query)
  return call(self, STATUS, query)
end

--- GET /webhooks/deliveries: the webhook delivery attempts of a legacy workflow. Free.
---@param query {workflow_id: string}
---@return {workflow_id: string, status: string, deliveries: table[]}|nil
---@return cleanlist.Error|nil
function M:legacy_webhook_deliveries(query)
  return call(self, DELIVERIES, query)
end

return M
