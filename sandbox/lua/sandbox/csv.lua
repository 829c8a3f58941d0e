--- A small RFC 4180 CSV reader for CSV import (API.md §6.3): UTF-8 with or without a BOM,
-- comma separated, fields optionally in double quotes ("" is a quote inside a quoted field;
-- quoted fields may hold commas and line breaks), records ended by CRLF, LF or CR. Blank
-- records are skipped. Returns an array of records (arrays of strings), or nil and a message.
local M = {}

local find, sub, byte = string.find, string.sub, string.byte

local QUOTE, COMMA, CR, LF = 34, 44, 13, 10

--- Parses text; returns records, or nil, message. Each record r has r.row = its 1-based
-- record number among non-blank records (the header is 1).
function M.parse(text)
  if sub(text, 1, 3) == "\239\187\191" then text = sub(text, 4) end
  local records = {}
  local pos, n = 1, #text
  local record, row = {}, 0
  local function finish()
    local blank = #record == 1 and record[1] == "" and not record.quoted
    if not blank then
      row = row + 1
      record.row = row
      record.quoted = nil
      records[#records + 1] = record
    end
    record = {}
  end
  if n == 0 then return records end
  while true do
    local c = byte(text, pos)
    local field, stop
    if c == QUOTE then
      local parts, i = {}, pos + 1
      while true do
        local q = find(text, '"', i, true)
        if not q then return nil, "unterminated quoted field in record " .. (row + 1) end
        parts[#parts + 1] = sub(text, i, q - 1)
        if byte(text, q + 1) == QUOTE then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          stop = q + 1
          break
        end
      end
      field = table.concat(parts)
      record.quoted = true
      local d = byte(text, stop)
      if d ~= nil and d ~= COMMA and d ~= CR and d ~= LF then
        return nil, "unexpected character after a closing quote in record " .. (row + 1)
      end
    else
      stop = find(text, "[,\r\n]", pos) or (n + 1)
      field = sub(text, pos, stop - 1)
      if find(field, '"', 1, true) then return nil, "a quote inside an unquoted field in record " .. (row + 1) end
    end
    record[#record + 1] = field
    local d = byte(text, stop)
    if d == COMMA then
      pos = stop + 1
      if pos > n then
        record[#record + 1] = ""
        finish()
        break
      end
    else
      finish()
      if d == nil then break end
      if d == CR and byte(text, stop + 1) == LF then stop = stop + 1 end
      pos = stop + 1
      if pos > n then break end
    end
  end
  return records
end

--- Trims ASCII whitespace.
function M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

return M
