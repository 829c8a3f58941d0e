--- Search (API.md §6.2): people and companies of the synthetic world (sandbox.world). The
-- sources document only the paths, the scopes and the envelope `task_id`; the shapes below are
-- the sandbox's design. Search is free.
--
-- GET /search/people/filters     (people:read)
-- GET /search/companies/filters  (companies:read)
--   200 {"filters":[{"name","type","description","match", "values":[{"value","label","count"}]
--        | "examples":[...]}], "total_people"|"total_companies", "limit":{"min","max",
--        "default"}, envelope (usage: how to search)}
--   type: "enum[]" (pick values from `values`, any of them matches), "text[]" (free text, any
--   of them matches, case-insensitive substring), "text" (keywords: every word must match),
--   "integer" (bounds).
--
-- POST /search/people            (people:read)
--   body (closed object; every filter optional; the filters may also be nested under
--   "filters": {...}):
--     job_titles      [string]  title contains any of them (case-insensitive)
--     seniorities     [enum]    c_suite | vp | director | manager | senior | entry
--     departments     [enum]    Sales, Marketing, Engineering, ... (see filters)
--     industries      [enum]    the company's industry (case-insensitive)
--     company_sizes   [enum]    1-10 | 11-50 | 51-200 | 201-500 | 501-1000 | 1001-5000 |
--                               5001-10000 | 10001+
--     locations       [string]  "City, State, Country" contains any of them
--     countries       [string]  country name or ISO 3166 alpha-2 code of the person
--     company_domains [string]  exact company domains
--     company_ids     [string]  world company ids
--     technologies    [enum]    the company's tech stack contains any of them
--     funding_stages  [enum]    the company's funding stage
--     keywords        string | [string]  every word appears in the person's name, title,
--                               department, company name, industry or company description
--     limit           integer 1-100 (default 25)
--     cursor          string (opaque, from the previous page of the same search)
--   200 {"people":[row...], "total":N (all matches), "returned":n, "cursor":string|null,
--        "task_id": cohort of the returned rows (null when none), "timestamp_ms",
--        "agent_instructions" (paging / truncation note), "usage" (hint when empty),
--        "message": null}
--   row: person_id ("4482910", a search-DB id), first_name, last_name, full_name, title,
--        seniority, department, company_id, company_name, company_domain, industry,
--        company_size, location, city, state, country, linkedin_url — never email or phone
--        (enrichment finds those).
--
-- POST /search/companies         (companies:read)
--   body filters: industries, company_sizes, employee_count_min, employee_count_max,
--     locations (HQ "City, State, Country"), countries (HQ), funding_stages, revenue_ranges,
--     technologies, domains, company_names ([string] name contains), keywords, limit, cursor
--   200 {"companies":[CompanyRecord...], "total", "returned", "cursor", "task_id" (company
--        cohort of the returned rows), envelope}
--
-- POST /search/companies/similar (companies:read)
--   body {"domain": "acme.io"} or {"company_id": "company_1a2b3c"} (exactly one), "limit"
--     1-50 (default 10)
--   200 {"seed_company": CompanyRecord, "companies":[CompanyRecord + "similarity_score"
--        (0..1, two decimals) + "similarity_reasons":[string]], "total" (= returned),
--        "task_id" (company cohort), envelope}. The seed company is never in the results.
--   Score: same industry 50 points + shared technologies (Jaccard) 30 + size closeness 20.
--   Unknown domain / company_id -> 404 not_found.
--
-- Errors: 422 {"detail":[{loc,msg,type,input}]} for wrong types, out-of-range limits, unknown
-- keys and unknown enum values; 400 validation_error envelope for a cursor that is malformed
-- or belongs to another search; 401; 403 insufficient_scope.
local cohorts = require "sandbox.cohorts"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local util = require "sandbox.util"
local validate = require "sandbox.validate"
local world = require "sandbox.world"

local M = {}

local null = json.null
local format, lower, find, byte = string.format, string.lower, string.find, string.byte
local floor = math.floor

M.PEOPLE_LIMIT = { min = 1, max = 100, default = 25 }
M.COMPANY_LIMIT = { min = 1, max = 100, default = 25 }
M.SIMILAR_LIMIT = { min = 1, max = 50, default = 10 }

local STRINGS = { type = "array", items = { type = "string", max_len = 500 }, max_items = 100 }
local KEYWORDS = { type = "any" }

local PEOPLE_FILTERS = {
  job_titles = STRINGS, seniorities = STRINGS, departments = STRINGS, industries = STRINGS,
  company_sizes = STRINGS, locations = STRINGS, countries = STRINGS, company_domains = STRINGS,
  company_ids = STRINGS, technologies = STRINGS, funding_stages = STRINGS, keywords = KEYWORDS,
}
local COMPANY_FILTERS = {
  industries = STRINGS, company_sizes = STRINGS, locations = STRINGS, countries = STRINGS,
  funding_stages = STRINGS, revenue_ranges = STRINGS, technologies = STRINGS, domains = STRINGS,
  company_names = STRINGS, keywords = KEYWORDS,
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

local PEOPLE_SCHEMA = with_paging(PEOPLE_FILTERS, M.PEOPLE_LIMIT)
local COMPANY_SCHEMA = with_paging(COMPANY_FILTERS, M.COMPANY_LIMIT)
local SIMILAR_SCHEMA = validate.object {
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
  company_sizes = vocab(world.SIZES, function(v) return v end),
  technologies = vocab(world.TECH),
  funding_stages = vocab(world.FUNDING_STAGES),
  revenue_ranges = vocab(world.REVENUE_RANGES, function(v) return v end),
}
local ENUM_ORDER = {
  seniorities = world.SENIORITIES, departments = world.DEPARTMENTS,
  industries = world.INDUSTRIES, company_sizes = world.SIZES, technologies = world.TECH,
  funding_stages = world.FUNDING_STAGES, revenue_ranges = world.REVENUE_RANGES,
}

local function enum_error(loc, name, value)
  local allowed = ENUM_ORDER[name]
  local shown = {}
  for i = 1, math.min(#allowed, 12) do
    shown[i] = "'" .. allowed[i] .. "'"
  end
  local more = #allowed > 12 and ", ... (see the filters endpoint)" or ""
  return validate.error(loc, "enum", "Input should be " .. table.concat(shown, ", ") .. more,
    value)
end

-- Merged filters (nested "filters" first, top-level keys override), with enum values mapped
-- to their canonical spelling; or nil and 422 errors.
local function normalise(body, spec)
  local f = {}
  if type(body.filters) == "table" then
    for k, v in pairs(body.filters) do
      f[k] = { v = v, loc = { "body", "filters", k } }
    end
  end
  for k, v in pairs(body) do
    if spec[k] and v ~= null then
      f[k] = { v = v, loc = { "body", k } }
    end
  end
  local out, errs = {}, {}
  for k, e in pairs(f) do
    local v = e.v
    if k == "keywords" then
      local words = {}
      local list = type(v) == "string" and { v } or v
      if type(list) ~= "table" or not validate.is_list(list) then
        errs[#errs + 1] = validate.error(e.loc, "string_type",
          "Input should be a valid string or a list of strings", v)
      else
        for i, s in ipairs(list) do
          if type(s) ~= "string" then
            errs[#errs + 1] = validate.error({ e.loc[1], e.loc[2], i - 1 }, "string_type",
              "Input should be a valid string", s)
          else
            for word in world.fold_text(s):gmatch("%S+") do
              words[#words + 1] = word
            end
          end
        end
        if words[1] then
          out.keywords = words
        end
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
      if any then
        out[k] = set
      end
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

-- Cursors: "<offset>.<fingerprint of the filters>" (opaque to clients).
local function fingerprint(kind, filters)
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

local function parse_cursor(cursor, fp)
  if cursor == nil or cursor == null then
    return 0
  end
  local off, tag = cursor:match("^(%d+)%.(%x+)$")
  if not off or #off > 9 or tag ~= fp then
    return nil
  end
  return tonumber(off)
end

local function bad_cursor(rid)
  return errors.build("validation_error", rid, {
    problem = "The cursor is not valid for this search.",
    cause = "A cursor is only valid with the filters of the search that returned it.",
    fix = "Pass the cursor from the previous page of the same search unchanged, or omit it "
      .. "to start from the first page.",
  })
end

-- Matching ---------------------------------------------------------------------------------

local function any_substring(hay, needles)
  for i = 1, #needles do
    if find(hay, needles[i], 1, true) then
      return true
    end
  end
  return false
end

local function all_words(hay, words)
  for i = 1, #words do
    if not find(hay, words[i], 1, true) then
      return false
    end
  end
  return true
end

local function in_list(v, list)
  for i = 1, #list do
    if list[i] == v then
      return true
    end
  end
  return false
end

local function country_match(countries, name, code)
  local n, c = world.fold_text(name), lower(code)
  for i = 1, #countries do
    local want = countries[i]
    if want == n or want == c or (c == "gb" and (want == "uk" or want == "united kingdom"))
      or (c == "us" and (want == "usa" or want == "united states of america")) then
      return true
    end
  end
  return false
end

-- Lowercased text fields are cached on the world's (immutable) records.
local function company_text(c)
  local t = c.text_lc
  if not t then
    t = world.fold_text(c.name .. " " .. c.industry .. " " .. c.industries[2] .. " "
      .. c.description .. " "
      .. table.concat(c.tech_stack, " ") .. " " .. c.domain)
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
    if set[t] then
      return true
    end
  end
  return false
end

-- A predicate over companies for the company-level filters (nil when there are none).
local function company_pred(f, hq)
  local keys = { "industries", "company_sizes", "technologies", "funding_stages",
    "revenue_ranges", "domains", "company_domains", "company_ids", "company_names",
    "employee_count_min", "employee_count_max" }
  if hq then
    keys[#keys + 1] = "locations"
    keys[#keys + 1] = "countries"
    keys[#keys + 1] = "keywords"
  end
  local any = false
  for _, k in ipairs(keys) do
    if f[k] ~= nil then
      any = true
    end
  end
  if not any then
    return nil
  end
  local domains = f.domains or f.company_domains
  return function(c)
    if f.industries and not f.industries[c.industry] then return false end
    if f.company_sizes and not f.company_sizes[c.size] then return false end
    if f.funding_stages and not f.funding_stages[c.funding_stage] then return false end
    if f.revenue_ranges and not f.revenue_ranges[c.revenue_range] then return false end
    if f.technologies and not has_tech(c, f.technologies) then return false end
    if domains and not in_list(c.domain, domains) then return false end
    if f.company_ids and not in_list(lower(c.id), f.company_ids) then return false end
    if f.company_names and not any_substring(world.fold_text(c.name), f.company_names) then
      return false
    end
    if f.employee_count_min and c.employee_count < f.employee_count_min then return false end
    if f.employee_count_max and c.employee_count > f.employee_count_max then return false end
    if hq then
      if f.locations and not any_substring(company_location(c), f.locations) then
        return false
      end
      if f.countries and not country_match(f.countries, c.country, c.country_code) then
        return false
      end
      if f.keywords and not all_words(company_text(c), f.keywords) then return false end
    end
    return true
  end
end

local function person_text(p, c)
  local t = p.text_lc
  if not t then
    t = world.fold_text(p.full_name .. " " .. p.title .. " " .. p.department .. " " .. c.name
      .. " " .. c.industry .. " " .. c.industries[2] .. " " .. c.description)
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

-- Envelope helpers --------------------------------------------------------------------------

local function plural(n, one, many)
  return format("%d %s", n, n == 1 and one or many)
end

local function page_note(what_one, what_many, total, offset, n, cursor)
  if total == 0 then
    return null
  end
  if n == 0 then
    return format("This page is past the end: the search has %s.",
      plural(total, what_one, what_many))
  end
  local s = format("Showing %d-%d of %s.", offset + 1, offset + n,
    plural(total, "matching " .. what_one, "matching " .. what_many))
  if cursor ~= null then
    s = s .. format(" Results are truncated: pass \"cursor\": %q to get the next page, or "
      .. "narrow the filters.", cursor)
  end
  return s .. format(" task_id is a cohort of the %s on this page (valid for one hour): pass "
    .. "it to POST /enrichment/by-task or POST /lead-lists/{list_id}/leads.",
    plural(n, "row", "rows"))
end

-- Handlers ------------------------------------------------------------------------------------

local function run_search(ctx, schema, spec, kind, limits)
  local body, errs = validate.body(ctx.req, schema)
  if not body then
    return validate.response(errs)
  end
  local f
  f, errs = normalise(body, spec)
  if not f then
    return validate.response(errs)
  end
  local fp = fingerprint(kind, f)
  local offset = parse_cursor(body.cursor, fp)
  if not offset then
    return bad_cursor(ctx.request_id)
  end
  local limit = body.limit and floor(body.limit) or limits.default
  local w = world.of(ctx.state)
  local rows, ids, total = json.array(), {}, 0
  local last = offset + limit
  if kind == "person" then
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
      if (not ok_company or ok_company[p.company])
        and (not sen or sen[p.seniority]) and (not dept or dept[p.department])
        and (not titles or any_substring(title_lc(p), titles))
        and (not locs or any_substring(person_location(p), locs))
        and (not countries or country_match(countries, p.country, p.country_code))
        and (not kw or all_words(person_text(p, companies[p.company]), kw)) then
        total = total + 1
        if total > offset and total <= last then
          rows[#rows + 1] = world.person_row(w, p)
          ids[#ids + 1] = p.id
        end
      end
    end
  else
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
  end
  local cursor = null
  if total > last then
    cursor = format("%d.%s", last, fp)
  end
  local task_id = null
  if ids[1] then
    task_id = cohorts.create(ctx.state, ctx.org.id, kind, ids,
      kind == "person" and "search_people" or "search_companies").task_id
  end
  local one, many = "person", "people"
  if kind == "company" then
    one, many = "company", "companies"
  end
  local usage
  if total == 0 then
    usage = format("No %s matched these filters. Loosen them (fewer filters, broader "
      .. "terms), or read GET /search/%s/filters for the accepted values and their counts.",
      many, kind == "person" and "people" or "companies")
  end
  return 200, http.envelope({
    [kind == "person" and "people" or "companies"] = rows,
    total = total,
    returned = #rows,
    cursor = cursor,
    task_id = task_id,
  }, ctx.now_ms(), page_note(one, many, total, offset, #rows, cursor), usage)
end

function M.search_people(ctx)
  return run_search(ctx, PEOPLE_SCHEMA, PEOPLE_FILTERS, "person", M.PEOPLE_LIMIT)
end

function M.search_companies(ctx)
  return run_search(ctx, COMPANY_SCHEMA, COMPANY_FILTERS, "company", M.COMPANY_LIMIT)
end

-- Similar companies ---------------------------------------------------------------------------

local function similarity(seed, c)
  local score, reasons = 0, {}
  if c.industry == seed.industry then
    score = score + 50
    reasons[#reasons + 1] = "same industry (" .. c.industry .. ")"
  end
  local set, shared, union = {}, 0, 0
  for _, t in ipairs(seed.tech_stack) do
    set[t] = true
    union = union + 1
  end
  for _, t in ipairs(c.tech_stack) do
    if set[t] then
      shared = shared + 1
    else
      union = union + 1
    end
  end
  if shared > 0 then
    score = score + floor(30 * shared / union)
    reasons[#reasons + 1] = format("shares %s", plural(shared, "technology", "technologies"))
  end
  local d = math.abs(c.size_idx - seed.size_idx)
  score = score + floor(20 * (7 - d) / 7)
  if d == 0 then
    reasons[#reasons + 1] = "same size (" .. c.size .. " employees)"
  elseif d == 1 then
    reasons[#reasons + 1] = "similar size (" .. c.size .. " employees)"
  end
  return score, reasons
end

function M.similar(ctx)
  local body, errs = validate.body(ctx.req, SIMILAR_SCHEMA)
  if not body then
    return validate.response(errs)
  end
  local domain = body.domain ~= null and body.domain or nil
  local cid = body.company_id ~= null and body.company_id or nil
  if (domain and cid) or not (domain or cid) then
    return validate.response { validate.error({ "body" }, "value_error",
      "Value error, provide exactly one of domain or company_id", body) }
  end
  local w = world.of(ctx.state)
  local seed
  if cid then
    seed = w.company_by_id[cid]
  else
    seed = world.find_company(w, { domain = domain })
  end
  if not seed then
    return errors.build("not_found", ctx.request_id, {
      problem = cid and ("No company has the id " .. cid:sub(1, 100) .. ".")
        or ("No company has the domain " .. domain:sub(1, 253) .. "."),
      fix = "Find the company with POST /search/companies first and pass its domain or "
        .. "company_id.",
    })
  end
  local limit = body.limit and floor(body.limit) or M.SIMILAR_LIMIT.default
  local scored = {}
  for i, c in ipairs(w.companies) do
    if c ~= seed then
      local s = similarity(seed, c)
      scored[#scored + 1] = { s = s, i = i }
    end
  end
  table.sort(scored, function(a, b)
    if a.s ~= b.s then
      return a.s > b.s
    end
    return a.i < b.i
  end)
  local rows, ids = json.array(), {}
  for k = 1, math.min(limit, #scored) do
    local c = w.companies[scored[k].i]
    local rec = world.company_record(w, c)
    local s, reasons = similarity(seed, c)
    rec.similarity_score = s / 100
    rec.similarity_reasons = json.array(reasons)
    rows[k] = rec
    ids[k] = c.id
  end
  local task_id = cohorts.create(ctx.state, ctx.org.id, "company", ids, "similar_companies")
  return 200, http.envelope({
    seed_company = world.company_record(w, seed),
    companies = rows,
    total = #rows,
    task_id = task_id.task_id,
  }, ctx.now_ms(), format("The %s most similar to %s (%s), best first; the seed company is "
    .. "excluded. task_id is a company cohort of these rows: pass it to POST "
    .. "/enrichment/by-task.", plural(#rows, "company", "companies"), seed.name, seed.domain))
end

-- Filter vocabularies ---------------------------------------------------------------------

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
    if counts[a] ~= counts[b] then
      return counts[a] > counts[b]
    end
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

local function top(records, field, n)
  local counts = count_by(records, function(r) return r[field] end)
  local keys = by_count(counts)
  local out = json.array()
  for i = 1, math.min(n, #keys) do
    out[i] = keys[i]
  end
  return out
end

local function people_filters(w)
  if w.people_filters then
    return w.people_filters
  end
  local companies = w.companies
  local function co(field)
    return function(p)
      return companies[p.company][field]
    end
  end
  local f = json.array {
    { name = "job_titles", type = "text[]", match = "any; case-insensitive substring of the "
      .. "title", description = "Job titles to look for.", examples = top(w.people, "title", 15) },
    { name = "seniorities", type = "enum[]", match = "any", description = "Seniority levels.",
      values = values_of(world.SENIORITIES, count_by(w.people, function(p)
        return p.seniority
      end), world.SENIORITY_LABELS) },
    { name = "departments", type = "enum[]", match = "any", description = "Departments.",
      values = values_of(world.DEPARTMENTS, count_by(w.people, function(p)
        return p.department
      end)) },
    { name = "industries", type = "enum[]", match = "any", description = "Industry of the "
      .. "person's company.", values = values_of(world.INDUSTRIES,
        count_by(w.people, co("industry"))) },
    { name = "company_sizes", type = "enum[]", match = "any", description = "Employee-count "
      .. "range of the person's company.", values = values_of(world.SIZES,
        count_by(w.people, co("size"))) },
    { name = "locations", type = "text[]", match = "any; case-insensitive substring of "
      .. "\"City, State, Country\"", description = "Where the person is based.",
      examples = top(w.people, "city", 15) },
    { name = "countries", type = "text[]", match = "any; country name or ISO 3166 alpha-2 code",
      description = "The person's country.", values = countries_of(w.people) },
    { name = "company_domains", type = "text[]", match = "any; exact domain",
      description = "Domains of the person's company.", examples = json.array {
        companies[1].domain, companies[2].domain, companies[3].domain } },
    { name = "company_ids", type = "text[]", match = "any; exact id",
      description = "company_id values from company search." },
    { name = "technologies", type = "enum[]", match = "any", description = "Technologies in "
      .. "the company's stack.", values = values_of(world.TECH,
        count_by(w.people, co("tech_stack"))) },
    { name = "funding_stages", type = "enum[]", match = "any", description = "Funding stage "
      .. "of the person's company.", values = values_of(world.FUNDING_STAGES,
        count_by(w.people, co("funding_stage"))) },
    { name = "keywords", type = "text", match = "all words; name, title, department, company, "
      .. "industry, company description", description = "Free-text keywords." },
  }
  w.people_filters = f
  return f
end

local function company_filters(w)
  if w.company_filters then
    return w.company_filters
  end
  local cs = w.companies
  local function by(field)
    return function(c) return c[field] end
  end
  local f = json.array {
    { name = "industries", type = "enum[]", match = "any", description = "Industries.",
      values = values_of(world.INDUSTRIES, count_by(cs, by("industry"))) },
    { name = "company_sizes", type = "enum[]", match = "any", description = "Employee-count "
      .. "ranges.", values = values_of(world.SIZES, count_by(cs, by("size"))) },
    { name = "employee_count_min", type = "integer", description = "At least this many "
      .. "employees." },
    { name = "employee_count_max", type = "integer", description = "At most this many "
      .. "employees." },
    { name = "locations", type = "text[]", match = "any; case-insensitive substring of the HQ's "
      .. "\"City, State, Country\"", description = "Headquarters location.",
      examples = top(cs, "city", 15) },
    { name = "countries", type = "text[]", match = "any; country name or ISO 3166 alpha-2 code",
      description = "Headquarters country.", values = countries_of(cs) },
    { name = "funding_stages", type = "enum[]", match = "any", description = "Funding stages.",
      values = values_of(world.FUNDING_STAGES, count_by(cs, by("funding_stage"))) },
    { name = "revenue_ranges", type = "enum[]", match = "any", description = "Annual revenue "
      .. "ranges.", values = values_of(world.REVENUE_RANGES, count_by(cs, by("revenue_range"))) },
    { name = "technologies", type = "enum[]", match = "any", description = "Technologies in the "
      .. "company's stack.", values = values_of(world.TECH, count_by(cs, by("tech_stack"))) },
    { name = "domains", type = "text[]", match = "any; exact domain", description = "Company "
      .. "domains." },
    { name = "company_names", type = "text[]", match = "any; case-insensitive substring of the "
      .. "name", description = "Company names." },
    { name = "keywords", type = "text", match = "all words; name, industry, description, tech "
      .. "stack, domain", description = "Free-text keywords." },
  }
  w.company_filters = f
  return f
end

-- The body of a filters endpoint: the filters, `total_key` = how many records there are, the
-- limit bounds and a usage hint.
local function filters_body(ctx, filters, total_key, total, limits, usage)
  return http.envelope({
    filters = filters,
    [total_key] = total,
    limit = { min = limits.min, max = limits.max, default = limits.default },
  }, ctx.now_ms(), nil, usage)
end

function M.people_filters(ctx)
  local w = world.of(ctx.state)
  return 200, filters_body(ctx, people_filters(w), "total_people", #w.people, M.PEOPLE_LIMIT,
    "POST /search/people with any of these filters (e.g. {\"seniorities\": [\"vp\"], "
      .. "\"departments\": [\"Sales\"], \"limit\": 25}); every filter is optional, values of "
      .. "one filter are OR-ed and different filters are AND-ed. Search is free; rows carry no "
      .. "email or phone: enrich the returned task_id with POST /enrichment/by-task.")
end

function M.company_filters(ctx)
  local w = world.of(ctx.state)
  return 200, filters_body(ctx, company_filters(w), "total_companies", #w.companies,
    M.COMPANY_LIMIT, "POST /search/companies with any of these filters (e.g. {\"industries\": "
      .. "[\"Computer Software\"], \"company_sizes\": [\"51-200\"]}), or POST "
      .. "/search/companies/similar with a domain. Search is free.")
end

function M.register(router)
  router:add("GET", "/search/people/filters", { scope = "people:read",
    handler = M.people_filters })
  router:add("POST", "/search/people", { scope = "people:read", handler = M.search_people })
  router:add("GET", "/search/companies/filters", { scope = "companies:read",
    handler = M.company_filters })
  router:add("POST", "/search/companies", { scope = "companies:read",
    handler = M.search_companies })
  router:add("POST", "/search/companies/similar", { scope = "companies:read",
    handler = M.similar })
end

return M
