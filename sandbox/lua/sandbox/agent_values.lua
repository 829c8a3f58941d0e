--- The values a smart-agent row writes onto its lead (sandbox.agents runs the rows): one
-- producer per agent type, producer(state, lead, run) -> value | nil, error text. Each value is
-- deterministic: drawn from the lead, the world and the sandbox's seeded rolls.
local leads = require "sandbox.leads"
local util = require "sandbox.util"
local world = require "sandbox.world"

local M = {}

local format = string.format

local function roll(state, s)
  return util.roll(state, "agent|" .. s, 100)
end

local EXPAND = {
  vp = "Vice President",
  svp = "Senior Vice President",
  evp = "Executive Vice President",
  avp = "Associate Vice President",
  sr = "Senior",
  jr = "Junior",
  dir = "Director",
  mgr = "Manager",
  eng = "Engineering",
  mktg = "Marketing",
  ops = "Operations",
  cto = "Chief Technology Officer",
  ceo = "Chief Executive Officer",
  cfo = "Chief Financial Officer",
  coo = "Chief Operating Officer",
  cmo = "Chief Marketing Officer",
  cro = "Chief Revenue Officer",
  cio = "Chief Information Officer",
  ciso = "Chief Information Security Officer",
  cpo = "Chief Product Officer",
  hr = "Human Resources",
  swe = "Software Engineer",
}
local SMALL =
  { ["of"] = true, ["and"] = true, ["the"] = true, ["for"] = true, ["to"] = true, ["in"] = true, ["&"] = true }

function M.normalize_title(title)
  local words = {}
  for w in title:gsub("[,/|]", " "):gmatch("%S+") do
    local bare = w:gsub("%.$", ""):lower()
    local e = EXPAND[bare]
    if e then
      words[#words + 1] = e
    elseif SMALL[bare] and #words > 0 then
      words[#words + 1] = bare
    else
      words[#words + 1] = bare:sub(1, 1):upper() .. bare:sub(2)
    end
  end
  return table.concat(words, " ")
end

local PAINS = {
  Sales = {
    "pipeline coverage that depends on manual prospecting",
    "reps losing hours to bad contact data",
    "forecast accuracy hurt by stale CRM records",
  },
  Marketing = {
    "attributing pipeline to campaigns",
    "lead lists that bounce",
    "routing inbound leads to the right rep fast enough",
  },
  Engineering = {
    "hiring senior engineers fast enough",
    "tool sprawl across teams",
    "keeping cloud costs predictable",
  },
  Finance = { "manual month-end close work", "spend visibility across departments", "vendor consolidation" },
  Operations = {
    "process handoffs that live in spreadsheets",
    "scaling support without headcount",
    "data quality across systems",
  },
}
local GENERIC_PAINS =
  { "data quality across the go-to-market stack", "doing more with a flat headcount plan", "slow internal reporting" }

local function company_for(state, lead)
  local w = world.of(state)
  local p = leads.person(state, lead)
  if p then return world.company_of(w, p), p end
  if lead.domain then return w.company_by_domain[lead.domain], nil end
  return nil, nil
end

-- What the company does, as a phrase ("workflow automation for enterprises"), or nil.
local function offering(c)
  local d = c and c.description
  if not d then return nil end
  return d:match(" provides (.-)%.?$") or d:gsub("%.$", "")
end

local function first_name(lead)
  return lead.first_name or (lead.full_name and lead.full_name:match("^(%S+)"))
end

local producers = {}

function producers.title_normalizer(_, lead)
  if not lead.title or lead.title == "" then return nil, "the lead has no title" end
  return M.normalize_title(lead.title)
end

function producers.cold_intro_email(state, lead)
  local first = first_name(lead)
  local c = company_for(state, lead)
  local company = lead.company or (c and c.name)
  if not first or not company then return nil, "the lead needs a first name and a company" end
  local what = offering(c)
  local angle = what and ("building " .. what) or "growing the team"
  local role = lead.title and (" as " .. lead.title) or ""
  return format(
    "Subject: Quick idea for %s\n\nHi %s,\n\nI saw that %s is %s, and your "
      .. "work%s stood out. Teams like yours use Cleanlist to keep prospect data verified "
      .. "without manual research. Would a 15-minute call next week be useful?\n\nBest,\nVera",
    company,
    first,
    company,
    angle,
    role
  )
end

function producers.company_intel(state, lead)
  local c = company_for(state, lead)
  if not c then return nil, "no company data for this lead" end
  local tech = {}
  for i = 1, math.min(3, #c.tech_stack) do
    tech[i] = c.tech_stack[i]
  end
  return format(
    "%s (%s) is a %s-employee %s company in %s (%s) offering %s; its stack " .. "includes %s.",
    c.name,
    c.domain,
    c.size,
    c.industry,
    c.hq_location,
    c.funding_stage,
    offering(c) or "products for its core market",
    #tech > 0 and table.concat(tech, ", ") or "nothing public"
  )
end

function producers.pain_point_hypothesis(state, lead)
  local c, p = company_for(state, lead)
  local company = lead.company or (c and c.name)
  if not company then return nil, "the lead has no company" end
  if roll(state, "pp|" .. lead.lead_id) < 2 then return nil, "model timeout" end
  local pains = PAINS[p and p.department or ""] or GENERIC_PAINS
  local pain = pains[roll(state, "pain|" .. lead.lead_id) % #pains + 1]
  return format(
    "As %s at %s, %s likely struggles with %s.",
    lead.title or "a leader",
    company,
    first_name(lead) or "this lead",
    pain
  )
end

function producers.custom_ai(state, lead, run)
  if roll(state, "ai|" .. run.run_id .. "|" .. lead.lead_id) < 2 then return nil, "model timeout" end
  local c = company_for(state, lead)
  local who = lead.full_name or lead.email or lead.lead_id
  local company = lead.company or (c and c.name) or "an unknown company"
  local facts = {}
  if c then
    facts[#facts + 1] = format("%s is a %s company (%s employees, %s)", c.name, c.industry, c.size, c.funding_stage)
    if offering(c) then facts[#facts + 1] = "it offers " .. offering(c) end
  end
  if lead.title then facts[#facts + 1] = who .. " works there as " .. lead.title end
  local prompt = (run.prompt or ""):gsub("%s+", " "):sub(1, 60)
  return format(
    'Re "%s": %s at %s. %s.',
    prompt,
    who,
    company,
    #facts > 0 and table.concat(facts, "; ") or "no public facts found"
  )
end

M.producers = producers

return M
