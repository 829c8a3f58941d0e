-- Rate limiting against the sandbox's real limits (30 requests a minute per key, sliding
-- window), time-scaled: 4 callers on one key (cleanlist.gather) making N calls, with no
-- retries so that any 429 shows. Prints the 429s and the rate sustained against the limit,
-- measured after the first window (the burst the window allows at the start is not a rate).
-- Run: build/lua5.4/cleanlist --sandbox --time-scale 60 bench/ratelimit.lua [N]
local cleanlist = require "cleanlist"

local N = tonumber(arg and arg[1]) or 300
local CALLERS = 4
cleanlist.on_wait = nil
local client = cleanlist.new { max_retries = 0 }
local scale = client.time_scale
local window = 60 / scale -- the sandbox's minute, in real seconds
local limit = 30

assert(client:whoami()) -- the organisation lookup, before the clock starts
local calls = require "bench.calls"
local tally = calls.tally()
local fns = {}
local per = math.floor(N / CALLERS)
for c = 1, CALLERS do
  fns[c] = calls.caller(client, per, tally)
end
local t0 = client.clock()
cleanlist.gather(fns)
local t1 = client.clock()
local rate = calls.rate_after_first_window(tally, t0, t1, window)
local starts, rejected, other = tally.starts, tally.rejected, tally.other
print(
  ("%d callers, %d calls on one key at time scale %g: %d answered, %d x 429, %d other errors"):format(
    CALLERS,
    per * CALLERS,
    scale,
    #starts,
    rejected,
    other
  )
)
print(
  ("sustained %.1f of %d a minute after the first window: %.1f %% of the limit"):format(rate, limit, rate / limit * 100)
)
print(("whole run: %.1f s for %d calls (%.2f windows)"):format(t1 - t0, #starts, (t1 - t0) / window))
