-- Conformance: every response of the endpoints present in the official v2 schema validates
-- against that schema (spec/conformance/cleanlist-api-v2.openapi.json), checked with Debian's
-- python3-jsonschema. The scenario walks the whole v2 surface once, under both prefixes.
local sandbox = require "spec.helpers.sandbox"
local api = require "spec.helpers.api"
local cjson = require "cjson"

local VALIDATOR = "spec/conformance/validate.py"

local function validate(records)
  local input = os.tmpname()
  sandbox.write_file(input, cjson.encode(records))
  local p = assert(io.popen("/usr/bin/python3 " .. VALIDATOR .. " < " .. input))
  local results = {}
  for line in p:lines() do
    results[#results + 1] = cjson.decode(line)
  end
  p:close()
  os.remove(input)
  return results
end

describe("conformance with the v2 schema", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" } }
  local records = {}

  -- Calls the API and records the exchange for validation; returns status and decoded body.
  local function call(method, path, body, prefix)
    local full = (prefix or "/api/v1/public") .. path
    local status, raw = sb:http(method, sb.root .. full, { body = body, key = sb.key })
    records[#records + 1] = { method = method, path = full, status = status, body = raw or "" }
    return status, sandbox.decode(raw or "")
  end

  -- The same for endpoints the v2 schema does not have (search): used, not validated.
  local function use(method, path, body)
    local status, raw = sb:http(method, sb.base_url .. path, { body = body, key = sb.key })
    assert.equals(200, status, method .. " " .. path .. ": " .. tostring(raw))
    return status, sandbox.decode(raw or "")
  end

  it("walks the v2 surface and every response validates", function()
    local lid, task_id, lead_ids, quote, wf, run_id
    assert.equals(200, (call("GET", "/whoami")))
    call("GET", "/whoami", nil, "/api/v2")
    call("GET", "/credits/balance")
    call("GET", "/api-keys")
    call("GET", "/usage?days=7&group_by=tool")
    local st, list = call("POST", "/lead-lists", { name = "Conformance list", description = "c" })
    assert.equals(201, st)
    lid = list.list_id or list.id
    call("POST", "/lead-lists", { name = "conformance LIST" }) -- reuse: 200
    call("GET", "/lead-lists?limit=2")
    call("GET", "/lead-lists/" .. lid)
    call("PATCH", "/lead-lists/" .. lid, { description = "changed" })
    local _, found = use("POST", "/search/people", { limit = 5 })
    task_id = type(found) == "table" and found.task_id
    if task_id then call("POST", "/lead-lists/" .. lid .. "/leads", { task_id = task_id }) end
    local _, page = call("GET", "/lead-lists/" .. lid .. "/leads?limit=10")
    lead_ids = {}
    for _, l in ipairs(type(page) == "table" and page.leads or {}) do
      lead_ids[#lead_ids + 1] = l.lead_id
    end
    if #lead_ids > 0 then call("POST", "/lead-lists/" .. lid .. "/leads", { lead_ids = { lead_ids[1] } }) end
    local csv = "first_name,last_name,email,company\nJane,Doe,jane@acme.io,Acme\n"
    call("POST", "/lead-lists/" .. lid .. "/csv-import", {
      csv_content_base64 = api.b64(csv),
      column_mapping = {
        first_name = "first_name",
        last_name = "last_name",
        email = "email",
        company_name = "company",
      },
      dispatch_enrichment = false,
    })
    local _, est = call("POST", "/credits/estimate", { tool = "enrich_list", list_id = lid, scope = "partial" })
    quote = type(est) == "table" and est.quote_id
    local _, bulk = call("POST", "/enrichment/bulk", { list_id = lid, scope = "partial", quote_id = quote })
    wf = type(bulk) == "table" and bulk.workflow_id
    if wf then call("GET", "/enrichment/status/" .. wf) end
    local _, person = call(
      "POST",
      "/enrichment/person",
      { lead_list_id = lid, first_name = "Jane", last_name = "Doe", domain = "acme.io", enrichment_type = "partial" }
    )
    if type(person) == "table" and person.workflow_id then call("GET", "/enrichment/status/" .. person.workflow_id) end
    local _, companies = use("POST", "/search/companies", { limit = 3 })
    local domain = type(companies) == "table"
      and type(companies.companies) == "table"
      and companies.companies[1]
      and companies.companies[1].domain
    call("POST", "/enrichment/company", { domain = domain or "stripe.com" })
    if task_id then call("POST", "/enrichment/by-task", { task_id = task_id, data_points = { "Email" } }) end
    local _, aq = call(
      "POST",
      "/credits/estimate",
      { tool = "run_smart_agent", list_id = lid, agent_type = "title_normalizer", column_name = "Title" }
    )
    local _, run = call("POST", "/smart-agents/run", {
      list_id = lid,
      column_name = "Title",
      agent_type = "title_normalizer",
      quote_id = type(aq) == "table" and aq.quote_id or "none",
    })
    run_id = type(run) == "table" and run.smart_agent_task_id
    call("GET", "/smart-agents?list_id=" .. lid)
    if run_id then call("GET", "/smart-agents/" .. run_id) end
    call("POST", "/export/csv/signed-url", { list_id = lid })
    call("GET", "/export/json?list_id=" .. lid .. "&limit=5&columns=email&columns=lead_id")
    if #lead_ids > 0 then call("DELETE", "/lead-lists/" .. lid .. "/leads", { lead_ids = { lead_ids[1] } }) end
    call("GET", "/lead-lists?limit=0") -- 422 HTTPValidationError
    -- the same reads once every run has ended (terminal bodies carry more fields)
    local _, cs = sb:control("POST", "/clock", { advance_ms = 3600 * 1000 })
    assert.equals(200, cs)
    if wf then call("GET", "/enrichment/status/" .. wf) end
    if type(person) == "table" and person.workflow_id then
      call("GET", "/enrichment/status/" .. person.workflow_id, nil, "/api/v2")
    end
    if run_id then call("GET", "/smart-agents/" .. run_id) end
    call("GET", "/smart-agents")
    call("GET", "/lead-lists/" .. lid .. "/leads?limit=50")
    call("GET", "/export/json?list_id=" .. lid)
    call("DELETE", "/lead-lists/" .. lid)

    local results = validate(records)
    assert.equals(#records, #results)
    local failures, seen = {}, {}
    for i, r in ipairs(results) do
      seen[r.operation] = true
      local rec = records[i]
      if rec.status >= 300 and rec.status ~= 422 then
        failures[#failures + 1] = rec.method
          .. " "
          .. rec.path
          .. " answered "
          .. rec.status
          .. ": "
          .. rec.body:sub(1, 300)
      elseif not r.ok then
        failures[#failures + 1] = r.operation .. " (" .. rec.status .. "): " .. table.concat(r.errors, "; ")
      end
    end
    assert.same({}, failures)
    local count = 0
    for _ in pairs(seen) do
      count = count + 1
    end
    assert.equals(24, count, "every v2 operation is exercised")
  end)
end)
