-- The answer's header fields as the libcurl transport hands them on (its result's `headers`),
-- from the header blocks of a hostile server on loopback (spec/helpers/hostile_server.py):
-- the fields of the final answer only, names lowercased, repeats joined, and the blocks
-- libcurl refuses ending as transport errors. Also the result's `reused`.
local cleanlist = require "cleanlist"
local run = require "spec.helpers.run"

local KEY = "clapi_response_headers_spec_0123456789abcdef"

describe("the answer's header fields over libcurl", function()
  local server, base, transport

  setup(function()
    server = run.server("python3 spec/helpers/hostile_server.py")
    base = "http://127.0.0.1:" .. server.port
    transport = assert(require("cleanlist.transport.curl").new {})
  end)

  teardown(function()
    if transport then transport:close() end
    if server then server.stop() end
  end)

  local function get(path, fresh)
    return transport:request {
      method = "GET",
      url = base .. path,
      headers = {},
      timeout = 10,
      connect_timeout = 5,
      fresh_connect = fresh,
    }
  end

  it("joins a repeated field under its lowercased name, each value trimmed", function()
    local res = assert(get("/headers/repeated"))
    assert.equals(200, res.status)
    assert.equals("a, b", res.headers["x-rep"])
    assert.equals("req_1", res.headers["x-request-id"])
    assert.is_nil(res.headers["X-Rep"])
  end)

  it("keeps the final answer's fields: none of an interim 103, no trailer", function()
    local res = assert(get("/headers/interim"))
    assert.same({ 200, "{}", "application/json" }, { res.status, res.body, res.headers["content-type"] })
    assert.is_nil(res.headers.link)
    res = assert(get("/chunked?n=2500"))
    assert.same({ 2500, "chunked" }, { #res.body, res.headers["transfer-encoding"] })
    assert.is_nil(res.headers["x-trailer"])
  end)

  it("unfolds a folded field, keeps an empty value empty and skips a field without a name", function()
    assert.equals("first second", assert(get("/headers/folded")).headers["x-folded"])
    local res = assert(get("/headers/empty"))
    assert.same({ "", "" }, { res.headers["x-empty"], res.headers["x-blank"] })
    res = assert(get("/headers/nameless"))
    assert.equals("yes", res.headers["x-after"])
    assert.is_nil(res.headers[""])
  end)

  it("ends on a transport error, the request sent, for a block libcurl will not take", function()
    local c = cleanlist.new { api_key = KEY, base_url = base, rate_limit = false, max_retries = 0 }
    -- a line without a colon; one field past 100 KB; a block past 300 KB
    for _, case in ipairs { "colonless", "oversized", "too_many" } do
      local res, err = c:request("GET", "/headers/" .. case)
      assert.is_nil(res, case)
      assert.equals("transport", err.kind, case)
      assert.is_true(err.sent, case)
      assert.is_true(#err.message > 0, case)
    end
    c:close()
  end)

  it("reuses a kept-alive connection, and takes a fresh one when asked", function()
    local reused = {}
    for i, fresh in ipairs { true, false, true, false } do
      local res = assert(get("/big?n=20", fresh))
      assert.equals(200, res.status)
      reused[i] = res.reused
    end
    assert.same({ false, true, false, true }, reused)
  end)
end)
