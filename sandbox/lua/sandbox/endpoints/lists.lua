--- Lead lists (API.md §6.3, V2 models): create / list / get / update / delete. The leads of
-- a list are in sandbox.endpoints.list_leads; CSV import lives with the enrichment endpoints.
--
-- Access: a caller reads the lists it owns, organisation-visible lists and lists shared with
-- it (anything else is 404, so private lists never leak); PATCH and DELETE are owner-only
-- (non-owner -> 404) and refuse protected lists (403 list_protected).
--
-- Folders: the sandbox has no folder endpoints; each user owns fixed folders
-- (lists.FOLDERS): Vera Okafor (full-access key) "folder_7e1a01" Prospecting and
-- "folder_7e1a02" Customers, Rowan Reed (read-only key) "folder_7e1a03" Research. A
-- folder_id the caller does not own -> 404.
--
-- The lists' cursor is an opaque offset ("50"); a malformed one -> 400 validation_error.
--
-- Control endpoint (no auth, outside the API path; for benchmarks of long exports):
--   POST /__sandbox/lists  {"leads":N (1..BULK_MAX), "name":S, "enriched":B} creates Vera's
--       organisation-visible list S (default "Bulk: N leads") of N new leads made from the
--       world's people in id order, over and over (sandbox.lists.bulk); "enriched": true gives
--       them the email and phone enrichment finds. 200 {"list_id","name","lead_count",
--       "enriched_count","created_at"}; a bad field or a name Vera already has -> 400
--       validation_error. A reset forgets the list.
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local lists = require "sandbox.lists"
local paging = require "sandbox.paging"
local validate = require "sandbox.validate"

local NEXT_PAGE_NOTE = "Showing %d of %d lists; pass cursor %q for the next page."
local M = {}

local null = json.null
local format = string.format

M.CREATE_SCHEMA = validate.object {
  name = { type = "string", required = true, min_len = 1, max_len = 200 },
  description = { type = "string", nullable = true, max_len = 5000 },
  folder_id = { type = "string", nullable = true },
}
M.UPDATE_SCHEMA = validate.object {
  name = { type = "string", min_len = 1, max_len = 200 },
  description = { type = "string", nullable = true, max_len = 5000 },
  folder_id = { type = "string", nullable = true },
}
--- The 404 for a list the caller cannot read (or does not own, for PATCH and DELETE).
function M.not_found(ctx, list_id)
  return errors.build("not_found", ctx.request_id, {
    problem = "Lead list " .. http.scrub(tostring(list_id)):sub(1, 100) .. " was not found.",
    cause = "No list with this id is accessible to your credential (it may not exist, may "
      .. "have been deleted, or may be another user's private list).",
    fix = "List the lists you can access with GET /lead-lists.",
  })
end

local not_found = M.not_found

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

-- POST /lead-lists ---------------------------------------------------------------------------

function M.create(ctx)
  local body, state = ctx.body, ctx.state
  local existing = lists.find_by_name(state, ctx, body.name)
  if existing then
    return 200,
      lists.detail(state, existing, {
        reused = true,
        message = "A list you own already has this name; it was returned instead of creating a " .. "duplicate.",
      })
  end
  local folder = body.folder_id ~= null and body.folder_id or nil
  if folder and not folder_owned(ctx, folder) then return folder_not_found(ctx, folder) end
  if lists.owned_count(state, ctx) >= lists.LIST_CAP then
    return errors.build("list_cap_reached", ctx.request_id, {
      problem = format("You already own %d lead lists, the most a user may have.", lists.LIST_CAP),
    })
  end
  local list = lists.create(state, ctx, {
    name = body.name,
    description = body.description ~= null and body.description or nil,
    folder_id = folder,
  })
  return 201,
    lists.detail(state, list, {
      usage = "Add leads with POST /lead-lists/"
        .. list.list_id
        .. "/leads (lead_ids, or a "
        .. "task_id from POST /search/people), or import a CSV.",
    })
end

-- GET /lead-lists --------------------------------------------------------------------------

function M.index(ctx)
  local q = http.parse_query(ctx.req.query)
  local limit, err = validate.query_int(q, "limit", 50, 1, 100)
  if err then return validate.response { err } end
  local offset = paging.offset(validate.query_string(q, "cursor"))
  if not offset then return paging.bad_cursor(ctx.request_id) end
  local folder = validate.query_string(q, "folder_id")
  local all = lists.accessible(ctx.state, ctx)
  if folder and folder ~= "" then
    local kept = {}
    for _, l in ipairs(all) do
      if l.folder_id == folder then kept[#kept + 1] = l end
    end
    all = kept
  end
  local page = json.array()
  for i = offset + 1, math.min(offset + limit, #all) do
    page[#page + 1] = lists.summary(ctx.state, all[i])
  end
  local cursor = paging.next_cursor(offset, limit, #all)
  return 200,
    http.envelope(
      { lists = page, total = #all, cursor = cursor },
      ctx.now_ms(),
      cursor ~= null and format(NEXT_PAGE_NOTE, #page, #all, cursor) or nil,
      #all == 0 and "You have no lead lists yet: create one with POST /lead-lists." or nil
    )
end

-- GET / PATCH / DELETE /lead-lists/{list_id} -----------------------------------------------

function M.show(ctx)
  local list = lists.get(ctx.state, ctx.params.list_id, ctx)
  if not list then return not_found(ctx, ctx.params.list_id) end
  return 200, lists.detail(ctx.state, list)
end

local function protected(ctx, list, verb)
  return errors.build("list_protected", ctx.request_id, {
    problem = format("The list %s is protected and cannot be %s.", list.name, verb),
    cause = "Protected lists (such as the legacy API's DEFAULT list) are managed by Cleanlist.",
  })
end

function M.update(ctx)
  local v = ctx.body -- name is not nullable: the schema refuses "name": null
  if next(v) == nil then
    return validate.response {
      validate.error(
        { "body" },
        "value_error",
        "Value error, at least one of name, description or folder_id must be provided",
        v
      ),
    }
  end
  local list = lists.get_owned(ctx.state, ctx.params.list_id, ctx)
  if not list then return not_found(ctx, ctx.params.list_id) end
  if list.protected then return protected(ctx, list, "edited") end
  if v.folder_id ~= nil and v.folder_id ~= null and not folder_owned(ctx, v.folder_id) then
    return folder_not_found(ctx, v.folder_id)
  end
  if v.name ~= nil then list.name = v.name end
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
  if not list then return not_found(ctx, ctx.params.list_id) end
  if list.protected then return protected(ctx, list, "deleted") end
  lists.delete(ctx.state, list)
  return 200, http.envelope({ list_id = list.list_id, deleted = true, message = "List deleted." }, ctx.now_ms())
end

-- POST /__sandbox/lists --------------------------------------------------------------------

M.BULK_MAX = 200000

local function bulk_invalid(rid, problem)
  return errors.build("validation_error", rid, { problem = problem })
end

local function post_bulk(app, req, rid)
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then
    return bulk_invalid(rid, 'The body must be a JSON object: {"leads":N, "name":S, ' .. '"enriched":B}.')
  end
  for k in pairs(body) do
    if k ~= "leads" and k ~= "name" and k ~= "enriched" then
      return bulk_invalid(rid, "Unknown field " .. http.scrub(tostring(k)):sub(1, 100) .. " (leads, name, enriched).")
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
    return bulk_invalid(rid, "Vera Okafor already has a list named " .. http.scrub(name) .. "; choose another name.")
  end
  local list = lists.bulk(state, n, {
    name = name,
    enriched = body.enriched == true,
    description = format("Bulk list: %d leads from the synthetic world's people, repeated.", n),
  })
  return 200,
    {
      list_id = list.list_id,
      name = list.name,
      lead_count = lists.count(list),
      enriched_count = lists.enriched_count(state, list),
      created_at = list.created_at,
    }
end

--- Registers POST /lists on an app's control router (sandbox.control).
function M.register_control(router)
  router:add("POST", "/lists", { handler = post_bulk })
end

function M.register(router)
  router:add("POST", "/lead-lists", { scope = "lists:write", body = M.CREATE_SCHEMA, handler = M.create })
  router:add("GET", "/lead-lists", { scope = "lists:read", handler = M.index })
  router:add("GET", "/lead-lists/{list_id}", { scope = "lists:read", handler = M.show })
  router:add("PATCH", "/lead-lists/{list_id}", { scope = "lists:write", body = M.UPDATE_SCHEMA, handler = M.update })
  router:add("DELETE", "/lead-lists/{list_id}", { scope = "lists:write", handler = M.delete })
end

return M
