--- cleanlist.json: lua-cjson with the client's conventions.
-- lua-cjson 2.1 decodes every number as a float; on Lua 5.3+ integral values are turned
-- back into integers so that counts, credits and timestamp_ms print as the API sent them.
local cjson = require("cjson.safe").new()

local type, pairs = type, pairs
local tointeger = math.tointeger -- luacheck: ignore 143 (nil before Lua 5.3)

local M = { null = cjson.null, encode = cjson.encode }

local function integerize(t)
  for k, v in pairs(t) do
    local tv = type(v)
    if tv == "number" then
      local i = tointeger(v)
      if i then t[k] = i end
    elseif tv == "table" then
      integerize(v)
    end
  end
end

--- Decodes a JSON text; returns the value, or nil and a message.
function M.decode(text)
  local v, err = cjson.decode(text)
  if tointeger and type(v) == "table" then integerize(v) end
  return v, err
end

return M
