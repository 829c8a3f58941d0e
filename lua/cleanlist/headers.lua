--- cleanlist.headers: the extra headers of a client, of a view and of one call. They are
-- checked, merged by name (a later one replaces an earlier one of the same name, in any
-- case) and written as the "Name: value" lines the transport sends.
local errors = require "cleanlist.errors"

local type, pairs, ipairs, tostring, error = type, pairs, ipairs, tostring, error
local sort = table.sort

local M = {}

-- Headers the client and the transport write themselves: framing, credentials, the body's
-- type and the User-Agent. An extra header may not replace them.
local OWN_HEADERS = {
  authorization = true,
  ["proxy-authorization"] = true,
  host = true,
  ["content-length"] = true,
  ["transfer-encoding"] = true,
  connection = true,
  ["content-type"] = true,
  ["user-agent"] = true,
  expect = true,
  te = true,
  upgrade = true,
}

local function config_error(message)
  return errors.new { kind = "config", message = message }
end

--- Extra headers {name = value} checked and merged over `base` (a table keyed by the
-- lower-case name, holding {name, value}); returns the merged table. A bad header raises a
-- config error at `level` (of the caller); `what` names the call. Values are never quoted back
-- in an error: a header may carry a secret.
---@param base table|nil
---@param extra table
---@param what string
---@param level integer
---@return table
function M.merge(base, extra, what, level)
  local merged = {}
  for k, v in pairs(base or {}) do
    merged[k] = v
  end
  for name, value in pairs(extra) do
    if type(name) ~= "string" or not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
      error(
        config_error(
          what
            .. ": a header name is a token (letters, digits, '-'), not "
            .. (type(name) == "string" and ("'" .. name:sub(1, 40):gsub("%c", "?") .. "'") or type(name))
        ),
        level + 1
      )
    end
    if OWN_HEADERS[name:lower()] then
      error(config_error(what .. ": the client sets " .. name .. " itself"), level + 1)
    end
    if type(value) == "number" then value = tostring(value) end
    if type(value) ~= "string" or value:find("[%z\1-\8\10-\31\127]") then
      error(
        config_error(
          what .. ": the value of header " .. name .. " must be a string without line breaks or control characters"
        ),
        level + 1
      )
    end
    merged[name:lower()] = { name, value }
  end
  return merged
end

--- The "Name: value" lines of a merged header table (nil: none), in name order, with
-- "Accept: application/json" first when it has no Accept. A client computes them once for its
-- own headers; a call with headers of its own computes its lines again.
---@param merged table|nil
---@return string[]
function M.lines(merged)
  local lines = {}
  if not (merged and merged.accept) then lines[1] = "Accept: application/json" end
  local names = {}
  for k in pairs(merged or {}) do
    names[#names + 1] = k
  end
  sort(names)
  for _, k in ipairs(names) do
    lines[#lines + 1] = merged[k][1] .. ": " .. merged[k][2]
  end
  return lines
end

--- A copy of an array of lines, which the caller may extend (a request adds its Content-Type).
---@param lines string[]
---@return string[]
function M.copy(lines)
  local out = {}
  for i = 1, #lines do
    out[i] = lines[i]
  end
  return out
end

return M
