--- The lead lists the sandbox makes itself (sandbox.lists is the module callers use).
--
-- The lists seeded at every reset (so a newcomer's first GET /lead-lists is not empty), all
-- in the sandbox organisation:
--   "Example: Sales leaders in Software (US)"  owner Vera Okafor, organization-visible,
--       25 leads from the world, the first 15 already enriched (emails/phones per the world's
--       truth);
--   "Example: Engineering leaders in Fintech"  owner Vera Okafor, organization-visible,
--       40 leads, none enriched;
--   "Do Not Contact"  owner Vera Okafor, organization-visible, protected (DELETE -> 403
--       list_protected), 3 leads;
--   "Rowan's scratchpad"  owner Rowan Reed (the read-only key's user), private, 5 leads:
--       invisible (404) to the full-access key's user.
--
-- Bulk lists (lists.bulk, POST /__sandbox/lists): n new leads made from the world's people in
-- id order, over and over, optionally enriched as a full enrichment finds them.
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local world = require "sandbox.world"

local M = {}

-- The first `n` world people matching pred, in id order.
local function pick(w, n, pred)
  local out = {}
  for _, p in ipairs(w.people) do
    if pred(p, w.companies[p.company]) then
      out[#out + 1] = p.id
      if #out >= n then break end
    end
  end
  return out
end

-- What a full enrichment finds for the lead's person (the world's truth).
local function enrich_from_truth(state, lead)
  local t = leads.person(state, lead).truth
  leads.set_enrichment(state, lead, {
    email = t.email_found and t.email or nil,
    email_status = t.email_found and t.email_status or nil,
    phone = t.phone_found and t.phone or nil,
    provider = (t.email_found or t.phone_found) and t.provider or nil, -- none when nothing was found
    enrichment_type = "full",
  })
end

local function seed_list(state, owner, f, person_ids, enrich_first)
  local list = lists.create(state, { org = state.org, user = owner }, f)
  local ids = {}
  for i, pid in ipairs(person_ids) do
    local lead = leads.from_person(state, state.org.id, pid)
    ids[i] = lead.lead_id
    if i <= (enrich_first or 0) then enrich_from_truth(state, lead) end
  end
  lists.add_leads(state, list, ids)
  return list
end

--- See lists.bulk.
function M.bulk(state, n, opts)
  local people = world.of(state).people
  local list = lists.create(state, { org = state.org, user = state.users.owner }, {
    name = opts.name,
    description = opts.description,
    visibility = "organization",
  })
  local arr, members, org_id = list.leads, list.members, state.org.id
  for i = 1, n do
    local lead = leads.copy_of_person(state, org_id, people[(i - 1) % #people + 1].id)
    if opts.enriched then enrich_from_truth(state, lead) end
    members[lead.lead_id] = true
    arr[i] = lead.lead_id
  end
  return list
end

--- Creates the seeded lists (at every reset).
function M.seed(state)
  local w = world.of(state)
  local vera, rowan = state.users.owner, state.users.reader
  seed_list(
    state,
    vera,
    {
      name = "Example: Sales leaders in Software (US)",
      description = "Seeded example: sales directors, VPs and CROs at US software companies.",
      visibility = "organization",
    },
    pick(w, 25, function(p, c)
      return p.department == "Sales"
        and c.country_code == "US"
        and c.profile == "saas"
        and (p.seniority == "vp" or p.seniority == "director" or p.seniority == "c_suite")
    end),
    15
  )
  seed_list(
    state,
    vera,
    {
      name = "Example: Engineering leaders in Fintech",
      description = "Seeded example: engineering directors and above at financial-services " .. "companies.",
      visibility = "organization",
    },
    pick(w, 40, function(p, c)
      return p.department == "Engineering"
        and (c.industry == "Financial Services" or c.industry == "Banking")
        and (p.seniority == "director" or p.seniority == "vp" or p.seniority == "c_suite")
    end)
  )
  seed_list(
    state,
    vera,
    {
      name = "Do Not Contact",
      description = "Seeded example: a protected suppression list (cannot be deleted).",
      visibility = "organization",
      protected = true,
    },
    pick(w, 3, function(p)
      return p.seniority == "c_suite"
    end)
  )
  seed_list(
    state,
    rowan,
    {
      name = "Rowan's scratchpad",
      description = "Seeded example: a private list of the read-only key's user.",
      visibility = "private",
    },
    pick(w, 5, function(p)
      return p.department == "Marketing"
    end)
  )
end

return M
