--- cleanlist.json: lua-cjson with the client's conventions.
-- * JSON null is `cleanlist.null`, a sentinel whose tostring is "null" on every engine (lua-cjson's
--   own null is a light userdata that prints as "userdata: NULL"); it encodes back to null.
-- * lua-cjson 2.1 decodes every number as a float; on Lua 5.3+ integral values are turned back
--   into integers so that counts, credits and timestamp_ms print as the API sent them.
local cjson = require("cjson.safe").new()

local type, pairs, next, setmetatable = type, pairs, next, setmetatable

local M = {}

--- JSON null as decoded and as accepted by encode.
M.null = setmetatable({}, {
  __name = "cleanlist.null",
  __tostring = function()
    return "null"
  end,
  __newindex = function()
    error("cleanlist.null is read-only", 2)
  end,
})
local null, cnull = M.null, cjson.null

-- In place: cjson.null -> M.null and, where the engine has integers, integral floats ->
-- integers (in C: the walk over every decoded value is a good part of a small call's cost).
local tidy = require("cleanlist.core").json_tidy

--- Decodes a JSON text; returns the value, or nil and a message.
function M.decode(text)
  local v, err = cjson.decode(text)
  if v == cnull then return null end
  if type(v) == "table" then tidy(v, cnull, null) end
  return v, err
end

-- A copy of t with M.null turned into cjson's null (only when t holds one).
local function has_null(t, depth)
  if depth > 64 then return false end
  for _, v in pairs(t) do
    if v == null then return true end
    if type(v) == "table" and has_null(v, depth + 1) then return true end
  end
  return false
end

local function denull(t)
  if t == null then return cnull end
  local c = {}
  for k, v in pairs(t) do
    c[k] = type(v) == "table" and denull(v) or v
  end
  return c
end

--- Encodes a value; returns the text, or nil and a message.
function M.encode(v)
  if v == null then return "null" end
  if type(v) == "table" and next(v) ~= nil and has_null(v, 0) then v = denull(v) end
  return cjson.encode(v)
end

return M
