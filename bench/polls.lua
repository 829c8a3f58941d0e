-- Poll cost of client:wait against the sandbox's run timing: for runs of several sizes, the
-- status requests wait made, against the fewest a poller that does not know the run's timing
-- could make: one poll to see how far the run is, one at its end (2); 1 for a run that is over
-- at the first poll. And the delay between the run's completion and wait returning: the
-- sandbox's runs are deterministic (they start START_MS after dispatch, then take a lead per
-- LEAD_MS, a person PERSON_MS), so the completion is known to within the dispatch call's
-- round trip; the delay printed is counted from the earliest it can have been (an upper bound).
-- Prints each run, the worst poll ratio (target <= 1.5) and the worst delay.
-- Run: build/lua5.4/cleanlist --sandbox --time-scale 60 --rate-limit off bench/polls.lua
local cleanlist = require "cleanlist"

local client = cleanlist.new { rate_limit = false }
local scale = client.time_scale
print(("time scale %g (sandbox runs: 2 s to start, then a lead per second)"):format(scale))

local function by_task(n)
  local s = cleanlist.check(client:search_people { limit = n })
  return cleanlist.check(client:enrich_by_task { task_id = s.task_id, data_points = { "Email" } })
end

local START, LEAD, PERSON = 2, 1, 3 -- seconds of sandbox time (sandbox/lua/sandbox/workflows.lua)
local runs = {
  {
    "person",
    START + PERSON,
    function()
      return cleanlist.check(client:enrich_person { email = "someone@example.com", enrichment_type = "partial" })
    end,
  },
}
for _, n in ipairs { 5, 25, 60, 100 } do
  runs[#runs + 1] = {
    "cohort of " .. n,
    START + n * LEAD,
    function()
      return by_task(n)
    end,
  }
end

local worst, worst_delay = 0, 0
for _, r in ipairs(runs) do
  local started = client.clock()
  local dispatched = r[3]()
  local st = cleanlist.check(client:wait(dispatched))
  local returned = client.clock()
  -- the run was dispatched after `started`: it was complete at `started + duration` at the
  -- earliest (sandbox seconds -> real seconds)
  local delay = (returned - (started + r[2] / scale)) * scale
  local fewest = st.polls == 1 and 1 or 2
  local ratio = st.polls / fewest
  worst, worst_delay = math.max(worst, ratio), math.max(worst_delay, delay)
  print(
    (
      "%-14s %-10s polls %2d  fewest %d  ratio %.2f  waited %5.1f s, returned %.2f s after "
      .. "the run completed (sandbox time)"
    ):format(r[1], st.status, st.polls, fewest, ratio, (returned - started) * scale, delay)
  )
end
print(
  (
    "worst ratio %.2f (target <= 1.50); worst delay from completion to wait's return %.2f s "
    .. "of sandbox time (%.0f ms real)"
  ):format(worst, worst_delay, worst_delay / scale * 1000)
)
