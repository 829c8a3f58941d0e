-- Waits inside cleanlist.gather are timers of the scheduler, never a sleep of the process: while
-- one task waits (on the rate limiter, a Retry-After, a retry's backoff, the poll interval of
-- client:wait), the other tasks go on with their requests on the real libcurl transport. The
-- window of a wait runs from its announcement (on_wait) to the waiting client's next attempt
-- (on_send); the calls the others finish inside it are counted. A blocking wait gives the
-- others no turn in that window: the count is 0.
local cleanlist = require "cleanlist"
local scheduler = require "cleanlist.scheduler"
local monotonic = require("cleanlist.core").monotonic
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local fake_client = require "spec.helpers.fake_client"

local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

-- Each worker's most calls: the test sends at most WORKERS * CAP of them.
local WORKERS, CAP = 3, 60
-- Loopback answers take milliseconds: a second's wait leaves room for far more than this.
local AT_LEAST = 10

describe("waits inside cleanlist.gather do not block the process", function()
  local sb = sandbox.suite { reset = true, clear = true }

  local function script(...)
    local _, status = sb:control("POST", "/script", { responses = { ... } })
    assert.equals(200, status)
  end

  -- Runs wait(client) in one task and WORKERS tasks that, once its wait is announced, call
  -- /credits/balance until it returns. Returns the window ({reason, seconds, during}) and
  -- what wait returned.
  local function race(wait, opts)
    local answered, failed, finished = 0, 0, false
    local window = {}
    local o = {
      time_scale = 1,
      on_wait = function(info)
        if window.start == nil then
          window.start, window.reason, window.seconds = answered, info.reason, info.seconds
        end
      end,
    }
    for k, v in pairs(opts or {}) do
      o[k] = v
    end
    local waiter = clients.new(sb, o)
    waiter.on_send = function()
      if window.start and not window.stop then window.stop = answered end
    end
    local worker = clients.new(sb, { timeout = 10 })
    local fns = {
      function()
        local r = { wait(waiter) }
        finished = true
        return unpack(r, 1, 2)
      end,
    }
    for i = 2, WORKERS + 1 do
      fns[i] = function()
        -- bounded: a scheduler whose sleep blocks never lets the waiter run meanwhile
        local deadline = monotonic() + 5
        while window.start == nil and not finished and monotonic() < deadline do
          scheduler.sleep(0.005)
        end
        for _ = 1, CAP do
          if finished then break end
          local res = worker:credits_balance()
          if res then
            answered = answered + 1
          else
            failed = failed + 1
          end
        end
      end
    end
    local results = cleanlist.gather(fns)
    assert.equals(0, failed)
    assert.is_number(window.start, "the wait was not announced")
    window.during = (window.stop or answered) - window.start
    return window, results[1][1], results[1][2]
  end

  it("a rate-limit wait of a second leaves the other tasks their calls", function()
    local window, res = race(function(c)
      assert(c:whoami())
      return c:whoami()
    end, {
      rate_limit = { per_key = 1, per_org = false, window = 1.6, burst = 1, margin = 0, share = false },
    })
    assert.equals("api_key", res.auth_type)
    assert.equals("rate_limit", window.reason)
    assert.truthy(window.seconds > 1 and window.seconds <= 1.6, tostring(window.seconds))
    assert.truthy(window.during >= AT_LEAST, window.during .. " calls answered during the wait")
  end)

  it("a Retry-After of 1 s leaves the other tasks their calls", function()
    script { fault = "429", retry_after = 1 }
    local window, res = race(function(c)
      return c:whoami()
    end, { max_retries = 1 })
    assert.equals("api_key", res.auth_type)
    assert.equals("retry_after", window.reason)
    assert.equals(1, window.seconds)
    assert.truthy(window.during >= AT_LEAST, window.during .. " calls answered during the wait")
  end)

  it("a retry's backoff leaves the other tasks their calls", function()
    script { fault = "503" }
    local window, res = race(function(c)
      return c:whoami()
    end, {
      max_retries = 1,
      backoff_base = 1.2,
      random = function()
        return 0.5
      end,
    })
    assert.equals("api_key", res.auth_type)
    assert.equals("backoff", window.reason)
    assert.equals(1.05, window.seconds)
    assert.truthy(window.during >= AT_LEAST, window.during .. " calls answered during the wait")
  end)

  it("client:wait's poll interval leaves the other tasks their calls", function()
    local c = clients.new(sb)
    local person = assert(c:search_people { limit = 1 }).people[1]
    local run = assert(c:enrich_person { person_id = person.person_id, enrichment_type = "partial" })
    local _, status = sb:control("POST", "/faults", { workflow = "stuck" })
    assert.equals(200, status)
    local window, res, err = race(function(waiter)
      return waiter:wait(run.workflow_id, { interval = 1, timeout = 2.2 })
    end)
    assert.is_nil(res)
    assert.equals("timeout", err.kind)
    assert.equals("wait_timeout", err.code)
    assert.equals("poll", window.reason)
    assert.equals(1, window.seconds)
    assert.truthy(window.during >= AT_LEAST, window.during .. " calls answered during the wait")
  end)
end)

describe("scheduler.gather, a client's wait in a task", function()
  it("is a timer of the scheduler: the client's own sleep is never called, the others tick", function()
    local t = { now = 0 }
    local clock = function()
      return t.now
    end
    local blocking = {}
    local c, fake = fake_client.new {
      max_retries = 1,
      clock = clock,
      sleep = function(s)
        blocking[#blocking + 1] = s
      end,
    }
    fake:push { status = 429, body = "", headers = { ["retry-after"] = "2" } }
    fake:push { status = 200, body = '{"organization_id":"org_1"}' }
    local finished, ticks = false, 0
    local r = scheduler.gather({
      function()
        local me = c:whoami()
        finished = true
        return me
      end,
      function()
        for _ = 1, 100 do
          if finished then break end
          scheduler.sleep(0.1)
          ticks = ticks + 1
        end
      end,
    }, {
      clock = clock,
      sleep = function(s)
        t.now = t.now + s
      end,
    })
    assert.equals("org_1", r[1][1].organization_id)
    assert.same({}, blocking)
    assert.truthy(ticks >= 19 and ticks <= 21, ticks .. " ticks")
    assert.truthy(t.now >= 2 and t.now < 2.2, "took " .. t.now)
  end)
end)
