--- CRM and sequencer sync (API.md §6.6; S only: request and response bodies are UNKNOWN in
-- every source, so the sandbox defines them). Both are synchronous, paid and need a quote
-- (estimate tools sync_to_crm / sync_to_sequencer; see sandbox.costs for prices and binding).
--
-- POST /sync/crm        {"provider": "hubspot" | "salesforce" | "pipedrive",
--                        "list_id": "..." | "task_id": "..." (+ "entity_ids": [...]),
--                        "sub_action": "contacts" | "companies" | "deals" |
--                                      "contacts+companies" | ... (optional),
--                        "quote_id": "..."}
-- POST /sync/sequencer  {"provider": "smartlead" | "instantly" | "lemlist" | "apollo",
--                        "list_id" | "task_id" (+ "entity_ids"), "campaign_id" (optional;
--                        estimate it as extra.campaign_id), "quote_id": "..."}
--
-- 200 response: {sync_id, provider, sub_action (crm) | campaign_id (sequencer), status
-- ("completed" | "completed_with_errors"), total, created, updated, skipped, failed,
-- credits_charged, records: [{lead_id, status, external_id, error}], list_id, task_id,
-- + envelope fields}. Record status: CRM created | updated | skipped | failed; sequencer
-- added | skipped | failed. A contact needs an email (else skipped), a company record needs a
-- company (else skipped); ~1% of records fail with a seeded provider error. Billing: the
-- quoted maximum is checked up front; the charge is per record created/updated/added (free
-- for skipped or failed ones). Errors: 422 schema; 400 validation_error (provider,
-- sub_action, source); 404 list / cohort; quote errors; 400 insufficient_credits.
-- Every sync is stored in state.data.syncs (the newest KEEP) with the CRM ids it assigned, so
-- a second sync of the same lead to the same provider is an update.
local costs = require "sandbox.costs"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local native = require "sandbox.native"
local quotes = require "sandbox.quotes"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"
local validate = require "sandbox.validate"

local M = {}

M.KEEP = 200

local null = json.null
local format = string.format

state_mod.register("syncs", function()
  return { by_id = {}, order = json.array(), seq = 0, external = {}, members = {} }
end)

local str = { type = "string", nullable = true }

M.CRM_SCHEMA = validate.object {
  provider = { type = "string", required = true },
  list_id = str,
  task_id = str,
  entity_ids = { type = "array", nullable = true, items = { type = "string" } },
  sub_action = str,
  quote_id = { type = "string", required = true },
}

M.SEQUENCER_SCHEMA = validate.object {
  provider = { type = "string", required = true },
  list_id = str,
  task_id = str,
  entity_ids = { type = "array", nullable = true, items = { type = "string" } },
  campaign_id = str,
  quote_id = { type = "string", required = true },
}

local present = util.present

local function roll(state, s)
  return util.roll(state, "sync|" .. s, 1000)
end

-- The leads a sync covers: the list's leads, or the cohort's (person ids become the org's
-- leads; list-page cohorts name leads).
local function source_leads(state, org_id, priced)
  local out = {}
  if priced.list then
    for i, id in ipairs(lists.lead_ids(priced.list)) do
      out[i] = leads.get(state, id)
    end
    return out
  end
  local cohort = priced.cohort
  for _, id in ipairs(priced.entity_ids) do
    if cohort.ref == "lead" then
      out[#out + 1] = leads.get(state, id)
    elseif cohort.kind == "person" then
      out[#out + 1] = (leads.from_person(state, org_id, id))
    end
  end
  return out
end

local function external_id(state, provider, kind, key)
  local a = state.data.syncs
  local ext = a.external[provider]
  if not ext then
    ext = {}
    a.external[provider] = ext
  end
  local k = kind .. ":" .. key
  local id = ext[k]
  if id then return id, false end
  local prefix = ({ hubspot = "hs_", salesforce = "sf_", pipedrive = "pd_" })[provider] or "ext_"
  id = prefix .. kind:sub(1, 2) .. "_" .. native.sha256_hex(provider .. k):sub(1, 10)
  ext[k] = id
  return id, true
end

local function store(state, rec)
  local a = state.data.syncs
  util.keep_newest(a.by_id, a.order, rec.sync_id, rec, M.KEEP)
end

local function crm_record(state, provider, objects, lead)
  if roll(state, provider .. "|" .. lead.lead_id) < 10 then
    return {
      lead_id = lead.lead_id,
      status = "failed",
      external_id = null,
      error = provider .. " API error: 502 from the provider, retry later",
    }
  end
  local status, ext, notes = "skipped", null, {}
  local wrote, created = false, false
  if objects.contacts or objects.deals then
    if not lead.email then
      notes[#notes + 1] = "no email: contacts are matched by email"
    else
      local id, new = external_id(state, provider, "contact", lead.email:lower())
      ext, wrote, created = id, true, new
    end
  end
  if objects.companies or objects.deals then
    local key = lead.domain or (lead.company and lead.company:lower())
    if not key then
      notes[#notes + 1] = "no company"
    else
      local id, new = external_id(state, provider, "company", key)
      if ext == null then ext = id end
      if not wrote then created = new end
      wrote = true
    end
  end
  if objects.deals and wrote then
    local id = external_id(state, provider, "deal", lead.lead_id)
    ext = id
  end
  if wrote then status = created and "created" or "updated" end
  return { lead_id = lead.lead_id, status = status, external_id = ext, error = (not wrote and notes[1]) or null }
end

local function sequencer_record(state, provider, campaign, lead)
  if roll(state, provider .. "|" .. lead.lead_id) < 10 then
    return {
      lead_id = lead.lead_id,
      status = "failed",
      external_id = null,
      error = provider .. " API error: timeout, retry later",
    }
  end
  if not lead.email or lead.email_status == "invalid" then
    return { lead_id = lead.lead_id, status = "skipped", external_id = null, error = "no verified email" }
  end
  local a = state.data.syncs
  local key = provider .. "|" .. campaign
  local members = a.members[key]
  if not members then
    members = {}
    a.members[key] = members
  end
  local id = external_id(state, provider, "lead", lead.email:lower())
  if members[lead.lead_id] then
    return { lead_id = lead.lead_id, status = "skipped", external_id = id, error = "already in the campaign" }
  end
  members[lead.lead_id] = true
  return { lead_id = lead.lead_id, status = "added", external_id = id, error = null }
end

-- Syncs the leads the priced request covers to the provider (a CRM's objects, or the
-- sequencer's campaign): the records and the count per record status.
local function sync_records(ctx, kind, priced, campaign)
  local state = ctx.state
  local objects = {}
  for part in (priced.sub_action or "contacts"):gmatch("[^+]+") do
    objects[part] = true
  end
  local records = json.array()
  local counts = { created = 0, updated = 0, skipped = 0, failed = 0, added = 0 }
  for _, lead in ipairs(source_leads(state, ctx.org.id, priced)) do
    local one
    if kind == "crm" then
      one = crm_record(state, priced.provider, objects, lead)
    else
      one = sequencer_record(state, priced.provider, campaign, lead)
    end
    records[#records + 1] = one
    counts[one.status] = counts[one.status] + 1
  end
  return records, counts
end

local function run(ctx, kind)
  local b = ctx.body
  if present(b.list_id) == present(b.task_id) then
    return errors.build("validation_error", ctx.request_id, {
      problem = "Send exactly one of list_id or task_id.",
      details = { field = "list_id" },
    })
  end
  if present(b.entity_ids) and not present(b.task_id) then
    return errors.build("validation_error", ctx.request_id, {
      problem = "entity_ids needs task_id.",
      details = { field = "entity_ids" },
    })
  end
  local tool = kind == "crm" and "sync_to_crm" or "sync_to_sequencer"
  local state = ctx.state
  local priced, rec, err =
    costs.authorize(ctx, tool, util.without_nulls(b), b.quote_id, { what = "sync/" .. kind, required = true })
  if not priced then return rec, err end
  quotes.commit(state, rec)
  local a = state.data.syncs
  a.seq = a.seq + 1
  local sync_id = leads.mint(state, "sync_", a.seq, 71)
  local campaign
  if kind == "sequencer" then
    campaign = priced.campaign_id or ("cmp_" .. native.sha256_hex(ctx.org.id .. priced.provider):sub(1, 8))
  end
  local records, counts = sync_records(ctx, kind, priced, campaign)
  local billed = (counts.created + counts.updated + counts.added) * priced.per_record
  if billed > priced.cost then billed = priced.cost end
  ledger.charge(state, billed, format("%s %s (%s)", tool, priced.provider, sync_id), sync_id)
  local status = counts.failed > 0 and "completed_with_errors" or "completed"
  local body = http.envelope(
    {
      sync_id = sync_id,
      provider = priced.provider,
      status = status,
      total = #records,
      created = kind == "crm" and counts.created or counts.added,
      updated = counts.updated,
      skipped = counts.skipped,
      failed = counts.failed,
      credits_charged = billed,
      records = records,
      list_id = priced.list and priced.list.list_id or null,
      task_id = priced.cohort and priced.cohort.task_id or null,
      message = counts.failed > 0
          and format("%d record(s) failed at the provider; sync them " .. "again later.", counts.failed)
        or null,
    },
    ctx.now_ms(),
    format(
      "Synced %d of %d records to %s for %d credits.",
      #records - counts.skipped - counts.failed,
      #records,
      priced.provider,
      billed
    )
  )
  if kind == "crm" then
    body.sub_action = priced.sub_action or null
  else
    body.campaign_id = campaign
  end
  store(state, {
    sync_id = sync_id,
    kind = kind,
    org_id = ctx.org.id,
    user_id = ctx.user.id,
    provider = priced.provider,
    sub_action = priced.sub_action,
    campaign_id = campaign,
    status = status,
    created_ms = ctx.now_ms(),
    credits_charged = billed,
    counts = counts,
    records = records,
  })
  return 200, body
end

function M.crm(ctx)
  return run(ctx, "crm")
end

function M.sequencer(ctx)
  return run(ctx, "sequencer")
end

function M.register(router)
  router:add("POST", "/sync/crm", { scope = "sync:write", body = M.CRM_SCHEMA, handler = M.crm })
  router:add("POST", "/sync/sequencer", { scope = "sync:write", body = M.SEQUENCER_SCHEMA, handler = M.sequencer })
end

return M
