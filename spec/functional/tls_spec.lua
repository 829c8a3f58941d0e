-- TLS verification of the libcurl transport, against the sandbox serving HTTPS on loopback
-- with a throw-away self-signed certificate.
local cleanlist = require "cleanlist"
local run = require "spec.helpers.run"
local sandbox = require "spec.helpers.sandbox"

describe("TLS", function()
  local sb, dir

  setup(function()
    dir = run.certificate_dir()
    sb = sandbox.start { args = { "--tls-cert", dir .. "/cert.pem", "--tls-key", dir .. "/key.pem" } }
  end)

  teardown(function()
    if sb then sb:stop() end
    if dir then os.execute("rm -rf " .. dir) end
  end)

  it("serves https", function()
    assert.matches("^https://127%.0%.0%.1:%d+/api/v1/public$", sb.base_url)
  end)

  it("refuses a certificate it cannot verify, without retrying", function()
    local c = cleanlist.new {
      api_key = sb.key,
      base_url = sb.base_url,
      rate_limit = false,
      max_retries = 2,
      sleep = function()
        error("must not retry a TLS failure")
      end,
    }
    local res, err = c:whoami()
    assert.is_nil(res)
    assert.equals("tls", err.kind)
    assert.equals(1, err.attempts)
    assert.matches("certificate", err.message)
  end)

  it("talks to the server once its certificate is trusted", function()
    local c =
      cleanlist.new { api_key = sb.key, base_url = sb.base_url, rate_limit = false, ca_file = dir .. "/cert.pem" }
    local me = assert(c:whoami())
    assert.equals("api_key", me.auth_type)
  end)

  it("hands out https download links when serving https", function()
    local c =
      cleanlist.new { api_key = sb.key, base_url = sb.base_url, rate_limit = false, ca_file = dir .. "/cert.pem" }
    local lists = assert(c:request("GET", "/lead-lists"))
    local export = assert(c:request("POST", "/export/csv/signed-url", { body = { list_id = lists.lists[1].list_id } }))
    assert.matches("^https://127%.0%.0%.1:%d+/", export.download_url)
  end)

  it("refuses a certificate issued for another host name", function()
    local url = sb.base_url:gsub("127%.0%.0%.1", "localhost")
    local c = cleanlist.new {
      api_key = sb.key,
      base_url = url,
      rate_limit = false,
      ca_file = dir .. "/cert.pem",
      max_retries = 0,
    }
    local _, err = c:whoami()
    assert.equals("tls", err.kind)
  end)
end)
