--- JSON for the sandbox: lua-cjson decodes; a small encoder writes objects with sorted keys
-- (byte-stable output), integers without exponents, "/" unescaped, and arrays marked with
-- `json.array` so that an empty array encodes as `[]` rather than `{}`.
local cjson = require "cjson"

local M = {}

local decoder = cjson.new()
decoder.decode_max_depth(64)
decoder.decode_invalid_numbers(false) -- NaN, Infinity, 0x10: not JSON

M.null = cjson.null

local array_mt = { __name = "sandbox.json.array" }

--- Marks t (default: a new table) as a JSON array.
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

function M.is_array(t)
  return getmetatable(t) == array_mt
end

local concat, sort, format, floor = table.concat, table.sort, string.format, math.floor
local type, pairs, tostring = type, pairs, tostring

local escapes = {
  ['"'] = '\\"',
  ["\\"] = "\\\\",
  ["\b"] = "\\b",
  ["\f"] = "\\f",
  ["\n"] = "\\n",
  ["\r"] = "\\r",
  ["\t"] = "\\t",
}
local function escape_char(c)
  return escapes[c] or format("\\u%04x", c:byte())
end

-- Encoded strings are memoised: keys, ids and enum values repeat from one response to the
-- next, and escaping in Lua costs more than a table lookup. The memo is dropped when it grows.
local MEMO_MAX = 8192
local memo, memo_size = {}, 0

local function encode_string(s)
  local e = memo[s]
  if e then return e end
  if s:find('[%c"\\]') then
    e = '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
  else
    e = '"' .. s .. '"'
  end
  if #s <= 256 then
    if memo_size >= MEMO_MAX then
      memo, memo_size = {}, 0
    end
    memo[s], memo_size = e, memo_size + 1
  end
  return e
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then error("cannot encode " .. tostring(n) .. " as JSON", 0) end
  if floor(n) == n and n > -9007199254740992 and n < 9007199254740992 then return format("%d", n) end
  return format("%.14g", n)
end

-- One output buffer, reused by every call (the sandbox serves one request at a time): no
-- table growth per response. `n` is the number of pieces written so far.
local buf, n = {}, 0

local encode_value

-- A table is an array when marked, or when its keys are exactly 1..#t (#t > 0).
local function is_sequence(t, len)
  if getmetatable(t) == array_mt then return true end
  if len == 0 then return false end
  local count = 0
  for _ in pairs(t) do
    count = count + 1
  end
  return count == len
end

local function encode_array(t, len, depth)
  if len == 0 then
    n = n + 1
    buf[n] = "[]"
    return
  end
  n = n + 1
  buf[n] = "["
  for i = 1, len do
    if i > 1 then
      n = n + 1
      buf[n] = ","
    end
    encode_value(t[i], depth)
  end
  n = n + 1
  buf[n] = "]"
end

local function encode_object(t, depth)
  local keys, count = {}, 0
  for k in pairs(t) do
    count = count + 1
    keys[count] = type(k) == "string" and k or tostring(k)
  end
  if count == 0 then
    n = n + 1
    buf[n] = "{}"
    return
  end
  sort(keys)
  local sep = "{"
  for i = 1, count do
    local k = keys[i]
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    buf[n + 1] = sep
    buf[n + 2] = memo[k] or encode_string(k)
    buf[n + 3] = ":"
    n = n + 3
    sep = ","
    encode_value(v, depth)
  end
  n = n + 1
  buf[n] = "}"
end

encode_value = function(v, depth)
  local tv = type(v)
  if tv == "string" then
    n = n + 1
    buf[n] = memo[v] or encode_string(v)
  elseif tv == "number" then
    n = n + 1
    buf[n] = encode_number(v)
  elseif tv == "table" then
    if depth > 64 then error("cannot encode JSON nested deeper than 64 levels", 0) end
    local len = #v
    if is_sequence(v, len) then
      encode_array(v, len, depth + 1)
    else
      encode_object(v, depth + 1)
    end
  elseif tv == "boolean" then
    n = n + 1
    buf[n] = v and "true" or "false"
  elseif v == nil or v == M.null then
    n = n + 1
    buf[n] = "null"
  else
    error("cannot encode a " .. tv .. " as JSON", 0)
  end
end

--- Encodes v (tables, strings, numbers, booleans, json.null) as a JSON text.
function M.encode(v)
  n = 0
  encode_value(v, 0)
  local out = concat(buf, "", 1, n)
  if n > 4096 then -- do not keep a huge response's pieces alive
    buf = {}
  end
  return out
end

--- Decodes a JSON text; returns the value, or nil and a message.
function M.decode(s)
  local ok, v = pcall(decoder.decode, s)
  if ok then return v end
  return nil, tostring(v)
end

local tointeger = rawget(math, "tointeger") -- Lua 5.3+

--- x as an integer (Lua 5.4 decodes JSON numbers as floats), or nil when x is not integral.
function M.integer(x)
  if type(x) ~= "number" or x ~= x or floor(x) ~= x or x == math.huge or x == -math.huge then return nil end
  return tointeger and tointeger(x) or x
end

return M
