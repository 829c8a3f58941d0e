-- The client's limiter against the sandbox's real sliding window (30 a minute per key),
-- time-scaled: four callers on one key, no retries, so a 429 would show. The rate it sustains
-- is measured by bench/ratelimit.lua.
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"

-- The sandbox's time runs 30 times faster, so the limiter's 2 % margin is 40 ms of real time: a
-- scheduling hiccup longer than that (the sanitizer build runs a few times slower) would show
-- as a 429 that is not the limiter's.
local SCALE = 30

describe("the client's rate limiter against the sandbox's limits", function()
  local sb = sandbox.suite {
    args = { "--time-scale", tostring(SCALE), "--seed", "7" },
    rate_limit = true,
    reset = true,
    clear = true,
  }

  it("keeps four callers on one key under the sliding window: no 429 in 100 calls", function()
    local c = clients.new(sb, { rate_limit = {}, time_scale = SCALE, max_retries = 0 })
    local answered, rejected = 0, 0
    local fns = {}
    for i = 1, 4 do
      fns[i] = function()
        for _ = 1, 25 do
          local res, err = c:credits_balance()
          if res then
            answered = answered + 1
          elseif err.kind == "rate_limited" then
            rejected = rejected + 1
          end
        end
      end
    end
    cleanlist.gather(fns)
    assert.equals(0, rejected)
    assert.equals(100, answered)
    local statuses = {}
    for _, s in ipairs(require("spec.helpers.wire").statuses(sb)) do
      statuses[s] = (statuses[s] or 0) + 1
    end
    assert.is_nil(statuses[429])
  end)

  it("holds three keys of one organisation to its 60 a minute, their lookups counted: no 429", function()
    -- the session that mints the keys is limited too: everything the organisation sends is
    -- counted, so the client never meets the organisation's window
    local admin = clients.new(sb, { api_key = sandbox.jwts().vera, rate_limit = {}, time_scale = SCALE })
    local fns = {}
    for i = 1, 3 do
      local k = assert(admin:create_api_key { name = "org window " .. i })
      local c = clients.new(sb, { api_key = k.key, rate_limit = {}, time_scale = SCALE })
      for _ = 1, 2 do
        fns[#fns + 1] = function()
          local answered, rejected = 0, 0
          for _ = 1, 20 do
            local res, err = c:credits_balance()
            if res then
              answered = answered + 1
            elseif err.kind == "rate_limited" then
              rejected = rejected + 1
            end
          end
          return answered, rejected
        end
      end
    end
    local answered, rejected = 0, 0
    for _, r in ipairs(cleanlist.gather(fns)) do
      answered, rejected = answered + r[1], rejected + r[2]
    end
    assert.equals(0, rejected)
    assert.equals(120, answered)
    -- everything the organisation sent was answered: keys minted, lookups (none for a key
    -- whose organisation the process already knows), the 120 calls
    local balance = 0
    for _, r in ipairs(sb:requests()) do
      assert.is_true(r.status == 200 or r.status == 201, r.path .. " " .. tostring(r.status))
      if r.path:find("/credits/balance$") then balance = balance + 1 end
    end
    assert.equals(120, balance)
  end)
end)
