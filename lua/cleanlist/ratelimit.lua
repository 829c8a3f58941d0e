--- cleanlist.ratelimit: the client-side limiter, shared by every client of the process.
-- The API allows 30 requests a minute per key and 60 per organisation (all its keys and
-- members), counted in a sliding window. One bucket per key and one per organisation, each
-- sized to the window (core/cl_ratelimit.h: never more than the limit in any window, the whole
-- limit for a steady caller, bursts paced); the buckets live for the
-- process, so two clients built with one key share one budget, and clients of three keys of
-- one organisation share the organisation's.
local core = require "cleanlist.core"

local M = {}

local buckets = {} -- "key:" fingerprint or "org:" id, .. limits -> bucket
local organizations = {} -- key fingerprint -> organisation id (learned from /whoami)

-- margin: the window is widened by this share against network jitter (the server counts
-- arrivals, the client starts): 2 % costs 2 % of the rate and keeps requests that left a
-- window apart from arriving closer.
M.DEFAULTS = { per_key = 30, per_org = 60, window = 60, burst = 5, margin = 0.02 }

local function shared(id, limit, limits)
  id = id .. "/" .. limit .. "/" .. limits.window .. "/" .. limits.burst .. "/" .. limits.margin
  local b = buckets[id]
  if not b then
    b = core.bucket(limit, limits.window, limits.burst, limits.margin)
    buckets[id] = b
  end
  return b
end

--- Returns the bucket for a credential under the given limits (a table like DEFAULTS).
function M.bucket(credential, limits)
  return shared("key:" .. credential:fingerprint(), limits.per_key, limits)
end

--- Returns the bucket of an organisation (limits.per_org requests per window).
function M.org_bucket(organization_id, limits)
  return shared("org:" .. organization_id, limits.per_org, limits)
end

--- The organisation a key belongs to, when a client of the process has learned it.
function M.organization_of(credential)
  return organizations[credential:fingerprint()]
end

function M.remember_organization(credential, organization_id)
  organizations[credential:fingerprint()] = organization_id
end

return M
