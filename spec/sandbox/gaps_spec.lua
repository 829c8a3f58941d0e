-- luacheck: std +busted
-- Sandbox behaviours no other spec drives: --strict-quotes (the flag, the switch and reset),
-- the eviction and expiry of export downloads, the add-leads idempotency key's 24 h, and the
-- 431 to an oversized header block. The clock is moved with POST /__sandbox/clock, never
-- slept through.
local paid = require "spec.helpers.paid"
local sandbox = require "spec.helpers.sandbox"

local code = paid.code

describe("sandbox --strict-quotes", function()
  local sb, p = paid.suite { "--strict-quotes" }

  before_each(function()
    sb:reset()
  end)

  local function by_task(task_id, quote_id)
    return p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email" }, quote_id = quote_id })
  end

  it("starts with the switch on, as the flag says", function()
    assert.same({ strict_quotes = true, csv_import = true, strict = false }, (sb:control("GET", "/switches")))
  end)

  it("refuses a by-task run without a quote_id (400 quote_required), charging nothing", function()
    local task_id = p:search(3)
    local before = p:credits()
    local status, body = by_task(task_id)
    assert.equals(400, status)
    assert.equals("quote_required", code(body))
    status, body = by_task(task_id, "") -- an empty quote_id is none
    assert.equals(400, status)
    assert.equals("quote_required", code(body))
    assert.equals(5000, before)
    assert.equals(5000, (p:credits()))
  end)

  it("runs it with a valid quote, which is then used up", function()
    local task_id = p:search(3)
    local q = p:quote { tool = "add_person_enrichments", task_id = task_id, data_points = { "Email" } }
    local status, body = by_task(task_id, q)
    assert.equals(200, status)
    assert.equals("pending", body.status)
    assert.equals(3, body.total_entities)
    assert.equals(3, body.credits_reserved)
    assert.equals(5000 - 3, (p:credits()))
    status, body = by_task(task_id, q)
    assert.equals(409, status)
    assert.equals("quote_used", code(body))
  end)

  it("is switched off and on at run time, and reset goes back to the flag's setting", function()
    local sw, st = sb:control("POST", "/switches", { strict_quotes = false })
    assert.equals(200, st)
    assert.same({ ok = true, strict_quotes = false, csv_import = true, strict = false }, sw)
    local status, body = by_task((p:search(2)))
    assert.equals(200, status)
    assert.equals(2, body.credits_reserved)
    sb:control("POST", "/switches", { strict_quotes = true })
    assert.equals(400, (by_task((p:search(2)))))
    sb:control("POST", "/switches", { strict_quotes = false })
    sb:reset()
    assert.same({ strict_quotes = true, csv_import = true, strict = false }, (sb:control("GET", "/switches")))
    status, body = by_task((p:search(2)))
    assert.equals(400, status)
    assert.equals("quote_required", code(body))
  end)

  it("refuses a switch that is not a boolean, or unknown, and keeps the setting", function()
    local body, st = sb:control("POST", "/switches", { strict_quotes = "no" })
    assert.equals(400, st)
    assert.equals("validation_error", body.error.code)
    body, st = sb:control("POST", "/switches", { strict_prices = false })
    assert.equals(400, st)
    assert.equals("validation_error", body.error.code)
    assert.same({ strict_quotes = true, csv_import = true, strict = false }, (sb:control("GET", "/switches")))
  end)
end)

describe("sandbox without --strict-quotes", function()
  local sb, p = paid.suite()

  it("runs by-task without a quote", function()
    assert.same({ strict_quotes = false, csv_import = true, strict = false }, (sb:control("GET", "/switches")))
    local task_id = p:search(3)
    local status, body = p:post("/enrichment/by-task", { task_id = task_id, data_points = { "Email" } })
    assert.equals(200, status)
    assert.equals(3, body.credits_reserved)
  end)
end)

describe("sandbox export downloads", function()
  local sb, p = paid.suite()
  local list_id

  setup(function()
    list_id = p:new_list("Export eviction", 3)
  end)

  before_each(function()
    sb:clear()
  end)

  local function sign()
    local status, body = p:post("/export/csv/signed-url", { list_id = list_id })
    assert.equals(200, status)
    return body.download_url
  end

  local function download(url)
    return sb:http("GET", url)
  end

  it("keeps the newest 20: the 21st export evicts the oldest, whose link answers 404", function()
    local urls = {}
    for i = 1, 21 do
      urls[i] = sign()
    end
    local status, text = download(urls[1])
    assert.equals(404, status)
    local e = sandbox.decode(text).error
    assert.equals("not_found", e.code)
    assert.equals("The export file is no longer available.", e.problem)
    assert.equals("The sandbox was reset, or the export was evicted (the newest 20 are kept).", e.cause)
    assert.equals("Request a new link with POST /export/csv/signed-url.", e.fix)
    -- the 20 others are still served, the same rows each
    local first
    for i = 2, 21 do
      status, text = download(urls[i])
      assert.equals(200, status, "export " .. i)
      first = first or text
      assert.equals(first, text)
    end
    assert.equals(4, select(2, first:gsub("\r\n", ""))) -- a header and 3 rows
    -- one more evicts the next oldest
    sign()
    assert.equals(404, (download(urls[2])))
    assert.equals(200, (download(urls[3])))
  end)

  it("answers 410 once the link's 24 h have passed, evicted or not", function()
    local evicted = sign()
    for _ = 1, 20 do
      sign()
    end
    local kept = sign()
    assert.equals(404, (download(evicted)))
    assert.equals(200, (download(kept)))
    p:advance(24 * 3600 * 1000 - 60000) -- a minute before the links expire
    assert.equals(200, (download(kept)))
    p:advance(60000)
    local status, text = download(kept)
    assert.equals(410, status)
    assert.equals("export_link_expired", sandbox.decode(text).error.code)
    status, text = download(evicted)
    assert.equals(410, status) -- the link's expiry is checked before its file
    assert.equals("export_link_expired", sandbox.decode(text).error.code)
    -- a link signed now is served again
    assert.equals(200, (download(sign())))
  end)
end)

describe("sandbox add-leads idempotency", function()
  local _, p = paid.suite()

  local function add(list_id, task_id, key)
    return p:post("/lead-lists/" .. list_id .. "/leads", { task_id = task_id, idempotency_key = key })
  end

  local function lead_count(list_id)
    local _, body = p:get("/lead-lists/" .. list_id)
    return body.lead_count
  end

  it("replays a repeat within 24 h of sandbox time and makes a new add after them", function()
    local _, list = p:post("/lead-lists", { name = "Idempotency window" })
    local id = list.list_id
    local status, first, headers, raw = add(id, (p:search(2)), "save-window")
    assert.equals(200, status)
    assert.equals(2, first.added)
    assert.is_nil(headers["idempotent-replayed"])
    -- 24 h less a minute later, another cohort under the same key: the first answer again
    p:advance(24 * 3600 * 1000 - 60000)
    local again, raw2
    status, again, headers, raw2 = add(id, (p:search(5, { seniorities = { "vp" } })), "save-window")
    assert.equals(200, status)
    assert.equals("true", headers["idempotent-replayed"])
    assert.equals(raw, raw2)
    assert.equals(2, again.added)
    assert.equals(2, lead_count(id))
    -- past the 24 h: the key is forgotten and the call adds
    p:advance(60001)
    status, again, headers, raw2 = add(id, (p:search(5, { seniorities = { "vp" } })), "save-window")
    assert.equals(200, status)
    assert.is_nil(headers["idempotent-replayed"])
    assert.equals(5, again.added)
    assert.equals(0, again.skipped_duplicates)
    assert.are_not.equal(raw, raw2)
    assert.equals(7, lead_count(id))
    -- and that add is what the key replays from now on
    local _, third, h3 = add(id, (p:search(2)), "save-window")
    assert.equals("true", h3["idempotent-replayed"])
    assert.equals(5, third.added)
    assert.equals(7, lead_count(id))
  end)
end)

describe("sandbox request headers", function()
  local sb = sandbox.suite { clear = true }

  it("answers 431 to a header block past about 7.5 KB, before the app sees it", function()
    local status, text, headers =
      sb:http("GET", "/whoami", { key = sb.key, headers = { ["X-Big"] = string.rep("a", 9000) } })
    assert.equals(431, status)
    assert.equals("close", headers.connection)
    assert.equals(
      "<html><head><title>Request too big</title></head><body>Your HTTP header was too big for the "
        .. "memory constraints of this webserver.</body></html>",
      text
    )
    assert.same({}, sb:requests())
    -- under the limit it is served, and the sandbox goes on serving
    status = sb:http("GET", "/whoami", { key = sb.key, headers = { ["X-Big"] = string.rep("a", 7000) } })
    assert.equals(200, status)
    assert.equals(1, #sb:requests())
    -- the control endpoints are behind the same limit
    status = sb:http("GET", sb.root .. "/__sandbox/health", { headers = { ["X-Big"] = string.rep("a", 9000) } })
    assert.equals(431, status)
  end)
end)
