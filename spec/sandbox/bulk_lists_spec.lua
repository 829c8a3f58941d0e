-- luacheck: std +busted
-- POST /__sandbox/lists: a list of N leads made from the synthetic world's people in id order,
-- over and over, for exports of long lists. Values are those of the built-in seed (0) after a
-- reset: the four seeded lists come first, so the first bulk list is the fifth list minted.
local sandbox = require "spec.helpers.sandbox"
local api = require "spec.helpers.api"

local null = sandbox.null
local parse_csv = api.parse_csv

local HEADER =
  { "lead_id", "first_name", "last_name", "email", "title", "company", "domain", "linkedin_url", "phone", "location" }

describe("POST /__sandbox/lists", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" }, reset = true }

  local function bulk(body)
    return sb:control("POST", "/lists", body)
  end

  it("creates Vera's organisation-visible list of N enriched leads, exported as N CSV rows", function()
    local body, status = bulk { leads = 3, enriched = true }
    assert.equal(200, status)
    assert.equal("list_25744e68", body.list_id)
    assert.equal("Bulk: 3 leads", body.name)
    assert.equal(3, body.lead_count)
    assert.equal(3, body.enriched_count)
    -- organisation-visible: Rowan (the read-only key) reads it too
    local st, list = sb:api("GET", "/lead-lists/list_25744e68", { key = sb.readonly_key })
    assert.equal(200, st)
    assert.equal(3, list.lead_count)
    assert.equal(3, list.enriched_count)
    assert.equal("Bulk: 3 leads", list.name)
    local signed
    st, signed = sb:api("POST", "/export/csv/signed-url", { body = { list_id = body.list_id } })
    assert.equal(200, st)
    assert.equal(3, signed.row_count)
    assert.equal(625, signed.file_size_bytes)
    local text
    st, text = sandbox.http("GET", signed.download_url)
    assert.equal(200, st)
    assert.equal(625, #text)
    local rows = parse_csv(text)
    assert.equal(4, #rows)
    assert.same(HEADER, rows[1])
    -- the world's first person, with what enrichment finds for him (an email, no phone)
    assert.same({
      "lead_64e983b3",
      "Daniel",
      "Wright",
      "daniel@wilsonbaker.com",
      "VP of Data",
      "Wilson & Baker",
      "wilsonbaker.com",
      "https://www.linkedin.com/in/daniel-wright-9427",
      "",
      "Montreal, Quebec, Canada",
    }, rows[2])
    assert.same({
      "lead_6502e9c0",
      "James",
      "King",
      "jking@mosaicyard.com",
      "Senior Product Manager",
      "Mosaicyard",
      "mosaicyard.com",
      "https://www.linkedin.com/in/james-king-01f9",
      "+17946312914",
      "Austin, Texas, United States",
    }, rows[3])
    assert.same({ "lead_651c4fcd", "Rahul", "Desai" }, { rows[4][1], rows[4][2], rows[4][3] })
  end)

  it("goes round the world's 12,000 people: lead 12,001 is the first person, a lead of its own", function()
    local body, status = bulk { leads = 12001, name = "Wrap" }
    assert.equal(200, status)
    assert.equal("Wrap", body.name)
    assert.equal(12001, body.lead_count)
    assert.equal(0, body.enriched_count)
    local function at(cursor)
      local st, page = sb:api(
        "GET",
        "/export/json?list_id="
          .. body.list_id
          .. "&limit=1&columns=lead_id,full_name,email"
          .. (cursor and ("&cursor=" .. cursor) or "")
      )
      assert.equal(200, st)
      assert.equal(12001, page.total)
      return page.leads[1]
    end
    local first, again = at(nil), at("12000")
    assert.same({ lead_id = "lead_64e983b3", full_name = "Daniel Wright", email = null }, first)
    assert.same({ lead_id = "lead_0b792513", full_name = "Daniel Wright", email = null }, again)
    assert.equal("Rahul Desai", at("2").full_name)
  end)

  it("refuses a bad count, name or field, a name Vera has, and other methods", function()
    local cases = {
      { { leads = 0 }, "leads must be an integer from 1 to 200000." },
      { { leads = 200001 }, "leads must be an integer from 1 to 200000." },
      { { leads = 1.5 }, "leads must be an integer from 1 to 200000." },
      { { leads = "10" }, "leads must be an integer from 1 to 200000." },
      { { name = "No count" }, "leads must be an integer from 1 to 200000." },
      { { leads = 2, name = "" }, "name must be a string of 1 to 200 characters." },
      { { leads = 2, name = ("x"):rep(201) }, "name must be a string of 1 to 200 characters." },
      { { leads = 2, enriched = "yes" }, "enriched must be true or false." },
      { { leads = 2, color = "red" }, "Unknown field color (leads, name, enriched)." },
      {
        { leads = 2, name = "do not contact" },
        "Vera Okafor already has a list named do not contact; choose another name.",
      },
    }
    for _, case in ipairs(cases) do
      local body, status = bulk(case[1])
      assert.equal(400, status)
      assert.equal("validation_error", body.error.code)
      assert.equal(case[2], body.error.problem)
    end
    local st, text = sandbox.http("POST", sb.root .. "/__sandbox/lists", { body = "[1" })
    assert.equal(400, st)
    assert.truthy(text:find("must be a JSON object", 1, true))
    local headers
    st, text, headers = sandbox.http("GET", sb.root .. "/__sandbox/lists")
    assert.equal(405, st)
    assert.equal("POST", headers.allow)
    assert.truthy(text:find("method_not_allowed", 1, true))
    -- nothing was created
    local _, lists = sb:api("GET", "/lead-lists?limit=100")
    assert.equal(3, lists.total) -- the seeded lists Vera sees
  end)

  it("is listed by cleanlist sandbox --help", function()
    local out, rc = sandbox.help()
    assert.equal(0, rc)
    assert.truthy(out:find("POST /__sandbox/lists", 1, true))
  end)

  it("is forgotten by a reset", function()
    local body = bulk { leads = 10 }
    assert.equal(200, select(1, sb:api("GET", "/lead-lists/" .. body.list_id)))
    sb:reset()
    assert.equal(404, select(1, sb:api("GET", "/lead-lists/" .. body.list_id)))
  end)
end)
