-- luacheck: std +busted
-- Export over HTTP (API.md §6.6): the signed CSV URL (served by the sandbox outside the API
-- path, HMAC-signed, expiring after 24 h of sandbox time) and the JSON export with its
-- cursor; plus, in-process, the smart-agent columns that enrichment runs write on leads.
local sandbox = require "spec.helpers.sandbox"
local api = require "spec.helpers.api"
local cjson = require "cjson"

local null = sandbox.null

local locs, parse_csv = api.locs, api.parse_csv

describe("sandbox export", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" }, reset = true }
  local list_id, private_id

  before_each(function()
    local _, body = sb:api("GET", "/lead-lists?limit=100", { key = sb.readonly_key })
    for _, l in ipairs(body.lists) do
      if l.name == "Example: Engineering leaders in Fintech" then
        list_id = l.list_id
      elseif l.name == "Rowan's scratchpad" then
        private_id = l.list_id
      end
    end
  end)

  local function signed(body, key)
    return sb:api("POST", "/export/csv/signed-url", { body = body, key = key })
  end

  describe("POST /export/csv/signed-url", function()
    it("signs a URL to an exact RFC 4180 CSV of the list with the default columns", function()
      local status, body = signed { list_id = list_id }
      assert.equal(200, status)
      assert.equal(list_id, body.list_id)
      assert.equal(40, body.row_count)
      assert.truthy(
        body.download_url:match("^http://127%.0%.0%.1:%d+/__files/exports/" .. "[%w_]+%.csv%?exp=%d+&sig=%x+$"),
        body.download_url
      )
      assert.truthy(body.expires_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+00:00$"))
      local exp = tonumber(body.download_url:match("exp=(%d+)"))
      local now = select(1, sb:control("GET", "/clock")).now_ms / 1000
      assert.is_true(math.abs(exp - now - 86400) < 5)
      -- no Authorization header: the signature is the credential
      local st, text, headers = sandbox.http("GET", body.download_url)
      assert.equal(200, st)
      assert.truthy(headers["content-type"]:find("text/csv", 1, true))
      assert.truthy(headers["content-disposition"]:find("attachment", 1, true))
      assert.equal(body.file_size_bytes, #text)
      local rows = parse_csv(text)
      assert.same({
        "lead_id",
        "first_name",
        "last_name",
        "email",
        "title",
        "company",
        "domain",
        "linkedin_url",
        "phone",
        "location",
      }, rows[1])
      assert.equal(41, #rows)
      local quoted = text:find('"[^"]*, [^"]*"') -- locations hold commas: quoted
      assert.truthy(quoted)
      for i = 2, #rows do
        assert.equal(10, #rows[i])
        assert.truthy(rows[i][1]:match("^lead_%x+$"))
        assert.truthy(rows[i][10]:match(", "))
      end
    end)

    it("writes the chosen columns in order, aliases included", function()
      local status, body = signed { list_id = list_id, columns = { "email", "company_domain", "full_name", "lead_id" } }
      assert.equal(200, status)
      local _, text = sandbox.http("GET", body.download_url)
      local rows = parse_csv(text)
      assert.same({ "email", "company_domain", "full_name", "lead_id" }, rows[1])
      assert.truthy(rows[2][2]:match("^[%w%-]+%.%a+$"))
      assert.equal("", rows[2][1]) -- not enriched
      assert.equal(body.file_size_bytes, #text)
    end)

    it("refuses a tampered, truncated or expired link", function()
      local _, body = signed { list_id = list_id }
      local url = body.download_url
      local st, text = sandbox.http("GET", (url:gsub("sig=(%x)", function(c)
        return "sig=" .. (c == "0" and "1" or "0")
      end)))
      assert.equal(403, st)
      assert.equal("export_link_invalid", cjson.decode(text).error.code)
      st = sandbox.http("GET", (url:gsub("exp=(%d+)", function(e)
        return "exp=" .. (tonumber(e) + 3600)
      end)))
      assert.equal(403, st)
      st = sandbox.http("GET", (url:gsub("&sig=%x+", "")))
      assert.equal(403, st)
      st = sandbox.http("GET", (url:gsub("exports/exp_", "exports/exq_")))
      assert.equal(403, st)
      st = sandbox.http("POST", url)
      assert.equal(405, st)
      local _, cst = sb:control("POST", "/clock", { advance_ms = 86400 * 1000 - 10000 })
      assert.equal(200, cst)
      st = sandbox.http("GET", url)
      assert.equal(200, st)
      sb:control("POST", "/clock", { advance_ms = 20000 })
      st, text = sandbox.http("GET", url)
      assert.equal(410, st)
      assert.equal("export_link_expired", cjson.decode(text).error.code)
    end)

    it("is not served under the API path, and a reset forgets the file", function()
      local _, body = signed { list_id = list_id }
      local path = body.download_url:match("^https?://[^/]+(.*)$")
      local st = sb:http("GET", sb.root .. "/api/v1/public" .. path, { key = sb.key })
      assert.equal(404, st)
      sb:control("POST", "/reset")
      st = sandbox.http("GET", body.download_url)
      assert.equal(404, st)
    end)

    it("answers 404, 422, 403 and 401 as documented", function()
      local status, body = signed { list_id = private_id }
      assert.equal(404, status) -- Rowan's private list
      assert.equal("not_found", body.error.code)
      status, body = signed { list_id = list_id, columns = { "email", "shoe_size" } }
      assert.equal(422, status)
      assert.same({ "body.columns.1:value_error" }, locs(body))
      status, body = signed { list_id = list_id, format = "xlsx" }
      assert.equal(422, status)
      assert.same({ "body.format:extra_forbidden" }, locs(body))
      status, body = signed { columns = { "email" } }
      assert.equal(422, status)
      assert.same({ "body.list_id:missing" }, locs(body))
      status, body = signed({ list_id = list_id }, sb.readonly_key)
      assert.equal(403, status)
      assert.equal("insufficient_scope", body.error.code)
      status = signed({ list_id = list_id }, false)
      assert.equal(401, status)
    end)
  end)

  describe("GET /export/json", function()
    local function get(query, key)
      return sb:api("GET", "/export/json?" .. query, { key = key })
    end

    it("pages a list by cursor with the default columns", function()
      -- the list's own page of leads says what each exported row holds
      local _, page = sb:api("GET", "/lead-lists/" .. list_id .. "/leads?limit=100")
      local by_id = {}
      for _, lead in ipairs(page.leads) do
        by_id[lead.lead_id] = lead
      end
      local seen, n, cursor, pages = {}, 0, nil, 0
      repeat
        local status, body = get("list_id=" .. list_id .. "&limit=15" .. (cursor and ("&cursor=" .. cursor) or ""))
        assert.equal(200, status)
        assert.equal(40, body.total)
        assert.equal(list_id, body.list_id)
        for _, lead in ipairs(body.leads) do
          assert.is_nil(seen[lead.lead_id])
          seen[lead.lead_id] = true
          n = n + 1
          assert.equal(by_id[lead.lead_id].first_name, lead.first_name)
          assert.equal(by_id[lead.lead_id].company, lead.company)
          if n == 1 then
            assert.same({ "lead_60266143", "Sofía", "Castillo", "Jadeflow Pay", "jadeflowpay.com" }, {
              lead.lead_id,
              lead.first_name,
              lead.last_name,
              lead.company,
              lead.domain,
            })
          end
          assert.equal(null, lead.email)
          assert.is_nil(lead.full_name)
        end
        cursor = body.cursor ~= null and body.cursor or nil
        pages = pages + 1
      until not cursor or pages > 5
      assert.equal(40, n)
      assert.equal(3, pages)
    end)

    it("projects the leads to repeated or comma-separated columns", function()
      local status, body = get("list_id=" .. list_id .. "&limit=2&columns=email&columns=title")
      assert.equal(200, status)
      local keys = {}
      for k in pairs(body.leads[1]) do
        keys[#keys + 1] = k
      end
      table.sort(keys)
      assert.same({ "email", "title" }, keys)
      status, body = get("list_id=" .. list_id .. "&limit=1&columns=lead_id,company_name")
      assert.equal(200, status)
      assert.same({ lead_id = "lead_60266143", company_name = "Jadeflow Pay" }, body.leads[1])
    end)

    it("answers 400 for a malformed cursor, 422 for bad queries, 404 and 403", function()
      local status, body = get("list_id=" .. list_id .. "&cursor=page2")
      assert.equal(400, status)
      assert.equal("validation_error", body.error.code)
      status, body = get("limit=10")
      assert.equal(422, status)
      assert.same({ "query.list_id:missing" }, locs(body))
      status, body = get("list_id=" .. list_id .. "&limit=501")
      assert.equal(422, status)
      assert.same({ "query.limit:less_than_equal" }, locs(body))
      status, body = get("list_id=" .. list_id .. "&columns=email&columns=nope")
      assert.equal(422, status)
      assert.same({ "query.columns.1:value_error" }, locs(body))
      status = get("list_id=" .. private_id)
      assert.equal(404, status)
      status = get("list_id=" .. list_id, sb.readonly_key)
      assert.equal(403, status)
    end)
  end)
end)

-- Smart-agent columns, in-process: leads carry them once a smart-agent run wrote values.
describe("sandbox export (smart-agent columns)", function()
  sandbox.in_process()
  local json = require "sandbox.json"
  local state_mod = require "sandbox.state"
  local leads = require "sandbox.leads"
  local lists = require "sandbox.lists"
  local export = require "sandbox.endpoints.export"
  local router = require "sandbox.router"
  local routes = router.new()
  export.register(routes)

  local st, who, list
  setup(function()
    local now = 1751404800000
    st = state_mod.new {
      api_key = "clapi_a",
      readonly_key = "clapi_b",
      seed = 0,
      now_ms = function()
        return now
      end,
    }
    who = { user = st.users.owner, org = st.org }
    list = lists.create(st, who, { name = "Agents" })
    local seeded = lists.accessible(st, who)
    local source
    for _, l in ipairs(seeded) do
      if lists.count(l) >= 3 and not source then source = lists.lead_ids(l) end
    end
    lists.add_leads(st, list, { source[1], source[2], source[3] })
    local first = lists.lead_ids(list)[1]
    leads.set_smart_agent(st, first, "Fit Research", "Raised a Series B, hiring AEs")
    leads.set_smart_agent(st, first, "Score", 87)
    leads.set_smart_agent(st, lists.lead_ids(list)[2], "Fit Research", 'He said "yes", twice')
    leads.set_smart_agent(st, lists.lead_ids(list)[3], "Score", 'The "Closer"')
  end)

  local function call(body)
    local ctx = {
      state = st,
      user = who.user,
      org = who.org,
      request_id = "req_1",
      now_ms = function()
        return st:now_ms()
      end,
      req = { body = json.encode(body), headers = { host = "127.0.0.1:9" }, query = "" },
    }
    return router.run(routes:find("POST", "/export/csv/signed-url"), ctx)
  end

  local function download(url)
    local path, query = url:match("^https?://[^/]+([^?]*)%?(.*)$")
    local app = {
      state = st,
      request_id = function()
        return "req_2"
      end,
    }
    return export.serve_file(app, { method = "GET", path = path, query = query, headers = {} })
  end

  it("appends the smart-agent columns by default, in first-seen order", function()
    local status, body = call { list_id = list.list_id }
    assert.equal(200, status)
    local st2, text, headers = download(body.download_url)
    assert.equal(200, st2)
    assert.truthy(headers["Content-Type"]:find("text/csv", 1, true))
    local rows = parse_csv(text)
    assert.equal("Fit Research", rows[1][11])
    assert.equal("Score", rows[1][12])
    assert.equal("Raised a Series B, hiring AEs", rows[2][11])
    assert.equal("87", rows[2][12])
    assert.equal('He said "yes", twice', rows[3][11])
    assert.equal("", rows[3][12])
    assert.equal(body.file_size_bytes, #text)
    assert.truthy(text:find('"He said ""yes"", twice"', 1, true))
  end)

  it("quotes a field holding a double quote, with or without a comma, and reads it back exactly", function()
    local _, body = call { list_id = list.list_id, columns = { "Fit Research", "Score" }, include_smart_agents = false }
    local _, text = download(body.download_url)
    local lines = {}
    for line in text:gmatch("([^\r\n]*)\r\n") do
      lines[#lines + 1] = line
    end
    assert.same({
      "Fit Research,Score",
      '"Raised a Series B, hiring AEs",87',
      '"He said ""yes"", twice",',
      ',"The ""Closer"""',
    }, lines)
    assert.same({
      { "Fit Research", "Score" },
      { "Raised a Series B, hiring AEs", "87" },
      { 'He said "yes", twice', "" },
      { "", 'The "Closer"' },
    }, parse_csv(text))
  end)

  it("leaves them out with include_smart_agents=false, or takes one by name", function()
    local _, body = call { list_id = list.list_id, include_smart_agents = false }
    local rows = parse_csv(select(2, download(body.download_url)))
    assert.equal(10, #rows[1])
    _, body = call { list_id = list.list_id, columns = { "lead_id", "Score" }, include_smart_agents = false }
    rows = parse_csv(select(2, download(body.download_url)))
    assert.same({ "lead_id", "Score" }, rows[1])
    assert.equal("87", rows[2][2])
  end)
end)
