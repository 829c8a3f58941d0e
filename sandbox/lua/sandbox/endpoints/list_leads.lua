--- The leads of a lead list (API.md §6.3, V2 models): a page of leads (with a cohort
-- `task_id`), add leads (Mode A lead_ids, Mode B cohort, body `idempotency_key`), remove
-- leads. Adding and removing leads is allowed on any list the caller can read (the lists
-- themselves: sandbox.endpoints.lists).
--
-- The page's cursor is an opaque offset ("50"); a malformed one -> 400 validation_error.
-- Add-leads idempotency: the same idempotency_key (per organisation, 24 h of sandbox time)
-- replays the first response byte for byte, inserts nothing, and adds the header
-- `Idempotent-Replayed: true`; a key first used on another list still replays that first
-- response (first wins, as for CSV import). An unknown or expired task_id -> 404 not_found
-- (sandbox.cohorts); a company cohort -> 400 validation_error; Mode A lead_ids that do not
-- exist -> 404 not_found with details.unknown_lead_ids.
local cohorts = require "sandbox.cohorts"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local idempotency = require "sandbox.idempotency"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local lists_ep = require "sandbox.endpoints.lists"
local paging = require "sandbox.paging"
local util = require "sandbox.util"
local validate = require "sandbox.validate"

local M = {}

local null = json.null
local format = string.format

local BY_LEAD_IDS = validate.object {
  lead_ids = { type = "array", required = true, min_items = 1, max_items = 1000, items = { type = "string" } },
  idempotency_key = { type = "string", nullable = true, max_len = 128 },
}
local BY_COHORT = validate.object {
  task_id = { type = "string", required = true },
  entity_ids = { type = "array", nullable = true, max_items = 2000, items = { type = "string" } },
  idempotency_key = { type = "string", nullable = true, max_len = 128 },
}
M.REMOVE_SCHEMA = validate.object {
  lead_ids = { type = "array", required = true, min_items = 1, max_items = 100, items = { type = "string" } },
}

local not_found = lists_ep.not_found

-- GET /lead-lists/{list_id}/leads ------------------------------------------------------------

-- The agent_instructions of a page of leads (null when the page is empty).
local function page_note(offset, n, total, cursor)
  if n == 0 then return null end
  local note = format("Showing leads %d-%d of %d.", offset + 1, offset + n, total)
  if cursor ~= null then note = note .. format(" Pass cursor %q for the next page.", cursor) end
  return note
    .. " task_id is a cohort of this page's leads (valid for one hour): pass it to "
    .. "POST /enrichment/by-task to enrich them."
end

function M.leads_page(ctx)
  local q = http.parse_query(ctx.req.query)
  local limit, err = validate.query_int(q, "limit", 100, 1, 500)
  if err then return validate.response { err } end
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then return not_found(ctx, ctx.params.list_id) end
  local offset = paging.offset(validate.query_string(q, "cursor"))
  if not offset then return paging.bad_cursor(ctx.request_id) end
  local ids = list.leads
  local total = #ids
  local rows, page_ids = json.array(), {}
  local by_id = ctx.state.data.leads.by_id
  for i = offset + 1, math.min(offset + limit, total) do
    local lead = by_id[ids[i]]
    if lead then
      rows[#rows + 1] = leads.row(lead)
      page_ids[#page_ids + 1] = lead.lead_id
    end
  end
  local cursor = paging.next_cursor(offset, limit, total)
  local task_id = null
  if page_ids[1] then
    task_id = cohorts.create(ctx.state, ctx.org.id, "person", page_ids, "list_page", { list_id = list.list_id }).task_id
  end
  return 200,
    http.envelope(
      {
        list_id = list.list_id,
        leads = rows,
        total = total,
        cursor = cursor,
        task_id = task_id,
      },
      ctx.now_ms(),
      page_note(offset, #page_ids, total, cursor),
      total == 0
          and ("This list is empty. Add leads with POST /lead-lists/" .. list.list_id .. "/leads or import a CSV.")
        or nil
    )
end

-- POST /lead-lists/{list_id}/leads -------------------------------------------------------

--- The body schema of POST /lead-lists/{list_id}/leads for the decoded object v: Mode A
-- (lead_ids) or Mode B (task_id), or nil and the 422 errors when v names neither or both.
function M.add_schema(v)
  local has_a, has_b = v.lead_ids ~= nil, v.task_id ~= nil
  if has_a and has_b then
    return nil,
      {
        validate.error(
          { "body" },
          "value_error",
          "Value error, provide exactly one " .. "of lead_ids (Mode A) or task_id (Mode B), not both",
          v
        ),
      }
  end
  if not has_a and not has_b then
    return nil,
      {
        validate.error(
          { "body" },
          "value_error",
          "Value error, provide exactly one " .. "of lead_ids (Mode A) or task_id with optional entity_ids (Mode B)",
          v
        ),
      }
  end
  return has_a and BY_LEAD_IDS or BY_COHORT
end

local function idem_store(state)
  local a = state.data.lists
  a.idempotency = a.idempotency or {}
  return a.idempotency
end

-- Mode A: the lead ids of the body, all the organisation's leads; or nil, status, body.
local function by_lead_ids(ctx, v)
  local unknown = {}
  for _, id in ipairs(v.lead_ids) do
    local lead = leads.get(ctx.state, id)
    if not lead or lead.org_id ~= ctx.org.id then unknown[#unknown + 1] = id end
  end
  if not unknown[1] then return v.lead_ids, null end
  local shown = json.array()
  for i = 1, math.min(#unknown, 20) do
    shown[i] = http.scrub(unknown[i]):sub(1, 100)
  end
  return nil,
    errors.build("not_found", ctx.request_id, {
      problem = format("%d of the lead_ids do not exist.", #unknown),
      cause = "Mode A adds leads that already exist (lead_id values from list reads).",
      fix = "Pass lead_id values from GET /lead-lists/{list_id}/leads, or add search rows "
        .. "with Mode B (task_id + entity_ids).",
      details = { unknown_lead_ids = shown },
    })
end

-- The entity ids of a Mode B body: entity_ids (each one in the cohort) or the whole cohort;
-- or nil and 422 errors.
local function wanted_ids(v, cohort)
  if v.entity_ids == nil or v.entity_ids == null then return cohort.entity_ids end
  local set = util.set_of(cohort.entity_ids)
  local errs = {}
  for i, id in ipairs(v.entity_ids) do
    if not set[id] then
      errs[#errs + 1] = validate.error(
        { "body", "entity_ids", i - 1 },
        "value_error",
        "Value error, entity id is not part of the cohort " .. cohort.task_id,
        id
      )
      if #errs >= 20 then break end
    end
  end
  if errs[1] then return nil, errs end
  return v.entity_ids
end

-- Mode B: the lead ids of the cohort's (chosen) entities, people becoming the organisation's
-- leads, and how many leads were created; or nil, status, body.
local function by_cohort(ctx, v)
  local state = ctx.state
  local cohort, reason = cohorts.get(state, v.task_id, ctx.org.id)
  if not cohort then return nil, cohorts.error(reason, ctx.request_id, v.task_id) end
  if cohort.kind ~= "person" then
    return nil,
      errors.build("validation_error", ctx.request_id, {
        problem = "task_id " .. cohort.task_id .. " is a company cohort; lead lists hold " .. "people.",
        fix = "Pass a task_id from POST /search/people or GET /lead-lists/{list_id}/leads.",
      })
  end
  local wanted, errs = wanted_ids(v, cohort)
  if not wanted then return nil, validate.response(errs) end
  local ids, created = {}, 0
  for i, id in ipairs(wanted) do
    if cohort.ref == "lead" then
      ids[i] = id
    else
      local lead, new = leads.from_person(state, ctx.org.id, id)
      ids[i] = lead.lead_id
      if new then created = created + 1 end
    end
  end
  return ids, created
end

function M.add_leads(ctx)
  local v, state = ctx.body, ctx.state
  local list = lists.get(state, ctx.params.list_id, ctx)
  if not list then return not_found(ctx, ctx.params.list_id) end
  local skey = idempotency.key(ctx, v.idempotency_key)
  local store, now = idem_store(state), state:now_ms()
  local prior = idempotency.prior(store, skey, now)
  if prior then return 200, prior.body, { ["Idempotent-Replayed"] = "true" } end
  local ids, created, body
  if v.lead_ids ~= nil then
    ids, created, body = by_lead_ids(ctx, v)
  else
    ids, created, body = by_cohort(ctx, v)
  end
  if not ids then return created, body end
  local added, skipped = lists.add_leads(state, list, ids)
  body = {
    list_id = list.list_id,
    added = added,
    skipped_duplicates = skipped,
    created = created,
    credits_charged = 0,
  }
  if skey then
    local a = state.data.lists
    a.idem_count = (a.idem_count or 0) + 1
    idempotency.remember(store, skey, now, { list_id = list.list_id, body = body }, a.idem_count)
  end
  return 200, body
end

-- DELETE /lead-lists/{list_id}/leads -------------------------------------------------------

function M.remove_leads(ctx)
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then return not_found(ctx, ctx.params.list_id) end
  return 200, {
    list_id = list.list_id,
    removed = lists.remove_leads(ctx.state, list, ctx.body.lead_ids),
  }
end

function M.register(router)
  router:add("GET", "/lead-lists/{list_id}/leads", { scope = "lists:read", handler = M.leads_page })
  router:add(
    "POST",
    "/lead-lists/{list_id}/leads",
    { scope = "lists:write", body = M.add_schema, handler = M.add_leads }
  )
  router:add(
    "DELETE",
    "/lead-lists/{list_id}/leads",
    { scope = "lists:write", body = M.REMOVE_SCHEMA, handler = M.remove_leads }
  )
end

return M
