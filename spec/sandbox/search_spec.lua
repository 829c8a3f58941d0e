-- luacheck: std +busted
-- Search over HTTP (API.md §6.2; shapes designed by the sandbox, documented at the top of
-- sandbox/lua/sandbox/endpoints/search.lua): filter vocabularies, people and company search
-- with filters, cursors and cohort task_ids, similar companies, and every error.
local sandbox = require "spec.helpers.sandbox"
local api = require "spec.helpers.api"
local cjson = require "cjson"

local null = sandbox.null
local set_of, detail_locs = api.set_of, api.locs

describe("sandbox search", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" } }

  local function post(path, body, opts)
    opts = opts or {}
    opts.body = body
    return sb:api("POST", path, opts)
  end

  describe("GET /search/people/filters", function()
    it("lists the vocabulary with counts that add up to the world", function()
      -- the clock held still, so the answer's timestamp_ms is its reading
      local scale = sb:control("GET", "/clock").time_scale
      sb:control("POST", "/clock", { time_scale = 1e-9 })
      local now_ms = sb:control("GET", "/clock").now_ms
      local status, body = sb:api("GET", "/search/people/filters")
      sb:control("POST", "/clock", { time_scale = scale })
      assert.equal(200, status)
      assert.equal(12000, body.total_people) -- the world's people
      local by_name, names = {}, {}
      for i, f in ipairs(body.filters) do
        by_name[f.name] = f
        names[i] = f.name
      end
      table.sort(names)
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
      }, names)
      local sum = 0
      for _, v in ipairs(by_name.seniorities.values) do
        sum = sum + v.count
      end
      assert.equal(body.total_people, sum)
      assert.equal("c_suite", by_name.seniorities.values[1].value)
      assert.equal(1, body.usage:find("POST /search/people with any of these filters", 1, true))
      assert.equal(now_ms, body.timestamp_ms)
    end)

    it("answers 401 without credentials", function()
      local status, body = sb:api("GET", "/search/people/filters", { key = false })
      assert.equal(401, status)
      assert.equal("unauthenticated", body.error.code)
    end)
  end)

  describe("POST /search/people", function()
    it("returns rows that match every filter, without email or phone, and a cohort", function()
      local status, body = post("/search/people", {
        seniorities = { "vp", "director" },
        departments = { "Sales", "engineering" },
        countries = { "US" },
        limit = 30,
      })
      assert.equal(200, status)
      assert.equal(591, body.total) -- the built-in seed's US sales and engineering VPs and directors
      assert.equal(30, #body.people)
      assert.equal(30, body.returned)
      for _, p in ipairs(body.people) do
        assert.truthy(p.seniority == "vp" or p.seniority == "director")
        assert.truthy(p.department == "Sales" or p.department == "Engineering")
        assert.equal("United States", p.country)
        assert.truthy(p.person_id:match("^%d+$"))
        assert.is_nil(p.email)
        assert.is_nil(p.phone)
        assert.truthy(p.linkedin_url:match("^https://www%.linkedin%.com/in/"))
      end
      assert.truthy(body.task_id:match("^cl%-task_%x+$"))
      assert.equal("30.ef1dc908", body.cursor) -- the offset of the next page and its query's digest
      assert.truthy(body.agent_instructions:find("truncated", 1, true))
      assert.equal(null, body.usage)
    end)

    it("walks a whole result set by cursor with no duplicates or gaps", function()
      local filters = { industries = { "Banking" }, seniorities = { "c_suite", "vp" }, limit = 7 }
      local seen, n, cursor, total, pages = {}, 0, nil, nil, 0
      repeat
        filters.cursor = cursor
        local status, body = post("/search/people", filters)
        assert.equal(200, status)
        total = total or body.total
        assert.equal(total, body.total)
        for _, p in ipairs(body.people) do
          assert.is_nil(seen[p.person_id])
          seen[p.person_id] = true
          n = n + 1
          assert.equal("Banking", p.industry)
        end
        cursor = body.cursor ~= null and body.cursor or nil
        pages = pages + 1
      until not cursor or pages > 20
      assert.equal(61, total) -- the built-in seed's banking C-suite and VPs
      assert.equal(total, n)
      assert.equal(math.ceil(total / 7), pages)
    end)

    it('accepts the filters nested under "filters" and keyword search', function()
      local _, a = post("/search/people", { job_titles = { "chief" }, limit = 10 })
      local _, b = post("/search/people", { filters = { job_titles = { "Chief" } }, limit = 10 })
      assert.equal(a.total, b.total)
      assert.equal(a.people[1].person_id, b.people[1].person_id)
      for _, p in ipairs(a.people) do
        assert.truthy(p.title:lower():find("chief", 1, true))
      end
      local status, k = post("/search/people", { keywords = "fintech engineering", limit = 5 })
      assert.equal(200, status)
      assert.equal(276, k.total)
      assert.equal(446, a.total)
      for _, p in ipairs(k.people) do
        assert.truthy(p.department == "Engineering" or p.title:lower():find("engineer"))
      end
    end)

    it("filters by company domain", function()
      local _, c = post("/search/companies", { company_sizes = { "10001+" }, limit = 1 })
      local domain = c.companies[1].domain
      local status, body = post("/search/people", { company_domains = { domain }, limit = 100 })
      assert.equal(200, status)
      assert.equal("brightscalebuilders.com", domain)
      assert.equal(37, body.total) -- its people in the built-in seed's world
      assert.equal(37, #body.people)
      for _, p in ipairs(body.people) do
        assert.equal(domain, p.company_domain)
      end
    end)

    it("reports an empty result with a usage hint and no task_id", function()
      local status, body = post("/search/people", { job_titles = { "Chief Llama Wrangler" } })
      assert.equal(200, status)
      assert.equal(0, body.total)
      assert.same({}, body.people)
      assert.equal(null, body.task_id)
      assert.equal(null, body.cursor)
      assert.truthy(body.usage:find("/search/people/filters", 1, true))
    end)

    it("refuses a cursor of another search or a malformed one with 400", function()
      local _, first = post("/search/people", { seniorities = { "entry" }, limit = 5 })
      local status, body = post("/search/people", { seniorities = { "manager" }, limit = 5, cursor = first.cursor })
      assert.equal(400, status)
      assert.equal("validation_error", body.error.code)
      status = post("/search/people", { seniorities = { "entry" }, cursor = "garbage" })
      assert.equal(400, status)
      status = post("/search/people", { seniorities = { "entry" }, limit = 5, cursor = first.cursor })
      assert.equal(200, status)
    end)

    it("answers 422 with loc for unknown keys, bad limits, types and enum values", function()
      local status, body = post("/search/people", { bogus = 1, limit = 0 })
      assert.equal(422, status)
      assert.same({ "body.bogus:extra_forbidden", "body.limit:greater_than_equal" }, detail_locs(body))
      status, body = post("/search/people", { limit = 101 })
      assert.equal(422, status)
      assert.same({ "body.limit:less_than_equal" }, detail_locs(body))
      status, body = post("/search/people", { seniorities = "vp" })
      assert.equal(422, status)
      assert.same({ "body.seniorities:list_type" }, detail_locs(body))
      status, body = post("/search/people", { seniorities = { "vp", "boss" } })
      assert.equal(422, status)
      assert.same({ "body.seniorities.1:enum" }, detail_locs(body))
      assert.equal("boss", body.detail[1].input)
      status, body = post("/search/people", { filters = { nope = true } })
      assert.equal(422, status)
      assert.same({ "body.filters.nope:extra_forbidden" }, detail_locs(body))
      status, body =
        sb:api("POST", "/search/people", { body = "{not json", headers = { ["Content-Type"] = "application/json" } })
      assert.equal(422, status)
      assert.equal("json_invalid", body.detail[1].type)
    end)

    it("is served under /api/v2 too", function()
      local status, body = sb:http("POST", sb.root .. "/api/v2/search/people", { key = sb.key, body = { limit = 1 } })
      assert.equal(200, status)
      assert.equal(1, #cjson.decode(body).people)
    end)
  end)

  describe("POST /search/companies", function()
    it("returns CompanyRecords that match the filters, paged by cursor", function()
      local filters = { company_sizes = { "51-200", "201-500" }, technologies = { "Snowflake" }, limit = 4 }
      local seen, n, pages, cursor = {}, 0, 0, nil
      local total
      repeat
        filters.cursor = cursor
        local status, body = post("/search/companies", filters)
        assert.equal(200, status)
        total = body.total
        for _, c in ipairs(body.companies) do
          assert.is_nil(seen[c.company_id])
          seen[c.company_id] = true
          n = n + 1
          assert.truthy(c.employee_count_range == "51-200" or c.employee_count_range == "201-500")
          assert.is_true(set_of(c.tech_stack).Snowflake)
          -- the domain names the company's LinkedIn page; the count lies in its range
          assert.equal(c.linkedin_url:match("/company/(.-)$"), c.domain:match("^(.-)%.%a+$"))
          local lo, hi = c.employee_count_range:match("^(%d+)%-(%d+)$")
          assert.is_true(c.employee_count >= tonumber(lo) and c.employee_count <= tonumber(hi), c.name)
        end
        if pages == 0 then assert.truthy(body.task_id:match("^cl%-task_")) end
        cursor = body.cursor ~= null and body.cursor or nil
        pages = pages + 1
      until not cursor or pages > 30
      assert.equal(54, total) -- the built-in seed's 51-500 employee Snowflake users
      assert.equal(total, n)
      assert.equal(14, pages)
    end)

    it("filters by employee count bounds and HQ country", function()
      local status, body = post(
        "/search/companies",
        { employee_count_min = 1000, employee_count_max = 3000, countries = { "United Kingdom" }, limit = 100 }
      )
      assert.equal(200, status)
      for _, c in ipairs(body.companies) do
        assert.is_true(c.employee_count >= 1000 and c.employee_count <= 3000)
        assert.truthy(c.hq_location:match(", GB$"))
      end
    end)

    it("answers 422 for a negative bound or an unknown size", function()
      local status, body = post("/search/companies", { employee_count_min = -1, company_sizes = { "1-5" } })
      assert.equal(422, status)
      assert.same({ "body.employee_count_min:greater_than_equal" }, detail_locs(body))
      status, body = post("/search/companies", { company_sizes = { "1-5" } })
      assert.equal(422, status)
      assert.same({ "body.company_sizes.0:enum" }, detail_locs(body))
    end)
  end)

  describe("POST /search/companies/similar", function()
    local seed
    setup(function()
      local _, body = post("/search/companies", { industries = { "Computer Software" }, limit = 1 })
      seed = body.companies[1]
    end)

    it("ranks similar companies, excluding the seed company", function()
      local status, body = post("/search/companies/similar", { domain = seed.domain, limit = 15 })
      assert.equal(200, status)
      assert.equal(seed.company_id, body.seed_company.company_id)
      assert.equal(15, #body.companies)
      assert.equal(15, body.total)
      local prev = 2
      for _, c in ipairs(body.companies) do
        assert.are_not.equal(seed.company_id, c.company_id)
        assert.is_true(c.similarity_score <= prev and c.similarity_score >= 0)
        prev = c.similarity_score
      end
      -- the built-in seed's nearest and fifteenth nearest, with their reasons
      local first, last = body.companies[1], body.companies[15]
      assert.same({ "Keystone Labs", 0.8 }, { first.name, first.similarity_score })
      assert.same(
        { "same industry (Computer Software)", "shares 4 technologies", "same size (501-1000 employees)" },
        first.similarity_reasons
      )
      assert.equal(0.69, last.similarity_score)
      assert.same(
        { "same industry (Computer Software)", "shares 1 technology", "similar size (201-500 employees)" },
        last.similarity_reasons
      )
      assert.equal("Computer Software", body.companies[1].industry)
      assert.truthy(body.task_id:match("^cl%-task_"))
      local _, again = post("/search/companies/similar", { company_id = seed.company_id, limit = 15 })
      assert.equal(body.companies[15].company_id, again.companies[15].company_id)
    end)

    it("answers 422 for neither or both identifiers and 404 for an unknown one", function()
      local status, body = post("/search/companies/similar", {})
      assert.equal(422, status)
      assert.equal("value_error", body.detail[1].type)
      status = post("/search/companies/similar", { domain = seed.domain, company_id = seed.company_id })
      assert.equal(422, status)
      status, body = post("/search/companies/similar", { domain = "no-such-company.example" })
      assert.equal(404, status)
      assert.equal("not_found", body.error.code)
      status, body = post("/search/companies/similar", { domain = seed.domain, limit = 51 })
      assert.equal(422, status)
      assert.same({ "body.limit:less_than_equal" }, detail_locs(body))
    end)
  end)

  describe("GET /search/companies/filters", function()
    it("lists industries, sizes and technologies with counts", function()
      local status, body = sb:api("GET", "/search/companies/filters", { key = sb.readonly_key })
      assert.equal(200, status)
      local sum = 0
      for _, v in ipairs(body.filters[1].values) do
        sum = sum + v.count
      end
      assert.equal("industries", body.filters[1].name)
      assert.equal(body.total_companies, sum)
    end)
  end)
end)

-- The built-in keys both hold people:read and companies:read, so the scope guard is checked
-- on the routes themselves.
describe("sandbox search scopes", function()
  sandbox.use_modules()
  local router = require("sandbox.router").new()
  require("sandbox.endpoints.search").register(router)
  local auth = require "sandbox.auth"

  it("guards every search route with its scope", function()
    local want = {
      { "GET", "/search/people/filters", "people:read" },
      { "POST", "/search/people", "people:read" },
      { "GET", "/search/companies/filters", "companies:read" },
      { "POST", "/search/companies", "companies:read" },
      { "POST", "/search/companies/similar", "companies:read" },
    }
    for _, w in ipairs(want) do
      local entry = router:match(w[2])
      assert.equal(w[3], entry.methods[w[1]].scope)
      local status, body = auth.require_scope({ scopes = {}, scope_set = {} }, entry.methods[w[1]].scope, "req_0")
      assert.equal(403, status)
      assert.equal("insufficient_scope", body.error.code)
      assert.same({ w[3] }, body.error.details.required_scopes)
    end
  end)
end)
