--- Similar companies (POST /search/companies/similar): a score out of 100 against the seed
-- company (same industry 50 points, shared technologies (Jaccard) 30, size closeness 20)
-- with the reasons behind it.
local json = require "sandbox.json"
local world = require "sandbox.world"

local M = {}

local format, floor = string.format, math.floor

local function similarity(seed, c)
  local score, reasons = 0, {}
  if c.industry == seed.industry then
    score = score + 50
    reasons[#reasons + 1] = "same industry (" .. c.industry .. ")"
  end
  local set, shared, union = {}, 0, 0
  for _, t in ipairs(seed.tech_stack) do
    set[t] = true
    union = union + 1
  end
  for _, t in ipairs(c.tech_stack) do
    if set[t] then
      shared = shared + 1
    else
      union = union + 1
    end
  end
  if shared > 0 then
    score = score + floor(30 * shared / union)
    reasons[#reasons + 1] = format("shares %d %s", shared, shared == 1 and "technology" or "technologies")
  end
  local d = math.abs(c.size_idx - seed.size_idx)
  score = score + floor(20 * (7 - d) / 7)
  if d == 0 then
    reasons[#reasons + 1] = "same size (" .. c.size .. " employees)"
  elseif d == 1 then
    reasons[#reasons + 1] = "similar size (" .. c.size .. " employees)"
  end
  return score, reasons
end

--- The `limit` companies of world w most similar to seed (never seed itself), best first
-- (ties in world order): their company records with similarity_score (0..1) and
-- similarity_reasons, and their ids.
function M.rank(w, seed, limit)
  local scored = {}
  for i, c in ipairs(w.companies) do
    if c ~= seed then
      local s = similarity(seed, c)
      scored[#scored + 1] = { s = s, i = i }
    end
  end
  table.sort(scored, function(a, b)
    if a.s ~= b.s then return a.s > b.s end
    return a.i < b.i
  end)
  local rows, ids = json.array(), {}
  for k = 1, math.min(limit, #scored) do
    local c = w.companies[scored[k].i]
    local rec = world.company_record(w, c)
    local s, reasons = similarity(seed, c)
    rec.similarity_score = s / 100
    rec.similarity_reasons = json.array(reasons)
    rows[k] = rec
    ids[k] = c.id
  end
  return rows, ids
end

return M
