--- Lead lists (API.md §6.3): create, read, update and delete lists, page through their leads,
-- add and remove leads, and import a CSV file. All free except the enrichment a CSV import
-- may dispatch (priced with the tool bulk_import_csv; see cleanlist.paid).
local base64 = require "cleanlist.base64"
local csv = require "cleanlist.csv"
local endpoint = require "cleanlist.endpoint"
local pager = require "cleanlist.pager"
local validate = require "cleanlist.validate"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

--- The CSV size the API takes in one import (decoded bytes).
M.CSV_MAX_BYTES = 150 * 1024

--- The fields a CSV column can be mapped to.
M.CSV_FIELDS = {
  "first_name",
  "last_name",
  "full_name",
  "email",
  "phone",
  "mobile_phone",
  "work_phone",
  "linkedin_url",
  "company_name",
  "company_domain",
  "job_title",
  "city",
  "state",
  "country",
}

local TIERS = { "partial", "phone_only", "full" }
local str = { "string", nullable = true }

local CREATE = define {
  "POST",
  "/lead-lists",
  body = {
    name = { "string", required = true, min_len = 1, max_len = 200 },
    description = { "string", nullable = true, max_len = 5000 },
    folder_id = str,
  },
}
local INDEX = define {
  "GET",
  "/lead-lists",
  query = {
    folder_id = { "string" },
    limit = { "integer", min = 1, max = 100 },
    cursor = { "string" },
  },
}
local SHOW = define { "GET", "/lead-lists/{list_id}" }
local UPDATE = define {
  "PATCH",
  "/lead-lists/{list_id}",
  body = {
    name = { "string", min_len = 1, max_len = 200 },
    description = { "string", nullable = true, max_len = 5000 },
    folder_id = str,
  },
  check = function(t, errs)
    if next(t) == nil then validate.add(errs, { "body" }, "missing", "needs at least one field to change") end
  end,
}
local DELETE = define { "DELETE", "/lead-lists/{list_id}" }
local LEADS = define {
  "GET",
  "/lead-lists/{list_id}/leads",
  query = {
    limit = { "integer", min = 1, max = 500 },
    cursor = { "string" },
  },
}
local ADD = define {
  "POST",
  "/lead-lists/{list_id}/leads",
  idempotent = true,
  body = {
    lead_ids = { "array", items = "string", min_items = 1, max_items = 1000 },
    task_id = { "string", min_len = 1 },
    entity_ids = { "array", items = "string", max_items = 2000, nullable = true },
    idempotency_key = { "string", min_len = 1, max_len = 128 },
  },
  check = function(t, errs)
    if (t.lead_ids == nil) == (t.task_id == nil) then
      validate.add(
        errs,
        { "body" },
        "value_error",
        "needs exactly one of lead_ids (leads by id) or task_id (a search or list-page cohort)"
      )
    elseif t.lead_ids and t.entity_ids then
      validate.add(errs, { "body", "entity_ids" }, "extra_forbidden", "goes with task_id, not lead_ids")
    end
  end,
}
local REMOVE = define {
  "DELETE",
  "/lead-lists/{list_id}/leads",
  body = {
    lead_ids = { "array", items = "string", required = true, min_items = 1, max_items = 100 },
  },
}

-- CSV import: `file` (a path) or `csv` (the text) are read and encoded by the client.
local function prepare_csv(t, opts)
  local text, source = t.csv, "csv"
  if t.file ~= nil and t.csv ~= nil then
    opts.problem = { { "body", "file" }, "conflict", "and csv both give the rows: pass one" }
  elseif t.file ~= nil then
    source = "file"
    if type(t.file) ~= "string" then
      opts.problem = { { "body", "file" }, "string_type", "should be the path of a CSV file" }
    else
      local f, ferr = io.open(t.file, "rb")
      if not f then
        opts.problem = { { "body", "file" }, "file_error", "cannot be read: " .. tostring(ferr) }
      else
        text = f:read("*a")
        f:close()
      end
    end
  end
  t.file, t.csv = nil, nil
  if type(text) == "string" then
    opts.bytes = #text
    t.csv_content_base64 = base64.encode(text)
  elseif type(t.csv_content_base64) == "string" then
    text = base64.decode(t.csv_content_base64)
    if not text then opts.problem = { { "body", "csv_content_base64" }, "value_error", "is not base64" } end
    opts.bytes, source = text and #text, "csv_content_base64"
  end
  opts.text, opts.source = text, source
  if t.enrichment_type == "phone-only" then t.enrichment_type = "phone_only" end
  if t.dispatch_enrichment == nil then
    opts.dispatching = true
  else
    opts.dispatching = t.dispatch_enrichment == true
  end
end

local CSV_IMPORT = define {
  "POST",
  "/lead-lists/{list_id}/csv-import",
  idempotent = true,
  body = {
    csv_content_base64 = { "string", required = true, min_len = 1 },
    column_mapping = { "object", required = true, values = "string" },
    dispatch_enrichment = { "boolean" },
    enrichment_type = { "string", enum = TIERS, nullable = true },
    quote_id = str,
    idempotency_key = { "string", min_len = 1, max_len = 128 },
  },
  prepare = prepare_csv,
  check = function(t, errs, o)
    if o.problem then validate.add(errs, o.problem[1], o.problem[2], o.problem[3]) end
    if o.bytes and o.bytes > M.CSV_MAX_BYTES then
      validate.add(
        errs,
        { "body", o.source },
        "too_large",
        ("is %d bytes; one import takes at most " .. "%d (150 KB, about 600 rows): split the file"):format(
          o.bytes,
          M.CSV_MAX_BYTES
        )
      )
    end
    if o.dispatching and t.enrichment_type == nil then
      validate.add(
        errs,
        { "body", "enrichment_type" },
        "missing",
        "is required when dispatch_enrichment is true (the default): partial, phone_only or full"
      )
    end
    if type(t.column_mapping) ~= "table" then return end
    if next(t.column_mapping) == nil then
      validate.add(errs, { "body", "column_mapping" }, "too_short", "needs at least one field")
    end
    local known, present = {}, {}
    for _, f in ipairs(M.CSV_FIELDS) do
      known[f] = true
    end
    local header
    if o.text then
      header, o.rows = csv.shape(o.text)
    end
    -- As the API matches: exact after trimming, else without regard to case.
    for _, h in ipairs(header or {}) do
      present[csv.trim(h)], present[csv.trim(h):lower()] = true, true
    end
    for field, col in pairs(t.column_mapping) do
      if not known[field] then
        validate.add(
          errs,
          { "body", "column_mapping", field },
          "enum",
          "is not a field a column can be mapped to (" .. table.concat(M.CSV_FIELDS, ", ") .. ")"
        )
      elseif header and type(col) == "string" and not present[csv.trim(col)] and not present[csv.trim(col):lower()] then
        validate.add(
          errs,
          { "body", "column_mapping", field },
          "missing_column",
          "names the column '" .. col .. "', which the file's header does not have"
        )
      end
    end
  end,
  paid = {
    applies = function(_, o)
      return o.dispatching
    end,
    estimate = function(b, o)
      return {
        tool = "bulk_import_csv",
        list_id = o.params.list_id,
        enrichment_type = b.enrichment_type,
        row_count = o.rows,
      }
    end,
  },
}

--- POST /lead-lists: creates a list, or returns the caller's list of the same name (case
-- insensitive) with reused = true. Free; lists:write.
---@param body {name: string, description?: string, folder_id?: string}
---@return cleanlist.List|nil
---@return cleanlist.Error|nil
function M:create_list(body)
  return call(self, CREATE, body)
end

--- GET /lead-lists: one page of the lists the caller can see. Free; lists:read.
---@param query? {folder_id?: string, limit?: integer, cursor?: string}
---@return {lists: cleanlist.List[], total: integer, cursor: string?}|nil
---@return cleanlist.Error|nil
function M:list_lists(query)
  return call(self, INDEX, query)
end

--- Every list the caller can see, page by page (`limit` = page size, `max` = stop after N).
---@param query? {folder_id?: string, limit?: integer, max?: integer}
---@return cleanlist.Pager
function M:iter_lists(query)
  return pager.over(query, "lists", function(q)
    return call(self, INDEX, q)
  end)
end

--- GET /lead-lists/{list_id}: one list with live lead and enriched counts. Free; lists:read.
---@param list_id string
---@return cleanlist.List|nil
---@return cleanlist.Error|nil
function M:get_list(list_id)
  return call(self, SHOW, list_id)
end

--- PATCH /lead-lists/{list_id}: changes the fields given (description = cleanlist.null
-- clears it, folder_id = cleanlist.null unfiles the list). Free; lists:write.
---@param list_id string
---@param body {name?: string, description?: string|table, folder_id?: string|table}
---@return cleanlist.List|nil
---@return cleanlist.Error|nil
function M:update_list(list_id, body)
  return call(self, UPDATE, list_id, body)
end

--- DELETE /lead-lists/{list_id}: deletes the list (its leads survive). Free; lists:write.
---@param list_id string
---@return {list_id: string, deleted: boolean}|nil
---@return cleanlist.Error|nil
function M:delete_list(list_id)
  return call(self, DELETE, list_id)
end

--- GET /lead-lists/{list_id}/leads: one page of leads; its `task_id` names the page's leads
-- for enrich_by_task. Free; lists:read.
---@param list_id string
---@param query? {limit?: integer, cursor?: string}
---@return {leads: cleanlist.Lead[], total: integer, cursor: string?, task_id: string?}|nil
---@return cleanlist.Error|nil
function M:list_leads_in_list(list_id, query)
  return call(self, LEADS, list_id, query)
end

--- Every lead of a list, page by page as the loop consumes them (`limit` = page size, up to
-- 500; `max` = stop after N). Memory stays flat on a long list; see cleanlist.pager.
---@param list_id string
---@param query? {limit?: integer, max?: integer}
---@return cleanlist.Pager
function M:iter_leads(list_id, query)
  return pager.over(query, "leads", function(q)
    return call(self, LEADS, list_id, q)
  end)
end

--- POST /lead-lists/{list_id}/leads: adds leads by id (lead_ids) or a cohort (task_id, with an
-- optional entity_ids subset). An idempotency_key is minted when absent and re-sent on every
-- attempt, so the call is retried safely and adds once. Free; lists:write.
---@param list_id string
---@param body {lead_ids?: string[], task_id?: string, entity_ids?: string[], idempotency_key?: string}
---@return {list_id: string, added: integer, skipped_duplicates: integer, created: integer?}|nil
---@return cleanlist.Error|nil
function M:add_leads_to_list(list_id, body)
  return call(self, ADD, list_id, body)
end

--- DELETE /lead-lists/{list_id}/leads: removes up to 100 leads from the list (the leads
-- survive; unknown ids are ignored). Free; lists:write.
---@param list_id string
---@param body {lead_ids: string[]}
---@return {list_id: string, removed: integer}|nil
---@return cleanlist.Error|nil
function M:remove_leads_from_list(list_id, body)
  return call(self, REMOVE, list_id, body)
end

--- POST /lead-lists/{list_id}/csv-import: imports a CSV (`file` = a path, `csv` = its text, or
-- `csv_content_base64`; at most 150 KB) with a column_mapping {field = "CSV header"}; with
-- dispatch_enrichment (the default) it starts an enrichment of enrichment_type over the rows
-- (paid: max_credits, dry_run). The idempotency_key is minted when absent. lists:write.
---@param list_id string
---@param body {file?: string, csv?: string, csv_content_base64?: string, column_mapping: table<string, string>, dispatch_enrichment?: boolean, enrichment_type?: "partial"|"phone_only"|"full", quote_id?: string, idempotency_key?: string, max_credits?: number, dry_run?: boolean}
---@return table|nil
---@return cleanlist.Error|nil
function M:csv_import(list_id, body)
  return call(self, CSV_IMPORT, list_id, body)
end

return M
