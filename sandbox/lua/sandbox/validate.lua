--- FastAPI / pydantic-v2 style request validation for the sandbox's endpoints: a 422 body
-- `{"detail":[{"type","loc","msg","input"}]}` (API.md §3.3, V2 HTTPValidationError), built from
-- small declarative schemas. Any endpoint module may use it.
--
--   local validate = require "sandbox.validate"
--   local SCHEMA = validate.object {                       -- closed: unknown keys -> 422
--     name = { type = "string", required = true, min_len = 1, max_len = 200 },
--     description = { type = "string", nullable = true },
--     lead_ids = { type = "array", items = { type = "string" }, min_items = 1, max_items = 100 },
--     limit = { type = "integer", min = 1, max = 100 },
--     scope = { type = "string", enum = { "partial", "full" } },
--   }
--   local body, errs = validate.body(ctx.req, SCHEMA)      -- decoded object, or nil + errors
--   if not body then return validate.response(errs) end    -- 422, {detail = [...]}
--
--   local limit, err = validate.query_int(query, "limit", 50, 1, 100)
--   if err then return validate.response({ err }) end
--
-- Field types: "string", "integer", "number", "boolean", "array", "object" (any JSON object),
-- "any". `nullable = true` accepts JSON null (kept as json.null in the decoded body, so that
-- "present and null" can be told from "absent"). `schema` on an "object" field validates it
-- with a nested validate.object schema; `items` on an "array" field validates every item.
-- Messages and `type` codes follow pydantic v2 ("missing", "extra_forbidden", "string_type",
-- "string_too_short", "too_long", "int_parsing", "greater_than_equal", "enum", ...).
--
-- Leniencies (seeds' spellings v2 lacks) are marked: `lenient = true` on a field v2 lacks,
-- `lenient_values = {...}` on enum values it lacks, `strict = {...}` for what v2 has otherwise
-- (e.g. required). validate.strict(schema) is the schema as v2 has it (so extra_forbidden, enum,
-- missing): the router checks bodies against it when the `strict` switch is on.
local json = require "sandbox.json"
local util = require "sandbox.util"

local M = {}

local null = json.null
local format, concat = string.format, table.concat
local floor = math.floor

--- One ValidationError. `input` is optional (nil leaves it out).
-- An echoed input longer than this is cut (a 10 MB field is not sent back whole).
local ECHO_MAX = 256

function M.error(loc, typ, msg, input)
  if type(input) == "string" and #input > ECHO_MAX then
    input = input:sub(1, ECHO_MAX) .. format("... (%d bytes)", #input)
  end
  return { loc = json.array(loc), type = typ, msg = msg, input = input }
end

--- status 422 and the HTTPValidationError body for a list of errors.
function M.response(errs)
  return 422, { detail = json.array(errs) }
end

local function plural(n, word)
  return format("%d %s%s", n, word, n == 1 and "" or "s")
end

local function with(loc, key)
  local t = {}
  for i = 1, #loc do
    t[i] = loc[i]
  end
  t[#t + 1] = key
  return t
end

--- True when t decodes from a JSON array: a table whose keys are exactly 1..#t (an empty
-- table counts as an empty array: lua-cjson decodes [] and {} alike).
function M.is_list(t)
  if type(t) ~= "table" or t == null then return false end
  local n = 0
  for _ in pairs(t) do
    n = n + 1
  end
  return n == #t
end

local function is_object(t)
  if type(t) ~= "table" or t == null then return false end
  for k in pairs(t) do
    if type(k) ~= "string" then return false end
  end
  return true
end

local function enum_msg(values)
  local quoted = {}
  for i, v in ipairs(values) do
    quoted[i] = "'" .. tostring(v) .. "'"
  end
  if #quoted == 1 then return "Input should be " .. quoted[1] end
  local last = table.remove(quoted)
  return "Input should be " .. concat(quoted, ", ") .. " or " .. last
end

local check_value

local function check_object(v, schema, loc, errs)
  local missing = {}
  for name, field in pairs(schema.fields) do
    if field.required and v[name] == nil then missing[#missing + 1] = name end
  end
  table.sort(missing)
  for _, name in ipairs(missing) do
    errs[#errs + 1] = M.error(with(loc, name), "missing", "Field required", v)
  end
  for _, k in ipairs(util.sorted_keys(v)) do
    local field = schema.fields[k]
    if field then
      check_value(v[k], field, with(loc, k), errs)
    elseif schema.closed then
      errs[#errs + 1] = M.error(with(loc, k), "extra_forbidden", "Extra inputs are not permitted", v[k])
    end
  end
end

-- The error for JSON null where field f does not accept it.
local function null_error(f, loc)
  local what = f.type == "array" and "list"
    or f.type == "object" and "dictionary"
    or f.type == "boolean" and "boolean"
    or f.type == "integer" and "integer"
    or f.type == "number" and "number"
    or "string"
  return M.error(
    loc,
    f.type == "array" and "list_type" or f.type == "object" and "dict_type" or f.type .. "_type",
    "Input should be a valid " .. what,
    null
  )
end

-- Checks of a non-null value by field type: each appends its errors to errs.
local checks = {}

function checks.string(v, f, loc, errs)
  if type(v) ~= "string" then
    errs[#errs + 1] = M.error(loc, "string_type", "Input should be a valid string", v)
    return
  end
  local _, n = v:gsub("[^\128-\191]", "") -- characters (UTF-8 lead bytes), on every engine
  if f.min_len and n < f.min_len then
    errs[#errs + 1] =
      M.error(loc, "string_too_short", "String should have at least " .. plural(f.min_len, "character"), v)
  elseif f.max_len and n > f.max_len then
    errs[#errs + 1] =
      M.error(loc, "string_too_long", "String should have at most " .. plural(f.max_len, "character"), v)
  elseif f.enum then
    for _, e in ipairs(f.enum) do
      if e == v then return end
    end
    errs[#errs + 1] = M.error(loc, "enum", enum_msg(f.enum), v)
  end
end

local function check_number(v, f, loc, errs)
  local t = f.type
  if type(v) ~= "number" then
    errs[#errs + 1] = M.error(loc, t == "integer" and "int_type" or "float_type", "Input should be a valid " .. t, v)
    return
  end
  if t == "integer" and floor(v) ~= v then
    errs[#errs + 1] =
      M.error(loc, "int_from_float", "Input should be a valid integer, got a number with a fractional part", v)
    return
  end
  if f.min and v < f.min then
    errs[#errs + 1] =
      M.error(loc, "greater_than_equal", "Input should be greater than or equal to " .. format("%d", f.min), v)
  elseif f.max and v > f.max then
    errs[#errs + 1] =
      M.error(loc, "less_than_equal", "Input should be less than or equal to " .. format("%d", f.max), v)
  end
end
checks.integer, checks.number = check_number, check_number

function checks.boolean(v, _, loc, errs)
  if type(v) ~= "boolean" then errs[#errs + 1] = M.error(loc, "bool_type", "Input should be a valid boolean", v) end
end

function checks.array(v, f, loc, errs)
  if not M.is_list(v) then
    errs[#errs + 1] = M.error(loc, "list_type", "Input should be a valid list", v)
    return
  end
  local n = #v
  if f.min_items and n < f.min_items then
    errs[#errs + 1] = M.error(
      loc,
      "too_short",
      format("List should have at least %s after validation, not %d", plural(f.min_items, "item"), n)
    )
    return
  elseif f.max_items and n > f.max_items then
    errs[#errs + 1] = M.error(
      loc,
      "too_long",
      format("List should have at most %s after validation, not %d", plural(f.max_items, "item"), n)
    )
    return
  end
  if f.items then
    for i = 1, n do
      check_value(v[i], f.items, with(loc, i - 1), errs)
      if #errs >= 20 then return end
    end
  end
end

function checks.object(v, f, loc, errs)
  if not is_object(v) or (M.is_list(v) and next(v) ~= nil) then
    errs[#errs + 1] = M.error(loc, "dict_type", "Input should be a valid dictionary", v)
    return
  end
  if f.schema then
    check_object(v, f.schema, loc, errs)
  elseif f.values then
    for _, k in ipairs(util.sorted_keys(v)) do
      check_value(v[k], f.values, with(loc, k), errs)
    end
  end
end

check_value = function(v, f, loc, errs)
  if v == null then
    if not f.nullable and f.type ~= "any" then errs[#errs + 1] = null_error(f, loc) end
    return
  end
  local check = checks[f.type]
  if check then check(v, f, loc, errs) end
end

--- A closed object schema (unknown keys are refused) from a table name -> field spec.
-- validate.object(fields, {open = true}) accepts unknown keys.
function M.object(fields, opts)
  return { fields = fields, closed = not (opts and opts.open) }
end

local strict_object

-- A field spec without its leniencies (a copy; the same table when it has none).
local function strict_field(f)
  local sub = f.schema and strict_object(f.schema)
  local items = f.items and strict_field(f.items)
  local values = f.values and strict_field(f.values)
  if not (f.lenient_values or f.strict or sub ~= f.schema or items ~= f.items or values ~= f.values) then return f end
  local g = {}
  for _, t in ipairs { f, f.strict or {} } do -- the field, then what differs under strict
    for k, v in pairs(t) do
      g[k] = v
    end
  end
  g.schema, g.items, g.values, g.lenient_values, g.strict = sub, items, values, nil, nil
  if f.lenient_values and f.enum then
    local drop = util.set_of(f.lenient_values)
    g.enum = {}
    for _, v in ipairs(f.enum) do
      if not drop[v] then g.enum[#g.enum + 1] = v end
    end
  end
  return g
end

strict_object = function(schema)
  if schema.strict_variant then return schema.strict_variant end
  local fields = {}
  for name, f in pairs(schema.fields) do
    if not f.lenient then fields[name] = strict_field(f) end
  end
  local strict = { fields = fields, closed = schema.closed }
  strict.strict_variant, schema.strict_variant = strict, strict
  return strict
end

--- The strict variant of an object schema (made once, kept in the schema), as v2 has it.
M.strict = strict_object

--- Checks a decoded value against an object schema at `loc` (default {"body"}); returns an
-- array of errors (empty when valid).
function M.check(v, schema, loc)
  local errs = {}
  loc = loc or { "body" }
  if not is_object(v) or (M.is_list(v) and next(v) ~= nil) then
    errs[1] =
      M.error(loc, "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", v)
    return errs
  end
  check_object(v, schema, loc, errs)
  return errs
end

--- Decodes req.body as JSON; returns the value, or nil and an errors array (a missing body or
-- invalid JSON, as FastAPI reports them).
-- Numbers JSON cannot carry back (1e400 decodes to infinity): each one an error at its place.
local function non_finite(v, loc, errs, depth)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      errs[#errs + 1] = M.error(
        loc,
        "finite_number",
        "Input should be a finite number",
        v ~= v and "nan" or (v > 0 and "inf" or "-inf")
      )
    end
  elseif type(v) == "table" and v ~= null and depth < 64 then
    for k, item in pairs(v) do
      local at = {}
      for i = 1, #loc do
        at[i] = loc[i]
      end
      at[#at + 1] = type(k) == "number" and k - 1 or k
      non_finite(item, at, errs, depth + 1)
    end
  end
end

function M.decode(req)
  local text = req.body or ""
  if text:match("^%s*$") then return nil, { M.error({ "body" }, "missing", "Field required", null) } end
  local v, err = json.decode(text)
  if v == nil then
    local e = M.error({ "body", 0 }, "json_invalid", "JSON decode error", {})
    e.ctx = { error = tostring(err):gsub("^Expected", "Expecting") }
    return nil, { e }
  end
  if text:match("^%s*%[") then -- a JSON array decodes to a table too: a body is an object
    return nil,
      {
        M.error(
          { "body" },
          "model_attributes_type",
          "Input should be a valid dictionary or object to extract fields from",
          {}
        ),
      }
  end
  local errs = {}
  non_finite(v, { "body" }, errs, 0)
  if errs[1] then return nil, errs end
  return v
end

--- Decodes and checks the request body against `schema`: the decoded object, or nil and errors.
function M.body(req, schema)
  local v, errs = M.decode(req)
  if v == nil then return nil, errs end
  errs = M.check(v, schema)
  if errs[1] then return nil, errs end
  return v
end

--- An integer query parameter: the value (default when absent), or nil and one error.
function M.query_int(query, name, default, min, max)
  local raw = query[name]
  if raw == nil then return default end
  if type(raw) == "table" then raw = raw[#raw] end
  local n = raw:match("^%s*[+-]?%d+%s*$") and tonumber(raw)
  if not n then
    return nil,
      M.error(
        { "query", name },
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
        raw
      )
  end
  if min and n < min then
    return nil,
      M.error(
        { "query", name },
        "greater_than_equal",
        "Input should be greater than or equal to " .. format("%d", min),
        raw
      )
  end
  if max and n > max then
    return nil,
      M.error({ "query", name }, "less_than_equal", "Input should be less than or equal to " .. format("%d", max), raw)
  end
  return floor(n)
end

--- A string query parameter (the last one when repeated), or nil.
function M.query_string(query, name)
  local raw = query[name]
  if type(raw) == "table" then return raw[#raw] end
  return raw
end

--- A repeated query parameter as an array (a single value -> one item; absent -> nil).
function M.query_list(query, name)
  local raw = query[name]
  if raw == nil then return nil end
  if type(raw) == "table" then return raw end
  return { raw }
end

return M
