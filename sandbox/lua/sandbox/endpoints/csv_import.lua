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
local csv = require "sandbox.csv"
local enrichment = require "sandbox.endpoints.enrichment"
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local native = require "sandbox.native"
local state_mod = require "sandbox.state"
local switches = require "sandbox.switches"
local util = require "sandbox.util"
local validate = require "sandbox.validate"
local world = require "sandbox.world"

local M = {}

M.MAX_BYTES = 150 * 1024
M.ROW_CAP = 600
M.IDEMPOTENCY_MS = 24 * 3600 * 1000
M.SAMPLE = 10

local null = json.null
local format = string.format

M.FIELDS = { "first_name", "last_name", "full_name", "email", "phone", "mobile_phone",
  "work_phone", "linkedin_url", "company_name", "company_domain", "job_title", "city", "state",
  "country" }
local FIELD_SET = util.set_of(M.FIELDS)

state_mod.register("csv_imports", function()
  return { by_key = {}, seq = 0 }
end)

M.SCHEMA = validate.object {
  csv_content_base64 = { type = "string", required = true },
  column_mapping = { type = "object", required = true, values = { type = "string" } },
  dispatch_enrichment = { type = "boolean" },
  enrichment_type = { type = "string", nullable = true,
    enum = { "partial", "phone_only", "full", "phone-only" } },
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
    errs[1] = validate.error({ "body", "column_mapping" }, "too_short",
      "Dictionary should have at least 1 item after validation, not 0", {})
  end
  local allowed = {}
  for i, f in ipairs(M.FIELDS) do
    allowed[i] = "'" .. f .. "'"
  end
  for _, k in ipairs(keys) do
    if not FIELD_SET[k] then
      errs[#errs + 1] = validate.error({ "body", "column_mapping", k, "[key]" }, "literal_error",
        "Input should be " .. table.concat(allowed, ", ", 1, #allowed - 1) .. " or "
          .. allowed[#allowed], k)
    end
  end
  return errs
end

local function idem_area(state)
  return state.data.csv_imports
end

local function nonempty(s)
  if s == nil then
    return nil
  end
  s = csv.trim(s)
  return s ~= "" and s or nil
end

local function identifies(f)
  if f.email or f.linkedin_url then
    return true
  end
  local named = (f.first_name and f.last_name) or f.full_name
  return (named and (f.company_name or f.company_domain)) and true or false
end

local function invalid(ctx, problem, details)
  return errors.build("validation_error", ctx.request_id, { problem = problem,
    details = details })
end

--- Decodes the base64 body text (whitespace ignored); bytes or nil, message.
local function decode_b64(text)
  local clean = text:gsub("%s+", "")
  if clean:find("[^%w%+/=]") then
    return nil, "csv_content_base64 is not base64 (standard alphabet)"
  end
  local rem = #clean % 4
  if rem == 2 then
    clean = clean .. "=="
  elseif rem == 3 then
    clean = clean .. "="
  end
  local bytes, err = native.b64decode(clean)
  if not bytes then
    return nil, "csv_content_base64 is not valid base64: " .. tostring(err)
  end
  return bytes
end

-- header name -> column index, exact after trimming, else case-insensitive.
local function header_index(header)
  local exact, folded = {}, {}
  for i, h in ipairs(header) do
    local t = csv.trim(h)
    if exact[t] == nil then
      exact[t] = i
    end
    local l = t:lower()
    if folded[l] == nil then
      folded[l] = i
    end
  end
  return function(name)
    local t = csv.trim(name)
    return exact[t] or folded[t:lower()]
  end
end

function M.import(ctx)
  local b = ctx.body
  local errs = mapping_errors(b.column_mapping)
  if errs[1] then
    return validate.response(errs)
  end
  local dispatch = b.dispatch_enrichment ~= false
  local etype = b.enrichment_type ~= null and b.enrichment_type or nil
  if dispatch and not etype then
    return validate.response { validate.error({ "body", "enrichment_type" }, "missing",
      "Field required when dispatch_enrichment is true", null) }
  end
  local state = ctx.state
  local list = lists.get(state, ctx.params.list_id, ctx)
  if not list then
    return enrichment.list_not_found(ctx, ctx.params.list_id)
  end
  if dispatch then
    local status, body = auth.require_scope(ctx.key, "enrich:write", ctx.request_id)
    if status then
      body.error.problem = "CSV import with dispatch_enrichment needs the enrich:write scope."
      return status, body
    end
  end
  if not switches.get(state).csv_import then
    local status, body = errors.build("csv_import_disabled", ctx.request_id, {
      cause = "The CSV import feature flag is off.", retry_after_ms = 60000,
    })
    return status, body, { ["Retry-After"] = "60" }
  end
  local now = state:now_ms()
  local idem = idem_area(state)
  local ikey = b.idempotency_key ~= null and b.idempotency_key or nil
  local skey = ikey and (ctx.org.id .. "|" .. ikey)
  if skey then
    local prior = idem.by_key[skey]
    if prior and prior.time_ms + M.IDEMPOTENCY_MS >= now then
      local replay = {}
      for k, v in pairs(prior.body) do
        replay[k] = v
      end
      replay.sample_skip_rows = json.array()
      for i, n in ipairs(prior.body.sample_skip_rows) do
        replay.sample_skip_rows[i] = n
      end
      replay.idempotency_replayed = true
      replay.timestamp_ms = now
      replay.message = "Replayed the response of an earlier import with this idempotency_key; "
        .. "nothing was imported or charged again."
      return 201, replay
    end
  end
  if #b.csv_content_base64 > math.ceil(M.MAX_BYTES / 3) * 4 + 4096 then
    return errors.build("payload_too_large", ctx.request_id, {
      problem = "The CSV is larger than 150 KB.",
      fix = "Split the file into chunks of at most 150 KB (~600 rows) and import each.",
      details = { max_bytes = M.MAX_BYTES },
    })
  end
  local raw, derr = decode_b64(b.csv_content_base64)
  if not raw then
    return invalid(ctx, derr, { field = "csv_content_base64" })
  end
  if #raw > M.MAX_BYTES then
    return errors.build("payload_too_large", ctx.request_id, {
      problem = format("The CSV is %d bytes; the limit is %d (150 KB).", #raw, M.MAX_BYTES),
      fix = "Split the file into chunks of at most 150 KB (~600 rows) and import each.",
      details = { max_bytes = M.MAX_BYTES, bytes = #raw },
    })
  end
  local records, perr = csv.parse(raw)
  if not records then
    return invalid(ctx, "The CSV is malformed: " .. perr .. ".", { field = "csv_content_base64" })
  end
  if #records == 0 then
    return invalid(ctx, "The CSV is empty: it needs a header row.",
      { field = "csv_content_base64" })
  end
  local find = header_index(records[1])
  local columns, missing = {}, {}
  for _, field in ipairs(util.sorted_keys(b.column_mapping)) do
    local header = b.column_mapping[field]
    local idx = find(header)
    if idx then
      columns[field] = idx
    else
      missing[#missing + 1] = header
    end
  end
  if missing[1] then
    local headers = json.array()
    for i, h in ipairs(records[1]) do
      headers[i] = csv.trim(h)
    end
    return errors.build("missing_column", ctx.request_id, {
      problem = "column_mapping names header(s) that are not in the CSV: "
        .. table.concat(missing, ", ") .. ".",
      details = { missing_headers = json.array(missing), csv_headers = headers },
    })
  end
  local rows, reasons, sample = {}, {}, json.array()
  local seen_email, seen_slug = {}, {}
  local function skip(reason, row)
    reasons[reason] = (reasons[reason] or 0) + 1
    if #sample < M.SAMPLE then
      sample[#sample + 1] = row
    end
  end
  for i = 2, #records do
    local rec = records[i]
    local f = {}
    for field, idx in pairs(columns) do
      f[field] = nonempty(rec[idx])
    end
    local email = f.email and f.email:lower()
    local slug = f.linkedin_url and world.linkedin_slug(f.linkedin_url)
    if not identifies(f) then
      skip("missing_required", rec.row)
    elseif email and seen_email[email] then
      skip("duplicate_email", rec.row)
    elseif slug and seen_slug[slug] then
      skip("duplicate_linkedin", rec.row)
    elseif #rows >= M.ROW_CAP then
      skip("row_cap_exceeded", rec.row)
    else
      if email then
        seen_email[email] = true
      end
      if slug then
        seen_slug[slug] = true
        f.linkedin_url = enrichment.canonical_linkedin(f.linkedin_url) or f.linkedin_url
      end
      rows[#rows + 1] = f
    end
  end
  local parsed = #records - 1
  local tier = etype and costs.tier(etype)
  local priced, rec
  if dispatch then
    local err
    priced, rec, err = costs.authorize(ctx, "bulk_import_csv", {
      list_id = list.list_id, enrichment_type = tier, row_count = #rows,
    }, b.quote_id, { what = "csv-import" })
    if not priced then
      return rec, err
    end
  end
  local ids = {}
  for i, f in ipairs(rows) do
    local lead = leads.create(state, ctx.org.id, {
      first_name = f.first_name, last_name = f.last_name, full_name = f.full_name,
      email = f.email, phone = f.phone or f.mobile_phone or f.work_phone,
      linkedin_url = f.linkedin_url, company_name = f.company_name,
      company_domain = f.company_domain, job_title = f.job_title, city = f.city,
      state = f.state, country = f.country, source = "csv",
    })
    ids[i] = lead.lead_id
  end
  lists.add_leads(state, list, ids)
  local wf
  if dispatch and #ids > 0 then
    local status, err
    wf, status, err = enrichment.launch(ctx, enrichment.bulk_spec(ctx, list, ids, tier,
      priced.cost, "csv"), priced, rec)
    if not wf then -- cannot happen after the balance check; keep the rows, report it
      return status, err
    end
  end
  local skipped = parsed - #rows
  local body = {
    list_id = list.list_id,
    rows_parsed = parsed,
    rows_imported = #rows,
    rows_skipped = skipped,
    skip_reasons = reasons,
    sample_skip_rows = sample,
    workflow_id = wf and wf.workflow_id or null,
    enrichment_status_url = wf and enrichment.poll_url(ctx, wf.workflow_id) or null,
    idempotency_replayed = false,
    task_id = null,
    timestamp_ms = now,
    agent_instructions = wf and format("Imported %d rows; enrichment %s reserved %d credits. "
      .. "Poll enrichment_status_url until it is terminal.", #rows, wf.workflow_id, wf.reserved)
      or format("Imported %d rows (%d skipped).", #rows, skipped),
    usage = (not dispatch) and "Rows were imported without enrichment: estimate tool "
      .. "enrich_list for this list and run POST /enrichment/bulk to enrich them." or null,
    message = (dispatch and #ids == 0) and "No rows were imported, so no enrichment was "
      .. "dispatched." or null,
  }
  if skey then
    idem.seq = idem.seq + 1
    if idem.seq % 64 == 0 then
      util.prune_expired(idem.by_key, now, M.IDEMPOTENCY_MS)
    end
    idem.by_key[skey] = { time_ms = now, list_id = list.list_id, body = body }
  end
  return 201, body
end

function M.register(router)
  router:add("POST", "/lead-lists/{list_id}/csv-import", { scope = "lists:write",
    body = M.SCHEMA, handler = M.import })
end

return M
