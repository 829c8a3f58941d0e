-- cleanlist --sandbox [sandbox flags] script.lua: the flags reach the sandbox started for the
-- script (one parser with `cleanlist sandbox`), CLEANLIST_TIME_SCALE and CLEANLIST_API_KEY
-- follow them, and the flags that make no sense there are refused.
local run = require "spec.helpers.run"

local KEY = "clapi_sandbox_flags_spec_5555555555"

describe("cleanlist --sandbox with sandbox flags", function()
  local script, remove_scripts = run.scripts()
  local files = {}
  teardown(function()
    remove_scripts()
    for _, p in ipairs(files) do
      os.remove(p)
    end
  end)

  -- Fails with stderr as the message; asserts that the key never shows.
  local function ok(r)
    assert.equals(0, r.code, r.stderr)
    assert.is_nil(r.stdout:find(KEY, 1, true))
    assert.is_nil(r.stderr:find(KEY, 1, true))
    return r
  end

  local function refused(r, pattern)
    assert.equals(2, r.code, r.stdout .. r.stderr)
    assert.matches(pattern, r.stderr)
    assert.is_nil(r.stdout:find(KEY, 1, true))
    assert.is_nil(r.stderr:find(KEY, 1, true))
    assert.is_nil(r.stderr:find("stack traceback", 1, true))
    return r
  end

  describe("--time-scale", function()
    local getenv = "print(os.getenv('CLEANLIST_TIME_SCALE'))"

    it("exports CLEANLIST_TIME_SCALE to the script, in both forms", function()
      local p = script(getenv)
      local r = ok(run.host({ "--sandbox", "--time-scale", "600", p }))
      assert.equals("600\n", r.stdout)
      r = ok(run.host({ "--sandbox", "--time-scale=0.25", p }))
      assert.equals("0.25\n", r.stdout)
    end)

    it("leaves CLEANLIST_TIME_SCALE unset at real time, whatever was inherited", function()
      local p = script(getenv)
      local r = ok(run.host({ "--sandbox", p }, { CLEANLIST_TIME_SCALE = "42" }))
      assert.equals("nil\n", r.stdout)
      r = ok(run.host({ "--sandbox", "--time-scale", "1", p }, { CLEANLIST_TIME_SCALE = "42" }))
      assert.equals("nil\n", r.stdout)
    end)

    it("runs the sandbox clock that much faster", function()
      local p = script([[
        local client = require("cleanlist").new { rate_limit = false }
        local a = assert(client:whoami())
        os.execute("sleep 0.2")
        local b = assert(client:whoami())
        print(b.timestamp_ms - a.timestamp_ms)
      ]])
      local r = ok(run.host({ "--sandbox", "--time-scale", "600", p }))
      -- 0.2 s of real time is 120 s of sandbox time (at real time it would be ~200 ms)
      assert.is_true(tonumber(r.stdout) >= 60000, r.stdout)
    end)
  end)

  it("--seed picks the synthetic world", function()
    local p = script([[
      local client = require("cleanlist").new {}
      local r = assert(client:request("POST", "/search/people", { body = { limit = 1 } }))
      local person = r.people[1]
      print(person.person_id, person.full_name, person.linkedin_url)
    ]])
    local seven = ok(run.host({ "--sandbox", "--seed", "7", p })).stdout
    local again = ok(run.host({ "--sandbox", "--seed=7", p })).stdout
    local eight = ok(run.host({ "--sandbox", "--seed", "8", p })).stdout
    assert.matches("^%d+\t", seven)
    assert.equals(seven, again)
    assert.not_equals(seven, eight)
  end)

  it("--rate-limit-key sets the per-key limit (the third quick request gets a 429)", function()
    local p = script([[
      local client = require("cleanlist").new { rate_limit = false, max_retries = 0 }
      for i = 1, 3 do
        local r, err = client:request("GET", "/whoami")
        print(i, r and "ok" or err.kind, r and "" or err.status)
      end
    ]])
    local r = ok(run.host({ "--sandbox", "--rate-limit-key", "2", p }))
    assert.equals("1\tok\t\n2\tok\t\n3\trate_limited\t429\n", r.stdout)
    -- and --rate-limit off lifts it again
    r = ok(run.host({ "--sandbox", "--rate-limit-key=2", "--rate-limit", "off", p }))
    assert.equals("1\tok\t\n2\tok\t\n3\tok\t\n", r.stdout)
  end)

  it("--fault-rate and --faults reach the sandbox", function()
    local p = script([[
      local client = require("cleanlist").new { rate_limit = false, max_retries = 0 }
      local r, err = client:request("GET", "/whoami")
      print(r and "ok" or err.status)
    ]])
    local r = ok(run.host({ "--sandbox", "--fault-rate", "1", "--faults=500", p }))
    assert.equals("500\n", r.stdout)
  end)

  it("--state restores and saves the sandbox's state", function()
    local state = os.tmpname()
    files[#files + 1] = state
    os.remove(state)
    local p = script([[
      local client = require("cleanlist").new {}
      assert(client:request("POST", "/lead-lists", { body = { name = "sandbox-flags-spec-list" } }))
    ]])
    ok(run.host({ "--sandbox", "--state", state, p }))
    assert.matches("sandbox%-flags%-spec%-list", run.read_file(state) or "")
  end)

  it("accepts every flag that makes sense for the built-in sandbox", function()
    local r = ok(run.host({
      "--sandbox",
      "--time-scale",
      "2",
      "--seed=3",
      "--rate-limit",
      "on",
      "--rate-limit-key",
      "100",
      "--rate-limit-org=200",
      "--fault-rate",
      "0",
      "--faults",
      "500,reset",
      "--stall-ms",
      "10",
      "--dribble-ms=5",
      "--workflow-fault",
      "stuck",
      "--strict-quotes",
      "--api-key=" .. KEY,
      "-e",
      "print('ran')",
    }))
    assert.equals("ran\n", r.stdout)
    assert.equals("", r.stderr)
  end)

  describe("--api-key", function()
    it("is the key of the sandbox and CLEANLIST_API_KEY, and never shows", function()
      local p = script([[
        print(os.getenv("CLEANLIST_API_KEY") == ]] .. string.format("%q", KEY) .. [[)
        local client = require("cleanlist").new {}
        local me = require("cleanlist").check(client:whoami())
        print(me.tier ~= nil)
        local bad = require("cleanlist").new { api_key = "clapi_another_key_of_nobody_0000" }
        local _, err = bad:whoami()
        print(err.kind)
      ]])
      local r = ok(run.host({ "--sandbox", "--api-key", KEY, p }, { CLEANLIST_API_KEY = false }))
      assert.equals("true\ntrue\nauth\n", r.stdout)
      r = ok(run.host({ "--sandbox", "--api-key=" .. KEY, "recipes/whoami.lua" }))
      assert.matches("tier: +pro", r.stdout)
    end)

    it("is not echoed by any refusal", function()
      refused(run.host({ "--api-key", KEY, "-e", "print(1)" }), "add %-%-sandbox")
      refused(run.host({ "--api-key=" .. KEY, "-e", "print(1)" }), "add %-%-sandbox")
      refused(run.host({ "--sandbox", "--api-kee=" .. KEY, "-e", "print(1)" }), "unknown option '%-%-api%-kee'")
      refused(run.host({ "--sandbox", "--port=" .. KEY, "-e", "print(1)" }), "%-%-port")
      local bad = KEY .. "!"
      local r =
        refused(run.host({ "--sandbox", "--api-key", bad, "-e", "print(1)" }), "%-%-api%-key needs a clapi_ key")
      assert.is_nil(r.stderr:find("flags_spec", 1, true))
    end)
  end)

  describe("refuses", function()
    it("a bad value with status 2 and a message that names the flag", function()
      refused(
        run.host({ "--sandbox", "--time-scale", "abc", "-e", "print(1)" }),
        "^cleanlist: %-%-time%-scale needs a number"
      )
      refused(run.host({ "--sandbox", "--time-scale=0", "-e", "print(1)" }), "%-%-time%-scale")
      refused(run.host({ "--sandbox", "--seed", "-1", "-e", "print(1)" }), "%-%-seed")
      refused(run.host({ "--sandbox", "--rate-limit", "maybe", "-e", "print(1)" }), "%-%-rate%-limit needs on or off")
      refused(run.host({ "--sandbox", "--workflow-fault=odd", "-e", "print(1)" }), "%-%-workflow%-fault")
      refused(run.host({ "--sandbox", "--stall-ms" }), "%-%-stall%-ms needs a value")
    end)

    it("a sandbox flag without --sandbox, or before it, with status 2", function()
      local p = script("print('ran')")
      local r = refused(run.host({ "--time-scale", "600", p }), "add %-%-sandbox")
      assert.matches("%-%-time%-scale", r.stderr)
      assert.equals("", r.stdout)
      refused(run.host({ "--seed", "7", "--sandbox", p }), "%-%-seed.*add %-%-sandbox")
      refused(run.host({ "--strict-quotes", p }), "add %-%-sandbox")
    end)

    it("the listener flags of cleanlist sandbox, with status 2", function()
      for _, args in ipairs {
        { "--port", "8080" },
        { "--port=0" },
        { "--bind", "127.0.0.1" },
        { "--tls-cert", "c.pem" },
        { "--tls-key=k.pem" },
        { "--quiet" },
      } do
        local argv = { "--sandbox" }
        for _, a in ipairs(args) do
          argv[#argv + 1] = a
        end
        argv[#argv + 1] = "-e"
        argv[#argv + 1] = "print('ran')"
        local r = refused(run.host(argv), "cleanlist sandbox")
        assert.matches(args[1]:match("^[^=]+"):gsub("%-", "%%-"), r.stderr)
        assert.equals("", r.stdout)
      end
    end)
  end)

  it("leaves the flags after the script name to the script", function()
    local p = script("print(select('#', ...), ...)")
    local r = ok(run.host({ "--sandbox", p, "--seed", "7", "--port", "1" }))
    assert.equals("4\t--seed\t7\t--port\t1\n", r.stdout)
  end)

  it("documents the sandbox flags in --help", function()
    local r = ok(run.host({ "--help" }))
    assert.matches("%-%-sandbox %[sandbox flags%]", r.stdout)
    assert.matches("%-%-time%-scale", r.stdout)
    assert.matches("CLEANLIST_TIME_SCALE", r.stdout)
  end)

  describe("default announcer of long waits", function()
    it("is cleanlist.on_wait, writing the message to stderr", function()
      local r = ok(run.host({
        "-e",
        "local cl = require('cleanlist'); assert(type(cl.on_wait) == 'function');"
          .. "cl.on_wait({ message = 'waiting 3 s for the rate limit' }); print('done')",
      }))
      assert.equals("done\n", r.stdout)
      assert.equals("cleanlist: waiting 3 s for the rate limit\n", r.stderr)
    end)

    it("is skipped silently when the module cannot be loaded", function()
      local dir = os.tmpname()
      os.remove(dir)
      assert.is_true(run.execute("mkdir " .. run.quote(dir)))
      run.write_file(dir .. "/cleanlist.lua", "error('broken module for the spec')\n")
      local r = run.host({ "-e", "print('ran')" }, { CLEANLIST_LUA_DIR = dir })
      local r2 = run.host({ "-e", "require('cleanlist')" }, { CLEANLIST_LUA_DIR = dir })
      os.remove(dir .. "/cleanlist.lua")
      os.remove(dir)
      assert.equals(0, r.code, r.stderr)
      assert.equals("ran\n", r.stdout)
      assert.equals("", r.stderr)
      assert.equals(1, r2.code)
      assert.matches("broken module for the spec", r2.stderr)
    end)
  end)
end)
