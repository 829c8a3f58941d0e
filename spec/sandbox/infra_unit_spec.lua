-- luacheck: std +busted
-- The sandbox's infrastructure modules in plain Lua (no server): the clock's arithmetic, the
-- rate limiter's sliding windows, the fault catalogue and its seeded draws, and the --state
-- decoder (integers, nulls, empty arrays versus empty objects).
require("spec.helpers.sandbox").use_modules()

local clock = require "sandbox.clock"
local faults = require "sandbox.faults"
local json = require "sandbox.json"
local persist = require "sandbox.persist"
local ratelimit = require "sandbox.ratelimit"

-- A fake time source: t.wall and t.mono are set by the test.
local function fake_time()
  local t = { wall = 1700000000000, mono = 5000 }
  t.wall_ms = function()
    return t.wall
  end
  t.monotonic_ms = function()
    return t.mono
  end
  return t
end

describe("sandbox.clock", function()
  it("starts at the wall clock and runs `scale` times faster than the monotonic clock", function()
    local t = fake_time()
    local c = clock.new { wall_ms = t.wall_ms, monotonic_ms = t.monotonic_ms, scale = 10 }
    assert.are.equal(1700000000000, c.now_ms())
    t.mono = t.mono + 1500
    assert.are.equal(1700000015000, c.now_ms())
    assert.are.equal(10, c.scale())
    assert.are.equal(100, c:real_ms(1000))
    assert.are.equal(1, c:real_ms(1)) -- rounded up
  end)

  it("advances, changes speed without a jump, and resets", function()
    local t = fake_time()
    local c = clock.new { wall_ms = t.wall_ms, monotonic_ms = t.monotonic_ms }
    c:advance(60000)
    assert.are.equal(1700000060000, c.now_ms())
    t.mono = t.mono + 1000
    assert.are.equal(1700000061000, c.now_ms())
    c:set_scale(100)
    assert.are.equal(1700000061000, c.now_ms())
    t.mono = t.mono + 10
    assert.are.equal(1700000062000, c.now_ms())
    assert.are.same({ now_ms = 1700000062000, time_scale = 100, offset_ms = 60000 }, c:info())
    t.wall = 1800000000000
    c:reset()
    assert.are.same({ now_ms = 1800000000000, time_scale = 1, offset_ms = 0 }, c:info())
  end)
end)

describe("sandbox.ratelimit", function()
  local t, c, rl
  local key = { id = "ak_1", org = { id = "org_1" } }
  local key2 = { id = "ak_2", org = { id = "org_1" } }
  local mcp = { template = "/whoami" }

  before_each(function()
    t = fake_time()
    c = clock.new { wall_ms = t.wall_ms, monotonic_ms = t.monotonic_ms }
    rl = ratelimit.new({ rate_limit_key = 2, rate_limit_org = 3 }, c)
  end)

  it("admits `limit` requests in any 60 s and says how long to wait", function()
    assert.is_nil(rl:check(key, mcp, "req_1"))
    t.mono = t.mono + 10000
    assert.is_nil(rl:check(key, mcp, "req_2"))
    t.mono = t.mono + 1000
    local status, body, headers = rl:check(key, mcp, "req_3")
    assert.are.equal(429, status)
    assert.are.equal("49", headers["Retry-After"]) -- the first request leaves the window in 49 s
    local e = json.decode(body).error
    assert.are.equal("rate_limited", e.code)
    assert.are.equal(49000, e.retry_after_ms)
    assert.are.equal("req_3", e.request_id)
    t.mono = t.mono + 49000
    assert.is_nil(rl:check(key, mcp, "req_4")) -- the window slid past the first request
    assert.are.equal(429, (rl:check(key, mcp, "req_5"))) -- the second is still in it
  end)

  it("limits the organisation across keys", function()
    assert.is_nil(rl:check(key, mcp, "r"))
    assert.is_nil(rl:check(key, mcp, "r"))
    assert.is_nil(rl:check(key2, mcp, "r"))
    local status, body = rl:check(key2, mcp, "r")
    assert.are.equal(429, status)
    assert.are.equal("organization", json.decode(body).error.details.limit_scope)
  end)

  it("gives waits in real time under a time scale", function()
    c:set_scale(60)
    rl:check(key, mcp, "r")
    rl:check(key, mcp, "r")
    local _, body, headers = rl:check(key, mcp, "r")
    assert.are.equal("1", headers["Retry-After"])
    assert.are.equal(1000, json.decode(body).error.retry_after_ms)
  end)

  it("answers legacy routes with the FastAPI body, per endpoint", function()
    assert.is_true(ratelimit.is_legacy { template = "/enrich/bulk" })
    assert.is_true(ratelimit.is_legacy { template = "/x", legacy = true })
    assert.is_false(ratelimit.is_legacy { template = "/credits/balance" })
    local bulk, status = { template = "/enrich/bulk" }, { template = "/enrich/status" }
    for _ = 1, 3 do
      assert.is_nil(rl:check(key, bulk, "r"))
    end
    local st, body, headers = rl:check(key2, bulk, "r")
    assert.are.equal(429, st)
    assert.are.equal('{"detail":"Rate limit exceeded"}', body)
    assert.are.same({ ["Retry-After"] = "60" }, headers) -- the whole 60 s window is ahead
    assert.is_nil(rl:check(key, status, "r")) -- another endpoint, another window
    assert.is_nil(rl:check(key, mcp, "r")) -- the MCP budget is untouched
  end)

  it("empties its windows when a limit changes, and resets to the flags", function()
    rl:check(key, mcp, "r")
    rl:check(key, mcp, "r")
    rl:configure { per_key = 5 }
    assert.is_nil(rl:check(key, mcp, "r"))
    rl:configure { enabled = false }
    assert.is_false(rl.enabled)
    rl:reset()
    assert.are.same({ enabled = true, per_key = 2, per_org = 3, window_ms = 60000 }, rl:info())
  end)
end)

describe("sandbox.faults", function()
  it("draws the same faults from the same seed", function()
    local function draws(seed)
      local f = faults.new { seed = seed, fault_rate = 0.5, faults = "500,reset,stall" }
      local out = {}
      for i = 1, 40 do
        local item = f:draw()
        out[i] = item and item.fault or "-"
      end
      return table.concat(out, " ")
    end
    assert.are.equal(draws(9), draws(9))
    assert.are_not.equal(draws(9), draws(10))
    assert.are.equal(
      "- - stall 500 - stall - - - - - - - stall 500 - - - - reset reset stall reset stall 500 - - "
        .. "reset reset reset reset stall - - - - - - - -",
      draws(9)
    )
  end)

  it("validates kinds, items and settings", function()
    assert.has_error(function()
      faults.new { faults = "500,nope" }
    end, "--faults: unknown fault kind 'nope' (known: " .. table.concat(faults.KINDS, ", ") .. ")")
    assert.has_error(function()
      faults.new { workflow_fault = "maybe" }
    end)
    assert.are.same(
      { fault = "stall", ms = 5, close = true },
      faults.item({ fault = "stall", ms = 5, close = true }, "r")
    )
    assert.are.same({ fault = "500" }, faults.item({ fault = 500 }, "r"))
    assert.is_nil(faults.item({ fault = "boom" }, "r"))
    assert.is_nil(faults.item({ fault = "stall", ms = 1.5 }, "r"))
    local f = faults.new {}
    assert.are.equal("normal", f.workflow)
    assert.is_true(f:configure { workflow = "stuck", rate = 0.25 })
    assert.are.equal("stuck", f.workflow)
    assert.is_nil(f:configure { rate = 0.5, workflow = "odd" })
    assert.are.equal(0.25, f.rate) -- a refused change changes nothing
    f:reset()
    assert.are.equal("normal", f.workflow)
    assert.are.equal(0, f.rate)
  end)
end)

describe("sandbox.persist.decode", function()
  local function doc(data_text)
    return '{"format":"cleanlist-sandbox-state","version":1,"saved_at_ms":1,"data":' .. data_text .. "}"
  end

  it("keeps empty arrays and empty objects apart, even next to strings with [] in them", function()
    local text = '{"a":[],"b":{},"c":"x[]y","d":"q\\"[]","e":[[],{},[ ]],"f":"\\\\","g":[]}'
    local data = assert(persist.decode(doc(text)))
    assert.are.equal(text:gsub("%[ %]", "[]"), json.encode(data))
    assert.is_true(json.is_array(data.a))
    assert.is_false(json.is_array(data.b))
    assert.are.equal("x[]y", data.c)
    assert.are.equal('q"[]', data.d)
  end)

  it("gives integers back as integers and null as json.null", function()
    local data = assert(persist.decode(doc('{"n":5000,"x":1.5,"z":null,"l":[1,2]}')))
    assert.are.equal(json.null, data.z)
    assert.are.equal(1.5, data.x)
    assert.are.equal(5000, data.n)
    local math_type = rawget(math, "type") -- Lua 5.3+
    if math_type then
      assert.are.equal("integer", math_type(data.n))
      assert.are.equal("integer", math_type(data.l[2]))
    end
    assert.is_true(json.is_array(data.l))
  end)

  it("refuses what is not a state document", function()
    local NOT_STATE = '^not a sandbox state file %(no "format": "cleanlist%-sandbox%-state" and "data"%)$'
    for text, why in pairs {
      [""] = "^not valid JSON %(.+%)$",
      ["{"] = "^not valid JSON %(.+%)$",
      ["[1]"] = NOT_STATE,
      ['{"format":"x","version":1,"data":{}}'] = NOT_STATE,
      ['{"format":"cleanlist-sandbox-state","version":2,"data":{}}'] = "^unsupported state file version 2",
      ['{"format":"cleanlist-sandbox-state","version":1,"data":3}'] = NOT_STATE,
    } do
      local data, err = persist.decode(text)
      assert.is_nil(data, text)
      assert.matches(why, err, 1, false, text)
    end
  end)
end)
