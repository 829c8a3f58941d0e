-- The coroutine scheduler over the fake transport and a simulated clock.
local cleanlist = require "cleanlist"
local scheduler = require "cleanlist.scheduler"
local fake_transport = require "cleanlist.transport.fake"

local function sim()
  local t = { now = 0, slept = {} }
  t.clock = function()
    return t.now
  end
  t.sleep = function(s)
    t.slept[#t.slept + 1] = s
    t.now = t.now + s
  end
  return t
end

describe("cleanlist.gather", function()
  it("returns every task's results in order", function()
    local r = cleanlist.gather {
      function()
        return 1, "a"
      end,
      function()
        return nil, "err"
      end,
      function() end,
    }
    assert.equals(3, #r)
    assert.same({ 1, "a", n = 2 }, r[1])
    assert.same({ nil, "err", n = 2 }, r[2])
    assert.equals(0, r[3].n)
  end)

  it("overlaps waits: three 5 s timers take 5 s, not 15", function()
    local t = sim()
    local order = {}
    local fns = {}
    for i = 1, 3 do
      fns[i] = function()
        scheduler.sleep(5 + i * 0.001)
        order[#order + 1] = i
        return i
      end
    end
    local r = scheduler.gather(fns, { clock = t.clock, sleep = t.sleep })
    assert.same({ 1, 2, 3 }, order)
    assert.equals(3, r[3][1])
    assert.truthy(t.now < 5.1, "took " .. t.now)
  end)

  it("limits how many tasks run at once", function()
    local t = sim()
    local running, peak = 0, 0
    local fns = {}
    for i = 1, 6 do
      fns[i] = function()
        running = running + 1
        peak = math.max(peak, running)
        scheduler.sleep(1)
        running = running - 1
        return i
      end
    end
    local r = scheduler.gather(fns, { concurrency = 2, clock = t.clock, sleep = t.sleep })
    assert.equals(2, peak)
    assert.equals(6, r[6][1])
    assert.truthy(t.now >= 3 and t.now < 3.1)
  end)

  it("raises a task's error after the others end, with its traceback", function()
    local finished = false
    local ok, err = pcall(scheduler.gather, {
      function()
        error("task blew up")
      end,
      function()
        finished = true
      end,
    })
    assert.is_false(ok)
    assert.matches("task blew up", err)
    assert.matches("traceback", err)
    assert.is_true(finished)
  end)

  it("refuses what is not an array of functions", function()
    assert.has_error(function()
      cleanlist.gather(42)
    end)
    assert.has_error(function()
      cleanlist.gather { 1 }
    end)
  end)

  it("turns client backoff and rate-limit waits into timers shared by the tasks", function()
    local t = sim()
    local fake = fake_transport.new()
    for _ = 1, 4 do
      fake:push { status = 200, body = "{}" }
    end
    local c = cleanlist.new {
      api_key = "clapi_scheduler_spec_key_1",
      transport = fake,
      clock = t.clock,
      sleep = t.sleep,
      rate_limit = { per_key = 2, window = 60, burst = 1, per_org = false, margin = 0 },
    }
    local fns = {}
    for i = 1, 4 do
      fns[i] = function()
        return c:whoami()
      end
    end
    local r = c:gather(fns)
    for i = 1, 4 do
      assert.is_table(r[i][1])
    end
    -- paced at one request per 30 s: the last one starts at 90 s, and nobody slept twice
    assert.truthy(t.now >= 90 and t.now < 91, "took " .. t.now)
    assert.equals(4, #fake.requests)
  end)
end)
