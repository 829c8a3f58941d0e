--- The filter vocabularies of GET /search/people/filters and /search/companies/filters: each
-- filter's type, how it matches, and its values with their counts in the world (or examples),
-- computed once per world.
local json = require "sandbox.json"
local world = require "sandbox.world"

local M = {}

local function values_of(order, counts, labels)
  local out = json.array()
  for _, v in ipairs(order) do
    out[#out + 1] = { value = v, label = labels and labels[v] or v, count = counts[v] or 0 }
  end
  return out
end

local function count_by(list, fn)
  local t = {}
  for _, x in ipairs(list) do
    local k = fn(x)
    if type(k) == "table" then
      for _, kk in ipairs(k) do
        t[kk] = (t[kk] or 0) + 1
      end
    else
      t[k] = (t[k] or 0) + 1
    end
  end
  return t
end

-- The keys of counts (key -> count), most counted first, then in key order.
local function by_count(counts)
  local keys = {}
  for k in pairs(counts) do
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  return keys
end

local function countries_of(records)
  local counts, names = {}, {}
  for _, r in ipairs(records) do
    counts[r.country_code] = (counts[r.country_code] or 0) + 1
    names[r.country_code] = r.country
  end
  local out = json.array()
  for _, code in ipairs(by_count(counts)) do
    out[#out + 1] = { value = code, label = names[code], count = counts[code] }
  end
  return out
end

-- A field of a record, as the key of count_by.
local function field_of(name)
  return function(x)
    return x[name]
  end
end

local function top(records, field, n)
  local keys = by_count(count_by(records, field_of(field)))
  local out = json.array()
  for i = 1, math.min(n, #keys) do
    out[i] = keys[i]
  end
  return out
end

-- An enum[] filter, matching any of its values: the values of order (labelled by labels), each
-- with its count over records by key(record).
local function enum(name, description, records, order, key, labels)
  return {
    name = name,
    type = "enum[]",
    match = "any",
    description = description,
    values = values_of(order, count_by(records, key), labels),
  }
end

--- The filters of people search for world w.
function M.people(w)
  if w.people_filters then return w.people_filters end
  local people, companies = w.people, w.companies
  local function co(field)
    return function(p)
      return companies[p.company][field]
    end
  end
  local f = json.array {
    {
      name = "job_titles",
      type = "text[]",
      match = "any; case-insensitive substring of the title",
      description = "Job titles to look for.",
      examples = top(people, "title", 15),
    },
    enum("seniorities", "Seniority levels.", people, world.SENIORITIES, field_of("seniority"), world.SENIORITY_LABELS),
    enum("departments", "Departments.", people, world.DEPARTMENTS, field_of("department")),
    enum("industries", "Industry of the person's company.", people, world.INDUSTRIES, co("industry")),
    enum("company_sizes", "Employee-count range of the person's company.", people, world.SIZES, co("size")),
    {
      name = "locations",
      type = "text[]",
      match = 'any; case-insensitive substring of "City, State, Country"',
      description = "Where the person is based.",
      examples = top(people, "city", 15),
    },
    {
      name = "countries",
      type = "text[]",
      match = "any; country name or ISO 3166 alpha-2 code",
      description = "The person's country.",
      values = countries_of(people),
    },
    {
      name = "company_domains",
      type = "text[]",
      match = "any; exact domain",
      description = "Domains of the person's company.",
      examples = json.array { companies[1].domain, companies[2].domain, companies[3].domain },
    },
    {
      name = "company_ids",
      type = "text[]",
      match = "any; exact id",
      description = "company_id values from company search.",
    },
    enum("technologies", "Technologies in the company's stack.", people, world.TECH, co("tech_stack")),
    enum("funding_stages", "Funding stage of the person's company.", people, world.FUNDING_STAGES, co("funding_stage")),
    {
      name = "keywords",
      type = "text",
      match = "all words; name, title, department, company, industry, company description",
      description = "Free-text keywords.",
    },
  }
  w.people_filters = f
  return f
end

--- The filters of company search for world w.
function M.companies(w)
  if w.company_filters then return w.company_filters end
  local cs = w.companies
  local f = json.array {
    enum("industries", "Industries.", cs, world.INDUSTRIES, field_of("industry")),
    enum("company_sizes", "Employee-count ranges.", cs, world.SIZES, field_of("size")),
    { name = "employee_count_min", type = "integer", description = "At least this many employees." },
    { name = "employee_count_max", type = "integer", description = "At most this many employees." },
    {
      name = "locations",
      type = "text[]",
      match = 'any; case-insensitive substring of the HQ\'s "City, State, Country"',
      description = "Headquarters location.",
      examples = top(cs, "city", 15),
    },
    {
      name = "countries",
      type = "text[]",
      match = "any; country name or ISO 3166 alpha-2 code",
      description = "Headquarters country.",
      values = countries_of(cs),
    },
    enum("funding_stages", "Funding stages.", cs, world.FUNDING_STAGES, field_of("funding_stage")),
    enum("revenue_ranges", "Annual revenue ranges.", cs, world.REVENUE_RANGES, field_of("revenue_range")),
    enum("technologies", "Technologies in the company's stack.", cs, world.TECH, field_of("tech_stack")),
    { name = "domains", type = "text[]", match = "any; exact domain", description = "Company domains." },
    {
      name = "company_names",
      type = "text[]",
      match = "any; case-insensitive substring of the name",
      description = "Company names.",
    },
    {
      name = "keywords",
      type = "text",
      match = "all words; name, industry, description, tech stack, domain",
      description = "Free-text keywords.",
    },
  }
  w.company_filters = f
  return f
end

return M
