--- The credits a lead's enrichment costs (API.md §8), defined once for the workflows, the cost
-- estimates, the legacy API and the outcomes: an email 1, a phone 10, both 11.
local M = {}

M.EMAIL, M.PHONE = 1, 10

-- per lead, by tier (the enrichment APIs' enrichment_type, tidied by workflows.tier)
M.TIER = { partial = M.EMAIL, phone_only = M.PHONE, full = M.EMAIL + M.PHONE }

-- per contact at most, by the legacy API's enrichment_type (prospecting_only: the email alone)
M.LEGACY_MAX =
  { none = 0, partial = M.EMAIL, phone_only = M.PHONE, full = M.EMAIL + M.PHONE, prospecting_only = M.EMAIL }

return M
