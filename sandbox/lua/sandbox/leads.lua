--- Leads: the people saved into lead lists (state area `leads`). A lead is a global entity of
-- its organisation: lists hold memberships (see sandbox.lists), deleting a list never deletes
-- a lead. A lead comes from a world person (search cohorts, enrichment of a known person) or
-- from raw contact fields (CSV import, legacy bulk contacts, enrichment by name).
--
-- Module API (stable; used by enrichment, smart agents, CSV import, the legacy API):
--
--   local leads = require "sandbox.leads"
--   leads.get(state, lead_id)                    --> lead | nil
--   leads.from_person(state, org_id, person_id)  --> lead, created (boolean)
--       The org's lead for a world person (search-DB id string, e.g. "4482910"), created from
--       the person's public fields on first use (no email/phone: those come from enrichment).
--   leads.copy_of_person(state, org_id, person_id) --> lead | nil
--       Always a new lead made from the person as from_person makes it (from_person keeps
--       answering with the org's first lead for that person); for bulk lists.
--   leads.create(state, org_id, fields)          --> lead (always a new lead)
--       fields (all optional strings): first_name, last_name, full_name, email, phone,
--       linkedin_url, title (or job_title), company (or company_name), domain (or
--       company_domain), city, state, country, person_id, source ("csv", "legacy",
--       "enrichment", ...). `email`/`phone` given here are the contact's own data (CSV,
--       legacy) and count as found for enriched_count. When person_id is absent the lead is
--       matched against the world (linkedin slug, email, name + domain/company) and linked.
--   leads.person(state, lead)                    --> the world person behind the lead, or nil
--   leads.set_enrichment(state, lead_or_id, r)   --> lead
--       Writes enrichment results: r.email, r.email_status ("valid"|"catch_all"|"invalid"),
--       r.phone (E.164), r.provider, r.enrichment_type ("partial"|"phone_only"|"full"),
--       r.enriched_at (ISO "...Z"; default: now). Keys that are nil are left untouched;
--       json.null clears a value.
--   leads.set_smart_agent(state, lead_or_id, column_name, value)
--       Stores a smart-agent result under lead.smart_agents[column_name] (the CSV export
--       appends these columns when include_smart_agents is true).
--   leads.smart_writes                           --> how many set_smart_agent calls this
--       process made (any state): what the export caches its smart-agent columns against
--   leads.is_enriched(lead)                      --> true when an email or a phone is known
--   leads.row(lead)                              --> LeadRow (GET /lead-lists/{id}/leads)
--   leads.field(lead, column)                    --> a lead's value for an export column
--
-- lead (plain table, JSON-serialisable, stored under state.data.leads.by_id):
--   lead_id, org_id, person_id (string | nil), source, created_ms,
--   first_name, last_name, full_name, title, company, domain, linkedin_url,
--   city, state, country, location,
--   email, email_status, phone, provider, enrichment_type, enriched_at, enriched_ms,
--   smart_agents = { [column_name] = value }  (only once a smart agent wrote something)
local json = require "sandbox.json"
local prng = require "sandbox.prng"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"
local world = require "sandbox.world"

local M = {}

local null = json.null
local format = string.format

state_mod.register("leads", function()
  return { by_id = {}, by_person = {}, seq = 0 }
end)

local function area(state)
  return state.data.leads
end

--- "YYYY-MM-DDTHH:MM:SSZ" for epoch milliseconds.
M.iso = util.iso

-- Ids: a counter scrambled by an odd multiplier modulo 2^32 (a bijection, so ids never
-- collide), offset by a seed-derived salt. Exact on Lua 5.4 integers and LuaJIT doubles.
local salts = {}
function M.mint(state, prefix, seq, stream)
  local seed = state.config.seed or 0
  local key = seed .. ":" .. stream
  local salt = salts[key]
  if not salt then
    salt = prng.new(seed, stream):next()
    salts[key] = salt
  end
  return format("%s%08x", prefix, (seq * 1664525 + salt) % 4294967296)
end

function M.get(state, lead_id)
  if type(lead_id) ~= "string" then return nil end
  return area(state).by_id[lead_id]
end

local function str(v)
  if v == nil or v == null or v == "" then return nil end
  return tostring(v)
end

local function location_of(city, st, country)
  local parts = {}
  for _, p in ipairs { city, st, country } do
    if p then parts[#parts + 1] = p end
  end
  return parts[1] and table.concat(parts, ", ") or nil
end

local function new_lead(state, org_id, f)
  local a = area(state)
  a.seq = a.seq + 1
  local first, last = str(f.first_name), str(f.last_name)
  local full = str(f.full_name)
  if not full and (first or last) then full = (first or "") .. ((first and last) and " " or "") .. (last or "") end
  if full and not first and not last then
    first, last = full:match("^(%S+)%s+(.+)$")
    first = first or full
  end
  local city, st, country = str(f.city), str(f.state), str(f.country)
  local lead = {
    lead_id = M.mint(state, "lead_", a.seq, 41),
    org_id = org_id,
    person_id = str(f.person_id),
    source = str(f.source) or "manual",
    created_ms = state:now_ms(),
    first_name = first,
    last_name = last,
    full_name = full,
    title = str(f.title) or str(f.job_title),
    company = str(f.company) or str(f.company_name),
    domain = str(f.domain) or str(f.company_domain),
    linkedin_url = str(f.linkedin_url),
    city = city,
    state = st,
    country = country,
    location = str(f.location) or location_of(city, st, country),
    email = str(f.email),
    phone = str(f.phone) or str(f.mobile_phone) or str(f.work_phone),
  }
  if lead.domain then lead.domain = lead.domain:lower() end
  a.by_id[lead.lead_id] = lead
  return lead
end

local function person_key(org_id, person_id)
  return org_id .. "|" .. person_id
end

local function lead_of_person(state, org_id, person_id)
  local w = world.of(state)
  local p = w.people_by_id[person_id]
  if not p then return nil end
  local c = w.companies[p.company]
  return new_lead(state, org_id, {
    person_id = p.id,
    source = "search",
    first_name = p.first_name,
    last_name = p.last_name,
    full_name = p.full_name,
    title = p.title,
    company = c.name,
    domain = c.domain,
    linkedin_url = p.linkedin_url,
    city = p.city,
    state = p.state,
    country = p.country,
  })
end

function M.from_person(state, org_id, person_id)
  person_id = tostring(person_id)
  local a = area(state)
  local existing = a.by_person[person_key(org_id, person_id)]
  if existing and a.by_id[existing] then return a.by_id[existing], false end
  local lead = lead_of_person(state, org_id, person_id)
  if not lead then return nil, false end
  a.by_person[person_key(org_id, person_id)] = lead.lead_id
  return lead, true
end

-- The first lead of a person in an organisation is the one found by person.
local function index_first(state, org_id, lead)
  local a, k = area(state), person_key(org_id, lead.person_id)
  if not a.by_person[k] then a.by_person[k] = lead.lead_id end
end

function M.copy_of_person(state, org_id, person_id)
  person_id = tostring(person_id)
  local lead = lead_of_person(state, org_id, person_id)
  if lead then index_first(state, org_id, lead) end
  return lead
end

function M.create(state, org_id, fields)
  fields = fields or {}
  local lead = new_lead(state, org_id, fields)
  if not lead.person_id then
    local p = world.match(world.of(state), lead)
    if p then lead.person_id = p.id end
  end
  if lead.person_id then index_first(state, org_id, lead) end
  return lead
end

function M.person(state, lead)
  if not lead or not lead.person_id then return nil end
  return world.of(state).people_by_id[lead.person_id]
end

local function resolve(state, lead_or_id)
  if type(lead_or_id) == "table" then return lead_or_id end
  local lead = M.get(state, lead_or_id)
  if not lead then error("unknown lead " .. tostring(lead_or_id), 2) end
  return lead
end

local ENRICH_FIELDS = { "email", "email_status", "phone", "provider", "enrichment_type" }

function M.set_enrichment(state, lead_or_id, r)
  local lead = resolve(state, lead_or_id)
  for _, k in ipairs(ENRICH_FIELDS) do
    local v = r[k]
    if v == null then
      lead[k] = nil
    elseif v ~= nil then
      lead[k] = v
    end
  end
  local ms = state:now_ms()
  lead.enriched_ms = ms
  lead.enriched_at = r.enriched_at or M.iso(ms)
  return lead
end

M.smart_writes = 0

function M.set_smart_agent(state, lead_or_id, column, value)
  local lead = resolve(state, lead_or_id)
  M.smart_writes = M.smart_writes + 1
  local t = lead.smart_agents
  if not t then
    t = {}
    lead.smart_agents = t
  end
  if value == nil then value = null end
  t[column] = value
  return lead
end

function M.is_enriched(lead)
  return lead.email ~= nil or lead.phone ~= nil
end

local opt = util.or_null

function M.row(lead)
  return {
    lead_id = lead.lead_id,
    first_name = opt(lead.first_name),
    last_name = opt(lead.last_name),
    full_name = opt(lead.full_name),
    email = opt(lead.email),
    phone = opt(lead.phone),
    title = opt(lead.title),
    company = opt(lead.company),
    location = opt(lead.location),
    linkedin_url = opt(lead.linkedin_url),
    provider = opt(lead.provider),
  }
end

--- Export columns (CSV and JSON export): name -> lead field. `domain` and `company_domain`
-- are the same column; so are `company` / `company_name` and `title` / `job_title`.
M.COLUMNS = {
  lead_id = "lead_id",
  first_name = "first_name",
  last_name = "last_name",
  full_name = "full_name",
  email = "email",
  email_status = "email_status",
  phone = "phone",
  title = "title",
  job_title = "title",
  company = "company",
  company_name = "company",
  domain = "domain",
  company_domain = "domain",
  linkedin_url = "linkedin_url",
  location = "location",
  city = "city",
  state = "state",
  country = "country",
  provider = "provider",
  enrichment_type = "enrichment_type",
  enriched_at = "enriched_at",
  created_at = "created_at",
}

M.DEFAULT_COLUMNS =
  { "lead_id", "first_name", "last_name", "email", "title", "company", "domain", "linkedin_url", "phone", "location" }

function M.field(lead, column)
  local f = M.COLUMNS[column]
  if f == "created_at" then return M.iso(lead.created_ms) end
  if f then return lead[f] end
  local sa = lead.smart_agents
  if sa then return sa[column] end
  return nil
end

return M
