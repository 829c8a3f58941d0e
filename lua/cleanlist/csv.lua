--- cleanlist.csv: the little of CSV (RFC 4180) the client needs: counting the records of a
-- file (quoted fields may hold commas, quotes and line breaks), reading its header, and
-- writing a row.
local M = {}

-- Splits text into records; calls each(fields) per record. Handles "" escapes and CRLF.
function M.each_record(text, each)
  local i, n = 1, #text
  if text:sub(1, 3) == "\239\187\191" then i = 4 end -- a UTF-8 byte order mark
  local fields, field, quoted = {}, {}, false
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then
          field[#field + 1] = '"'
          i = i + 1
        else
          quoted = false
        end
      else
        field[#field + 1] = c
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      fields[#fields + 1] = table.concat(field)
      field = {}
    elseif c == "\n" or c == "\r" then
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      fields[#fields + 1] = table.concat(field)
      field = {}
      if not (#fields == 1 and fields[1] == "") then each(fields) end
      fields = {}
    else
      field[#field + 1] = c
    end
    i = i + 1
  end
  if #field > 0 or #fields > 0 then
    fields[#fields + 1] = table.concat(field)
    each(fields)
  end
end

--- The header (array of names) and the number of data records.
function M.shape(text)
  local header, rows = nil, 0
  M.each_record(text, function(fields)
    if header then
      rows = rows + 1
    else
      header = fields
    end
  end)
  return header or {}, rows
end

--- s without leading and trailing white space.
---@param s string
---@return string
function M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function quote(v)
  if v == nil then return "" end
  v = tostring(v)
  if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

--- One CSV line (CRLF-terminated) of the values, quoted where they need it.
function M.row(values)
  local out = {}
  for i = 1, #values do
    out[i] = quote(values[i])
  end
  return table.concat(out, ",") .. "\r\n"
end

return M
