--- The synthetic world: companies and people generated from the sandbox seed, the same on Lua
-- 5.4 and LuaJIT (sandbox.prng only, integer arithmetic, arrays walked in order). It is not
-- state: it is rebuilt from the seed at start and never persisted. sandbox.world_build builds it
-- from the tables of sandbox.world_data; this module indexes, caches and looks it up.
--
--   local world = require "sandbox.world"
--   local w = world.of(state)          -- built once per seed (cached), indexed
--   w.people[i], w.companies[i]        -- arrays in id order
--   w.people_by_id["4482910"]          -- person by search-DB id (integer as a string)
--   w.company_by_id["company_1a2b3c"], w.company_by_domain["acme.io"]
--   w.person_by_email[lower email], w.person_by_slug[linkedin slug]
--   (person fields full_name, location, linkedin_url, city, state, state_code, country and
--   country_code are derived on first read through a metatable: read them, do not pairs())
--   w.company_by_slug[slug], w.company_by_name[lower name], w.company_by_ticker["ACME"]
--   w.build_ms                          -- how long the build took (monotonic ms, if known)
--   world.company_of(w, person)         -- the person's company
--   world.match(w, fields)              -- best world person for contact fields, or nil
--   world.find_company(w, fields)       -- company by company_id / domain / ticker / name
--   world.linkedin_slug(url)            -- the profile slug of any LinkedIn URL form, or nil
--   world.company_record(w, company)    -- CompanyRecord (open object) for responses
--   world.person_row(w, person)         -- a people-search row (no email, no phone)
--
-- person: id, first_name, last_name, full_name, title, seniority (c_suite | vp | director |
--   manager | senior | entry), department, company (index into w.companies), city, state,
--   state_code, country, country_code, location ("City, State, Country"), linkedin_url, slug,
--   truth = { email, email_status, email_found, phone, phone_found, provider }
--   `truth` is hidden from search: enrichment reveals it. email_found (~85%) means a
--   deliverable address exists (email_status "valid" or "catch_all"); when false the
--   pattern address bounces (email_status "invalid"). phone_found (~40%): an E.164 mobile.
--   provider: the waterfall provider that finds the data.
-- company: id, name, domain, industry, industries, employee_count, size (range), size_idx
--   (1..8), revenue_range, city, state, state_code, country, country_code, hq_location,
--   funding_stage, total_funding_usd (nil when bootstrapped), tech_stack, linkedin_url, slug,
--   founded_year, ticker (public companies), description, email_pattern, catch_all
local build = require "sandbox.world_build"
local data = require "sandbox.world_data"
local text = require "sandbox.world_text"
local util = require "sandbox.util"

local M = {}

M.PEOPLE = build.PEOPLE
M.COMPANIES = build.COMPANIES
M.SIZES = data.SIZES
M.SENIORITIES = data.SENIORITIES
M.SENIORITY_LABELS = data.SENIORITY_LABELS
M.REVENUE_RANGES = data.REVENUE_RANGES
M.FUNDING_STAGES = data.FUNDING_STAGES
M.INDUSTRIES = {}
for i, ind in ipairs(data.INDUSTRIES) do
  M.INDUSTRIES[i] = ind[1]
end
M.DEPARTMENTS = { "Executive" }
for _, d in ipairs(data.DEPARTMENTS) do
  M.DEPARTMENTS[#M.DEPARTMENTS + 1] = d
end
M.LOCATIONS = data.LOCATIONS
M.TECH = {}
do
  local seen = {}
  for _, t in ipairs(data.TECH_GENERAL) do
    if not seen[t] then
      seen[t] = true
      M.TECH[#M.TECH + 1] = t
    end
  end
  for _, prof in ipairs { "saas", "fin", "health", "commerce", "industrial", "services", "media" } do
    for _, t in ipairs(data.TECH_PROFILE[prof]) do
      if not seen[t] then
        seen[t] = true
        M.TECH[#M.TECH + 1] = t
      end
    end
  end
  table.sort(M.TECH)
end

local lower, upper = string.lower, string.upper

M.fold = text.fold
M.fold_text = text.fold_text

--- Builds the world for `seed` (see the module comment). `clock` (optional) returns
-- milliseconds, for w.build_ms.
M.build = build.world

-- The name index (first + last @ domain) is built on first use: only contact matching needs it.
local function name_index(w)
  local idx = w.person_by_name
  if not idx then
    idx = {}
    for _, p in ipairs(w.people) do
      local key = M.fold(p.first_name) .. " " .. M.fold(p.last_name) .. "@" .. w.companies[p.company].domain
      idx[key] = idx[key] or p
    end
    w.person_by_name = idx
  end
  return idx
end

local cache = {}

--- The world of a sandbox state (built on first use, then cached per seed).
function M.of(state)
  local seed = state.config.seed or 0
  local w = cache[seed]
  if not w then
    w = M.build(seed, state.config.monotonic_ms)
    cache[seed] = w
    if not state.config.quiet and w.build_ms then
      io.stderr:write(
        string.format(
          "sandbox: world of seed %d built in %.0f ms (%d people, " .. "%d companies)\n",
          seed,
          w.build_ms,
          #w.people,
          #w.companies
        )
      )
    end
  end
  return w
end

function M.company_of(w, p)
  return w.companies[p.company]
end

--- The slug of a LinkedIn profile URL in any usual form ("https://uk.linkedin.com/in/x/",
-- "linkedin.com/pub/x", "www.linkedin.com/in/x?trk=..", or a bare handle), lowercased.
function M.linkedin_slug(url)
  if type(url) ~= "string" or url == "" then return nil end
  local s = url:gsub("[?#].*$", ""):gsub("/+$", "")
  local slug = s:match("linkedin%.com/in/([^/]+)") or s:match("linkedin%.com/pub/([^/]+)")
  if not slug and not s:find("/", 1, true) and not s:find("%s") then slug = s end
  return slug and lower(slug) or nil
end

local nonempty = util.nonempty

--- Finds a company by company_id, domain, ticker or name (fields as in EnrichCompanyRequest).
function M.find_company(w, f)
  local id = nonempty(f.company_id)
  if id and w.company_by_id[id] then return w.company_by_id[id] end
  local domain = nonempty(f.domain) or nonempty(f.company_domain)
  if domain then
    domain = lower(domain):gsub("^https?://", ""):gsub("^www%.", ""):gsub("/.*$", "")
    if w.company_by_domain[domain] then return w.company_by_domain[domain] end
  end
  local ticker = nonempty(f.company_ticker)
  if ticker and w.company_by_ticker[upper(ticker)] then return w.company_by_ticker[upper(ticker)] end
  local name = nonempty(f.company_name) or nonempty(f.company)
  if name then return w.company_by_name[M.fold_text(name)] end
  return nil
end

--- The world person that contact fields identify: by LinkedIn slug, by email, by person_id,
-- or by first + last name at a company (domain or name). nil when nothing matches.
function M.match(w, f)
  local pid = nonempty(f.person_id)
  if pid and w.people_by_id[pid] then return w.people_by_id[pid] end
  local slug = M.linkedin_slug(f.linkedin_url)
  if slug and w.person_by_slug[slug] then return w.person_by_slug[slug] end
  local email = nonempty(f.email)
  if email and w.person_by_email[lower(email)] then return w.person_by_email[lower(email)] end
  local first, last = nonempty(f.first_name), nonempty(f.last_name)
  if not (first and last) and nonempty(f.full_name) then
    first, last = f.full_name:match("^%s*(%S+)%s+(.-)%s*$")
  end
  if first and last then
    local c = M.find_company(w, f)
    if c then return name_index(w)[M.fold(first) .. " " .. M.fold(last) .. "@" .. c.domain] end
  end
  return nil
end

local json_null

--- CompanyRecord for a company (the open object of API.md §8, plus a few extra keys).
function M.company_record(_, c)
  json_null = json_null or require("sandbox.json").null
  local tech = {}
  for i, t in ipairs(c.tech_stack) do
    tech[i] = t
  end
  return {
    company_id = c.id,
    name = c.name,
    domain = c.domain,
    industry = c.industry,
    industries = { c.industries[1], c.industries[2] },
    employee_count = c.employee_count,
    employee_count_range = c.size,
    revenue_range = c.revenue_range,
    hq_location = c.hq_location,
    hq_city = c.city,
    hq_state = c.state,
    hq_country = c.country,
    funding_stage = c.funding_stage,
    total_funding_usd = c.total_funding_usd or json_null,
    tech_stack = tech,
    linkedin_url = c.linkedin_url,
    founded_year = c.founded_year,
    ticker = c.ticker or json_null,
    description = c.description,
  }
end

--- A people-search row: public profile fields, no email or phone (enrichment finds those).
function M.person_row(w, p)
  local c = w.companies[p.company]
  return {
    person_id = p.id,
    first_name = p.first_name,
    last_name = p.last_name,
    full_name = p.full_name,
    title = p.title,
    seniority = p.seniority,
    department = p.department,
    company_id = c.id,
    company_name = c.name,
    company_domain = c.domain,
    industry = c.industry,
    company_size = c.size,
    location = p.location,
    city = p.city,
    state = p.state,
    country = p.country,
    linkedin_url = p.linkedin_url,
  }
end

return M
