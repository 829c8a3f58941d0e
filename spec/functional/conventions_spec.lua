-- The client's small conventions against the sandbox over libcurl: close, extra headers
-- (per client, per view, per call), views with other timeouts, and proxies (a forward proxy
-- of our own on loopback: spec/helpers/proxy.py).
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local run = require "spec.helpers.run"

local function header(entry, name)
  for k, v in pairs(entry.headers) do
    if k:lower() == name:lower() then return v end
  end
end

describe("client conventions against the sandbox", function()
  local sb = sandbox.suite { clear = true }

  local function client(opts)
    return clients.new(sb, opts)
  end

  describe("close", function()
    it("may be called twice; a call afterwards is a config error and sends nothing", function()
      local c = client()
      assert(c:whoami())
      c:close()
      c:close()
      local res, err = c:credits_balance()
      assert.is_nil(res)
      assert.is_true(cleanlist.is_error(err))
      assert.equals("config", err.kind)
      assert.equals("/credits/balance", err.path)
      assert.matches("the client is closed", err.message, 1, true)
      assert.matches("nothing was sent", tostring(err), 1, true)
      local paths = {}
      for _, r in ipairs(sb:requests()) do
        paths[#paths + 1] = r.path
      end
      assert.same({ "/api/v1/public/whoami" }, paths)
    end)

    it("of a view closes the view only; closing the client closes its views", function()
      local c = client()
      local v = c:with { timeout = 5 }
      v:close()
      local _, err = v:whoami()
      assert.equals("config", err.kind)
      assert.equals("org_2sbxSandboxLabs", assert(c:whoami()).organization_id)
      local v2 = c:with { timeout = 5 }
      c:close()
      _, err = v2:whoami()
      assert.equals("config", err.kind)
      assert.equals(1, #sb:requests())
    end)
  end)

  describe("extra headers", function()
    it("go out on every call of the client, of a view, and of one call, merged by name", function()
      local c = client { headers = { ["X-Team"] = "growth", ["X-Run"] = 7 } }
      assert(c:whoami())
      local v = c:with { headers = { ["x-team"] = "ops", ["X-View"] = "v1" } }
      assert(v:credits_balance())
      assert(v:request("GET", "/whoami", { headers = { ["X-Call"] = "c1", ["X-Team"] = "call" } }))
      assert(c:credits_balance()) -- the view changed nothing of its parent
      local log = sb:requests()
      assert.equals(4, #log)
      assert.same(
        { "growth", "7", nil, nil },
        { header(log[1], "x-team"), header(log[1], "x-run"), header(log[1], "x-view"), header(log[1], "x-call") }
      )
      assert.same(
        { "ops", "7", "v1", nil },
        { header(log[2], "x-team"), header(log[2], "x-run"), header(log[2], "x-view"), header(log[2], "x-call") }
      )
      assert.same(
        { "call", "7", "v1", "c1" },
        { header(log[3], "x-team"), header(log[3], "x-run"), header(log[3], "x-view"), header(log[3], "x-call") }
      )
      assert.same(
        { "growth", "7", nil },
        { header(log[4], "x-team"), header(log[4], "x-run"), header(log[4], "x-view") }
      )
      for _, r in ipairs(log) do
        assert.equals("application/json", header(r, "accept"))
      end
    end)

    it("may replace Accept, never the headers the client writes, and never carry a line break", function()
      local c = client()
      for _, bad in ipairs {
        { Authorization = "Bearer clapi_other_key_0000000000" },
        { ["content-type"] = "text/plain" },
        { Host = "evil.example" },
        { ["Content-Length"] = "0" },
        { ["User-Agent"] = "x" },
        { ["Proxy-Authorization"] = "Basic eDp5" },
      } do
        local ok, err = pcall(c.request, c, "GET", "/whoami", { headers = bad })
        assert.is_false(ok)
        assert.equals("config", err.kind)
        assert.matches("the client sets .* itself", err.message)
      end
      local ok, err =
        pcall(c.request, c, "GET", "/whoami", { headers = { ["X-Evil"] = "a\r\nAuthorization: Bearer s3cr3t-value" } })
      assert.is_false(ok)
      assert.matches("without line breaks", err.message, 1, true)
      assert.is_nil(err.message:find("s3cr3t", 1, true))
      ok, err = pcall(client, { headers = { ["Bad Name"] = "x" } })
      assert.is_false(ok)
      assert.matches("a header name is a token", err.message, 1, true)
      ok, err = pcall(c.with, c, { headers = { [1] = "x" } })
      assert.is_false(ok)
      assert.equals("config", err.kind)
      assert.equals(0, #sb:requests())
      assert(c:request("GET", "/whoami", { headers = { Accept = "application/json, */*" } }))
      assert.equals("application/json, */*", header(sb:requests()[1], "accept"))
    end)
  end)

  describe("a view", function()
    it("has its own timeout and retries, and shares the key, connections and settings", function()
      local c = client { max_retries = 2, timeout = 30 }
      local v = c:with { timeout = 0.4, max_retries = 0 }
      sb:control("POST", "/script", { responses = { { fault = "stall", ms = 3000 } } })
      local t0 = os.time()
      local res, err = v:whoami()
      assert.is_nil(res)
      assert.equals("timeout", err.kind)
      assert.equals(1, err.attempts)
      assert.truthy(os.time() - t0 <= 2)
      assert.equals(30, c.timeout)
      assert.equals(c.base_url, v.base_url)
      assert.equals(tostring(c), tostring(v))
      assert.equals("org_2sbxSandboxLabs", assert(v:whoami()).organization_id)
    end)

    it("refuses unknown options and values out of range", function()
      local c = client()
      for _, opts in ipairs { { api_key = "clapi_x" }, { timeout = 0 }, { max_retries = -1 }, { base_url = "x" } } do
        local ok, err = pcall(c.with, c, opts)
        assert.is_false(ok)
        assert.equals("config", err.kind)
      end
    end)
  end)

  describe("proxy", function()
    local plain, authed, log_plain, log_authed

    setup(function()
      log_plain, log_authed = os.tmpname(), os.tmpname()
      plain = run.server("python3 spec/helpers/proxy.py " .. run.quote(log_plain))
      authed = run.server("python3 spec/helpers/proxy.py " .. run.quote(log_authed) .. " user:pw-9f3k")
    end)
    teardown(function()
      if plain then plain.stop() end
      if authed then authed.stop() end
      os.remove(log_plain)
      os.remove(log_authed)
    end)

    local function lines(path)
      local out = {}
      for l in (run.read_file(path) or ""):gmatch("[^\n]+") do
        out[#out + 1] = l
      end
      return out
    end

    it("sends every request through the proxy the option names", function()
      local c = client { proxy = "http://127.0.0.1:" .. plain.port }
      assert.equals("org_2sbxSandboxLabs", assert(c:whoami()).organization_id)
      assert(c:search_people { filters = { job_titles = { "VP Sales" } }, limit = 2 })
      c:close()
      local got = lines(log_plain)
      assert.same({
        "GET " .. sb.base_url .. "/whoami HTTP/1.1 auth=-",
        "POST " .. sb.base_url .. "/search/people HTTP/1.1 auth=-",
      }, got)
      assert.equals(2, #sb:requests())
    end)

    it("sends the proxy's credentials, and never shows them in a trace", function()
      local trace = {}
      local c = client {
        proxy = "http://user:pw-9f3k@127.0.0.1:" .. authed.port,
        trace = function(line)
          trace[#trace + 1] = line
        end,
      }
      assert(c:whoami())
      local got = lines(log_authed)
      assert.equals(1, #got)
      assert.matches("auth=Basic dXNlcjpwdy05ZjNr$", got[1])
      local all = table.concat(trace, "\n")
      assert.matches("Proxy%-Authorization: %[REDACTED%]", all)
      assert.is_nil(all:find("dXNlcjpwdy05ZjNr", 1, true))
      assert.is_nil(all:find("pw-9f3k", 1, true))
      -- and a proxy that refuses is an error of the call, with the proxy's status
      local wrong = client { proxy = "http://user:nope@127.0.0.1:" .. authed.port }
      local res, err = wrong:whoami()
      assert.is_nil(res)
      assert.equals(407, err.status)
      assert.is_nil(tostring(err):find("nope", 1, true))
    end)

    it("follows http_proxy by default, and proxy = false goes direct whatever it says", function()
      local script = run.script([[
        local cleanlist = require "cleanlist"
        local opts = { api_key = arg[1], base_url = arg[2], rate_limit = false, max_retries = 0 }
        if arg[3] == "direct" then opts.proxy = false end
        local c = cleanlist.new(opts)
        local me, err = c:whoami()
        print(me and me.organization_id or err.kind)
      ]])
      finally(function()
        os.remove(script)
      end)
      local before = #lines(log_plain)
      -- the sources under test, not the copies built into the executable
      local env = { http_proxy = "http://127.0.0.1:" .. plain.port, no_proxy = "", CLEANLIST_LUA_DIR = "lua" }
      local via = run.host({ script, sb.key, sb.base_url, "env" }, env)
      assert.equals("org_2sbxSandboxLabs\n", via.stdout, via.stderr)
      assert.equals(before + 1, #lines(log_plain), table.concat(lines(log_plain), "\n"))
      local direct = run.host({ script, sb.key, sb.base_url, "direct" }, env)
      assert.equals("org_2sbxSandboxLabs\n", direct.stdout, direct.stderr)
      assert.equals(before + 1, #lines(log_plain))
      -- a proxy that is not there: the call's transport error, nothing reached the sandbox
      local n = #sb:requests()
      local dead = run.host(
        { script, sb.key, sb.base_url, "env" },
        { http_proxy = "http://127.0.0.1:" .. run.free_port(), no_proxy = "", CLEANLIST_LUA_DIR = "lua" }
      )
      assert.equals("transport\n", dead.stdout, dead.stderr)
      assert.equals(n, #sb:requests())
    end)

    it("refuses a malformed proxy option without quoting it", function()
      for _, bad in ipairs { true, "", "http://u:se cret@proxy:1", "a\nb" } do
        local ok, err = pcall(client, { proxy = bad })
        assert.is_false(ok)
        assert.equals("config", err.kind)
        assert.matches("proxy is a proxy URL", err.message, 1, true)
        assert.is_nil(err.message:find("cret", 1, true))
      end
    end)
  end)
end)
