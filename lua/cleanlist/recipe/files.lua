--- cleanlist.recipe.files: the files of a recipe that runs on a CSV file. The file read whole,
-- its records by known columns, the --out file next to it, the column mapping said for a
-- person, and rows written out as CSV or as JSON lines.
local csv = require "cleanlist.csv"
local json = require "cleanlist.json"
local header_columns = require("cleanlist.recipe.inputs").header_columns

local pairs, ipairs, tostring = pairs, ipairs, tostring
local concat, sort = table.concat, table.sort

local M = {}

--- The text of the file at path, or nil and why not ("cannot read PATH: ...").
---@param path string
---@return string|nil, string|nil
function M.read(path)
  local f, ferr = io.open(path, "rb")
  if not f then return nil, ("cannot read %s: %s"):format(path, tostring(ferr)) end
  local text = f:read("*a")
  f:close()
  return text
end

--- The path without its .csv (any case).
---@param path string
---@return string
function M.stem(path)
  return (path:gsub("%.[Cc][Ss][Vv]$", ""))
end

--- Where the results of a run on path go: out when given, else the file's name without .csv
-- followed by suffix ("-enriched.csv"); or nil and why when that is the input itself.
---@param path string
---@param out string|nil
---@param suffix string
---@return string|nil, string|nil
function M.out_path(path, out, suffix)
  local out_path = out or M.stem(path) .. suffix
  if out_path == path then return nil, ("--out %s would overwrite the input"):format(out_path) end
  return out_path
end

--- The records of a CSV text by the columns its header row names (header_columns of aliases):
-- the header row (nil for an empty text), the mapping {field = column index} and the data
-- records in order, each {field = value} with the values trimmed and the empty ones left out.
---@param text string
---@param aliases table<string, string[]>
---@return string[]|nil, table<string, integer>|nil, table[]
function M.records(text, aliases)
  local header, mapping, records = nil, nil, {}
  csv.each_record(text, function(fields)
    if not header then
      header, mapping = fields, header_columns(fields, aliases)
      return
    end
    local rec = {}
    for field, i in pairs(mapping) do
      local v = fields[i] and csv.trim(fields[i]) or ""
      if v ~= "" then rec[field] = v end
    end
    records[#records + 1] = rec
  end)
  return header, mapping, records
end

--- A column mapping for a person: "field=column, ..." by field. The mapping is {field =
-- column name}, or {field = column index} of the header row given.
---@param mapping table<string, string|integer>
---@param header string[]|nil
---@return string
function M.mapping_text(mapping, header)
  local keys = {}
  for k in pairs(mapping) do
    keys[#keys + 1] = k
  end
  sort(keys)
  for i, k in ipairs(keys) do
    keys[i] = k .. "=" .. (header and csv.trim(header[mapping[k]]) or mapping[k])
  end
  return concat(keys, ", ")
end

--- Writes rows (tables by column name) to path: JSON lines (each row with every column, null
-- where it has none) when jsonl, else CSV with a header row. Returns true, or nil and why not.
---@param path string
---@param columns string[]
---@param rows table[]
---@param jsonl boolean
---@return true|nil, string|nil
function M.write_rows(path, columns, rows, jsonl)
  local f, err = io.open(path, "wb")
  if not f then return nil, ("cannot write %s: %s"):format(path, tostring(err)) end
  if not jsonl then f:write(csv.row(columns)) end
  for _, row in ipairs(rows) do
    local values = {}
    for i, k in ipairs(columns) do
      if jsonl then
        values[k] = row[k] == nil and json.null or row[k]
      else
        values[i] = row[k] == nil and "" or row[k]
      end
    end
    f:write(jsonl and json.encode(values) .. "\n" or csv.row(values))
  end
  f:close()
  return true
end

--- One JSON object (a line of JSON lines) of the fields of `record`: those named in `first`, in
-- that order, then the others by name.
---@param record table
---@param first string[]
---@return string
function M.json_line(record, first)
  local parts, used = {}, {}
  local function add(k)
    if record[k] ~= nil and not used[k] then
      used[k] = true
      parts[#parts + 1] = json.encode(k) .. ":" .. json.encode(record[k])
    end
  end
  for _, k in ipairs(first) do
    add(k)
  end
  local rest = {}
  for k in pairs(record) do
    if not used[k] then rest[#rest + 1] = k end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do
    add(k)
  end
  return "{" .. table.concat(parts, ",") .. "}\n"
end

return M
