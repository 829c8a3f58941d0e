--- Company enrichment (sandbox.endpoints.enrichment): the company an EnrichCompanyRequest
-- names, and the results of a by-task run over a company cohort.
local json = require "sandbox.json"
local util = require "sandbox.util"
local world = require "sandbox.world"

local M = {}

local null = json.null
local present = util.present

local SUFFIXES = {
  inc = true,
  llc = true,
  ltd = true,
  corp = true,
  corporation = true,
  co = true,
  company = true,
  gmbh = true,
  plc = true,
  the = true,
  group = true,
  sa = true,
  ag = true,
  limited = true,
  incorporated = true,
}

-- The significant words of a company name, joined by spaces.
local function name_key(name)
  local words = {}
  for w in world.fold_text(name):gmatch("[%w]+") do
    if not SUFFIXES[w] then words[#words + 1] = w end
  end
  return table.concat(words, " ")
end

--- The company of world w for EnrichCompanyRequest fields b: exact lookups first
-- (sandbox.world), then a fuzzy name match (case, punctuation and corporate suffixes ignored;
-- then a unique prefix).
function M.find(w, b)
  local c = world.find_company(w, b)
  if c then return c end
  local name = present(b.company_name) and b.company_name
    or (present(b.company_ticker) and not present(b.domain) and b.company_ticker)
    or nil
  if not name then return nil end
  local want = name_key(name)
  if want == "" then return nil end
  local prefix_hit, hits = nil, 0
  for _, co in ipairs(w.companies) do
    local k = name_key(co.name)
    if k == want then return co end
    if #want >= 3 and k:sub(1, #want) == want then
      prefix_hit, hits = co, hits + 1
    end
  end
  if hits == 1 then return prefix_hit end
  return nil
end

-- Company record fields per company data point (company_id and name are always included).
local POINT_FIELDS = {
  Industry = { "industry", "industries" },
  Employees = { "employee_count", "employee_count_range" },
  Revenue = { "revenue_range" },
  Funding = { "funding_stage", "total_funding_usd" },
  TechStack = { "tech_stack" },
  Domain = { "domain", "linkedin_url" },
}

--- The by-task results for company ids of world w, with the fields of the data points:
-- results (one per id: enriched, skipped or failed) and how many were enriched.
function M.results(w, ids, points)
  local results, enriched = json.array(), 0
  for _, id in ipairs(ids) do
    local c = w.company_by_id[id]
    if not c then
      results[#results + 1] = { entity_id = id, status = "failed", error = "company not found", company = null }
    else
      local full = world.company_record(w, c)
      local rec, any = { company_id = full.company_id, name = full.name }, false
      for _, p in ipairs(points) do
        for _, f in ipairs(POINT_FIELDS[p] or {}) do
          local v = full[f]
          rec[f] = v
          if v ~= nil and v ~= null then any = true end
        end
      end
      if any then
        enriched = enriched + 1
        results[#results + 1] = { entity_id = id, status = "enriched", error = null, company = rec }
      else
        results[#results + 1] = {
          entity_id = id,
          status = "skipped",
          error = "no data for the requested data points",
          company = null,
        }
      end
    end
  end
  return results, enriched
end

return M
