--- The call loop the rate-limit benches share: `per` balance calls by one caller, counted into
-- `tally` (starts = the clock of each answered call, rejected = 429s, other = other errors).
local M = {}

function M.tally()
  return { starts = {}, rejected = 0, other = 0 }
end

function M.caller(client, per, tally)
  return function()
    for _ = 1, per do
      local res, err = client:credits_balance()
      if res then
        tally.starts[#tally.starts + 1] = client.clock()
      elseif err.kind == "rate_limited" then
        tally.rejected = tally.rejected + 1
      else
        tally.other = tally.other + 1
      end
    end
  end
end

--- Calls answered from one window after t0 on, over the time they took, per window.
function M.rate_after_first_window(tally, t0, t1, window)
  local after = 0
  for _, t in ipairs(tally.starts) do
    if t >= t0 + window then after = after + 1 end
  end
  return after / (t1 - (t0 + window)) * window
end

return M
