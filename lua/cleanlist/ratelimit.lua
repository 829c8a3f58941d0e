--- cleanlist.ratelimit: the client-side limiter, shared by every client of the process.
-- One paced bucket per API key (the API allows 30 requests/minute per key); the buckets
-- live for the process, so two clients built with one key share one budget.
local core = require "cleanlist.core"

local M = {}

local buckets = {} -- fingerprint .. limits -> bucket

M.DEFAULTS = { per_key = 30, window = 60, burst = 5 }

--- Returns the bucket for a credential under the given limits (a table like DEFAULTS).
function M.bucket(credential, limits)
  local id = credential:fingerprint() .. "/" .. limits.per_key .. "/" .. limits.window
    .. "/" .. limits.burst
  local b = buckets[id]
  if not b then
    b = core.bucket(limits.per_key, limits.window, limits.burst)
    buckets[id] = b
  end
  return b
end

return M
