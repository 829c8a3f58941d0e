--- cleanlist.endpoint: one endpoint of the API as data, and the call that serves every method.
--
--   local GET_LIST = endpoint.define { "GET", "/lead-lists/{list_id}" }
--   function M:get_list(list_id) return endpoint.call(self, GET_LIST, list_id) end
--
-- A definition: [1] method, [2] path (`{name}` marks a path parameter, filled from the
-- positional arguments in order), then optional
--   body = schema | query = schema   the table argument (cleanlist.validate rules)
--   prepare = function(t, opts)      normalises the table before it is checked (spellings);
--                                    opts holds the client-side options and opts.params the
--                                    path parameters
--   check = function(t, errs, opts)  rules across fields; appends to errs (validate.add)
--   paid = {...}                     the quote flow of cleanlist.paid
--   root = true                      the path is under the API's origin, not the base URL
--   idempotent = true                the body carries an idempotency_key (minted when absent)
-- A call returns the decoded body or nil and a cleanlist.Error; an invalid call returns
-- kind "invalid_request" with a `detail` list like the server's 422, and sends nothing.
local errors = require "cleanlist.errors"
local validate = require "cleanlist.validate"

local type, pairs, ipairs, select, tostring = type, pairs, ipairs, select, tostring

local M = {}

--- The options a paid method takes beside its body's fields (never sent).
M.PAID_OPTIONS = { max_credits = { "number", min = 0 }, dry_run = { "boolean" } }

function M.define(def)
  def.method, def.path = def[1], def[2]
  def.params = {}
  for name in def.path:gmatch("{([%w_]+)}") do
    def.params[#def.params + 1] = name
  end
  def.where = def.body and "body" or "query"
  def.schema = def.body or def.query or {}
  return def
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

--- A random idempotency key (16 bytes from the system's random source, in hex).
function M.new_key()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(16)
  if f then f:close() end
  if not bytes or #bytes < 16 then
    local t = {}
    for i = 1, 16 do
      t[i] = string.char(math.random(0, 255))
    end
    bytes = table.concat(t) .. tostring(os.time()) .. tostring(os.clock())
  end
  return "idem_" .. (bytes:sub(1, 16):gsub(".", function(c)
    return ("%02x"):format(c:byte())
  end))
end

--- The error of a call refused before sending.
function M.invalid(def, errs)
  return errors.new {
    kind = "invalid_request",
    code = "validation_error",
    method = def.method,
    path = def.path,
    message = "refused before sending: " .. validate.summary(errs),
    detail = errs,
  }
end

local function usage_error(def, message)
  return errors.new { kind = "invalid_request", method = def.method, path = def.path, message = message }
end

--- Fills the path and checks the arguments. Returns path, table (a copy, with the client-side
-- options moved to opts), opts; or nil, err.
function M.prepare(def, ...)
  local n = #def.params
  -- A call without arguments to an endpoint that has shown it takes none (whoami, balance)
  if n == 0 and def.takes_nothing and select("#", ...) == 0 then return def.path, {}, { params = {} } end
  local errs, path, params = {}, def.path, {}
  for i, name in ipairs(def.params) do
    local v = select(i, ...)
    if type(v) == "number" then v = tostring(v) end
    if type(v) ~= "string" or v == "" then
      validate.add(errs, { "path", name }, "missing", "is required (a non-empty string)")
    else
      params[name] = v
      path = path:gsub("{" .. name .. "}", function()
        return urlencode(v)
      end)
    end
  end
  local input = select(n + 1, ...)
  if input ~= nil and type(input) ~= "table" then
    error(
      usage_error(
        def,
        def.method
          .. " "
          .. def.path
          .. " takes a table of "
          .. (def.where == "body" and "body fields" or "query parameters")
          .. ", not a "
          .. type(input)
      ),
      3
    )
  end
  local t, opts = {}, {}
  for k, v in pairs(input or {}) do
    t[k] = v
  end
  if def.paid then
    for k in pairs(M.PAID_OPTIONS) do
      opts[k], t[k] = t[k], nil
    end
    validate.check(opts, M.PAID_OPTIONS, "options", errs)
  end
  opts.params = params
  if def.prepare then def.prepare(t, opts) end
  validate.check(t, def.schema, def.where, errs)
  if def.check then def.check(t, errs, opts) end
  if #errs > 0 then return nil, M.invalid(def, errs) end
  if def.idempotent and t.idempotency_key == nil then t.idempotency_key = M.new_key() end
  if n == 0 and input == nil and not (def.paid or def.prepare or def.idempotent) then
    def.takes_nothing = true -- valid without arguments, and nothing is added to the call
  end
  return path, t, opts
end

--- Sends a prepared call.
function M.send(client, def, path, t)
  local body, query
  if def.where == "body" then
    body = t
  else
    query = t
  end
  if body and next(body) == nil and def.method ~= "POST" then body = nil end
  return client:request(def.method, path, {
    body = body,
    query = query,
    root = def.root,
    idempotency_key = body and body.idempotency_key or nil,
    fresh_connection = def.paid ~= nil or nil,
    safe = def.safe,
  })
end

--- Checks and sends a call of endpoint def with the method's arguments.
function M.call(client, def, ...)
  local path, t, opts = M.prepare(def, ...)
  if not path then return nil, t end
  if def.paid then return require("cleanlist.paid").run(client, def, path, t, opts) end
  return M.send(client, def, path, t)
end

return M
