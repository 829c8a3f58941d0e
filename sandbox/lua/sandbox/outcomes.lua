--- What an enrichment finds for a lead or a contact, and what the finding costs. A person the
-- world knows answers with its hidden truth (sandbox.world person.truth); a contact the world
-- does not know gets a synthetic truth, stable for the seed, by the rules of its API:
--   * MCP workflows (sandbox.workflows): M.truth, email found ~60% (always when the lead has
--     one), phone ~25%; a lead with no usable identifier has no truth (an error);
--   * the legacy bulk API (sandbox.legacy): M.contact_truth, email ~70% when a domain is
--     known, phone ~35%.
-- Pay for results: 1 credit per email found, 10 per phone found.
local leads = require "sandbox.leads"
local prng = require "sandbox.prng"
local util = require "sandbox.util"
local world = require "sandbox.world"

local M = {}

M.EMAIL_PRICE, M.PHONE_PRICE = require("sandbox.prices").EMAIL, require("sandbox.prices").PHONE

local format = string.format
local nonempty = util.nonempty

-- A number in [0, 100) from a string, stable for the seed (for synthetic outcomes).
local function roll(state, s)
  return util.roll(state, s, 100)
end

--- Whether contact fields identify a person: a strong identifier, or first + last name with a
-- company name or domain.
function M.identifiable(f)
  if nonempty(f.email) or nonempty(f.linkedin_url) or nonempty(f.person_id) then return true end
  local first, last = nonempty(f.first_name), nonempty(f.last_name)
  if not (first and last) and nonempty(f.full_name) then
    first, last = f.full_name:match("^%s*(%S+)%s+(%S.-)%s*$")
  end
  return (
    first
    and last
    and (nonempty(f.company) or nonempty(f.domain) or nonempty(f.company_name) or nonempty(f.company_domain))
  )
      and true
    or false
end

--- The hidden truth for a lead: the world person's, or a seeded synthetic one for a contact
-- the world does not know; nil when the lead cannot be identified at all.
function M.truth(state, lead)
  local p = leads.person(state, lead)
  if p then return p.truth end
  if not M.identifiable(lead) then return nil end
  local ident = (lead.email or "")
    .. "|"
    .. (lead.linkedin_url or "")
    .. "|"
    .. (lead.first_name or "")
    .. "|"
    .. (lead.last_name or "")
    .. "|"
    .. (lead.domain or "")
    .. "|"
    .. (lead.company or "")
  local domain = lead.domain or (lead.email and lead.email:match("@(.+)$"))
  local email = lead.email
  if not email and domain and lead.first_name and lead.last_name then
    email = (world.fold(lead.first_name) .. "." .. world.fold(lead.last_name)):gsub("[^%w%.]", "") .. "@" .. domain
  end
  local email_found = email ~= nil and (lead.email ~= nil or roll(state, "e" .. ident) < 60)
  local phone_found = roll(state, "p" .. ident) < 25
  local r = roll(state, "n" .. ident)
  return {
    email = email,
    email_found = email_found,
    email_status = email_found and "valid" or "invalid",
    phone = lead.phone or format("+1415555%04d", (r * 97 + roll(state, "q" .. ident)) % 10000),
    phone_found = phone_found or lead.phone ~= nil,
    provider = ({ "hunter", "prospeo", "leadmagic", "wiza" })[r % 4 + 1],
  }
end

--- The outcome of enriching `lead` at `tier`: { found (bool), error (string|nil), email,
-- email_status, phone, provider, cost } (email/phone nil when not found or not asked).
function M.outcome(state, lead, tier)
  local t = M.truth(state, lead)
  if not t then return { found = false, error = "not enough identifying data", cost = 0 } end
  local o = { provider = t.provider, cost = 0 }
  if tier ~= "phone_only" and t.email_found then
    o.email, o.email_status = t.email, t.email_status
    o.cost = o.cost + M.EMAIL_PRICE
  end
  if tier ~= "partial" and t.phone_found then
    o.phone = t.phone
    o.cost = o.cost + M.PHONE_PRICE
  end
  o.found = o.email ~= nil or o.phone ~= nil
  return o
end

--- Truth for a legacy contact the world does not know: seeded by the contact's identity, so
-- the same contact gives the same answer in every run with the same seed.
function M.contact_truth(state, c)
  local key = table
    .concat({
      tostring(state.config.seed or 0),
      c.first_name or "",
      c.last_name or "",
      c.company_domain or "",
      c.company_name or "",
      c.linkedin_url or "",
    }, "|")
    :lower()
  local h = 0
  for i = 1, #key do
    h = (h * 31 + key:byte(i)) % 2147483647
  end
  local g = prng.new(h, 17)
  local first = world.fold(c.first_name or "")
  local last = world.fold(c.last_name or "")
  local domain = c.company_domain
  if domain then
    domain = domain:lower():gsub("^https?://", ""):gsub("^www%.", ""):gsub("/.*$", "")
  elseif c.company_name then
    domain = world.fold(c.company_name):gsub("[^%w]", "") .. ".com"
  end
  local email_found = first ~= "" and domain ~= nil and domain ~= ".com" and g:int(1, 100) <= 70
  local phone_found = g:int(1, 100) <= 35
  return {
    email = (first ~= "" and domain) and (first .. (last ~= "" and ("." .. last) or "") .. "@" .. domain) or nil,
    email_found = email_found,
    email_status = email_found and (g:int(1, 100) <= 85 and "valid" or "catch_all") or "invalid",
    phone_found = phone_found,
    phone = format("+1%03d%03d%04d", g:int(201, 989), g:int(201, 999), g:int(0, 9999)),
    provider = "sandbox-waterfall",
  }
end

--- A legacy contact's result at enrichment type `t` (none | partial | phone_only | full |
-- prospecting_only) from its truth; `known`: the world knows the person; `fail`: the run
-- failed. Returns ok, cost, email, phone (email/phone nil when not found or not asked).
function M.contact_outcome(t, truth, known, fail)
  local email = (t == "partial" or t == "full") and truth.email_found and truth.email or nil
  local phone = (t == "phone_only" or t == "full") and truth.phone_found and truth.phone or nil
  if fail then
    return false, 0, nil, nil
  elseif t == "none" then
    return true, 0, email, phone
  elseif t == "prospecting_only" then
    return known, known and 1 or 0, email, phone
  end
  return email ~= nil or phone ~= nil, (email and M.EMAIL_PRICE or 0) + (phone and M.PHONE_PRICE or 0), email, phone
end

return M
