-- Three keys of one organisation against the sandbox's real limits (30 a minute per key, 60
-- per organisation, sliding windows), time-scaled: two callers per key, no retries, so that
-- any 429 shows. The organisation's 60 binds (three keys could make 90): prints the 429s and
-- the rate sustained against 60 a minute after the first window.
-- Run: build/lua5.4/cleanlist --sandbox --time-scale 60 bench/ratelimit_org.lua JWT [N]
--   JWT: Vera Okafor's session token from `cleanlist sandbox --help` (it mints the keys)
local cleanlist = require "cleanlist"

local jwt = assert(arg and arg[1], "usage: bench/ratelimit_org.lua SESSION_JWT [N]")
local N = tonumber(arg[2]) or 300
local PER_KEY_CALLERS = 2
cleanlist.on_wait = nil
-- the session's calls count against the organisation too: its client limits them as well
local admin = cleanlist.new { api_key = jwt }
local clients = {}
for i = 1, 3 do
  local k = cleanlist.check(admin:create_api_key { name = ("bench org %d"):format(i) })
  clients[i] = cleanlist.new { api_key = k.key, max_retries = 0 }
end
local scale = clients[1].time_scale
local window = 60 / scale -- the sandbox's minute, in real seconds
local limit = 60

-- each key's organisation lookup, before the clock starts (free; it counts against the key
-- and the organisation, and the client counts it)
for _, c in ipairs(clients) do
  assert(c:whoami())
end
local calls = require "bench.calls"
local tally = calls.tally()
local fns = {}
local per = math.floor(N / (3 * PER_KEY_CALLERS))
for _, c in ipairs(clients) do
  for _ = 1, PER_KEY_CALLERS do
    fns[#fns + 1] = calls.caller(c, per, tally)
  end
end
local t0 = clients[1].clock()
cleanlist.gather(fns)
local t1 = clients[1].clock()
local rate = calls.rate_after_first_window(tally, t0, t1, window)
local starts, rejected, other = tally.starts, tally.rejected, tally.other
print(
  ("3 keys of one organisation, %d callers, %d calls at time scale %g: %d answered, %d x 429, %d other errors"):format(
    #fns,
    per * #fns,
    scale,
    #starts,
    rejected,
    other
  )
)
print(
  ("sustained %.1f of %d a minute after the first window: %.1f %% of the organisation's limit"):format(
    rate,
    limit,
    rate / limit * 100
  )
)
