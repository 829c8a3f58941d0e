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

  it("serves https: a TLS handshake with its certificate, then a request", function()
    assert.matches("^https://127%.0%.0%.1:%d+/api/v1/public$", sb.base_url)
    -- the curl CLI, verifying against the throw-away certificate (nothing else trusts it)
    local out, rc = run.capture(
      "curl -sS --max-time 10 --cacert "
        .. run.quote(dir .. "/cert.pem")
        .. " -w ' %{http_code} %{scheme} %{ssl_verify_result}' -H "
        .. run.quote("Authorization: Bearer " .. sb.key)
        .. " "
        .. run.quote(sb.base_url .. "/whoami")
        .. " 2>&1"
    )
    assert.equals(0, rc, out)
    local body, status, scheme, verify = out:match("^(.*) (%d+) (%a+) (%d+)$")
    assert.equals("200", status, out)
    assert.equals("HTTPS", scheme:upper())
    assert.equals("0", verify) -- the chain verified
    assert.equals("Vera Okafor", sandbox.decode(body).user_name)
    -- the certificate served is the one given with --tls-cert
    local function fingerprint(cmd)
      return (run.capture(cmd .. " | openssl x509 -noout -fingerprint -sha256 2>/dev/null")):match("=(%S+)")
    end
    local served = fingerprint("openssl s_client -connect 127.0.0.1:" .. sb.port .. " </dev/null 2>/dev/null")
    assert.is_not_nil(served)
    assert.equals(fingerprint("cat " .. run.quote(dir .. "/cert.pem")), served)
    -- and plain HTTP on that port gets no answer
    local _, plain_rc =
      run.capture("curl -s --max-time 5 -o /dev/null http://127.0.0.1:" .. sb.port .. "/__sandbox/health")
    assert.are_not.equal(0, plain_rc)
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
