--- cleanlist.base64: standard base64 (RFC 4648, with padding) in plain Lua.
local byte, char, concat = string.byte, string.char, table.concat
local floor = math.floor

local M = {}

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local ENC, DEC = {}, {}
for i = 1, 64 do
  ENC[i - 1] = ALPHABET:sub(i, i)
  DEC[byte(ALPHABET, i)] = i - 1
end

function M.encode(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = ENC[floor(v / 262144)]
      .. ENC[floor(v / 4096) % 64]
      .. (b and ENC[floor(v / 64) % 64] or "=")
      .. (c and ENC[v % 64] or "=")
  end
  return concat(out)
end

--- The decoded bytes, or nil and a message when s is not base64.
function M.decode(s)
  s = s:gsub("%s", "")
  if #s % 4 ~= 0 or s:find("[^%w%+/=]") or s:find("=[^=]") then return nil, "not base64" end
  local out = {}
  for i = 1, #s, 4 do
    local a, b, c, d = byte(s, i, i + 3)
    local v = DEC[a] * 262144 + DEC[b] * 4096 + (DEC[c] or 0) * 64 + (DEC[d] or 0)
    local x, y, z = floor(v / 65536), floor(v / 256) % 256, v % 256
    if d ~= 61 then
      out[#out + 1] = char(x, y, z)
    elseif c ~= 61 then
      out[#out + 1] = char(x, y)
    else
      out[#out + 1] = char(x)
    end
  end
  return concat(out)
end

return M
