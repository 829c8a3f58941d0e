-- The client's limiter against the sandbox's real sliding window (30 a minute per key),
-- time-scaled: four callers on one key, no retries, so a 429 would show. The rate it sustains
-- is measured by bench/ratelimit.lua.
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"

describe("the client's rate limiter against the sandbox's limits", function()
  local sb = sandbox.suite { args = { "--time-scale", "60", "--seed", "7" }, rate_limit = true,
    reset = true, clear = true }

  it("keeps four callers on one key under the sliding window: no 429 in 100 calls", function()
    local c = clients.new(sb, { rate_limit = {}, time_scale = 60, max_retries = 0 })
    local answered, rejected = 0, 0
    local fns = {}
    for i = 1, 4 do
      fns[i] = function()
        for _ = 1, 25 do
          local res, err = c:credits_balance()
          if res then answered = answered + 1
          elseif err.kind == "rate_limited" then rejected = rejected + 1 end
        end
      end
    end
    cleanlist.gather(fns)
    assert.equals(0, rejected)
    assert.equals(100, answered)
    local statuses = {}
    for _, s in ipairs(require("spec.helpers.wire").statuses(sb)) do statuses[s] = (statuses[s] or 0) + 1 end
    assert.is_nil(statuses[429])
  end)
end)
