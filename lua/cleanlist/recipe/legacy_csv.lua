--- cleanlist.recipe.legacy_csv: the files of the legacy_bulk recipe. The contacts of a CSV
-- file, found by their headers, and a row of the merged results for each legacy result item.
local json = require "cleanlist.json"
local files = require "cleanlist.recipe.files"

local type, ipairs, tostring = type, ipairs, tostring
local concat = table.concat

local M = {}

-- Headers recognised (the header lowered, without anything but letters and digits) -> the
-- contact field its column fills (the first such column of the file wins).
M.ALIASES = {
  first_name = { "firstname", "first", "givenname" },
  last_name = { "lastname", "last", "surname", "familyname" },
  email = { "email", "emailaddress", "workemail" },
  company_domain = { "companydomain", "domain", "website", "companywebsite" },
  company_name = { "companyname", "company", "organization", "organisation", "account" },
  linkedin_url = { "linkedinurl", "linkedin", "linkedinprofile", "linkedinprofileurl" },
  title = { "title", "jobtitle" },
}

-- The columns of the merged results, in order.
M.COLUMNS = {
  "row",
  "task_id",
  "workflow_id",
  "status",
  "first_name",
  "last_name",
  "full_name",
  "email",
  "email_status",
  "phone",
  "company_name",
  "company_domain",
  "linkedin_url",
  "credits_charged",
}

--- The contacts of the CSV text of the file at path, in order: { row = data row number,
-- contact = {field = value} }, and the columns used, for a person ("email=E-mail, ...").
-- nil and what is wrong when the file has no header row or no column the recipe knows.
---@param text string
---@param path string
---@return table[]|nil, string
function M.contacts(text, path)
  local header, mapping, records = files.records(text, M.ALIASES)
  if not header then return nil, ("%s is empty: it needs a header row"):format(path) end
  if next(mapping) == nil then
    return nil,
      (
        "no column of %s is one the recipe knows (first_name, last_name, email, "
        .. "company_domain, company_name, linkedin_url, title); it has: %s"
      ):format(path, concat(header, ", "))
  end
  local rows = {}
  for n, c in ipairs(records) do
    rows[n] = { row = n, contact = c }
  end
  return rows, files.mapping_text(mapping, header)
end

local function str(v)
  if v == nil or v == json.null then return nil end
  return tostring(v)
end

--- One merged result row (by M.COLUMNS) from a legacy result item of the contact at row_no.
---@param row_no integer|nil
---@param item table
---@return table
function M.result_row(row_no, item)
  local p = type(item.prospect) == "table" and item.prospect or {}
  local co = type(item.company) == "table" and item.company or {}
  local phones = {}
  if type(item.personal_phone_numbers) == "table" then
    for _, ph in ipairs(item.personal_phone_numbers) do
      phones[#phones + 1] = tostring(ph)
    end
  end
  return {
    row = row_no,
    task_id = str(item.task_id),
    workflow_id = str(item.workflow_id),
    status = str(item.status),
    first_name = str(p.first_name),
    last_name = str(p.last_name),
    full_name = str(p.full_name),
    email = str(item.primary_email),
    email_status = str(item.primary_email_status),
    phone = phones[1] and concat(phones, ";") or nil,
    company_name = str(co.name),
    company_domain = str(co.domain),
    linkedin_url = str(p.linkedin_url),
    credits_charged = type(item.credits_charged) == "number" and item.credits_charged or nil,
  }
end

--- Writes the merged rows to path: JSON lines when jsonl, else CSV. Returns true, or nil and
-- why not.
---@param path string
---@param rows table[]
---@param jsonl boolean
---@return true|nil, string|nil
function M.write(path, rows, jsonl)
  return files.write_rows(path, M.COLUMNS, rows, jsonl)
end

return M
