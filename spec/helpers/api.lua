--- Small helpers for checking API bodies in the specs.
--
--   local api = require "spec.helpers.api"
--   api.set_of(list)  --> { [value] = true, ... }
--   api.locs(body)    --> the 422 detail entries as "loc.path:type" strings
--   api.b64(s)        --> base64 of s
--   api.parse_csv(t)  --> the rows of RFC 4180 text
--   api.CSV, api.CSV_MAPPING: an import file with a row for each skip reason
local M = {}

--- The values of an array as the keys of a set.
function M.set_of(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

--- The entries of a 422 HTTPValidationError body as "loc.path:type" strings, in order; array
-- indexes in loc are written as integers (body.lead_ids.0:too_short).
function M.locs(body)
  local out = {}
  for i, d in ipairs(body.detail) do
    local parts = {}
    for j, x in ipairs(d.loc) do
      parts[j] = type(x) == "number" and string.format("%d", x) or x
    end
    out[i] = table.concat(parts, ".") .. ":" .. d.type
  end
  return out
end

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- Base64 (standard alphabet, padded) without bit operations.
function M.b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = ALPHABET:sub(c1 + 1, c1 + 1)
      .. ALPHABET:sub(c2 + 1, c2 + 1)
      .. (b and ALPHABET:sub(c3 + 1, c3 + 1) or "=")
      .. (c and ALPHABET:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

--- Parses RFC 4180 text (CRLF records) into rows of fields; raises on a malformed quote, a
-- bare LF or a last record without its CRLF.
function M.parse_csv(text)
  local rows, row, field, i, n = {}, {}, {}, 1, #text
  local quoted = false
  while i <= n do
    local ch = text:sub(i, i)
    if quoted then
      if ch == '"' then
        if text:sub(i + 1, i + 1) == '"' then
          field[#field + 1] = '"'
          i = i + 1
        else
          quoted = false
        end
      else
        field[#field + 1] = ch
      end
    elseif ch == '"' then
      assert(#field == 0, "quote inside an unquoted field at byte " .. i)
      quoted = true
    elseif ch == "," then
      row[#row + 1] = table.concat(field)
      field = {}
    elseif ch == "\r" and text:sub(i + 1, i + 1) == "\n" then
      row[#row + 1] = table.concat(field)
      rows[#rows + 1] = row
      row, field = {}, {}
      i = i + 1
    else
      assert(ch ~= "\n", "bare LF at byte " .. i)
      field[#field + 1] = ch
    end
    i = i + 1
  end
  assert(not quoted, "unterminated quote")
  assert(#field == 0 and #row == 0, "the last record lacks its CRLF")
  return rows
end

--- A CSV for import with a BOM, quoting, a multi-line field and one row for each skip reason,
-- and the column_mapping that reads it.
M.CSV_MAPPING = {
  first_name = "First Name",
  last_name = "Last Name",
  email = "Email",
  company_name = "Company",
  linkedin_url = "LinkedIn",
}
M.CSV = table.concat({
  "\239\187\191First Name,Last Name,Email,Company,LinkedIn,Notes", -- row 1 (BOM)
  'Ada,Lovelace,ada@analytical.io,Analytical Engines,,"likes, commas"', -- 2
  'Grace,Hopper,grace@navy.example,"US Navy, Inc.",,', -- 3
  "Alan,Turing,ADA@analytical.io,Bletchley,,", -- 4 duplicate email
  ",,,,,orphan row", -- 5 missing required
  "Katherine,Johnson,,NASA,https://www.linkedin.com/in/kjohnson,", -- 6
  "Kathy,J,,NASA,linkedin.com/in/KJohnson/,", -- 7 duplicate linkedin
  '"Quoted ""Q""",Name,q@quoted.example,Quotes Ltd,,"multi',
  'line note"', -- 8
}, "\r\n") .. "\r\n"

--- `n` generated CSV rows from `first` on (leads F<i> L<i>, p<i>@big.example, Big Co) with the
-- header "First,Last,Email,Company", and the column_mapping that reads them.
function M.rows_csv(first, n)
  local rows = { "First,Last,Email,Company" }
  for i = first, first + n - 1 do
    rows[#rows + 1] = ("F%d,L%d,p%d@big.example,Big Co"):format(i, i, i)
  end
  return table.concat(rows, "\r\n") .. "\r\n"
end
M.ROWS_MAPPING = { first_name = "First", last_name = "Last", email = "Email", company_name = "Company" }

return M
