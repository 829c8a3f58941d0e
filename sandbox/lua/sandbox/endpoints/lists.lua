--- Lead lists (API.md §6.3, V2 models): create / list / get / update / delete, a page of leads
-- (with a cohort `task_id`), add leads (Mode A lead_ids, Mode B cohort, body
-- `idempotency_key`), remove leads. CSV import lives with the enrichment endpoints.
--
-- Access: a caller reads the lists it owns, organisation-visible lists and lists shared with
-- it (anything else is 404, so private lists never leak); PATCH and DELETE are owner-only
-- (non-owner -> 404) and refuse protected lists (403 list_protected); adding and removing
-- leads is allowed on any list the caller can read.
--
-- Folders: the sandbox has no folder endpoints; each user owns fixed folders
-- (lists.FOLDERS): Vera Okafor (full-access key) "folder_7e1a01" Prospecting and
-- "folder_7e1a02" Customers, Rowan Reed (read-only key) "folder_7e1a03" Research. A
-- folder_id the caller does not own -> 404.
--
-- Cursors (lists and leads) are opaque offsets ("50"); a malformed one -> 400
-- validation_error. Add-leads idempotency: the same idempotency_key (per organisation, 24 h
-- of sandbox time) replays the first response byte for byte, inserts nothing, and adds the
-- header `Idempotent-Replayed: true`; a key first used on another list still replays that
-- first response (first wins, as for CSV import). An unknown or expired task_id -> 404
-- not_found (sandbox.cohorts); a company cohort -> 400 validation_error; Mode A lead_ids
-- that do not exist -> 404 not_found with details.unknown_lead_ids.
--
-- Control endpoint (no auth, outside the API path; for benchmarks of long exports):
--   POST /__sandbox/lists  {"leads":N (1..BULK_MAX), "name":S, "enriched":B} creates Vera's
--       organisation-visible list S (default "Bulk: N leads") of N new leads made from the
--       world's people in id order, over and over (sandbox.lists.bulk); "enriched": true gives
--       them the email and phone enrichment finds. 200 {"list_id","name","lead_count",
--       "enriched_count","created_at"}; a bad field or a name Vera already has -> 400
--       validation_error. A reset forgets the list.
local cohorts = require "sandbox.cohorts"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local paging = require "sandbox.paging"
local util = require "sandbox.util"
local validate = require "sandbox.validate"

local M = {}

local null = json.null
local format = string.format

local IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000

local CREATE = validate.object {
  name = { type = "string", required = true, min_len = 1, max_len = 200 },
  description = { type = "string", nullable = true, max_len = 5000 },
  folder_id = { type = "string", nullable = true },
}
local UPDATE = validate.object {
  name = { type = "string", min_len = 1, max_len = 200 },
  description = { type = "string", nullable = true, max_len = 5000 },
  folder_id = { type = "string", nullable = true },
}
local BY_LEAD_IDS = validate.object {
  lead_ids = { type = "array", required = true, min_items = 1, max_items = 1000,
    items = { type = "string" } },
  idempotency_key = { type = "string", nullable = true, max_len = 128 },
}
local BY_COHORT = validate.object {
  task_id = { type = "string", required = true },
  entity_ids = { type = "array", nullable = true, max_items = 2000, items = { type = "string" } },
  idempotency_key = { type = "string", nullable = true, max_len = 128 },
}
local REMOVE = validate.object {
  lead_ids = { type = "array", required = true, min_items = 1, max_items = 100,
    items = { type = "string" } },
}

local function not_found(ctx, list_id)
  return errors.build("not_found", ctx.request_id, {
    problem = "Lead list " .. http.scrub(tostring(list_id)):sub(1, 100) .. " was not found.",
    cause = "No list with this id is accessible to your credential (it may not exist, may "
      .. "have been deleted, or may be another user's private list).",
    fix = "List the lists you can access with GET /lead-lists.",
  })
end

local function folder_owned(ctx, folder_id)
  return lists.owns_folder(ctx.state, ctx, folder_id)
end

local function folder_not_found(ctx, folder_id)
  return errors.build("not_found", ctx.request_id, {
    problem = "Folder " .. http.scrub(tostring(folder_id)):sub(1, 100) .. " was not found.",
    cause = "folder_id must name a folder you own.",
    fix = "Omit folder_id, or pass one of your folders.",
  })
end

local function query(ctx)
  return http.parse_query(ctx.req.query)
end

-- POST /lead-lists ---------------------------------------------------------------------------

function M.create(ctx)
  local body, errs = validate.body(ctx.req, CREATE)
  if not body then
    return validate.response(errs)
  end
  local state = ctx.state
  local existing = lists.find_by_name(state, ctx, body.name)
  if existing then
    return 200, lists.detail(state, existing, {
      reused = true,
      message = "A list you own already has this name; it was returned instead of creating a "
        .. "duplicate.",
    })
  end
  local folder = body.folder_id ~= null and body.folder_id or nil
  if folder and not folder_owned(ctx, folder) then
    return folder_not_found(ctx, folder)
  end
  if lists.owned_count(state, ctx) >= lists.LIST_CAP then
    return errors.build("list_cap_reached", ctx.request_id, {
      problem = format("You already own %d lead lists, the most a user may have.",
        lists.LIST_CAP),
    })
  end
  local list = lists.create(state, ctx, {
    name = body.name,
    description = body.description ~= null and body.description or nil,
    folder_id = folder,
  })
  return 201, lists.detail(state, list, {
    usage = "Add leads with POST /lead-lists/" .. list.list_id .. "/leads (lead_ids, or a "
      .. "task_id from POST /search/people), or import a CSV.",
  })
end

-- GET /lead-lists --------------------------------------------------------------------------

function M.index(ctx)
  local q = query(ctx)
  local limit, err = validate.query_int(q, "limit", 50, 1, 100)
  if err then
    return validate.response { err }
  end
  local offset = paging.offset(validate.query_string(q, "cursor"))
  if not offset then
    return paging.bad_cursor(ctx.request_id)
  end
  local folder = validate.query_string(q, "folder_id")
  local all = lists.accessible(ctx.state, ctx)
  if folder and folder ~= "" then
    local kept = {}
    for _, l in ipairs(all) do
      if l.folder_id == folder then
        kept[#kept + 1] = l
      end
    end
    all = kept
  end
  local page = json.array()
  for i = offset + 1, math.min(offset + limit, #all) do
    page[#page + 1] = lists.summary(ctx.state, all[i])
  end
  local cursor = paging.next_cursor(offset, limit, #all)
  return 200, http.envelope({ lists = page, total = #all, cursor = cursor }, ctx.now_ms(),
    cursor ~= null and format("Showing %d of %d lists; pass cursor %q for the next page.",
      #page, #all, cursor) or nil,
    #all == 0 and "You have no lead lists yet: create one with POST /lead-lists." or nil)
end

-- GET / PATCH / DELETE /lead-lists/{list_id} -----------------------------------------------

function M.show(ctx)
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then
    return not_found(ctx, ctx.params.list_id)
  end
  return 200, lists.detail(ctx.state, list)
end

local function protected(ctx, list, verb)
  return errors.build("list_protected", ctx.request_id, {
    problem = format("The list %s is protected and cannot be %s.", list.name, verb),
    cause = "Protected lists (such as the legacy API's DEFAULT list) are managed by Cleanlist.",
  })
end

function M.update(ctx)
  local v, errs = validate.decode(ctx.req)
  if v == nil then
    return validate.response(errs)
  end
  errs = validate.check(v, UPDATE)
  if not errs[1] and v.name == null then
    errs[1] = validate.error({ "body", "name" }, "string_type",
      "Input should be a valid string (name cannot be null)", null)
  end
  if not errs[1] and next(v) == nil then
    errs[1] = validate.error({ "body" }, "value_error",
      "Value error, at least one of name, description or folder_id must be provided", v)
  end
  if errs[1] then
    return validate.response(errs)
  end
  local list = lists.get_owned(ctx.state, ctx.params.list_id, ctx)
  if not list then
    return not_found(ctx, ctx.params.list_id)
  end
  if list.protected then
    return protected(ctx, list, "edited")
  end
  if v.folder_id ~= nil and v.folder_id ~= null and not folder_owned(ctx, v.folder_id) then
    return folder_not_found(ctx, v.folder_id)
  end
  if v.name ~= nil then
    list.name = v.name
  end
  if v.description == null then
    list.description = nil
  elseif v.description ~= nil then
    list.description = v.description
  end
  if v.folder_id == null then
    list.folder_id = nil
  elseif v.folder_id ~= nil then
    list.folder_id = v.folder_id
  end
  return 200, lists.detail(ctx.state, list)
end

function M.delete(ctx)
  local list = lists.get_owned(ctx.state, ctx.params.list_id, ctx)
  if not list then
    return not_found(ctx, ctx.params.list_id)
  end
  if list.protected then
    return protected(ctx, list, "deleted")
  end
  lists.delete(ctx.state, list)
  return 200, http.envelope({ list_id = list.list_id, deleted = true, message = "List deleted." },
    ctx.now_ms())
end

-- GET /lead-lists/{list_id}/leads ------------------------------------------------------------

function M.leads_page(ctx)
  local q = query(ctx)
  local limit, err = validate.query_int(q, "limit", 100, 1, 500)
  if err then
    return validate.response { err }
  end
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then
    return not_found(ctx, ctx.params.list_id)
  end
  local offset = paging.offset(validate.query_string(q, "cursor"))
  if not offset then
    return paging.bad_cursor(ctx.request_id)
  end
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
    task_id = cohorts.create(ctx.state, ctx.org.id, "person", page_ids, "list_page",
      { list_id = list.list_id }).task_id
  end
  local note = null
  if page_ids[1] then
    note = format("Showing leads %d-%d of %d.", offset + 1, offset + #rows, total)
    if cursor ~= null then
      note = note .. format(" Pass cursor %q for the next page.", cursor)
    end
    note = note .. " task_id is a cohort of this page's leads (valid for one hour): pass it to "
      .. "POST /enrichment/by-task to enrich them."
  end
  return 200, http.envelope({
    list_id = list.list_id, leads = rows, total = total, cursor = cursor, task_id = task_id,
  }, ctx.now_ms(), note, total == 0 and ("This list is empty. Add leads with POST /lead-lists/"
    .. list.list_id .. "/leads or import a CSV.") or nil)
end

-- POST /lead-lists/{list_id}/leads -------------------------------------------------------

local function idem_store(state)
  local a = state.data.lists
  a.idempotency = a.idempotency or {}
  return a.idempotency
end

local function add_mode_errors(v)
  local has_a, has_b = v.lead_ids ~= nil, v.task_id ~= nil
  if has_a and has_b then
    return { validate.error({ "body" }, "value_error", "Value error, provide exactly one of "
      .. "lead_ids (Mode A) or task_id (Mode B), not both", v) }
  end
  if not has_a and not has_b then
    return { validate.error({ "body" }, "value_error", "Value error, provide exactly one of "
      .. "lead_ids (Mode A) or task_id with optional entity_ids (Mode B)", v) }
  end
  return nil
end

function M.add_leads(ctx)
  local v, errs = validate.decode(ctx.req)
  if v == nil then
    return validate.response(errs)
  end
  errs = validate.check(v, validate.object({}, { open = true }))
  if errs[1] then
    return validate.response(errs)
  end
  errs = add_mode_errors(v)
  if errs then
    return validate.response(errs)
  end
  local mode_a = v.lead_ids ~= nil
  errs = validate.check(v, mode_a and BY_LEAD_IDS or BY_COHORT)
  if errs[1] then
    return validate.response(errs)
  end
  local state = ctx.state
  local list = lists.get(state, ctx.params.list_id, ctx)
  if not list then
    return not_found(ctx, ctx.params.list_id)
  end
  local key = v.idempotency_key ~= null and v.idempotency_key or nil
  local store = idem_store(state)
  local now = state:now_ms()
  local skey = key and (ctx.org.id .. "|" .. key)
  if skey then
    local prior = store[skey]
    if prior and prior.time_ms + IDEMPOTENCY_TTL_MS >= now then
      return 200, prior.body, { ["Idempotent-Replayed"] = "true" }
    end
  end
  local ids, created
  if mode_a then
    local unknown = {}
    for _, id in ipairs(v.lead_ids) do
      local lead = leads.get(state, id)
      if not lead or lead.org_id ~= ctx.org.id then
        unknown[#unknown + 1] = id
      end
    end
    if unknown[1] then
      local shown = json.array()
      for i = 1, math.min(#unknown, 20) do
        shown[i] = http.scrub(unknown[i]):sub(1, 100)
      end
      return errors.build("not_found", ctx.request_id, {
        problem = format("%d of the lead_ids do not exist.", #unknown),
        cause = "Mode A adds leads that already exist (lead_id values from list reads).",
        fix = "Pass lead_id values from GET /lead-lists/{list_id}/leads, or add search rows "
          .. "with Mode B (task_id + entity_ids).",
        details = { unknown_lead_ids = shown },
      })
    end
    ids = v.lead_ids
    created = null
  else
    local cohort, reason = cohorts.get(state, v.task_id, ctx.org.id)
    if not cohort then
      return cohorts.error(reason, ctx.request_id, v.task_id)
    end
    if cohort.kind ~= "person" then
      return errors.build("validation_error", ctx.request_id, {
        problem = "task_id " .. cohort.task_id .. " is a company cohort; lead lists hold "
          .. "people.",
        fix = "Pass a task_id from POST /search/people or GET /lead-lists/{list_id}/leads.",
      })
    end
    local wanted = cohort.entity_ids
    if v.entity_ids ~= nil and v.entity_ids ~= null then
      local set = util.set_of(cohort.entity_ids)
      errs = {}
      for i, id in ipairs(v.entity_ids) do
        if not set[id] then
          errs[#errs + 1] = validate.error({ "body", "entity_ids", i - 1 }, "value_error",
            "Value error, entity id is not part of the cohort " .. cohort.task_id, id)
          if #errs >= 20 then
            break
          end
        end
      end
      if errs[1] then
        return validate.response(errs)
      end
      wanted = v.entity_ids
    end
    ids, created = {}, 0
    for i, id in ipairs(wanted) do
      if cohort.ref == "lead" then
        ids[i] = id
      else
        local lead, new = leads.from_person(state, ctx.org.id, id)
        ids[i] = lead.lead_id
        if new then
          created = created + 1
        end
      end
    end
  end
  local added, skipped = lists.add_leads(state, list, ids)
  local body = {
    list_id = list.list_id,
    added = added,
    skipped_duplicates = skipped,
    created = created,
    credits_charged = 0,
  }
  if skey then
    local a = state.data.lists
    a.idem_count = (a.idem_count or 0) + 1
    if a.idem_count % 64 == 0 then
      util.prune_expired(store, now, IDEMPOTENCY_TTL_MS)
    end
    store[skey] = { time_ms = now, list_id = list.list_id, body = body }
  end
  return 200, body
end

-- DELETE /lead-lists/{list_id}/leads -------------------------------------------------------

function M.remove_leads(ctx)
  local body, errs = validate.body(ctx.req, REMOVE)
  if not body then
    return validate.response(errs)
  end
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then
    return not_found(ctx, ctx.params.list_id)
  end
  return 200, {
    list_id = list.list_id,
    removed = lists.remove_leads(ctx.state, list, body.lead_ids),
  }
end

-- POST /__sandbox/lists --------------------------------------------------------------------

M.BULK_MAX = 200000

local function bulk_invalid(rid, problem)
  return errors.build("validation_error", rid, { problem = problem })
end

local function post_bulk(app, req, rid)
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then
    return bulk_invalid(rid, "The body must be a JSON object: {\"leads\":N, \"name\":S, "
      .. "\"enriched\":B}.")
  end
  for k in pairs(body) do
    if k ~= "leads" and k ~= "name" and k ~= "enriched" then
      return bulk_invalid(rid, "Unknown field " .. http.scrub(tostring(k)):sub(1, 100)
        .. " (leads, name, enriched).")
    end
  end
  local n = json.integer(body.leads)
  if not n or n < 1 or n > M.BULK_MAX then
    return bulk_invalid(rid, format("leads must be an integer from 1 to %d.", M.BULK_MAX))
  end
  local name = body.name
  if name == nil then
    name = format("Bulk: %d leads", n)
  elseif type(name) ~= "string" or #name < 1 or #name > 200 then
    return bulk_invalid(rid, "name must be a string of 1 to 200 characters.")
  end
  if body.enriched ~= nil and type(body.enriched) ~= "boolean" then
    return bulk_invalid(rid, "enriched must be true or false.")
  end
  local state = app.state
  local owner = { user = state.users.owner, org = state.org }
  if lists.find_by_name(state, owner, name) then
    return bulk_invalid(rid, "Vera Okafor already has a list named " .. http.scrub(name)
      .. "; choose another name.")
  end
  local list = lists.bulk(state, n, { name = name, enriched = body.enriched == true,
    description = format("Bulk list: %d leads from the synthetic world's people, repeated.", n) })
  return 200, { list_id = list.list_id, name = list.name, lead_count = lists.count(list),
    enriched_count = lists.enriched_count(state, list), created_at = list.created_at }
end

--- Registers POST /lists on an app's control router (sandbox.control).
function M.register_control(router)
  router:add("POST", "/lists", { handler = post_bulk })
end

function M.register(router)
  router:add("POST", "/lead-lists", { scope = "lists:write", handler = M.create })
  router:add("GET", "/lead-lists", { scope = "lists:read", handler = M.index })
  router:add("GET", "/lead-lists/{list_id}", { scope = "lists:read", handler = M.show })
  router:add("PATCH", "/lead-lists/{list_id}", { scope = "lists:write", handler = M.update })
  router:add("DELETE", "/lead-lists/{list_id}", { scope = "lists:write", handler = M.delete })
  router:add("GET", "/lead-lists/{list_id}/leads", { scope = "lists:read",
    handler = M.leads_page })
  router:add("POST", "/lead-lists/{list_id}/leads", { scope = "lists:write",
    handler = M.add_leads })
  router:add("DELETE", "/lead-lists/{list_id}/leads", { scope = "lists:write",
    handler = M.remove_leads })
end

return M
