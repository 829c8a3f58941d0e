--- cleanlist.validate: checks a request before it is sent.
-- A schema is a table of field rules; a rule names a type and its limits:
--   { "string", required = true, enum = {...}, min_len = 1, max_len = 200, nullable = true }
--   { "integer", min = 1, max = 100 }   { "array", items = "string", min_items = 1 }
--   { "boolean" }   { "object" }   { "number" }   { "any" }
-- A schema with `open = true` lets unknown fields through (endpoints whose full body the
-- documentation does not give); otherwise an unknown field is refused, as the API's closed
-- models do. Problems come back shaped like the server's 422 entries: {loc=, msg=, type=}.
local json = require "cleanlist.json"

local type, pairs, ipairs, tostring, floor = type, pairs, ipairs, tostring, math.floor
local concat, sort = table.concat, table.sort
local null = json.null

local M = {}

local function is_array(v)
  if type(v) ~= "table" or v == null then return false end
  local n = 0
  for _ in pairs(v) do
    n = n + 1
  end
  return n == #v
end

local CHECKS = {
  string = function(v)
    return type(v) == "string"
  end,
  number = function(v)
    return type(v) == "number" and v == v and v ~= 1 / 0 and v ~= -1 / 0
  end,
  integer = function(v)
    return type(v) == "number" and v == floor(v) and v ~= 1 / 0 and v ~= -1 / 0
  end,
  boolean = function(v)
    return type(v) == "boolean"
  end,
  array = is_array,
  object = function(v)
    if type(v) ~= "table" or v == null then return false end
    for k in pairs(v) do
      if type(k) ~= "string" then return false end
    end
    return true
  end,
  any = function()
    return true
  end,
}

local function with(loc, key)
  local t = {}
  for i = 1, #loc do
    t[i] = loc[i]
  end
  t[#t + 1] = key
  return t
end

local function add(errs, loc, typ, msg)
  errs[#errs + 1] = { loc = loc, type = typ, msg = msg }
end

local function in_enum(v, enum)
  for _, e in ipairs(enum) do
    if e == v then return true end
  end
  return false
end

-- Checks one value against a rule; appends problems to errs.
local function check_value(v, rule, loc, errs)
  if v == null then
    if not rule.nullable then add(errs, loc, "null", "may not be null") end
    return
  end
  local want = rule[1]
  if not CHECKS[want](v) then
    add(
      errs,
      loc,
      want .. "_type",
      "should be "
        .. (want == "integer" and "an " or "a ")
        .. want
        .. ", not "
        .. (type(v) == "number" and "a non-integer or non-finite number" or "a " .. type(v))
    )
    return
  end
  if rule.enum and not in_enum(v, rule.enum) then
    add(errs, loc, "enum", "should be one of " .. concat(rule.enum, ", ") .. ", not '" .. tostring(v):sub(1, 60) .. "'")
  end
  if rule.min and v < rule.min then
    add(errs, loc, "greater_than_equal", "should be at least " .. rule.min .. ", not " .. v)
  end
  if rule.max and v > rule.max then
    add(errs, loc, "less_than_equal", "should be at most " .. rule.max .. ", not " .. v)
  end
  if rule.min_len and #v < rule.min_len then
    add(
      errs,
      loc,
      "string_too_short",
      "should have at least " .. rule.min_len .. " character" .. (rule.min_len == 1 and "" or "s")
    )
  end
  if rule.max_len and #v > rule.max_len then
    add(errs, loc, "string_too_long", "should have at most " .. rule.max_len .. " characters, not " .. #v)
  end
  if want == "array" then
    if rule.min_items and #v < rule.min_items then
      add(
        errs,
        loc,
        "too_short",
        "should have at least " .. rule.min_items .. " item" .. (rule.min_items == 1 and "" or "s") .. ", not " .. #v
      )
    end
    if rule.max_items and #v > rule.max_items then
      add(errs, loc, "too_long", "should have at most " .. rule.max_items .. " items, not " .. #v)
    end
    if rule.items then
      local item_rule = type(rule.items) == "table" and rule.items or { rule.items }
      for i, item in ipairs(v) do
        check_value(item, item_rule, with(loc, i - 1), errs)
      end
    end
  end
  if want == "object" and rule.values then
    for k, item in pairs(v) do
      check_value(item, { rule.values }, with(loc, k), errs)
    end
  end
end

--- Checks the table t against schema; `where` is the first element of every loc ("body",
-- "query"). Returns the list of problems (empty when t is valid).
function M.check(t, schema, where, errs)
  errs = errs or {}
  local loc = { where }
  local names = {}
  for name in pairs(schema) do
    if name ~= "open" then names[#names + 1] = name end
  end
  sort(names)
  for _, name in ipairs(names) do
    local rule, v = schema[name], t[name]
    if v == nil then
      if rule.required then add(errs, with(loc, name), "missing", "is required") end
    else
      check_value(v, rule, with(loc, name), errs)
    end
  end
  if not schema.open then
    local extra = {}
    for k in pairs(t) do
      if type(k) ~= "string" then
        add(errs, loc, "object_type", "should be a table of named fields, not a list")
        break
      end
      if not schema[k] then extra[#extra + 1] = k end
    end
    sort(extra)
    for _, k in ipairs(extra) do
      add(errs, with(loc, k), "extra_forbidden", "is not a field of this request")
    end
  end
  return errs
end

--- Appends one problem (for rules that span fields).
M.add = add

--- A readable one-line summary of problems: "body.limit: should be at most 100, not 500".
function M.summary(errs)
  local parts = {}
  for i, e in ipairs(errs) do
    if i > 3 then
      parts[#parts + 1] = "and " .. (#errs - 3) .. " more"
      break
    end
    local loc = {}
    for j, p in ipairs(e.loc) do
      loc[j] = tostring(p)
    end
    parts[#parts + 1] = concat(loc, ".") .. ": " .. e.msg
  end
  return concat(parts, "; ")
end

return M
