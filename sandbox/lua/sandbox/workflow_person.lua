--- The single-person run of sandbox.workflows (kind "person", POST /enrich/person): the
-- contact as lead-shaped fields linked to its world person, the lead a successful run writes,
-- and the run's `result` (WorkflowStatusResponse.result once the run is terminal).
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local outcomes = require "sandbox.outcomes"
local world = require "sandbox.world"

local M = {}

local null = json.null

-- The contact of a person run as lead-shaped fields (linked to its world person, if any).
local function probe_of(state, wf)
  local contact = wf.contact or {}
  local probe = {
    first_name = contact.first_name,
    last_name = contact.last_name,
    full_name = contact.full_name,
    email = contact.email,
    phone = contact.phone,
    linkedin_url = contact.linkedin_url,
    company = contact.company_name,
    domain = contact.domain,
    person_id = contact.person_id,
  }
  local w = world.of(state)
  local p = world.match(w, probe)
  probe.person_id = p and p.id or nil
  if p then -- what the provider cascade knows about the person, found or not
    local c = world.company_of(w, p)
    probe.first_name, probe.last_name = p.first_name, p.last_name
    probe.full_name, probe.title = p.full_name, p.title
    probe.linkedin_url = probe.linkedin_url or p.linkedin_url
    probe.company, probe.domain = c.name, c.domain
  elseif not probe.full_name and probe.first_name and probe.last_name then
    probe.full_name = probe.first_name .. " " .. probe.last_name
  end
  return probe
end

-- The lead a successful person run writes (the world person's lead, or a new one).
local function lead_of(state, wf, probe)
  if probe.person_id then return (leads.from_person(state, wf.org_id, probe.person_id)) end
  local fields = { source = "enrichment" }
  for k, v in pairs(probe) do
    fields[k] = v
  end
  return leads.create(state, wf.org_id, fields)
end

--- Enriches the run's contact: the lead written (nil when nothing was found), the outcome
-- (sandbox.outcomes) and the probe (the contact as known to the world). With `scripted_error`
-- (a message) the enrichment ends in that error instead (the "errors" workflow fault).
function M.process(state, wf, scripted_error)
  local probe = probe_of(state, wf)
  if scripted_error then return nil, { found = false, error = scripted_error, cost = 0 }, probe end
  local o = outcomes.outcome(state, probe, wf.enrichment_type)
  local lead = o.found and lead_of(state, wf, probe) or nil
  return lead, o, probe
end

--- The run's result from M.process's lead, outcome and probe.
function M.result(wf, lead, probe, o)
  local who = lead or probe
  return {
    lead_id = lead and lead.lead_id or "",
    status = o.found and "completed" or "failed",
    full_name = who.full_name or null,
    first_name = who.first_name or null,
    last_name = who.last_name or null,
    email = o.email or null,
    email_status = o.email_status or null,
    phone = o.phone or null,
    linkedin_url = who.linkedin_url or null,
    title = who.title or null,
    company = who.company or null,
    enrichment_type = wf.enrichment_type,
    provider = o.found and o.provider or null,
  }
end

return M
