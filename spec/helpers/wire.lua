--- What reached the sandbox, read from its request log, for the client's functional specs.
--
--   local wire = require "spec.helpers.wire"
--   wire.calls(sb)                     --> { "POST /credits/estimate", ... } (under the base path)
--   wire.statuses(sb)                  --> { 200, 400, ... }
--   wire.bodies(sb, "POST", "/x")      --> the decoded bodies sent to /x
--   wire.refused(sb, loc, typ, fn)     --> fn's call was refused before sending
--   wire.api_error(res, err, kind, status, code)
--   wire.list_named(client, name)      --> the list_id of the list called name
local cjson = require "cjson"
local assert = require "luassert"

local M = {}

M.PREFIX = "/api/v1/public"
local PREFIX = M.PREFIX

--- The API requests of the log as "METHOD /path" (under the base path when there), oldest first.
function M.calls(sb)
  local out = {}
  for i, r in ipairs(sb:requests()) do
    local path = r.path
    if path:sub(1, #PREFIX) == PREFIX then path = path:sub(#PREFIX + 1) end
    out[i] = r.method .. " " .. path
  end
  return out
end

--- The statuses the log recorded, in order.
function M.statuses(sb)
  local out = {}
  for i, r in ipairs(sb:requests()) do
    out[i] = math.floor(tonumber(r.status) or 0)
  end
  return out
end

--- The decoded bodies of the logged `method` requests to `path` (under the base path).
function M.bodies(sb, method, path)
  local out = {}
  for _, r in ipairs(sb:requests()) do
    if r.method == method and r.path == PREFIX .. path then out[#out + 1] = cjson.decode(r.body) end
  end
  return out
end

--- A detail entry's loc as "body.contacts.0".
function M.loc_text(loc)
  local parts = {}
  for i, p in ipairs(loc) do
    parts[i] = type(p) == "number" and ("%d"):format(p) or tostring(p)
  end
  return table.concat(parts, ".")
end

--- res, err are a call the client refused before sending: nil and an invalid_request
-- validation_error whose detail (entries with loc and msg) names `loc` (with type `typ` when
-- given), with nothing in the sandbox's log. Returns the error.
function M.refused_result(sb, res, err, loc, typ)
  assert.is_nil(res)
  assert.is_table(err, "expected an error")
  assert.is_nil(err.status, "the call went on the wire: HTTP " .. tostring(err.status) .. " " .. tostring(err.message))
  assert.equals("invalid_request", err.kind)
  assert.equals("validation_error", err.code)
  assert.is_table(err.detail)
  local want, seen, hit = M.loc_text(loc), {}, nil
  for _, d in ipairs(err.detail) do
    assert.is_table(d.loc)
    assert.is_string(d.msg)
    seen[#seen + 1] = M.loc_text(d.loc) .. ":" .. tostring(d.type)
    if M.loc_text(d.loc) == want and (not typ or d.type == typ) then hit = d end
  end
  assert.truthy(hit, "no detail at " .. want .. " in " .. table.concat(seen, ", "))
  assert.same({}, M.calls(sb))
  return err
end

--- Runs fn on an empty request log and checks (refused_result) that its call was refused.
function M.refused(sb, loc, typ, fn)
  sb:clear()
  local res, err = fn()
  return M.refused_result(sb, res, err, loc, typ)
end

--- An error the API answered: kind, status and (when given) code.
function M.api_error(res, err, kind, status, code)
  assert.is_nil(res)
  assert.is_table(err, "expected an error")
  assert.equals(kind, err.kind)
  assert.equals(status, err.status)
  if code then assert.equals(code, err.code) end
  assert.matches("^req_%x+$", err.request_id)
  return err
end

--- The list_id (and the list) the client sees under `name`.
function M.list_named(c, name)
  local page = assert(c:list_lists { limit = 100 })
  for _, l in ipairs(page.lists) do
    if l.name == name then return l.list_id, l end
  end
  error("no list named " .. name)
end

return M
