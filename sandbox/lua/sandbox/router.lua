--- Routes for the API paths (relative to the API prefix): static paths by table lookup,
-- templated ones ("/lead-lists/{list_id}/leads") by pattern, with 404 / 405 decided by match.
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

--- Adds `route` for method + template. route: { scope = "x:y" or nil, handler = fn(ctx) },
-- optionally absolute = true (template is a full path outside the API prefixes, e.g.
-- "/api/v1/api-keys"), legacy = true (FastAPI {"detail"} errors), authenticate =
-- fn(state, req, rid) -> key | nil, status, body (replaces sandbox.auth.authenticate).
-- A handler returns status, body (table: JSON-encoded; string: sent as is), headers (optional).
function Router:add(method, template, route)
  assert(type(route.handler) == "function", "route needs a handler")
  route.method, route.template = method, template
  local entry
  if template:find("{", 1, true) then
    for _, e in ipairs(self.dynamic) do
      if e.template == template then
        entry = e
      end
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
function Router:match(path)
  local entry = self.static[path]
  if entry then
    return entry, {}
  end
  for _, e in ipairs(self.dynamic) do
    local caps = { path:match(e.pattern) }
    if caps[1] then
      local params = {}
      for i, name in ipairs(e.names) do
        params[name] = caps[i]
      end
      return e, params
    end
  end
  return nil
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

return M
