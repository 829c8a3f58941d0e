--- Builds the synthetic world from a seed (sandbox.world documents its shape and indexes it).
-- The same seed gives the same world on Lua 5.4 and LuaJIT: one random stream per array
-- (companies, then people), drawn in a fixed order, integer arithmetic only, source tables
-- (sandbox.world_data) walked in order. Reordering any draw below changes every world.
--
--   local build = require "sandbox.world_build"
--   build.world(seed, clock)   -- { seed, people, companies, and their indexes }, build_ms
local data = require "sandbox.world_data"
local prng = require "sandbox.prng"
local text = require "sandbox.world_text"

local M = {}

M.PEOPLE = 12000
M.COMPANIES = 1200

local format, upper = string.format, string.upper
local fold, fold_text, local_part = text.fold, text.fold_text, text.local_part

local INDUSTRIES, LOCATIONS, NAMES = data.INDUSTRIES, data.LOCATIONS, data.NAMES
local PREFIXES, ROOTS, TECH_GENERAL = data.PREFIXES, data.ROOTS, data.TECH_GENERAL

-- The world's random stream: a Lehmer generator (MINSTD, multiplier 48271 modulo 2^31 - 1)
-- seeded from sandbox.prng. One product below 2^47 per draw: exact on Lua 5.4 integers and
-- LuaJIT doubles, and cheap enough for the few hundred thousand draws of a build.
local function stream(seed, n)
  local s = prng.new(seed, n):next() % 2147483646 + 1
  return function(lo, hi)
    s = s * 48271 % 2147483647
    return lo + s % (hi - lo + 1)
  end
end

-- Weighted choice in O(1): an array with index i repeated weights[i] times.
local function expand(weights)
  local t = {}
  for i, w in ipairs(weights) do
    for _ = 1, w do
      t[#t + 1] = i
    end
  end
  return t
end

local function pick(r, t)
  return t[r(1, #t)]
end

-- The weighted index arrays a build draws from (the same for every seed).
local function weights_of()
  local loc_w = {}
  for i, l in ipairs(LOCATIONS) do
    loc_w[i] = l[6]
  end
  return {
    size = expand(data.SIZE_WEIGHTS),
    location = expand(loc_w),
    pattern = expand(data.EMAIL_PATTERN_WEIGHTS),
    origin = expand(data.ORIGIN_WEIGHTS),
    seniority = expand(data.SENIORITY_WEIGHTS),
    department = expand(data.DEPARTMENT_WEIGHTS),
    provider = expand(data.PROVIDER_WEIGHTS),
  }
end

local function phone_number(r, cc)
  if cc == "1" then
    return format("+1%03d%03d%04d", r(201, 989), r(201, 999), r(0, 9999))
  elseif cc == "44" then
    return format("+447%03d%06d", r(100, 999), r(0, 999999))
  elseif cc == "49" then
    return format("+4915%d%08d", r(1, 9), r(0, 99999999))
  elseif cc == "33" then
    return format("+33%d%08d", r(6, 7), r(0, 99999999))
  end
  return format("+%s%d%08d", cc, r(6, 9), r(0, 99999999))
end

-- Companies -------------------------------------------------------------------------------

-- A company name not yet in `names` (up to 20 tries, then one made unique by i); marks it used.
local function company_name(r, ind, names, i)
  local name
  for _ = 1, 20 do
    local form = r(1, 100)
    local prefix = pick(r, PREFIXES)
    if form <= 35 then
      name = prefix .. pick(r, ROOTS)
    elseif form <= 70 then
      name = prefix .. " " .. pick(r, ind[3])
    elseif form <= 88 then
      name = prefix .. pick(r, ROOTS) .. " " .. pick(r, ind[3])
    else
      local origin = NAMES[1]
      name = pick(r, origin[2]) .. " & " .. pick(r, origin[2])
    end
    if not names[name] then break end
    name = nil
  end
  if not name then name = pick(r, PREFIXES) .. " " .. pick(r, ind[3]) .. " " .. i end
  names[name] = true
  return name
end

-- The first free domain of the industry's top-level domains, else base .. i .. ".com".
local function company_domain(w, base, tlds, i)
  for _, tld in ipairs(tlds) do
    if not w.company_by_domain[base .. "." .. tld] then return base .. "." .. tld end
  end
  return base .. i .. ".com"
end

-- 3–6 draws from the industry's profile, then 1–3 general tools; repeats dropped.
local function tech_stack(r, profile)
  local tech, seen = {}, {}
  for _ = 1, r(3, 6) do
    local t = pick(r, profile)
    if not seen[t] then
      seen[t] = true
      tech[#tech + 1] = t
    end
  end
  for _ = 1, r(1, 3) do
    local t = pick(r, TECH_GENERAL)
    if not seen[t] then
      seen[t] = true
      tech[#tech + 1] = t
    end
  end
  return tech
end

-- A ticker from the name's letters, not yet in `tickers` (marks it used).
local function ticker_of(base, tickers)
  local t = upper(base:gsub("[^%a]", ""):sub(1, 4))
  if #t < 2 then t = "CL" end
  local n = 0
  while tickers[t] do
    n = n + 1
    t = t:sub(1, 3) .. string.char(64 + n)
  end
  tickers[t] = true
  return t
end

-- Company i. `seen`: { names, tickers } used so far; wt: weights_of().
local function new_company(w, r, i, seen, wt)
  local ind = INDUSTRIES[r(1, #INDUSTRIES)]
  local name = company_name(r, ind, seen.names, i)
  local base = fold(name)
  local domain = company_domain(w, base, ind[4], i)
  local size_idx = pick(r, wt.size)
  local bounds = data.SIZE_BOUNDS[size_idx]
  local loc = LOCATIONS[pick(r, wt.location)]
  local stage_idx = pick(r, data.FUNDING_BY_SIZE[size_idx])
  local stage = data.FUNDING_STAGES[stage_idx]
  local fb = data.FUNDING_USD[stage_idx]
  local tech = tech_stack(r, data.TECH_PROFILE[ind[2]])
  local ticker = stage == "Public" and ticker_of(base, seen.tickers) or nil
  -- the fields are drawn in this order
  return {
    id = format("company_%06x", (i * 40503 + 7919) % 16777216),
    name = name,
    domain = domain,
    industry = ind[1],
    industries = { ind[1], data.PROFILE_LABELS[ind[2]] },
    employee_count = r(bounds[1], bounds[2]),
    size = data.SIZES[size_idx],
    size_idx = size_idx,
    revenue_range = data.REVENUE_RANGES[pick(r, data.REVENUE_BY_SIZE[size_idx])],
    city = loc[1],
    state = loc[2],
    state_code = loc[3],
    country = loc[4],
    country_code = loc[5],
    phone_cc = loc[7],
    loc = loc,
    hq_location = loc[1] .. ", " .. loc[3] .. ", " .. loc[5],
    funding_stage = stage,
    total_funding_usd = fb and r(fb[1], fb[2]) * 100000 or nil,
    tech_stack = tech,
    slug = base,
    linkedin_url = "https://www.linkedin.com/company/" .. base,
    founded_year = r(size_idx >= 6 and 1960 or 1995, 2023),
    ticker = ticker,
    description = name
      .. " provides "
      .. pick(r, ind[5])
      .. " for "
      .. (size_idx >= 6 and "enterprises" or "growing businesses")
      .. ".",
    email_pattern = data.EMAIL_PATTERNS[pick(r, wt.pattern)],
    catch_all = r(1, 100) <= 15,
    profile = ind[2],
  }
end

local function build_companies(w, r, wt)
  local seen = { names = {}, tickers = {} }
  local companies = w.companies
  for i = 1, M.COMPANIES do
    local c = new_company(w, r, i, seen, wt)
    companies[i] = c
    w.company_by_id[c.id] = c
    w.company_by_domain[c.domain] = c
    w.company_by_slug[c.slug] = c
    local key = fold_text(c.name)
    w.company_by_name[key] = w.company_by_name[key] or c
    if c.ticker then w.company_by_ticker[c.ticker] = c end
  end
end

-- People --------------------------------------------------------------------------------

-- Derived person fields, computed on first read (and then stored): the build stays cheap.
local PERSON_LAZY = {
  full_name = function(p)
    return p.first_name .. " " .. p.last_name
  end,
  location = function(p)
    return p.loc[1] .. ", " .. p.loc[2] .. ", " .. p.loc[4]
  end,
  linkedin_url = function(p)
    return "https://www.linkedin.com/in/" .. p.slug
  end,
  city = function(p)
    return p.loc[1]
  end,
  state = function(p)
    return p.loc[2]
  end,
  state_code = function(p)
    return p.loc[3]
  end,
  country = function(p)
    return p.loc[4]
  end,
  country_code = function(p)
    return p.loc[5]
  end,
}
local person_mt = {
  __index = function(p, k)
    local f = PERSON_LAZY[k]
    if f then
      local v = f(p)
      rawset(p, k, v)
      return v
    end
    return nil
  end,
}

-- First and last name: usually both of one origin.
local function person_name(r, wt)
  local origin = NAMES[pick(r, wt.origin)]
  local first = pick(r, origin[1])
  local last_origin = r(1, 100) <= 85 and origin or NAMES[pick(r, wt.origin)]
  return first, pick(r, last_origin[2])
end

-- Seniority index, department and title (some C-suite people are chief executives).
local function person_role(r, wt)
  local s = pick(r, wt.seniority)
  local dept = data.DEPARTMENTS[pick(r, wt.department)]
  if s == 1 and r(1, 100) <= 30 then return s, "Executive", pick(r, data.CEO_TITLES) end
  return s, dept, pick(r, data.TITLES[dept][s])
end

-- A profile slug not yet taken.
local function person_slug(r, first, last, by_slug)
  local f, l = fold(first), fold(last)
  local slug = format("%s-%s-%04x", f, l, r(0, 65535))
  while by_slug[slug] do
    slug = format("%s-%s-%04x", f, l, r(0, 65535))
  end
  return slug
end

-- The company's pattern address, numbered when taken.
local function person_email(c, first, last, by_email)
  local lp = local_part(c.email_pattern, first, last)
  local email = lp .. "@" .. c.domain
  local n = 1
  while by_email[email] do
    n = n + 1
    email = lp .. n .. "@" .. c.domain
  end
  return email
end

-- The hidden truth enrichment reveals (see sandbox.world).
local function person_truth(r, c, loc, email, wt)
  local email_found = r(1, 100) <= 85
  local status
  if not email_found then
    status = "invalid"
  elseif c.catch_all then
    status = "catch_all"
  else
    status = "valid"
  end
  local phone_found = r(1, 100) <= 40
  local phone = phone_number(r, loc[7])
  return {
    email = email,
    email_status = status,
    email_found = email_found,
    phone = phone,
    phone_found = phone_found,
    provider = data.PROVIDERS[pick(r, wt.provider)],
  }
end

-- The next person after search-DB id `id`: the person and its id.
local function new_person(w, r, id, comp_w8, wt)
  id = id + r(1, 40)
  local ci = pick(r, comp_w8)
  local c = w.companies[ci]
  local first, last = person_name(r, wt)
  local s, dept, title = person_role(r, wt)
  local loc
  if r(1, 100) <= 75 then
    loc = c.loc
  else
    loc = LOCATIONS[pick(r, wt.location)]
  end
  local slug = person_slug(r, first, last, w.person_by_slug)
  local email = person_email(c, first, last, w.person_by_email)
  return setmetatable({
    id = format("%d", id),
    first_name = first,
    last_name = last,
    title = title,
    seniority = data.SENIORITIES[s],
    department = dept,
    company = ci,
    loc = loc,
    slug = slug,
    truth = person_truth(r, c, loc, email, wt),
  }, person_mt),
    id
end

local function build_people(w, r, wt)
  local pw = {}
  for i, c in ipairs(w.companies) do
    pw[i] = data.PEOPLE_WEIGHTS[c.size_idx]
  end
  local comp_w8 = expand(pw)
  local people, by_id, by_email, by_slug = w.people, w.people_by_id, w.person_by_email, w.person_by_slug
  local id = 4400000
  for i = 1, M.PEOPLE do
    local p
    p, id = new_person(w, r, id, comp_w8, wt)
    people[i] = p
    by_id[p.id] = p
    by_email[p.truth.email] = p
    by_slug[p.slug] = p
  end
end

-- LuaJIT's trace compiler gives up on these long bodies ("register coalescing too complex")
-- and thrashes; its interpreter runs them faster than the failed traces.
local jit = rawget(_G, "jit")
if jit and jit.off then
  jit.off(build_companies)
  jit.off(new_company)
  jit.off(build_people)
  jit.off(new_person)
end

--- Builds the world for `seed` (see sandbox.world). `clock` (optional) returns milliseconds,
-- for w.build_ms.
function M.world(seed, clock)
  local t0 = clock and clock()
  local w = {
    seed = seed,
    people = {},
    people_by_id = {},
    person_by_email = {},
    person_by_slug = {},
    companies = {},
    company_by_id = {},
    company_by_domain = {},
    company_by_slug = {},
    company_by_name = {},
    company_by_ticker = {},
  }
  local wt = weights_of()
  build_companies(w, stream(seed, 100), wt)
  build_people(w, stream(seed, 101), wt)
  w.build_ms = t0 and (clock() - t0) or nil
  return w
end

return M
