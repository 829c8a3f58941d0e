-- The workspace, search and key-management methods of the client over real libcurl against a
-- sandbox (--seed 7): whoami, credits_balance, credits_estimate, list_api_keys, usage_report,
-- the search methods and iter_search_people, and the Clerk-session family create_api_key,
-- list_user_api_keys, revoke_api_key, revoke_all_api_keys, list_api_key_requests. Each method
-- gets a success with values of the sandbox's deterministic world (README "Identities", "The
-- synthetic world", "Credits, quotes and costs") and its documented errors; a call the client
-- refuses is checked to send nothing (the sandbox's request log stays empty).
local cjson = require "cjson"
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"

local ARGS = { "--seed", "7" }
local PREFIX = wire.PREFIX
local calls, refused, api_error = wire.calls, wire.refused, wire.api_error
local VERA, ROWAN = "user_2sbxVeraOkafor", "user_2sbxRowanReed"
local ORG = "org_2sbxSandboxLabs"
local FINTECH = "Example: Engineering leaders in Fintech" -- 40 leads, seeded by every reset
local null = cleanlist.null

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

local function find(list, field, value)
  for _, item in ipairs(list) do
    if item[field] == value then return item end
  end
  return nil
end

describe("workspace and identity methods", function()
  local sb = sandbox.suite { args = ARGS, reset = true, clear = true }

  local function client(opts)
    return clients.new(sb, opts)
  end

  local function fintech_id(c)
    local page = assert(c:list_lists { limit = 100 })
    return assert(find(page.lists, "name", FINTECH)).list_id
  end

  describe("whoami", function()
    it("names Vera's key, her organisation, its tier and all twelve scopes", function()
      local me = assert(client():whoami())
      assert.equals("api_key", me.auth_type)
      assert.equals(VERA, me.user_id)
      assert.equals("Vera Okafor", me.user_name)
      assert.equals(ORG, me.organization_id)
      assert.equals("Sandbox Labs", me.organization_name)
      assert.equals("pro", me.tier)
      assert.equals("v***@example.com", me.user_email)
      assert.equals(12, #me.scopes)
      assert.is_true(set_of(me.scopes)["admin:api_keys"])
      assert.is_true(set_of(me.features).api_access)
      assert.same({ "GET /whoami" }, calls(sb))
      local rowan = assert(client({ api_key = sb.readonly_key }):whoami())
      assert.equals(ROWAN, rowan.user_id)
      assert.same({ "people:read", "companies:read", "lists:read", "enrich:read" }, rowan.scopes)
    end)

    it("answers an unknown key with 401 (auth) and a plan without API access with 403 feature_gated", function()
      local res, err = client({ api_key = "clapi_not_a_key_the_sandbox_knows" }):whoami()
      api_error(res, err, "auth", 401)
      assert.is_false(err.retryable)
      res, err = client({ api_key = sandbox.jwts().theo }):whoami()
      api_error(res, err, "permission", 403, "feature_gated")
    end)
  end)

  describe("credits_balance", function()
    it("reads the organisation's 5,000 credits after a reset, and what the ledger is set to", function()
      local c = client()
      local b = assert(c:credits_balance())
      assert.equals(5000, b.credits)
      assert.equals(ORG, b.organization_id)
      assert.equals("You have 5000 credits remaining.", b.agent_instructions)
      sb:control("POST", "/credits", { credits = 1234 })
      assert.equals(1234, assert(c:credits_balance()).credits)
      assert.same({ "GET /credits/balance", "GET /credits/balance" }, calls(sb))
    end)

    it("answers the read-only key (no credits:read) with 403 insufficient_scope", function()
      local res, err = client({ api_key = sb.readonly_key }):credits_balance()
      api_error(res, err, "permission", 403, "insufficient_scope")
      assert.same({ "credits:read" }, err.details.required_scopes)
    end)
  end)

  describe("credits_estimate", function()
    it("prices a full enrichment of the 40-lead Fintech list at 440 credits with a signed quote", function()
      local c = client()
      local list_id = fintech_id(c)
      local est = assert(c:credits_estimate { tool = "enrich_list", list_id = list_id, scope = "full" })
      assert.equals("enrich_list", est.tool)
      assert.equals(40, est.row_count)
      assert.equals(440, est.estimated_cost)
      assert.equals(5000, est.available_credits)
      assert.is_true(est.sufficient)
      local issued = tonumber(est.quote_id:match("^qte_v1_(%d+)_%x+$"))
      assert.truthy(issued, est.quote_id)
      assert.equals(issued + 300, est.expires_at)
      local person = assert(c:credits_estimate { tool = "enrich_person", enrichment_type = "full" })
      assert.equals(11, person.estimated_cost)
      assert.equals("none", person.filter_hash)
      sb:control("POST", "/credits", { credits = 10 })
      local short = assert(c:credits_estimate { tool = "enrich_list", list_id = list_id })
      assert.equals(40, short.estimated_cost)
      assert.is_false(short.sufficient) -- still a 200
    end)

    it("returns the API's 400 for an unknown tool and 404 for an unknown list", function()
      local c = client()
      local res, err = c:credits_estimate { tool = "enrich_universe" }
      api_error(res, err, "invalid_request", 400, "validation_error")
      assert.equals("tool", err.details.field)
      res, err = c:credits_estimate { tool = "enrich_list", list_id = "list_doesnotexist" }
      api_error(res, err, "not_found", 404, "not_found")
      res, err = client({ api_key = sb.readonly_key }):credits_estimate { tool = "enrich_person" }
      api_error(res, err, "permission", 403, "insufficient_scope")
    end)

    it("refuses a body without a tool or with a field the model lacks, sending nothing", function()
      local c = client()
      refused(sb, { "body", "tool" }, "missing", function()
        return c:credits_estimate {}
      end)
      refused(sb, { "body", "colour" }, "extra_forbidden", function()
        return c:credits_estimate { tool = "enrich_person", colour = "blue" }
      end)
      refused(sb, { "body", "row_count" }, "greater_than_equal", function()
        return c:credits_estimate { tool = "enrich_person", row_count = -1 }
      end)
    end)
  end)

  describe("list_api_keys", function()
    it("lists Vera's one built-in key by prefix and last four, never the secret", function()
      local c = client()
      local res = assert(c:list_api_keys())
      assert.equals(1, #res.keys) -- the read-only key is Rowan's
      local k = res.keys[1]
      assert.equals("ak_sbx0full", k.key_id)
      assert.equals("clapi_", k.key_prefix)
      assert.equals(sb.key:sub(-4), k.key_last4)
      assert.is_true(k.is_active)
      assert.equals(12, #k.scopes)
      assert.is_nil(cjson.encode(res):find(sb.key, 1, true), "the secret leaked")
      assert.same({ "GET /api-keys" }, calls(sb))
    end)

    it("answers a key without admin:api_keys with 403 insufficient_scope", function()
      local res, err = client({ api_key = sb.readonly_key }):list_api_keys()
      api_error(res, err, "permission", 403, "insufficient_scope")
      assert.same({ "admin:api_keys" }, err.details.required_scopes)
    end)
  end)

  describe("usage_report", function()
    it("counts calls and errors per route, per status class, over the default 7 days", function()
      local c = client()
      for _ = 1, 3 do
        assert(c:whoami())
      end
      assert.is_nil((c:get_list("list_nope")))
      local by_tool = assert(c:usage_report { group_by = "tool" })
      assert.equals(7, by_tool.days)
      assert.equals("tool", by_tool.group_by)
      local whoami = assert(find(by_tool.rows, "group", PREFIX .. "/whoami"))
      assert.equals(3, whoami.calls)
      assert.equals(0, whoami.errors)
      local get = assert(find(by_tool.rows, "group", PREFIX .. "/lead-lists/{list_id}"))
      assert.equals(1, get.calls)
      assert.equals(1, get.errors)
      assert.equals(4, by_tool.total_calls)
      assert.equals(1, by_tool.total_errors)
      local by_error = assert(c:usage_report { days = 1, group_by = "error" })
      assert.equals(1, by_error.days)
      assert.equals(1, assert(find(by_error.rows, "group", "404")).calls)
      assert.equals(4, assert(find(by_error.rows, "group", "ok")).calls) -- the first report too
      local log = sb:requests()
      assert.equals(PREFIX .. "/usage", log[6].path)
      assert.equals("days=1&group_by=error", log[6].query)
    end)

    it("answers a key without admin:api_keys with 403, and refuses bad days or group_by unsent", function()
      local res, err = client({ api_key = sb.readonly_key }):usage_report()
      api_error(res, err, "permission", 403, "insufficient_scope")
      local c = client()
      refused(sb, { "query", "days" }, "greater_than_equal", function()
        return c:usage_report { days = 0 }
      end)
      refused(sb, { "query", "days" }, "less_than_equal", function()
        return c:usage_report { days = 366 }
      end)
      refused(sb, { "query", "group_by" }, "enum", function()
        return c:usage_report { group_by = "month" }
      end)
      refused(sb, { "query", "days" }, "integer_type", function()
        return c:usage_report { days = 1.5 }
      end)
    end)
  end)
end)

describe("search methods", function()
  local sb = sandbox.suite { args = ARGS, clear = true }
  local people_filters, company_filters -- name -> filter, read once

  local function client(opts)
    return clients.new(sb, opts)
  end

  -- The count the filter vocabulary gives for one value of one filter.
  local function count_of(filters, name, value)
    for _, v in ipairs(filters[name].values) do
      if v.value == value then return v.count end
    end
    error("no value " .. value .. " in " .. name)
  end

  setup(function()
    local c = clients.new(sb)
    people_filters, company_filters = {}, {}
    for _, f in ipairs(assert(c:search_people_filters()).filters) do
      people_filters[f.name] = f
    end
    for _, f in ipairs(assert(c:search_companies_filters()).filters) do
      company_filters[f.name] = f
    end
  end)

  describe("search_people_filters", function()
    it("gives the vocabulary of the 12,000-person world with counts that add up", function()
      local res = assert(client():search_people_filters())
      assert.equals(12000, res.total_people)
      local names = {}
      for _, f in ipairs(res.filters) do
        names[f.name] = f
      end
      local got = {}
      for name in pairs(names) do
        got[#got + 1] = name
      end
      table.sort(got)
      assert.same({
        "company_domains",
        "company_ids",
        "company_sizes",
        "countries",
        "departments",
        "funding_stages",
        "industries",
        "job_titles",
        "keywords",
        "locations",
        "seniorities",
        "technologies",
      }, got)
      local sum = 0
      for _, v in ipairs(names.seniorities.values) do
        sum = sum + v.count
      end
      assert.equals(12000, sum)
      assert.equals("c_suite", names.seniorities.values[1].value)
      assert.equals(26, #names.industries.values)
      assert.same({ default = 25, min = 1, max = 100 }, res.limit)
      assert.same({ "GET /search/people/filters" }, calls(sb))
    end)

    it("answers an unknown key with 401 unauthenticated-kind auth", function()
      local res, err = client({ api_key = "clapi_not_a_key_the_sandbox_knows" }):search_people_filters()
      api_error(res, err, "auth", 401)
    end)
  end)

  describe("search_people", function()
    it("finds exactly the people the vocabulary counts, page by page with a cohort per page", function()
      local c = client()
      local vps = count_of(people_filters, "seniorities", "vp")
      local first = assert(c:search_people { seniorities = { "vp" }, limit = 30 })
      assert.equals(vps, first.total)
      assert.equals(30, #first.people)
      assert.equals(30, first.returned)
      assert.matches("^cl%-task_%x+$", first.task_id)
      assert.matches("^30%.%x+$", first.cursor)
      for _, p in ipairs(first.people) do
        assert.equals("vp", p.seniority)
        assert.matches("^%d+$", p.person_id)
        assert.is_nil(p.email)
        assert.is_nil(p.phone)
      end
      local second = assert(c:search_people { filters = { seniorities = { "VP" } }, limit = 30, cursor = first.cursor })
      assert.equals(vps, second.total)
      local ids = set_of((function()
        local t = {}
        for i, p in ipairs(first.people) do
          t[i] = p.person_id
        end
        return t
      end)())
      for _, p in ipairs(second.people) do
        assert.is_nil(ids[p.person_id], "page 2 repeats page 1")
      end
      assert.are_not.equal(first.task_id, second.task_id)
      local body = cjson.decode(sb:requests()[1].body)
      assert.same({ seniorities = { "vp" }, limit = 30 }, body)
    end)

    it("reports an empty result with a null task_id and cursor", function()
      local res = assert(client():search_people { job_titles = { "Chief Llama Wrangler" } })
      assert.equals(0, res.total)
      assert.same({}, res.people)
      assert.equals(null, res.task_id)
      assert.equals(null, res.cursor)
    end)

    it("returns the API's 422 for an unknown filter or enum value and 400 for a foreign cursor", function()
      local c = client()
      local res, err = c:search_people { bogus = 1 }
      api_error(res, err, "invalid_request", 422, "validation_error")
      assert.same({ "body", "bogus" }, err.detail[1].loc)
      assert.equals("extra_forbidden", err.detail[1].type)
      res, err = c:search_people { seniorities = { "vp", "boss" } }
      api_error(res, err, "invalid_request", 422)
      assert.same({ "body", "seniorities", 1 }, err.detail[1].loc)
      local first = assert(c:search_people { seniorities = { "entry" }, limit = 5 })
      res, err = c:search_people { seniorities = { "manager" }, limit = 5, cursor = first.cursor }
      api_error(res, err, "invalid_request", 400, "validation_error")
    end)

    it("refuses a limit out of 1-100 or a non-table filters, sending nothing", function()
      local c = client()
      refused(sb, { "body", "limit" }, "less_than_equal", function()
        return c:search_people { limit = 101 }
      end)
      refused(sb, { "body", "limit" }, "greater_than_equal", function()
        return c:search_people { limit = 0 }
      end)
      refused(sb, { "body", "filters" }, "object_type", function()
        return c:search_people { filters = "vp" }
      end)
    end)
  end)

  describe("search_companies_filters", function()
    it("gives the vocabulary of the 1,200-company world, industries first", function()
      local res = assert(client():search_companies_filters())
      assert.equals(1200, res.total_companies)
      assert.equals("industries", res.filters[1].name)
      assert.equals(26, #res.filters[1].values)
      local sum = 0
      for _, v in ipairs(res.filters[1].values) do
        sum = sum + v.count
      end
      assert.equals(1200, sum)
      assert.same({ "GET /search/companies/filters" }, calls(sb))
    end)

    it("answers an unknown key with 401 (auth)", function()
      local res, err = client({ api_key = "clapi_not_a_key_the_sandbox_knows" }):search_companies_filters()
      api_error(res, err, "auth", 401)
    end)
  end)

  describe("search_companies", function()
    it("finds exactly the companies the vocabulary counts for an industry", function()
      local industry = company_filters.industries.values[1].value
      local n = count_of(company_filters, "industries", industry)
      local res = assert(client():search_companies { industries = { industry }, limit = 100 })
      assert.equals(n, res.total)
      assert.equals(n, #res.companies)
      assert.equals(null, res.cursor)
      assert.matches("^cl%-task_%x+$", res.task_id)
      local ids = {}
      for _, co in ipairs(res.companies) do
        assert.is_true(set_of(co.industries)[industry], co.name)
        assert.matches("^company_%x+$", co.company_id)
        assert.is_nil(ids[co.company_id], co.company_id .. " twice")
        ids[co.company_id] = true
      end
      -- seed 7: the first industry is Computer Software, 41 companies, these first
      assert.equals("Computer Software", industry)
      assert.equals(41, n)
      assert.same(
        { "parkerthomas.io", "whitebennett.io", "helixlabs.io" },
        { res.companies[1].domain, res.companies[2].domain, res.companies[3].domain }
      )
      local all = assert(client():search_companies { limit = 1 })
      assert.equals(1200, all.total)
    end)

    it("returns the API's 422 for an unknown size and refuses a bad limit unsent", function()
      local c = client()
      local res, err = c:search_companies { company_sizes = { "1-5" } }
      api_error(res, err, "invalid_request", 422)
      assert.same({ "body", "company_sizes", 0 }, err.detail[1].loc)
      assert.equals("enum", err.detail[1].type)
      refused(sb, { "body", "limit" }, "greater_than_equal", function()
        return c:search_companies { limit = 0 }
      end)
    end)
  end)

  describe("similar_companies", function()
    local seed
    setup(function()
      seed = assert(clients.new(sb):search_companies { industries = { "Computer Software" }, limit = 1 }).companies[1]
    end)

    it("ranks the companies most like one given by domain or id, best first, without it", function()
      local c = client()
      local by_domain = assert(c:similar_companies { domain = seed.domain, limit = 5 })
      assert.equals(seed.company_id, by_domain.seed_company.company_id)
      assert.equals(5, #by_domain.companies)
      assert.equals(5, by_domain.total)
      assert.matches("^cl%-task_%x+$", by_domain.task_id)
      assert.equals("parkerthomas.io", seed.domain)
      local scores, domains = {}, {}
      for i, co in ipairs(by_domain.companies) do
        assert.are_not.equal(seed.company_id, co.company_id)
        scores[i], domains[i] = co.similarity_score, co.domain
      end
      -- seed 7's nearest five to Parker & Thomas, best first
      assert.same({ 0.78, 0.76, 0.76, 0.76, 0.75 }, scores)
      assert.same({ "vectorai.io", "tidesoftware.io", "coresystems.io", "opalsoftware.io", "firstworks.io" }, domains)
      local by_id = assert(c:similar_companies { company_id = seed.company_id, limit = 5 })
      for i = 1, 5 do
        assert.equals(by_domain.companies[i].company_id, by_id.companies[i].company_id)
      end
    end)

    it("answers an unknown domain with 404 not_found and refuses a call with neither identifier", function()
      local c = client()
      local res, err = c:similar_companies { domain = "no-such-company.example" }
      api_error(res, err, "not_found", 404, "not_found")
      refused(sb, { "body" }, nil, function()
        return c:similar_companies { limit = 5 }
      end)
      refused(sb, { "body", "limit" }, "less_than_equal", function()
        return c:similar_companies { domain = seed.domain, limit = 51 }
      end)
    end)

    -- The sandbox takes exactly one of domain and company_id (endpoints/search.lua; both is a
    -- 422 value_error); the client refuses both before sending.
    it("refuses a call with both domain and company_id, sending nothing", function()
      local c = client()
      refused(sb, { "body" }, "conflict", function()
        return c:similar_companies { domain = seed.domain, company_id = seed.company_id }
      end)
    end)
  end)

  describe("iter_search_people", function()
    local BANKING = { industries = { "Banking" }, limit = 100 }

    it("walks every match, one request per page, each with the previous page's cursor", function()
      local total = count_of(people_filters, "industries", "Banking")
      local pages = math.ceil(total / 100)
      assert.is_true(pages >= 3 and pages <= 10, "choose another filter: " .. total)
      local it = client():iter_search_people(BANKING)
      local seen, n = {}, 0
      for p in it do
        assert.equals("Banking", p.industry)
        assert.is_nil(seen[p.person_id], "person " .. p.person_id .. " twice")
        seen[p.person_id] = true
        n = n + 1
      end
      assert.is_nil(it.err)
      assert.equals(total, n)
      assert.equals(total, it.count)
      assert.equals(pages, it.pages)
      assert.equals(total, it.page.total)
      assert.is_nil(it.page.people) -- only the current page's rows are held, by the iterator
      local log = sb:requests()
      assert.equals(pages, #log)
      for i, r in ipairs(log) do
        assert.equals("POST", r.method)
        assert.equals(PREFIX .. "/search/people", r.path)
        local body = cjson.decode(r.body)
        assert.equals(100, body.limit)
        assert.same({ "Banking" }, body.industries)
        assert.is_nil(body.max)
        if i == 1 then
          assert.is_nil(body.cursor)
        else -- search cursors are "<offset>.<fingerprint>": page i starts at (i - 1) * 100
          assert.matches(("^%d%%.%%x+$"):format((i - 1) * 100), body.cursor)
        end
      end
    end)

    it("stops at max, fetching only the pages it needs", function()
      local it = client():iter_search_people { industries = { "Banking" }, limit = 100, max = 150 }
      local n = 0
      for _ in it do
        n = n + 1
      end
      assert.equals(150, n)
      assert.is_nil(it.err)
      assert.equals(2, #sb:requests())
      assert.same({}, assert(client():iter_search_people { industries = { "Banking" }, max = 0 }:all()))
    end)

    it("ends the loop on a failed page with it.err set, after the rows it did get", function()
      local it = client():iter_search_people(BANKING)
      local n = 0
      for _ in it do
        n = n + 1
        if n == 100 then -- page 2 is fetched by the next step: make it fail
          sb:control("POST", "/script", {
            responses = {
              {
                status = 500,
                body = '{"error":{"code":'
                  .. '"internal_error","problem":"boom","retryable":false,"request_id":"req_00000000000000aa"}}',
              },
            },
          })
        end
      end
      assert.equals(100, n)
      assert.equals(100, it.count)
      assert.equals(1, it.pages)
      assert.equals("server", it.err.kind)
      assert.equals(500, it.err.status)
      assert.is_nil(it.err.stale_cursor)
      assert.is_nil(it(), "the iterator goes on after an error")
      assert.equals(2, #sb:requests())
    end)

    it("says a refused cursor is stale, and all() returns nil and the error", function()
      sb:control("POST", "/script", {
        responses = {
          {
            status = 200,
            body = cjson.encode {
              people = { { person_id = "1" } },
              total = 2,
              cursor = "garbage",
            },
          },
        },
      })
      local it = client():iter_search_people(BANKING)
      local rows, err = it:all()
      assert.is_nil(rows)
      assert.equals(err, it.err)
      assert.equals("invalid_request", err.kind)
      assert.equals(400, err.status)
      assert.is_true(err.stale_cursor)
      assert.equals(1, it.count)
      assert.equals("garbage", cjson.decode(sb:requests()[2].body).cursor)
    end)

    it("ends at once with the refusal of a bad body, sending nothing", function()
      local it = client():iter_search_people { limit = 500 }
      assert.is_nil(it())
      assert.equals("invalid_request", it.err.kind)
      assert.equals("less_than_equal", it.err.detail[1].type)
      assert.same({}, calls(sb))
    end)
  end)
end)

describe("API-key management with a Clerk session", function()
  local sb = sandbox.suite { args = ARGS, reset = true, clear = true }
  local jwt

  setup(function()
    jwt = sandbox.jwts()
    assert(jwt.vera and jwt.rowan and jwt.theo, "the sandbox's --help lists no session JWTs")
  end)

  local function session(who)
    return clients.new(sb, { api_key = jwt[who] })
  end

  local function client(opts)
    return clients.new(sb, opts)
  end

  describe("create_api_key", function()
    it("creates a key under the origin's /api/v1/api-keys that works at once as Vera", function()
      local k = assert(session("vera"):create_api_key { name = "Production server" })
      assert.matches("^clapi_%x+$", k.key)
      assert.matches("^ak_%x+$", k.key_id)
      assert.equals(k.key:sub(-4), k.key_last4)
      assert.equals("Production server", k.name)
      assert.is_true(k.is_active)
      assert.equals(null, k.last_used_at)
      local log = sb:requests()
      assert.equals("POST", log[1].method)
      assert.equals("/api/v1/api-keys", log[1].path) -- the origin, not the public base path
      assert.same({ name = "Production server" }, cjson.decode(log[1].body))
      assert.is_nil(log[1].headers.authorization:find(jwt.vera, 1, true))
      local me = assert(client({ api_key = k.key }):whoami())
      assert.equals(VERA, me.user_id)
      assert.equals(12, #me.scopes)
    end)

    it(
      "answers a clapi_ key with 401, a plan without API access with 403 feature_gated, "
        .. "and an eleventh active key with 403 key_limit_reached",
      function()
        local res, err = client():create_api_key { name = "x" }
        api_error(res, err, "auth", 401, "unauthenticated")
        res, err = session("theo"):create_api_key { name = "x" }
        api_error(res, err, "permission", 403, "feature_gated")
        local vera = session("vera")
        for i = 1, 9 do
          assert(vera:create_api_key { name = "k" .. i })
        end -- with ak_sbx0full: 10
        res, err = vera:create_api_key { name = "eleventh" }
        api_error(res, err, "permission", 403, "key_limit_reached")
        assert.equals(10, err.details.active_keys)
      end
    )

    it("refuses a missing or empty name unsent; too long a name is invalid_request at body.name", function()
      local vera = session("vera")
      refused(sb, { "body", "name" }, "missing", function()
        return vera:create_api_key {}
      end)
      refused(sb, { "body", "name" }, "string_too_short", function()
        return vera:create_api_key { name = "" }
      end)
      refused(sb, { "body", "scopes" }, "extra_forbidden", function()
        return vera:create_api_key { name = "x", scopes = { "lists:read" } }
      end)
      -- The sandbox caps names at 100 characters; whether the client or the server refuses
      -- 101, the error reads the same.
      local res, err = vera:create_api_key { name = string.rep("n", 101) }
      assert.is_nil(res)
      assert.equals("invalid_request", err.kind)
      assert.same({ "body", "name" }, err.detail[1].loc)
      assert.equals("string_too_long", err.detail[1].type)
    end)
  end)

  describe("list_user_api_keys", function()
    it("lists the session user's keys, a new one included, never a secret", function()
      local vera = session("vera")
      local k = assert(vera:create_api_key { name = "listed" })
      local res = assert(vera:list_user_api_keys())
      assert.equals(2, #res.keys)
      assert.equals("ak_sbx0full", res.keys[1].key_id)
      assert.equals(k.key_id, res.keys[2].key_id)
      assert.equals(null, res.keys[2].revoked_at)
      assert.is_nil(cjson.encode(res):find(k.key, 1, true), "the secret was shown again")
      local rowan = assert(session("rowan"):list_user_api_keys())
      assert.equals(1, #rowan.keys)
      assert.equals("ak_sbx0read", rowan.keys[1].key_id)
      assert.equals(0, #assert(session("theo"):list_user_api_keys()).keys)
    end)

    it("answers a clapi_ key with 401 unauthenticated", function()
      local res, err = client():list_user_api_keys()
      api_error(res, err, "auth", 401, "unauthenticated")
      assert.matches("Clerk session JWT", err.message)
    end)
  end)

  describe("revoke_api_key", function()
    it("revokes a key at once (then 401 revoked_api_key); revoking again is harmless", function()
      local vera = session("vera")
      local k = assert(vera:create_api_key { name = "short-lived" })
      local holder = client { api_key = k.key }
      assert(holder:credits_balance())
      local res = assert(vera:revoke_api_key(k.key_id))
      assert.equals(k.key_id, res.key_id)
      assert.is_false(res.is_active)
      assert.is_true(res.revoked)
      assert.is_false(res.already_revoked)
      local _, err = holder:credits_balance()
      assert.equals("auth", err.kind)
      assert.equals("revoked_api_key", err.code)
      local listed = assert(find(assert(vera:list_user_api_keys()).keys, "key_id", k.key_id))
      assert.is_false(listed.is_active)
      assert.is_true(assert(vera:revoke_api_key(k.key_id)).already_revoked)
      assert.equals("POST /api/v1/api-keys/" .. k.key_id .. "/revoke", calls(sb)[3])
    end)

    it("answers an unknown key or another user's key with 404, and refuses an empty id unsent", function()
      local res, err = session("vera"):revoke_api_key("ak_doesnotexist")
      api_error(res, err, "not_found", 404, "not_found")
      local k = assert(session("vera"):create_api_key { name = "vera's" })
      res, err = session("rowan"):revoke_api_key(k.key_id)
      api_error(res, err, "not_found", 404, "not_found")
      assert(client({ api_key = k.key }):whoami()) -- still works
      res, err = client():revoke_api_key(k.key_id)
      api_error(res, err, "auth", 401, "unauthenticated")
      refused(sb, { "path", "key_id" }, "missing", function()
        return session("vera"):revoke_api_key("")
      end)
    end)
  end)

  describe("revoke_all_api_keys", function()
    it("revokes every active key of the session user and nobody else's", function()
      local rowan = session("rowan")
      local a = assert(rowan:create_api_key { name = "a" })
      local b = assert(rowan:create_api_key { name = "b" })
      local v = assert(session("vera"):create_api_key { name = "vera keeps this" })
      local res = assert(rowan:revoke_all_api_keys())
      assert.equals(3, res.revoked)
      local ids = res.key_ids
      table.sort(ids)
      local want = { a.key_id, b.key_id, "ak_sbx0read" }
      table.sort(want)
      assert.same(want, ids)
      for _, key in ipairs { a.key, b.key, sb.readonly_key } do
        local _, err = client({ api_key = key }):whoami()
        assert.equals("auth", err.kind)
      end
      assert(client({ api_key = v.key }):whoami())
      assert(client():whoami())
      assert.equals(0, assert(rowan:revoke_all_api_keys()).revoked)
    end)

    it("answers a clapi_ key with 401, revoking nothing", function()
      local res, err = client():revoke_all_api_keys()
      api_error(res, err, "auth", 401, "unauthenticated")
      assert(client():whoami())
    end)
  end)

  describe("list_api_key_requests", function()
    it("lists one key's requests newest first, and honours limit", function()
      local vera = session("vera")
      local k = assert(vera:create_api_key { name = "logged" })
      local holder = client { api_key = k.key }
      assert(holder:whoami())
      assert(holder:credits_balance())
      assert(client():whoami()) -- another key: not listed
      local res = assert(vera:list_api_key_requests(k.key_id))
      assert.equals(k.key_id, res.key_id)
      assert.equals(2, res.total)
      assert.equals(PREFIX .. "/credits/balance", res.requests[1].path)
      assert.equals(PREFIX .. "/whoami", res.requests[2].path)
      assert.equals(200, res.requests[1].status)
      assert.matches("^req_%x+$", res.requests[1].request_id)
      local one = assert(vera:list_api_key_requests(k.key_id, { limit = 1 }))
      assert.equals(1, #one.requests)
      local log = sb:requests()
      assert.equals("/api/v1/api-keys/" .. k.key_id .. "/requests", log[#log].path)
      assert.equals("limit=1", log[#log].query)
    end)

    it("answers an unknown or foreign key with 404, a clapi_ key with 401, and refuses limit 0 unsent", function()
      local res, err = session("vera"):list_api_key_requests("ak_nope")
      api_error(res, err, "not_found", 404, "not_found")
      res, err = session("rowan"):list_api_key_requests("ak_sbx0full")
      api_error(res, err, "not_found", 404, "not_found")
      res, err = client():list_api_key_requests("ak_sbx0full")
      api_error(res, err, "auth", 401, "unauthenticated")
      local vera = session("vera")
      refused(sb, { "query", "limit" }, "greater_than_equal", function()
        return vera:list_api_key_requests("ak_sbx0full", { limit = 0 })
      end)
      refused(sb, { "path", "key_id" }, "missing", function()
        return vera:list_api_key_requests(nil)
      end)
    end)
  end)
end)
