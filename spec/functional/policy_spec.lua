-- The rate-limit and retry policy with the real libcurl transport against the sandbox: the
-- client's bucket after a 429, Retry-After read in seconds, the per-key and per-organisation
-- limits (two keys of one organisation share the organisation's), and the error a caller gets
-- when the retries run out. The client's clock and sleep are injected: a sleep records the
-- wait, moves the client's clock and moves the sandbox's clock by as much (POST
-- /__sandbox/clock), so both sides agree on the time and nothing waits for real.
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"

describe("the rate-limit and retry policy against the sandbox", function()
  local sb = sandbox.suite { reset = true, clear = true }

  -- A clock for one test, far from every other test's (the buckets live for the process, and
  -- their old starts are then a long way in the past), whose sleeps move the sandbox's clock.
  local epoch = 0
  local function sim(advance_sandbox)
    epoch = epoch + 1
    local t = { now = epoch * 1e6, sleeps = {} }
    t.clock = function()
      return t.now
    end
    t.sleep = function(s)
      t.sleeps[#t.sleeps + 1] = s
      t.now = t.now + s
      if advance_sandbox ~= false then
        local _, status = sb:control("POST", "/clock", { advance_ms = math.ceil(s * 1000) })
        assert.equals(200, status)
      end
    end
    return t
  end

  local function script(...)
    local _, status = sb:control("POST", "/script", { responses = { ... } })
    assert.equals(200, status)
  end

  -- The sandbox's own limits, on: per key and per organisation, in a 60 s window.
  local function sandbox_limits(per_key, per_org)
    local _, status = sb:control("POST", "/rate-limit", { enabled = true, per_key = per_key, per_org = per_org })
    assert.equals(200, status)
  end

  local function organization()
    local status, me = sb:api("GET", "/whoami")
    assert.equals(200, status)
    sb:clear() -- the log then holds the test's own requests only
    return me.organization_id
  end

  -- A client on the sandbox with the limiter on (in-process buckets, no margin) and t's clock.
  local function limited(t, opts)
    local o = {
      clock = t.clock,
      sleep = t.sleep,
      on_wait = function() end,
      rate_limit = { per_key = 30, per_org = 60, window = 60, burst = 5, margin = 0, share = false },
    }
    for k, v in pairs(opts or {}) do
      o[k] = v
    end
    return clients.new(sb, o)
  end

  local function statuses()
    local list = {}
    for i, r in ipairs(sb:requests()) do
      list[i] = r.status
    end
    return list
  end

  it("after the sandbox's own 429 the key's next call waits its Retry-After, then gets through", function()
    local org = organization()
    sandbox_limits(2, 60)
    -- another process of the key, without a limiter, spends the key's two
    local other = clients.new(sb)
    assert(other:whoami())
    assert(other:whoami())
    local t = sim()
    local c = limited(t, { organization_id = org })
    local res, err = c:whoami()
    assert.is_nil(res)
    assert.equals("rate_limited", err.kind)
    assert.equals(60, err.retry_after)
    assert.same({}, t.sleeps)
    -- the next call waits the pause out (the sandbox's clock moves with it) and is answered
    local me = assert(c:whoami())
    assert.equals(org, me.organization_id)
    assert.same({ 60 }, t.sleeps)
    assert.same({ 200, 200, 429, 200 }, statuses())
  end)

  it("after a 429 another client of the key and one of another key of the organisation wait too", function()
    local org = organization()
    local t = sim()
    script { fault = "429", retry_after = 9 }
    local a = limited(t, { organization_id = org })
    assert.equals("rate_limited", select(2, a:whoami()).kind)
    local b = limited(t, { organization_id = org, api_key = sb.readonly_key })
    assert(b:whoami()) -- the organisation's pause
    assert.same({ 9 }, t.sleeps)
    assert(limited(t, { organization_id = org }):whoami()) -- the key's pause is over too
    assert.same({ 9 }, t.sleeps)
    assert.same({ 429, 200, 200 }, statuses())
  end)

  it("waits a Retry-After of 3 s as 3 s before the retry", function()
    script { fault = "429", retry_after = 3 }
    local t = sim()
    local me = assert(clients.new(sb, { max_retries = 1, clock = t.clock, sleep = t.sleep }):whoami())
    assert.equals("api_key", me.auth_type)
    assert.same({ 3 }, t.sleeps)
    assert.same({ 429, 200 }, statuses())
  end)

  it("reads retry_after_ms 2000 of an error body without Retry-After as 2 s", function()
    script {
      status = 429,
      headers = { ["Content-Type"] = "application/json" },
      body = {
        error = {
          code = "rate_limited",
          problem = "Rate limit exceeded.",
          retryable = true,
          retry_after_ms = 2000,
          request_id = "req_policy_ms",
        },
      },
    }
    local t = sim()
    assert(clients.new(sb, { max_retries = 1, clock = t.clock, sleep = t.sleep }):whoami())
    assert.same({ 2 }, t.sleeps)
  end)

  it("holds a key to its limit, views included: the fourth call waits the window, no 429", function()
    local org = organization()
    sandbox_limits(3, 60)
    local t = sim()
    local limits = { per_key = 3, per_org = 60, window = 60, burst = 3, margin = 0, share = false }
    local c = limited(t, { organization_id = org, rate_limit = limits })
    local view = c:with { timeout = 5 }
    assert(c:whoami())
    assert(view:whoami())
    assert(c:whoami())
    assert.same({}, t.sleeps)
    assert(view:whoami())
    assert.same({ 60 }, t.sleeps)
    assert.same({ 200, 200, 200, 200 }, statuses())
  end)

  it("without the limiter, the fourth call of a key limited to 3 meets the sandbox's 429", function()
    sandbox_limits(3, 60)
    local c = clients.new(sb)
    for _ = 1, 3 do
      assert(c:whoami())
    end
    local _, err = c:whoami()
    assert.equals("rate_limited", err.kind)
    assert.equals("api_key", err.details.limit_scope)
    assert.equals(60, err.retry_after)
  end)

  it("two keys of one organisation share its limit: the fifth call of 4 waits the window, no 429", function()
    local org = organization()
    sandbox_limits(30, 4)
    local t = sim()
    local limits = { per_key = 30, per_org = 4, window = 60, burst = 4, margin = 0, share = false }
    local full = limited(t, { organization_id = org, rate_limit = limits })
    local reader = limited(t, { organization_id = org, rate_limit = limits, api_key = sb.readonly_key })
    assert(full:whoami())
    assert(full:whoami())
    assert(full:whoami())
    assert(reader:whoami())
    assert.same({}, t.sleeps)
    assert(reader:whoami()) -- the reader's key has room, its organisation has none
    assert.same({ 60 }, t.sleeps)
    assert.same({ 200, 200, 200, 200, 200 }, statuses())
  end)

  it("without the limiter, the other key of a full organisation meets its 429", function()
    sandbox_limits(30, 4)
    local full, reader = clients.new(sb), clients.new(sb, { api_key = sb.readonly_key })
    for _ = 1, 4 do
      assert(full:whoami())
    end
    local _, err = reader:whoami()
    assert.equals("rate_limited", err.kind)
    assert.equals("organization", err.details.limit_scope)
  end)

  it("a refused connection: kind transport, nothing sent, a POST retried after the backoff", function()
    local t = sim(false)
    local c = clients.new(sb, {
      base_url = "http://127.0.0.1:9/api/v1/public", -- the discard port: nothing listens
      max_retries = 1,
      clock = t.clock,
      sleep = t.sleep,
      random = function()
        return 0
      end,
    })
    local res, err = c:request("POST", "/lead-lists", { body = { name = "never sent" } })
    assert.is_nil(res)
    assert.equals("transport", err.kind)
    assert.is_false(err.sent)
    assert.is_nil(err.ambiguous)
    assert.equals(2, err.attempts)
    assert.same({ 0.375 }, t.sleeps)
  end)

  it("when the retries run out: kind rate_limited, retry_after in seconds as the sandbox said", function()
    sandbox_limits(1, 60)
    assert(clients.new(sb):whoami())
    -- the waits are recorded only: the sandbox's window stays full for every attempt
    local t = sim(false)
    local c = clients.new(sb, { max_retries = 2, clock = t.clock, sleep = t.sleep })
    local res, err = c:whoami()
    assert.is_nil(res)
    assert.equals("rate_limited", err.kind)
    assert.equals("rate_limited", err.code)
    assert.equals(429, err.status)
    assert.equals(3, err.attempts)
    assert.equals(60, err.retry_after)
    assert.same({ 60, 60 }, t.sleeps)
    local status, _, headers = sb:api("GET", "/whoami")
    assert.equals(429, status)
    assert.equals("60", headers["retry-after"])
    assert.same({ 200, 429, 429, 429, 429 }, statuses())
  end)
end)
