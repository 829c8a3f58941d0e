--- Lead lists (state area `lists`): ownership, visibility, memberships, and the lists seeded at
-- every reset.
--
-- Module API (stable; used by enrichment, smart agents, CSV import, export, the legacy API).
-- `who` is anything with `.user` and `.org` (a handler ctx or a key record).
--
--   local lists = require "sandbox.lists"
--   lists.get(state, list_id, who)          --> list | nil   (readable by who; nil = 404)
--   lists.get_owned(state, list_id, who)    --> list | nil   (owned by who; nil = 404)
--   lists.find_by_name(state, who, name)    --> who's own list with exactly that name
--                                               (case-insensitive), or nil
--   lists.create(state, who, fields)        --> list (fields: name, description, folder_id,
--                                               visibility, protected)
--   lists.ensure(state, who, name, opts)    --> list, created
--       who's own list named `name` (case-insensitive exact match), created when missing with
--       opts.description / opts.protected / opts.visibility. For the per-user "MCP Results"
--       list (enrichment without lead_list_id) and the protected legacy "DEFAULT" list:
--         lists.ensure(state, ctx, lists.MCP_RESULTS)
--         lists.ensure(state, ctx, lists.LEGACY_DEFAULT, { protected = true })
--   lists.lead_ids(list)                    --> the list's lead ids in insertion order (a
--                                               live array: read it, do not modify it)
--   lists.has(list, lead_id)                --> boolean
--   lists.add_leads(state, list, lead_ids)  --> added, skipped_duplicates
--   lists.remove_leads(state, list, ids)    --> removed (unknown ids ignored)
--   lists.count(list)                       --> lead_count
--   lists.enriched_count(state, list)       --> leads with an email or a phone
--   lists.delete(state, list)               --> hard delete (leads survive)
--   lists.detail(state, list, fields)       --> ListDetailResponse body (+ envelope fields)
--   lists.summary(state, list)              --> ListSummary
--   lists.accessible(state, who)            --> readable lists, newest first
--   lists.owns_folder(state, who, folder_id) --> boolean (fixed folders: lists.FOLDERS)
--   lists.bulk(state, n, opts)              --> list: Vera's organisation-visible list
--       opts.name of n new leads (no duplicates: each is a lead of its own), made from the
--       world's people in id order, over and over (lead i is w.people[(i - 1) % 12000 + 1]);
--       with opts.enriched each carries its person's email and phone as enrichment finds them
--       (POST /__sandbox/lists, for exports of long lists)
--
-- list (plain table under state.data.lists.by_id):
--   list_id, name, description, folder_id, org_id, owner_id, owner_name,
--   visibility ("private" | "organization" | "shared"), shared_with (array of user ids),
--   protected (boolean), created_ms, created_at (ISO "...Z"),
--   leads (array of lead ids, insertion order), members ({ [lead_id] = true })
--
-- The lists seeded at every reset, and bulk lists: sandbox.lists_seed.
local http = require "sandbox.http"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"

local M = {}

local lower = string.lower

M.MCP_RESULTS = "MCP Results"
M.LEGACY_DEFAULT = "DEFAULT"
M.LIST_CAP = 1000 -- lists per owner; POST /lead-lists answers 403 list_cap_reached above it

--- Fixed folders (the sandbox has no folder endpoints): folder_id -> name and owner (a key
-- of state.users: "owner" is Vera Okafor of the full-access key, "reader" Rowan Reed of the
-- read-only key).
M.FOLDERS = {
  folder_7e1a01 = { name = "Prospecting", owner = "owner" },
  folder_7e1a02 = { name = "Customers", owner = "owner" },
  folder_7e1a03 = { name = "Research", owner = "reader" },
}

--- True when who owns the folder.
function M.owns_folder(state, who, folder_id)
  local f = type(folder_id) == "string" and M.FOLDERS[folder_id]
  local owner = f and state.users[f.owner]
  return owner ~= nil and owner ~= false and owner.id == who.user.id
end

local function area(state)
  return state.data.lists
end

local function new_list(state, org, user, f)
  local a = area(state)
  a.seq = a.seq + 1
  local ms = state:now_ms()
  local list = {
    list_id = leads.mint(state, "list_", a.seq, 43),
    name = f.name,
    description = f.description,
    folder_id = f.folder_id,
    org_id = org.id,
    owner_id = user.id,
    owner_name = user.name,
    visibility = f.visibility or "private",
    shared_with = json.array(f.shared_with or {}),
    protected = f.protected and true or false,
    created_ms = ms,
    created_at = leads.iso(ms),
    leads = json.array(),
    members = {},
  }
  a.by_id[list.list_id] = list
  a.order[#a.order + 1] = list.list_id
  return list
end

function M.count(list)
  return #list.leads
end

function M.has(list, lead_id)
  return list.members[lead_id] == true
end

function M.lead_ids(list)
  return list.leads
end

function M.add_leads(state, list, lead_ids)
  local added, skipped = 0, 0
  local arr, members = list.leads, list.members
  for _, id in ipairs(lead_ids) do
    if members[id] then
      skipped = skipped + 1
    elseif leads.get(state, id) then
      members[id] = true
      arr[#arr + 1] = id
      added = added + 1
    end
  end
  return added, skipped
end

function M.remove_leads(_, list, lead_ids)
  local members, drop, removed = list.members, {}, 0
  for _, id in ipairs(lead_ids) do
    if type(id) == "string" and members[id] and not drop[id] then
      drop[id] = true
      members[id] = nil
      removed = removed + 1
    end
  end
  if removed > 0 then
    local kept = json.array()
    for _, id in ipairs(list.leads) do
      if not drop[id] then kept[#kept + 1] = id end
    end
    list.leads = kept
  end
  return removed
end

function M.enriched_count(state, list)
  local n = 0
  local by_id = state.data.leads.by_id
  for _, id in ipairs(list.leads) do
    local lead = by_id[id]
    if lead and (lead.email or lead.phone) then n = n + 1 end
  end
  return n
end

local function readable(list, user, org)
  if list.org_id ~= org.id then return false end
  if list.owner_id == user.id or list.visibility == "organization" then return true end
  if list.visibility == "shared" then
    for _, uid in ipairs(list.shared_with) do
      if uid == user.id then return true end
    end
  end
  return false
end

function M.get(state, list_id, who)
  local list = type(list_id) == "string" and area(state).by_id[list_id]
  if list and readable(list, who.user, who.org) then return list end
  return nil
end

function M.get_owned(state, list_id, who)
  local list = type(list_id) == "string" and area(state).by_id[list_id]
  if list and list.org_id == who.org.id and list.owner_id == who.user.id then return list end
  return nil
end

function M.owned_count(state, who)
  local n = 0
  for _, list in pairs(area(state).by_id) do
    if list.owner_id == who.user.id and list.org_id == who.org.id then n = n + 1 end
  end
  return n
end

function M.find_by_name(state, who, name)
  local want = lower(name)
  local a = area(state)
  for _, id in ipairs(a.order) do
    local list = a.by_id[id]
    if list.owner_id == who.user.id and list.org_id == who.org.id and lower(list.name) == want then return list end
  end
  return nil
end

function M.create(state, who, fields)
  return new_list(state, who.org, who.user, fields)
end

function M.ensure(state, who, name, opts)
  local list = M.find_by_name(state, who, name)
  if list then return list, false end
  opts = opts or {}
  return new_list(state, who.org, who.user, {
    name = name,
    description = opts.description,
    visibility = opts.visibility,
    protected = opts.protected,
  }),
    true
end

function M.delete(state, list)
  local a = area(state)
  a.by_id[list.list_id] = nil
  for i, id in ipairs(a.order) do
    if id == list.list_id then
      table.remove(a.order, i)
      break
    end
  end
end

--- Readable lists for who, newest first.
function M.accessible(state, who)
  local a, out = area(state), {}
  local user, org = who.user, who.org
  for i = #a.order, 1, -1 do
    local list = a.by_id[a.order[i]]
    if list and readable(list, user, org) then out[#out + 1] = list end
  end
  return out
end

local opt = util.or_null

function M.detail(state, list, fields)
  local body = http.envelope({
    list_id = list.list_id,
    name = list.name,
    description = opt(list.description),
    lead_count = #list.leads,
    enriched_count = M.enriched_count(state, list),
    folder_id = opt(list.folder_id),
    created_at = list.created_at,
    reused = false,
  }, state:now_ms())
  for k, v in pairs(fields or {}) do
    body[k] = v
  end
  return body
end

function M.summary(_, list)
  return {
    list_id = list.list_id,
    name = list.name,
    lead_count = #list.leads,
    folder_id = opt(list.folder_id),
    created_at = list.created_at,
    owner_name = opt(list.owner_name),
    visibility = opt(list.visibility),
  }
end

-- The seeded and bulk lists (sandbox.lists_seed) build on this module, which they require: they
-- are loaded on first use.

--- A list of n new leads (see the module comment).
function M.bulk(state, n, opts)
  return require("sandbox.lists_seed").bulk(state, n, opts)
end

-- The leads area is registered (by sandbox.leads, required above) before this one, so it is
-- fresh when the seeded lists create their leads.
state_mod.register("lists", function(state)
  state.data.lists = { by_id = {}, order = json.array(), seq = 0, idempotency = {} }
  require("sandbox.lists_seed").seed(state)
  return state.data.lists
end)

return M
