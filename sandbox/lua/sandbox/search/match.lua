--- Matching the world's people and companies (sandbox.world) against normalised search
-- filters (sandbox.search.request): predicates over the immutable records, with lowercased
-- text cached on them, and the scans that collect one page of matches.
local json = require "sandbox.json"
local world = require "sandbox.world"

local M = {}

local lower, find = string.lower, string.find

local function any_substring(hay, needles)
  for i = 1, #needles do
    if find(hay, needles[i], 1, true) then return true end
  end
  return false
end

local function all_words(hay, words)
  for i = 1, #words do
    if not find(hay, words[i], 1, true) then return false end
  end
  return true
end

local function in_list(v, list)
  for i = 1, #list do
    if list[i] == v then return true end
  end
  return false
end

local function country_match(countries, name, code)
  local n, c = world.fold_text(name), lower(code)
  for i = 1, #countries do
    local want = countries[i]
    if
      want == n
      or want == c
      or (c == "gb" and (want == "uk" or want == "united kingdom"))
      or (c == "us" and (want == "usa" or want == "united states of america"))
    then
      return true
    end
  end
  return false
end

-- Lowercased text fields are cached on the world's (immutable) records.
local function company_text(c)
  local t = c.text_lc
  if not t then
    t = world.fold_text(
      c.name
        .. " "
        .. c.industry
        .. " "
        .. c.industries[2]
        .. " "
        .. c.description
        .. " "
        .. table.concat(c.tech_stack, " ")
        .. " "
        .. c.domain
    )
    c.text_lc = t
  end
  return t
end

local function company_location(c)
  local t = c.location_lc
  if not t then
    t = world.fold_text(c.city .. ", " .. c.state .. ", " .. c.country)
    c.location_lc = t
  end
  return t
end

local function has_tech(c, set)
  for _, t in ipairs(c.tech_stack) do
    if set[t] then return true end
  end
  return false
end

-- A predicate over companies for the company-level filters (nil when there are none).
local function company_pred(f, hq)
  local keys = {
    "industries",
    "company_sizes",
    "technologies",
    "funding_stages",
    "revenue_ranges",
    "domains",
    "company_domains",
    "company_ids",
    "company_names",
    "employee_count_min",
    "employee_count_max",
  }
  if hq then
    keys[#keys + 1] = "locations"
    keys[#keys + 1] = "countries"
    keys[#keys + 1] = "keywords"
  end
  local any = false
  for _, k in ipairs(keys) do
    if f[k] ~= nil then any = true end
  end
  if not any then return nil end
  local domains = f.domains or f.company_domains
  return function(c)
    if f.industries and not f.industries[c.industry] then return false end
    if f.company_sizes and not f.company_sizes[c.size] then return false end
    if f.funding_stages and not f.funding_stages[c.funding_stage] then return false end
    if f.revenue_ranges and not f.revenue_ranges[c.revenue_range] then return false end
    if f.technologies and not has_tech(c, f.technologies) then return false end
    if domains and not in_list(c.domain, domains) then return false end
    if f.company_ids and not in_list(lower(c.id), f.company_ids) then return false end
    if f.company_names and not any_substring(world.fold_text(c.name), f.company_names) then return false end
    if f.employee_count_min and c.employee_count < f.employee_count_min then return false end
    if f.employee_count_max and c.employee_count > f.employee_count_max then return false end
    if hq then
      if f.locations and not any_substring(company_location(c), f.locations) then return false end
      if f.countries and not country_match(f.countries, c.country, c.country_code) then return false end
      if f.keywords and not all_words(company_text(c), f.keywords) then return false end
    end
    return true
  end
end

local function person_text(p, c)
  local t = p.text_lc
  if not t then
    t = world.fold_text(
      p.full_name
        .. " "
        .. p.title
        .. " "
        .. p.department
        .. " "
        .. c.name
        .. " "
        .. c.industry
        .. " "
        .. c.industries[2]
        .. " "
        .. c.description
    )
    p.text_lc = t
  end
  return t
end

-- world.fold_text(r[field]), cached on the (immutable) record as r[key].
local function folded(r, field, key)
  local t = r[key]
  if not t then
    t = world.fold_text(r[field])
    r[key] = t
  end
  return t
end

local function person_location(p)
  return folded(p, "location", "location_lc")
end

local function title_lc(p)
  return folded(p, "title", "title_lc")
end

--- The people matching f: the rows of the page (offset, last] (world.person_row), their
-- person ids and how many match in all.
function M.people(w, f, offset, last)
  local rows, ids, total = json.array(), {}, 0
  local cp = company_pred(f, false)
  local ok_company
  if cp then
    ok_company = {}
    for i, c in ipairs(w.companies) do
      ok_company[i] = cp(c)
    end
  end
  local companies = w.companies
  local sen, dept = f.seniorities, f.departments
  local titles, locs, countries, kw = f.job_titles, f.locations, f.countries, f.keywords
  for _, p in ipairs(w.people) do
    if
      (not ok_company or ok_company[p.company])
      and (not sen or sen[p.seniority])
      and (not dept or dept[p.department])
      and (not titles or any_substring(title_lc(p), titles))
      and (not locs or any_substring(person_location(p), locs))
      and (not countries or country_match(countries, p.country, p.country_code))
      and (not kw or all_words(person_text(p, companies[p.company]), kw))
    then
      total = total + 1
      if total > offset and total <= last then
        rows[#rows + 1] = world.person_row(w, p)
        ids[#ids + 1] = p.id
      end
    end
  end
  return rows, ids, total
end

--- The companies matching f (HQ location, country and keywords included): the records of
-- the page (offset, last] (world.company_record), their ids and how many match in all.
function M.companies(w, f, offset, last)
  local rows, ids, total = json.array(), {}, 0
  local cp = company_pred(f, true)
  for _, c in ipairs(w.companies) do
    if not cp or cp(c) then
      total = total + 1
      if total > offset and total <= last then
        rows[#rows + 1] = world.company_record(w, c)
        ids[#ids + 1] = c.id
      end
    end
  end
  return rows, ids, total
end

return M
