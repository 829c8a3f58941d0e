--- The upload of a CSV import (sandbox.endpoints.csv_import): the base64 text decoded and
-- parsed (sandbox.csv), column_mapping resolved against the header row, and the rows that
-- identify a person selected (duplicates and rows past ROW_CAP skipped).
local csv = require "sandbox.csv"
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local native = require "sandbox.native"
local util = require "sandbox.util"
local world = require "sandbox.world"

local M = {}

M.MAX_BYTES = 150 * 1024
M.ROW_CAP = 600
M.SAMPLE = 10

local format = string.format

local function nonempty(s)
  if s == nil then return nil end
  s = csv.trim(s)
  return s ~= "" and s or nil
end

local function identifies(f)
  if f.email or f.linkedin_url then return true end
  local named = (f.first_name and f.last_name) or f.full_name
  return (named and (f.company_name or f.company_domain)) and true or false
end

local function invalid(ctx, problem, details)
  return errors.build("validation_error", ctx.request_id, { problem = problem, details = details })
end

--- Decodes the base64 body text (whitespace ignored); bytes or nil, message.
local function decode_b64(text)
  local clean = text:gsub("%s+", "")
  if clean:find("[^%w%+/=]") then return nil, "csv_content_base64 is not base64 (standard alphabet)" end
  local rem = #clean % 4
  if rem == 2 then
    clean = clean .. "=="
  elseif rem == 3 then
    clean = clean .. "="
  end
  local bytes, err = native.b64decode(clean)
  if not bytes then return nil, "csv_content_base64 is not valid base64: " .. tostring(err) end
  return bytes
end

-- header name -> column index, exact after trimming, else case-insensitive.
local function header_index(header)
  local exact, folded = {}, {}
  for i, h in ipairs(header) do
    local t = csv.trim(h)
    if exact[t] == nil then exact[t] = i end
    local l = t:lower()
    if folded[l] == nil then folded[l] = i end
  end
  return function(name)
    local t = csv.trim(name)
    return exact[t] or folded[t:lower()]
  end
end

local function too_large(ctx, problem, details)
  return errors.build("payload_too_large", ctx.request_id, {
    problem = problem,
    fix = "Split the file into chunks of at most 150 KB (~600 rows) and import each.",
    details = details,
  })
end

--- The CSV records of the base64 upload (413 above MAX_BYTES, 400 for bad base64, malformed
-- CSV or no header row); or nil, status, body.
function M.read(ctx, text)
  if #text > math.ceil(M.MAX_BYTES / 3) * 4 + 4096 then
    return nil, too_large(ctx, "The CSV is larger than 150 KB.", { max_bytes = M.MAX_BYTES })
  end
  local raw, derr = decode_b64(text)
  if not raw then return nil, invalid(ctx, derr, { field = "csv_content_base64" }) end
  if #raw > M.MAX_BYTES then
    return nil,
      too_large(
        ctx,
        format("The CSV is %d bytes; the limit is %d (150 KB).", #raw, M.MAX_BYTES),
        { max_bytes = M.MAX_BYTES, bytes = #raw }
      )
  end
  local records, perr = csv.parse(raw)
  if not records then
    return nil, invalid(ctx, "The CSV is malformed: " .. perr .. ".", { field = "csv_content_base64" })
  end
  if #records == 0 then
    return nil, invalid(ctx, "The CSV is empty: it needs a header row.", { field = "csv_content_base64" })
  end
  return records
end

--- field -> column index for column_mapping over the header row; or nil, status, body (400
-- missing_column).
function M.columns(ctx, header, mapping)
  local find = header_index(header)
  local columns, missing = {}, {}
  for _, field in ipairs(util.sorted_keys(mapping)) do
    local idx = find(mapping[field])
    if idx then
      columns[field] = idx
    else
      missing[#missing + 1] = mapping[field]
    end
  end
  if not missing[1] then return columns end
  local headers = json.array()
  for i, h in ipairs(header) do
    headers[i] = csv.trim(h)
  end
  return nil,
    errors.build("missing_column", ctx.request_id, {
      problem = "column_mapping names header(s) that are not in the CSV: " .. table.concat(missing, ", ") .. ".",
      details = { missing_headers = json.array(missing), csv_headers = headers },
    })
end

--- The rows to import (field -> value) of the records after the header, and the skipped ones:
-- reason -> count and the first SAMPLE row numbers. A kept row's linkedin_url becomes
-- canonical_linkedin(url) when that gives one.
function M.rows(records, columns, canonical_linkedin)
  local rows, reasons, sample = {}, {}, json.array()
  local seen_email, seen_slug = {}, {}
  local function skip(reason, row)
    reasons[reason] = (reasons[reason] or 0) + 1
    if #sample < M.SAMPLE then sample[#sample + 1] = row end
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
      if email then seen_email[email] = true end
      if slug then
        seen_slug[slug] = true
        f.linkedin_url = canonical_linkedin(f.linkedin_url) or f.linkedin_url
      end
      rows[#rows + 1] = f
    end
  end
  return rows, reasons, sample
end

return M
