--- Routes by method and path template, for the API paths (relative to the API prefix) and the
-- control endpoints (relative to /__sandbox): static paths by table lookup, templated ones
-- ("/lead-lists/{list_id}/leads") by pattern, with 404 / 405 decided by match. Each app holds
-- its own routers (app.router, app.control_router).
--
-- Every handler and every answer of the sandbox is `status, body, headers`: body a table
-- (JSON-encoded) or a string (sent as is), headers optional. The app's handle(req) answers
-- the C server in the same order, with the body encoded and a connection-level fault fourth.
local errors = require "sandbox.errors"
local switches = require "sandbox.switches"
local validate = require "sandbox.validate"

local M = {}

local Router = {}
Router.__index = Router

function M.new()
  return setmetatable({ static = {}, dynamic = {} }, Router)
end

local function compile(template)
  local names = {}
  local pattern = template:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
  pattern = pattern:gsub("{([%w_]+)}", function(name)
    names[#names + 1] = name
    return "([^/]+)"
  end)
  return "^" .. pattern .. "$", names
end

--- Adds `route` for method + template. route: { handler = fn, scope = "x:y" or nil,
-- body = a validate.object schema, or fn(v, ctx) -> schema | nil, errors (the schema chosen
-- from the decoded object v), guard = fn(ctx) -> nil | status, body, headers (checks that
-- answer before the body is validated) }, optionally absolute = true (template is a full path
-- outside the API prefixes, e.g. "/api/v1/api-keys"), legacy = true (FastAPI {"detail"}
-- errors), authenticate = fn(state, req, rid) -> key | nil, status, body (replaces
-- sandbox.auth.authenticate).
-- An API handler is fn(ctx) (M.run), a control handler fn(app, req, rid) (sandbox.control).
function Router:add(method, template, route)
  assert(type(route.handler) == "function", "route needs a handler")
  route.method, route.template = method, template
  local entry
  if template:find("{", 1, true) then
    for _, e in ipairs(self.dynamic) do
      if e.template == template then entry = e end
    end
    if not entry then
      local pattern, names = compile(template)
      entry = { template = template, pattern = pattern, names = names, methods = {} }
      self.dynamic[#self.dynamic + 1] = entry
    end
  else
    entry = self.static[template]
    if not entry then
      entry = { template = template, methods = {} }
      self.static[template] = entry
    end
  end
  assert(not entry.methods[method], "duplicate route " .. method .. " " .. template)
  entry.methods[method] = route
  -- absolute: served at its full path (not under an API prefix); legacy: FastAPI errors.
  if route.absolute then entry.absolute = true end
  if route.legacy then entry.legacy = true end
  return route
end

--- The entry for `path` and its path parameters (a table, empty for static paths), or nil.
-- full: whether path is a full path rather than one below an API prefix; an absolute entry
-- matches only a full path, the others only one below a prefix.
function Router:match(path, full)
  local entry, params = self.static[path], {}
  if not entry then
    for _, e in ipairs(self.dynamic) do
      local caps = { path:match(e.pattern) }
      if caps[1] then
        for i, name in ipairs(e.names) do
          params[name] = caps[i]
        end
        entry = e
        break
      end
    end
  end
  if not entry or (entry.absolute == true) ~= (full == true) then return nil end
  return entry, params
end

--- The route for method + path (see match for full): route, params, entry; nil, nil, entry
-- when the path is served but not with this method (answer M.method_not_allowed); nil when
-- nothing is served at path.
function Router:find(method, path, full)
  local entry, params = self:match(path, full)
  if not entry then return nil end
  local route = entry.methods[method]
  if not route then return nil, nil, entry end
  return route, params, entry
end

--- "GET, POST" for an entry (for the Allow header of a 405).
function M.allowed(entry)
  local methods = {}
  for m in pairs(entry.methods) do
    methods[#methods + 1] = m
  end
  table.sort(methods)
  return table.concat(methods, ", ")
end

--- The 405 for a method the entry does not serve: status, body, headers (Allow). Legacy
-- entries answer FastAPI's body, the others the method_not_allowed envelope with `problem`.
function M.method_not_allowed(entry, rid, problem)
  local headers = { Allow = M.allowed(entry) }
  if entry.legacy then return 405, '{"detail":"Method Not Allowed"}', headers end
  local status, body = errors.build("method_not_allowed", rid, { problem = problem })
  return status, body, headers
end

local OBJECT = validate.object({}, { open = true })

-- The request body of ctx checked against route.body (its strict variant when the `strict`
-- switch is on): the decoded object, or nil and errors.
local function checked_body(route, ctx)
  local schema = route.body
  local strict = ctx.state and switches.get(ctx.state).strict
  if type(schema) ~= "function" then return validate.body(ctx.req, strict and validate.strict(schema) or schema) end
  local v, errs = validate.body(ctx.req, OBJECT)
  if v == nil then return nil, errs end
  schema, errs = schema(v, ctx)
  if not schema then return nil, errs end
  errs = validate.check(v, strict and validate.strict(schema) or schema)
  if errs[1] then return nil, errs end
  return v
end

--- Runs an API route for ctx (after authentication and the scope check): the guard, then the
-- body's validation (a 422 on failure; ctx.body holds the decoded object), then the handler.
-- Returns status, body, headers.
function M.run(route, ctx)
  if route.guard then
    local status, body, headers = route.guard(ctx)
    if status then return status, body, headers end
  end
  if route.body then
    local v, errs = checked_body(route, ctx)
    if v == nil then return validate.response(errs) end
    ctx.body = v
  end
  return route.handler(ctx)
end

return M
