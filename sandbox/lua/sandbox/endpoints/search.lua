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
local facets = require "sandbox.search.facets"
local http = require "sandbox.http"
local json = require "sandbox.json"
local match = require "sandbox.search.match"
local request = require "sandbox.search.request"
local similar = require "sandbox.search.similar"
local validate = require "sandbox.validate"
local world = require "sandbox.world"

local M = {}

local null = json.null
local format = string.format
local floor = math.floor

M.PEOPLE_LIMIT = request.PEOPLE_LIMIT
M.COMPANY_LIMIT = request.COMPANY_LIMIT
M.SIMILAR_LIMIT = request.SIMILAR_LIMIT

-- Envelope helpers --------------------------------------------------------------------------

local function plural(n, one, many)
  return format("%d %s", n, n == 1 and one or many)
end

local function page_note(what_one, what_many, total, offset, n, cursor)
  if total == 0 then return null end
  if n == 0 then return format("This page is past the end: the search has %s.", plural(total, what_one, what_many)) end
  local s = format(
    "Showing %d-%d of %s.",
    offset + 1,
    offset + n,
    plural(total, "matching " .. what_one, "matching " .. what_many)
  )
  if cursor ~= null then
    s = s
      .. format(' Results are truncated: pass "cursor": %q to get the next page, or ' .. "narrow the filters.", cursor)
  end
  return s
    .. format(
      " task_id is a cohort of the %s on this page (valid for one hour): pass "
        .. "it to POST /enrichment/by-task or POST /lead-lists/{list_id}/leads.",
      plural(n, "row", "rows")
    )
end

-- Handlers ------------------------------------------------------------------------------------

local function run_search(ctx, spec, kind, limits)
  local body = ctx.body
  local f, errs = request.normalise(body, spec)
  if not f then return validate.response(errs) end
  local fp = request.fingerprint(kind, f)
  local offset = request.parse_cursor(body.cursor, fp)
  if not offset then return request.bad_cursor(ctx.request_id) end
  local limit = body.limit and floor(body.limit) or limits.default
  local w = world.of(ctx.state)
  local last = offset + limit
  local rows, ids, total
  if kind == "person" then
    rows, ids, total = match.people(w, f, offset, last)
  else
    rows, ids, total = match.companies(w, f, offset, last)
  end
  local cursor = null
  if total > last then cursor = format("%d.%s", last, fp) end
  local task_id = null
  if ids[1] then
    task_id = cohorts.create(
      ctx.state,
      ctx.org.id,
      kind,
      ids,
      kind == "person" and "search_people" or "search_companies"
    ).task_id
  end
  local one, many = "person", "people"
  if kind == "company" then
    one, many = "company", "companies"
  end
  local usage
  if total == 0 then
    usage = format(
      "No %s matched these filters. Loosen them (fewer filters, broader "
        .. "terms), or read GET /search/%s/filters for the accepted values and their counts.",
      many,
      kind == "person" and "people" or "companies"
    )
  end
  return 200,
    http.envelope({
      [kind == "person" and "people" or "companies"] = rows,
      total = total,
      returned = #rows,
      cursor = cursor,
      task_id = task_id,
    }, ctx.now_ms(), page_note(one, many, total, offset, #rows, cursor), usage)
end

function M.search_people(ctx)
  return run_search(ctx, request.PEOPLE_FILTERS, "person", M.PEOPLE_LIMIT)
end

function M.search_companies(ctx)
  return run_search(ctx, request.COMPANY_FILTERS, "company", M.COMPANY_LIMIT)
end

-- Similar companies ---------------------------------------------------------------------------

function M.similar(ctx)
  local body = ctx.body
  local domain = body.domain ~= null and body.domain or nil
  local cid = body.company_id ~= null and body.company_id or nil
  if (domain and cid) or not (domain or cid) then
    return validate.response {
      validate.error({ "body" }, "value_error", "Value error, provide exactly one of domain or company_id", body),
    }
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
      fix = "Find the company with POST /search/companies first and pass its domain or " .. "company_id.",
    })
  end
  local limit = body.limit and floor(body.limit) or M.SIMILAR_LIMIT.default
  local rows, ids = similar.rank(w, seed, limit)
  local task_id = cohorts.create(ctx.state, ctx.org.id, "company", ids, "similar_companies")
  return 200,
    http.envelope(
      {
        seed_company = world.company_record(w, seed),
        companies = rows,
        total = #rows,
        task_id = task_id.task_id,
      },
      ctx.now_ms(),
      format(
        "The %s most similar to %s (%s), best first; the seed company is "
          .. "excluded. task_id is a company cohort of these rows: pass it to POST "
          .. "/enrichment/by-task.",
        plural(#rows, "company", "companies"),
        seed.name,
        seed.domain
      )
    )
end

-- Filter vocabularies ---------------------------------------------------------------------

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
  return 200,
    filters_body(
      ctx,
      facets.people(w),
      "total_people",
      #w.people,
      M.PEOPLE_LIMIT,
      'POST /search/people with any of these filters (e.g. {"seniorities": ["vp"], '
        .. '"departments": ["Sales"], "limit": 25}); every filter is optional, values of '
        .. "one filter are OR-ed and different filters are AND-ed. Search is free; rows carry no "
        .. "email or phone: enrich the returned task_id with POST /enrichment/by-task."
    )
end

function M.company_filters(ctx)
  local w = world.of(ctx.state)
  return 200,
    filters_body(
      ctx,
      facets.companies(w),
      "total_companies",
      #w.companies,
      M.COMPANY_LIMIT,
      'POST /search/companies with any of these filters (e.g. {"industries": '
        .. '["Computer Software"], "company_sizes": ["51-200"]}), or POST '
        .. "/search/companies/similar with a domain. Search is free."
    )
end

function M.register(router)
  router:add("GET", "/search/people/filters", { scope = "people:read", handler = M.people_filters })
  router:add(
    "POST",
    "/search/people",
    { scope = "people:read", body = request.PEOPLE_SCHEMA, handler = M.search_people }
  )
  router:add("GET", "/search/companies/filters", { scope = "companies:read", handler = M.company_filters })
  router:add(
    "POST",
    "/search/companies",
    { scope = "companies:read", body = request.COMPANY_SCHEMA, handler = M.search_companies }
  )
  router:add(
    "POST",
    "/search/companies/similar",
    { scope = "companies:read", body = request.SIMILAR_SCHEMA, handler = M.similar }
  )
end

return M
