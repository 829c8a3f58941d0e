-- Bounded reading against a hostile server on loopback (spec/helpers/hostile_server.py): an
-- endless chunked answer and a gzip bomb stop at the client's max_body_bytes (counted after
-- decompression) with a transport error, and the process does not grow; a streamed download
-- stops at max_download_bytes.
local cleanlist = require "cleanlist"
local run = require "spec.helpers.run"

local KEY = "clapi_bounded_body_spec_0123456789abcdef"
local MiB = 1024 * 1024

-- The resident set of this process, in MiB.
local function rss()
  local status = run.read_file("/proc/self/status") or ""
  return (tonumber(status:match("VmRSS:%s*(%d+)")) or 0) / 1024
end

describe("bounded reading against a hostile server", function()
  local server, base

  setup(function()
    server = run.server("python3 spec/helpers/hostile_server.py")
    base = "http://127.0.0.1:" .. server.port .. "/api/v1/public"
  end)

  teardown(function()
    if server then server.stop() end
  end)

  local function client(opts)
    local o = { api_key = KEY, base_url = base, rate_limit = false, max_retries = 0, timeout = 20 }
    for k, v in pairs(opts or {}) do
      o[k] = v
    end
    return cleanlist.new(o)
  end

  it("stops an endless answer at max_body_bytes with a transport error", function()
    local before = rss()
    local res, err = client({ max_body_bytes = 4 * MiB }):request("GET", "/endless")
    assert.is_nil(res)
    assert.equals("transport", err.kind)
    assert.matches("larger than 4194304 bytes", err.message)
    assert.is_true(rss() - before < 64, "the process grew by " .. (rss() - before) .. " MiB")
  end)

  it("stops a gzip bomb at max_body_bytes counted after decompression", function()
    local before = rss()
    local res, err = client({ max_body_bytes = 2 * MiB }):request("GET", "/bomb")
    assert.is_nil(res)
    assert.equals("transport", err.kind)
    assert.matches("larger than 2097152 bytes", err.message)
    assert.is_true(rss() - before < 64, "the process grew by " .. (rss() - before) .. " MiB")
  end)

  it("takes an answer up to the cap", function()
    local res = assert(client({ max_body_bytes = 1000 }):request("GET", "/big", { query = { n = 1000 } }))
    assert.equals(990, #res.pad)
    local _, err = client({ max_body_bytes = 1000 }):request("GET", "/big", { query = { n = 1001 } })
    assert.equals("transport", err.kind)
  end)

  it("stops a streamed download at max_download_bytes, whatever max_body_bytes says", function()
    local got = 0
    local res, err = client({ max_body_bytes = 1000, max_download_bytes = 3 * MiB }):download(
      base .. "/endless",
      function(bytes)
        got = got + #bytes
      end
    )
    assert.is_nil(res)
    assert.equals("transport", err.kind)
    assert.matches("larger than 3145728 bytes", err.message)
    assert.is_true(got <= 3 * MiB and got > 2 * MiB, "streamed " .. got .. " bytes")
  end)

  it("refuses a cap that is not positive", function()
    assert.has_error(function()
      client { max_body_bytes = 0 }
    end)
  end)
end)
