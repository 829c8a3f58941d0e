--- Small helpers for checking API bodies in the specs.
--
--   local api = require "spec.helpers.api"
--   api.set_of(list)  --> { [value] = true, ... }
--   api.locs(body)    --> the 422 detail entries as "loc.path:type" strings
--   api.b64(s)        --> base64 of s
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
    out[#out + 1] = ALPHABET:sub(c1 + 1, c1 + 1) .. ALPHABET:sub(c2 + 1, c2 + 1)
      .. (b and ALPHABET:sub(c3 + 1, c3 + 1) or "=") .. (c and ALPHABET:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

return M
