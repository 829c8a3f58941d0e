--- POST /lead-lists/{list_id}/csv-import (API.md §6.3): base64 CSV in, leads into the list,
-- optionally a bulk enrichment workflow over the imported rows. 201 CsvImportResponse.
--
-- Pipeline (the V2 order): 422 schema -> 404 list -> 403 insufficient_scope (enrich:write when
-- dispatching) -> 503 csv_import_disabled (kill switch: sandbox.switches csv_import) ->
-- idempotency replay -> base64 decode (400 validation_error) -> 413 above MAX_BYTES raw ->
-- parse (400 validation_error for malformed CSV) -> 400 missing_column -> per-row checks and
-- dedup -> when dispatching: quote (optional; tool bulk_import_csv, row_count = rows
-- imported, bound to list_id + enrichment_type) and 400 insufficient_credits -> insert ->
-- dispatch -> cache the response under idempotency_key.
--
-- Rows: a row is imported when it identifies a person: email, or linkedin_url, or a name
-- (first_name + last_name, or full_name) with company_name or company_domain; otherwise it is
-- skipped as missing_required. Within the upload a repeated email (case-insensitive) is
-- duplicate_email and a repeated LinkedIn profile is duplicate_linkedin; rows past ROW_CAP
-- imported rows are row_cap_exceeded. sample_skip_rows lists the first 10 skipped row numbers
-- (the header is row 1; blank lines are not counted).
--
-- idempotency_key: org-wide for 24 hours of sandbox time; a repeat replays the first response
-- with idempotency_replayed: true (no insert, no charge), whichever list it names.
local auth = require "sandbox.auth"
local costs = require "sandbox.costs"
local csv_upload = require "sandbox.csv_upload"
local enrichment = require "sandbox.endpoints.enrichment"
local errors = require "sandbox.errors"
local idempotency = require "sandbox.idempotency"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local state_mod = require "sandbox.state"
local switches = require "sandbox.switches"
local util = require "sandbox.util"
local validate = require "sandbox.validate"

local NOT_ENRICHED_USAGE = "Rows were imported without enrichment: estimate tool enrich_list for this list"
  .. " and run POST /enrichment/bulk to enrich them."
local M = {}

M.MAX_BYTES = csv_upload.MAX_BYTES
M.ROW_CAP = csv_upload.ROW_CAP
M.IDEMPOTENCY_MS = idempotency.TTL_MS
M.SAMPLE = csv_upload.SAMPLE

local null = json.null
local format = string.format

M.FIELDS = {
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
local FIELD_SET = util.set_of(M.FIELDS)

state_mod.register("csv_imports", function()
  return { by_key = {}, seq = 0 }
end)

M.SCHEMA = validate.object {
  csv_content_base64 = { type = "string", required = true },
  column_mapping = { type = "object", required = true, values = { type = "string" } },
  dispatch_enrichment = { type = "boolean" },
  enrichment_type = {
    type = "string",
    nullable = true,
    enum = { "partial", "phone_only", "full", "phone-only" },
    lenient_values = { "phone-only" }, -- the bulk spelling; refused in strict mode
  },
  quote_id = { type = "string", nullable = true },
  idempotency_key = { type = "string", nullable = true, max_len = 128 },
}

local function mapping_errors(mapping)
  local errs, keys = {}, {}
  for k in pairs(mapping) do
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  if #keys == 0 then
    errs[1] = validate.error(
      { "body", "column_mapping" },
      "too_short",
      "Dictionary should have at least 1 item after validation, not 0",
      {}
    )
  end
  local allowed = {}
  for i, f in ipairs(M.FIELDS) do
    allowed[i] = "'" .. f .. "'"
  end
  for _, k in ipairs(keys) do
    if not FIELD_SET[k] then
      errs[#errs + 1] = validate.error(
        { "body", "column_mapping", k, "[key]" },
        "literal_error",
        "Input should be " .. table.concat(allowed, ", ", 1, #allowed - 1) .. " or " .. allowed[#allowed],
        k
      )
    end
  end
  return errs
end

local function idem_area(state)
  return state.data.csv_imports
end

-- The checks before the upload is read: 422 mapping / enrichment_type, 404 list, 403
-- enrich:write when dispatching, 503 kill switch. The list and the enrichment type, or nil,
-- status, body, headers.
local function admit(ctx, b, dispatch)
  local errs = mapping_errors(b.column_mapping)
  if errs[1] then return nil, validate.response(errs) end
  local etype = b.enrichment_type ~= null and b.enrichment_type or nil
  if dispatch and not etype then
    return nil,
      validate.response {
        validate.error(
          { "body", "enrichment_type" },
          "missing",
          "Field required when dispatch_enrichment is true",
          null
        ),
      }
  end
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then return nil, enrichment.list_not_found(ctx, ctx.params.list_id) end
  if dispatch then
    local status, body = auth.require_scope(ctx.key, "enrich:write", ctx.request_id)
    if status then
      body.error.problem = "CSV import with dispatch_enrichment needs the enrich:write scope."
      return nil, status, body
    end
  end
  if not switches.get(ctx.state).csv_import then
    local status, body = errors.build("csv_import_disabled", ctx.request_id, {
      cause = "The CSV import feature flag is off.",
      retry_after_ms = 60000,
    })
    return nil, status, body, { ["Retry-After"] = "60" }
  end
  return list, etype
end

-- The first response under the org-wide idempotency key skey (sandbox.idempotency), marked
-- as replayed; or nil.
local function replay(idem, skey, now)
  local prior = idempotency.prior(idem.by_key, skey, now)
  if not prior then return nil end
  local body = {}
  for k, v in pairs(prior.body) do
    body[k] = v
  end
  body.sample_skip_rows = json.array()
  for i, n in ipairs(prior.body.sample_skip_rows) do
    body.sample_skip_rows[i] = n
  end
  body.idempotency_replayed = true
  body.timestamp_ms = now
  body.message = "Replayed the response of an earlier import with this idempotency_key; "
    .. "nothing was imported or charged again."
  return body
end

-- Creates a lead per row and adds them to the list; their lead ids.
local function insert_rows(ctx, list, rows)
  local ids = {}
  for i, f in ipairs(rows) do
    local lead = leads.create(ctx.state, ctx.org.id, {
      first_name = f.first_name,
      last_name = f.last_name,
      full_name = f.full_name,
      email = f.email,
      phone = f.phone or f.mobile_phone or f.work_phone,
      linkedin_url = f.linkedin_url,
      company_name = f.company_name,
      company_domain = f.company_domain,
      job_title = f.job_title,
      city = f.city,
      state = f.state,
      country = f.country,
      source = "csv",
    })
    ids[i] = lead.lead_id
  end
  lists.add_leads(ctx.state, list, ids)
  return ids
end

-- The CsvImportResponse of an import: r = {list, parsed, rows, reasons, sample, wf,
-- dispatch, now}.
local function response(ctx, r)
  local imported, wf = #r.rows, r.wf
  local skipped = r.parsed - imported
  return {
    list_id = r.list.list_id,
    rows_parsed = r.parsed,
    rows_imported = imported,
    rows_skipped = skipped,
    skip_reasons = r.reasons,
    sample_skip_rows = r.sample,
    workflow_id = wf and wf.workflow_id or null,
    enrichment_status_url = wf and enrichment.poll_url(ctx, wf.workflow_id) or null,
    idempotency_replayed = false,
    task_id = null,
    timestamp_ms = r.now,
    agent_instructions = wf
        and format(
          "Imported %d rows; enrichment %s reserved %d credits. " .. "Poll enrichment_status_url until it is terminal.",
          imported,
          wf.workflow_id,
          wf.reserved
        )
      or format("Imported %d rows (%d skipped).", imported, skipped),
    usage = not r.dispatch and NOT_ENRICHED_USAGE or null,
    message = (r.dispatch and imported == 0) and "No rows were imported, so no enrichment was dispatched." or null,
  }
end

function M.import(ctx)
  local b, state = ctx.body, ctx.state
  local dispatch = b.dispatch_enrichment ~= false
  local list, etype, st_body, st_headers = admit(ctx, b, dispatch)
  if not list then return etype, st_body, st_headers end
  local now, idem = state:now_ms(), idem_area(state)
  local skey = idempotency.key(ctx, b.idempotency_key)
  local replayed = replay(idem, skey, now)
  if replayed then return 201, replayed end
  local records, status, body = csv_upload.read(ctx, b.csv_content_base64)
  if not records then return status, body end
  local columns
  columns, status, body = csv_upload.columns(ctx, records[1], b.column_mapping)
  if not columns then return status, body end
  local r = { list = list, parsed = #records - 1, dispatch = dispatch, now = now }
  r.rows, r.reasons, r.sample = csv_upload.rows(records, columns, enrichment.canonical_linkedin)
  local tier = etype and costs.tier(etype)
  local priced, rec
  if dispatch then
    priced, rec, body = costs.authorize(ctx, "bulk_import_csv", {
      list_id = list.list_id,
      enrichment_type = tier,
      row_count = #r.rows,
    }, b.quote_id, { what = "csv-import" })
    if not priced then return rec, body end
  end
  local ids = insert_rows(ctx, list, r.rows)
  if dispatch and #ids > 0 then
    r.wf, status, body =
      enrichment.launch(ctx, enrichment.bulk_spec(ctx, list, ids, tier, priced.cost, "csv"), priced, rec)
    if not r.wf then -- cannot happen after the balance check; keep the rows, report it
      return status, body
    end
  end
  body = response(ctx, r)
  if skey then
    idem.seq = idem.seq + 1
    idempotency.remember(idem.by_key, skey, now, { list_id = list.list_id, body = body }, idem.seq)
  end
  return 201, body
end

function M.register(router)
  router:add("POST", "/lead-lists/{list_id}/csv-import", {
    scope = "lists:write",
    body = M.SCHEMA,
    handler = M.import,
  })
end

return M
