-- The options of cleanlist.new and client:with that no other spec drives, with the real
-- client (libcurl) and `cleanlist sandbox` over loopback: connect_timeout against a listener
-- whose accept queue is full, the validation of connect_timeout and rate_limit (refused with
-- a config error before anything is sent), client:close(), and what the client reports for
-- the sandbox's 431 to an oversized header block.
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"
local clients = require "spec.helpers.client"
local poll = require "spec.helpers.poll"
local run = require "spec.helpers.run"
local sandbox = require "spec.helpers.sandbox"

-- cleanlist.new's (or fn's) error for opts, or a failure when it raised none.
local function refused(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "accepted")
  assert.equals("table", type(err), tostring(err))
  return err
end

describe("connect_timeout", function()
  local listener, base_url

  setup(function()
    listener = run.server("python3 spec/helpers/full_backlog.py")
    base_url = "http://127.0.0.1:" .. listener.port .. "/api/v1/public"
  end)

  teardown(function()
    if listener then listener.stop() end
  end)

  local function client(opts)
    local o = {
      api_key = sandbox.KEY,
      base_url = base_url,
      rate_limit = false,
      max_retries = 0,
      timeout = 20,
    }
    for k, v in pairs(opts or {}) do
      o[k] = v
    end
    return cleanlist.new(o)
  end

  it("ends a connect that cannot finish with a timeout, within about the limit", function()
    local t0 = core.monotonic()
    local _, err = client({ connect_timeout = 0.5 }):whoami()
    local took = core.monotonic() - t0
    assert.equals("timeout", err.kind)
    assert.is_false(err.sent) -- nothing went on the wire
    assert.is_nil(err.status)
    assert.equals(1, err.attempts)
    assert.matches("[Cc]onnect", err.message)
    assert.is_true(took >= 0.45 and took < 2, "took " .. took .. " s")
  end)

  it("retries even a POST whose connect timed out: nothing was sent", function()
    local slept = {}
    local c = client {
      connect_timeout = 0.3,
      max_retries = 1,
      sleep = function(s)
        slept[#slept + 1] = s
      end,
    }
    local t0 = core.monotonic()
    local _, err = c:request("POST", "/lead-lists", { body = { name = "Never sent" } })
    local took = core.monotonic() - t0
    assert.equals("timeout", err.kind)
    assert.is_false(err.sent)
    assert.is_falsy(err.ambiguous)
    assert.equals(2, err.attempts)
    assert.equals(1, #slept)
    assert.is_true(took >= 0.55 and took < 3, "took " .. took .. " s")
  end)

  it("is a view's own: client:with{connect_timeout} bounds the view's calls", function()
    local c = client { connect_timeout = 30 }
    local t0 = core.monotonic()
    local _, err = c:with({ connect_timeout = 0.3 }):whoami()
    local took = core.monotonic() - t0
    assert.equals("timeout", err.kind)
    assert.is_true(took >= 0.25 and took < 2, "took " .. took .. " s")
  end)

  it("refuses a value that is not a positive number of seconds", function()
    for _, bad in ipairs { 0, -1, 0 / 0, math.huge, "5", true } do
      local err = refused(function()
        client { connect_timeout = bad }
      end)
      assert.equals("config", err.kind, tostring(bad))
      if type(bad) == "number" then
        assert.equals("timeout and connect_timeout must be positive numbers of seconds", err.message)
      else
        assert.equals("option 'connect_timeout' of cleanlist.new must be a number, not a " .. type(bad), err.message)
      end
      err = refused(function()
        client():with { connect_timeout = bad }
      end)
      assert.equals("config", err.kind, tostring(bad))
    end
    -- and a NaN timeout as well (it used to pass cleanlist.new and raise at the first call)
    assert.equals(
      "config",
      refused(function()
        client { timeout = 0 / 0 }
      end).kind
    )
  end)
end)

describe("the client against the sandbox", function()
  local sb = sandbox.suite { clear = true }

  -- The established connections from this machine to the sandbox's port (the clients of
  -- earlier tests collected first: a collected client closes its connections).
  local function connections()
    collectgarbage("collect")
    collectgarbage("collect")
    local out = run.capture("ss -tnH state established '( dport = :" .. sb.port .. " )'")
    local n = 0
    for _ in out:gmatch("[^\n]+") do
      n = n + 1
    end
    return n
  end

  describe("rate_limit validation", function()
    local function new(rate_limit)
      return refused(function()
        clients.new(sb, { rate_limit = rate_limit })
      end)
    end

    it("refuses each bad value with a config error that names it, before anything is sent", function()
      local cases = {
        { { per_key = 0 }, "rate_limit.per_key must be a number of requests, at least 1, not 0" },
        { { per_key = 0.5 }, "rate_limit.per_key must be a number of requests, at least 1, not 0.5" },
        { { per_key = -30 }, "rate_limit.per_key must be a number of requests, at least 1, not -30" },
        { { per_key = "30" }, "rate_limit.per_key must be a number of requests, at least 1, not a string" },
        {
          { per_key = math.huge },
          "rate_limit.per_key must be a number of requests, at least 1, not " .. tostring(math.huge),
        },
        { { per_org = true }, "rate_limit.per_org must be a number of requests, at least 1, or false, not a boolean" },
        { { window = 0 }, "rate_limit.window must be a positive number of seconds, not 0" },
        { { window = 0 / 0 }, "rate_limit.window must be a positive number of seconds, not " .. tostring(0 / 0) },
        { { burst = -1 }, "rate_limit.burst must be a positive number of requests, not -1" },
        { { margin = -0.1 }, "rate_limit.margin must be a share of the window, at least 0 and below 1, not -0.1" },
        { { margin = 1 }, "rate_limit.margin must be a share of the window, at least 0 and below 1, not 1" },
        { { store_timeout = 0 }, "rate_limit.store_timeout must be a positive number of seconds, not 0" },
        { { share = "yes" }, "rate_limit.share is true or false" },
        { { shm = 1 }, "rate_limit.shm names a lua_shared_dict of nginx.conf" },
        { { store = 6379 }, "rate_limit.store is a Redis URL (redis://host:port/db) or false" },
        {
          { per_minute = 30 },
          "rate_limit has no setting 'per_minute' (it takes per_key, per_org, window, burst, margin, share, "
            .. "shm, store, store_timeout)",
        },
        { "30/min", "option 'rate_limit' of cleanlist.new must be a table|boolean, not a string" },
      }
      for _, case in ipairs(cases) do
        local err = new(case[1])
        assert.equals("config", err.kind, case[2])
        assert.equals(case[2], err.message)
      end
      assert.same({}, sb:requests())
    end)

    it("takes the documented edge values", function()
      local c = clients.new(sb, { rate_limit = { per_key = 1, per_org = false, margin = 0, burst = 1, window = 60 } })
      assert.equals("api_key", assert(c:whoami()).auth_type)
      assert.equals(1, #sb:requests())
    end)

    it("is not an option of client:with (a view shares its client's limits)", function()
      local c = clients.new(sb)
      local err = refused(function()
        c:with { rate_limit = { per_key = 10 } }
      end)
      assert.equals("config", err.kind)
      assert.equals("unknown option 'rate_limit' for client:with", err.message)
      assert.same({}, sb:requests())
    end)
  end)

  describe("client:close()", function()
    it("closes the kept-alive connection, and later calls fail with config, sending nothing", function()
      local c = clients.new(sb)
      assert(c:whoami())
      assert(c:credits_balance())
      assert.equals(2, #sb:requests())
      assert.equals(1, connections()) -- one kept-alive connection for both calls
      c:close()
      poll.wait_until(function()
        return connections() == 0
      end, 5, "the client's connection to close")
      local res, err = c:whoami()
      assert.is_nil(res)
      assert.equals("config", err.kind)
      assert.matches("the client is closed %(client:close%(%) was called%): nothing was sent", err.message)
      c:close() -- closing twice is fine
      assert.equals("config", select(2, c:credits_balance()).kind)
      assert.equals(2, #sb:requests())
    end)

    it("closes a view only, when called on a view", function()
      local c = clients.new(sb)
      local view = c:with { timeout = 5 }
      assert(view:whoami())
      view:close()
      assert.equals("config", select(2, view:whoami()).kind)
      assert.equals("api_key", assert(c:whoami()).auth_type) -- the client still works
      assert.equals(1, connections()) -- on the connection the view used
      assert.equals(2, #sb:requests())
      c:close()
    end)
  end)

  describe("an oversized header block", function()
    it("gets the sandbox's 431, which the client reports as an api error, not retried", function()
      local slept = {}
      local c = clients.new(sb, {
        max_retries = 2,
        headers = { ["X-Big"] = string.rep("a", 9000) },
        sleep = function(s)
          slept[#slept + 1] = s
        end,
      })
      local res, err = c:whoami()
      assert.is_nil(res)
      assert.equals("api", err.kind)
      assert.equals(431, err.status)
      assert.equals(1, err.attempts)
      assert.equals("HTTP 431 with a body that is not an API error (no content type, 143 bytes)", err.message)
      assert.same({}, slept)
      assert.same({}, sb:requests()) -- refused before the app saw it
      -- a block under the limit is served
      local fits = clients.new(sb, { headers = { ["X-Big"] = string.rep("a", 6000) } })
      assert.equals("api_key", assert(fits:whoami()).auth_type)
      assert.equals(1, #sb:requests())
    end)
  end)
end)
