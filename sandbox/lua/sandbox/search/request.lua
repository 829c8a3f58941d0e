--- The body of a search (sandbox.endpoints.search): the schemas of POST /search/people,
-- /search/companies and /search/companies/similar, the filters normalised (enum values mapped
-- to their canonical spelling, text folded), and the cursors, "<offset>.<fingerprint of the
-- filters>" (opaque to clients).
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local util = require "sandbox.util"
local validate = require "sandbox.validate"
local world = require "sandbox.world"

local M = {}

local null = json.null
local format, lower, byte = string.format, string.lower, string.byte

M.PEOPLE_LIMIT = { min = 1, max = 100, default = 25 }
M.COMPANY_LIMIT = { min = 1, max = 100, default = 25 }
M.SIMILAR_LIMIT = { min = 1, max = 50, default = 10 }

local STRINGS = { type = "array", items = { type = "string", max_len = 500 }, max_items = 100 }
local KEYWORDS = { type = "any" }

M.PEOPLE_FILTERS = {
  job_titles = STRINGS,
  seniorities = STRINGS,
  departments = STRINGS,
  industries = STRINGS,
  company_sizes = STRINGS,
  locations = STRINGS,
  countries = STRINGS,
  company_domains = STRINGS,
  company_ids = STRINGS,
  technologies = STRINGS,
  funding_stages = STRINGS,
  keywords = KEYWORDS,
}
M.COMPANY_FILTERS = {
  industries = STRINGS,
  company_sizes = STRINGS,
  locations = STRINGS,
  countries = STRINGS,
  funding_stages = STRINGS,
  revenue_ranges = STRINGS,
  technologies = STRINGS,
  domains = STRINGS,
  company_names = STRINGS,
  keywords = KEYWORDS,
  employee_count_min = { type = "integer", min = 0 },
  employee_count_max = { type = "integer", min = 0 },
}

local function with_paging(filters, limits)
  local fields = {}
  for k, v in pairs(filters) do
    fields[k] = v
  end
  fields.limit = { type = "integer", min = limits.min, max = limits.max }
  fields.cursor = { type = "string", nullable = true }
  fields.filters = { type = "object", nullable = true, schema = validate.object(filters) }
  return validate.object(fields)
end

M.PEOPLE_SCHEMA = with_paging(M.PEOPLE_FILTERS, M.PEOPLE_LIMIT)
M.COMPANY_SCHEMA = with_paging(M.COMPANY_FILTERS, M.COMPANY_LIMIT)
M.SIMILAR_SCHEMA = validate.object {
  domain = { type = "string", nullable = true, min_len = 1, max_len = 253 },
  company_id = { type = "string", nullable = true, min_len = 1, max_len = 100 },
  limit = { type = "integer", min = M.SIMILAR_LIMIT.min, max = M.SIMILAR_LIMIT.max },
}

-- Vocabularies ---------------------------------------------------------------------------

local function canon(s)
  return (lower(s):gsub("[%s%-]+", "_"))
end

-- enum name -> { canonical key -> value } for the enum[] filters.
local function vocab(values, key_fn)
  local t = {}
  for _, v in ipairs(values) do
    t[(key_fn or canon)(v)] = v
  end
  return t
end

local VOCAB = {
  seniorities = vocab(world.SENIORITIES),
  departments = vocab(world.DEPARTMENTS),
  industries = vocab(world.INDUSTRIES),
  company_sizes = vocab(world.SIZES, function(v)
    return v
  end),
  technologies = vocab(world.TECH),
  funding_stages = vocab(world.FUNDING_STAGES),
  revenue_ranges = vocab(world.REVENUE_RANGES, function(v)
    return v
  end),
}
local ENUM_ORDER = {
  seniorities = world.SENIORITIES,
  departments = world.DEPARTMENTS,
  industries = world.INDUSTRIES,
  company_sizes = world.SIZES,
  technologies = world.TECH,
  funding_stages = world.FUNDING_STAGES,
  revenue_ranges = world.REVENUE_RANGES,
}

local function enum_error(loc, name, value)
  local allowed = ENUM_ORDER[name]
  local shown = {}
  for i = 1, math.min(#allowed, 12) do
    shown[i] = "'" .. allowed[i] .. "'"
  end
  local more = #allowed > 12 and ", ... (see the filters endpoint)" or ""
  return validate.error(loc, "enum", "Input should be " .. table.concat(shown, ", ") .. more, value)
end

--- Merged filters (nested "filters" first, top-level keys override; spec: M.PEOPLE_FILTERS or
-- M.COMPANY_FILTERS), with enum values mapped to their canonical spelling; or nil and 422
-- errors.
function M.normalise(body, spec)
  local f = {}
  if type(body.filters) == "table" then
    for k, v in pairs(body.filters) do
      f[k] = { v = v, loc = { "body", "filters", k } }
    end
  end
  for k, v in pairs(body) do
    if spec[k] and v ~= null then f[k] = { v = v, loc = { "body", k } } end
  end
  local out, errs = {}, {}
  for k, e in pairs(f) do
    local v = e.v
    if k == "keywords" then
      local words = {}
      local list = type(v) == "string" and { v } or v
      if type(list) ~= "table" or not validate.is_list(list) then
        errs[#errs + 1] = validate.error(e.loc, "string_type", "Input should be a valid string or a list of strings", v)
      else
        for i, s in ipairs(list) do
          if type(s) ~= "string" then
            errs[#errs + 1] =
              validate.error({ e.loc[1], e.loc[2], i - 1 }, "string_type", "Input should be a valid string", s)
          else
            for word in world.fold_text(s):gmatch("%S+") do
              words[#words + 1] = word
            end
          end
        end
        if words[1] then out.keywords = words end
      end
    elseif VOCAB[k] then
      local set, any = {}, false
      for i, s in ipairs(v) do
        local c = VOCAB[k][k == "company_sizes" and s or k == "revenue_ranges" and s or canon(s)]
        if not c then
          local loc = {}
          for j, x in ipairs(e.loc) do
            loc[j] = x
          end
          loc[#loc + 1] = i - 1
          errs[#errs + 1] = enum_error(loc, k, s)
        else
          set[c], any = true, true
        end
      end
      if any then out[k] = set end
    elseif type(v) == "table" then
      if v[1] ~= nil then
        local lst = {}
        for i, s in ipairs(v) do
          lst[i] = world.fold_text(s)
        end
        out[k] = lst
      end
    elseif v ~= null then
      out[k] = v
    end
  end
  if errs[1] then
    table.sort(errs, function(a, b)
      return json.encode(a.loc) < json.encode(b.loc)
    end)
    return nil, errs
  end
  return out
end

--- The fingerprint of a search's kind ("person" | "company") and normalised filters.
function M.fingerprint(kind, filters)
  local parts = { kind }
  for _, k in ipairs(util.sorted_keys(filters)) do
    local v = filters[k]
    local items = {}
    if type(v) == "table" then
      if v[1] ~= nil then
        for i, s in ipairs(v) do
          items[i] = tostring(s)
        end
      else
        for s in pairs(v) do
          items[#items + 1] = s
        end
      end
      table.sort(items)
    else
      items[1] = tostring(v)
    end
    parts[#parts + 1] = k .. "=" .. table.concat(items, "\31")
  end
  local s = table.concat(parts, "\30")
  local h = 5381
  for i = 1, #s do
    h = (h * 33 + byte(s, i)) % 4294967291
  end
  return format("%08x", h)
end

--- The offset a cursor names when it belongs to the search with fingerprint fp (0 when there
-- is no cursor), or nil.
function M.parse_cursor(cursor, fp)
  if cursor == nil or cursor == null then return 0 end
  local off, tag = cursor:match("^(%d+)%.(%x+)$")
  if not off or #off > 9 or tag ~= fp then return nil end
  return tonumber(off)
end

--- The 400 for a cursor parse_cursor refused.
function M.bad_cursor(rid)
  return errors.build("validation_error", rid, {
    problem = "The cursor is not valid for this search.",
    cause = "A cursor is only valid with the filters of the search that returned it.",
    fix = "Pass the cursor from the previous page of the same search unchanged, or omit it "
      .. "to start from the first page.",
  })
end

return M
