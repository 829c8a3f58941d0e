-- Poll cost of client:wait against the sandbox's run timing: for runs of several sizes, the
-- status requests wait made, against the fewest a poller that does not know the run's timing
-- could make: one poll to see how far the run is, one at its end (2); 1 for a run that is over
-- at the first poll. Prints each run and the worst ratio; the target is <= 1.5.
-- Run: build/lua5.4/cleanlist --sandbox --time-scale 60 --rate-limit off bench/wait_polls.lua
local cleanlist = require "cleanlist"

local client = cleanlist.new { rate_limit = false }
local scale = client.time_scale
print(("time scale %g (sandbox runs: 2 s to start, then a lead per second)"):format(scale))

local function by_task(n)
  local s = cleanlist.check(client:search_people { limit = n })
  return cleanlist.check(client:enrich_by_task { task_id = s.task_id, data_points = { "Email" } })
end

local runs = {
  { "person", function()
    return cleanlist.check(client:enrich_person { email = "someone@example.com", enrichment_type = "partial" })
  end },
}
for _, n in ipairs { 5, 25, 60, 100 } do
  runs[#runs + 1] = { "cohort of " .. n, function() return by_task(n) end }
end

local worst = 0
for _, r in ipairs(runs) do
  local started = client.clock()
  local dispatched = r[2]()
  local st = cleanlist.check(client:wait(dispatched))
  local fewest = st.polls == 1 and 1 or 2
  local ratio = st.polls / fewest
  worst = math.max(worst, ratio)
  print(("%-14s %-10s polls %2d  fewest %d  ratio %.2f  waited %5.1f s of sandbox time")
    :format(r[1], st.status, st.polls, fewest, ratio, (client.clock() - started) * scale))
end
print(("worst ratio %.2f (target <= 1.50)"):format(worst))
