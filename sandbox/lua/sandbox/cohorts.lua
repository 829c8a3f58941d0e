--- Cohorts: the short-lived `task_id` handles ("cl-task_<hex>") that searches and list-page
-- reads return, for chaining into POST /enrichment/by-task, POST /credits/estimate (cohort
-- tools) and POST /lead-lists/{id}/leads (Mode B). State area `cohorts`.
--
-- Module API (stable):
--
--   local cohorts = require "sandbox.cohorts"
--   cohorts.create(state, org_id, kind, entity_ids, source, opts) --> cohort
--       kind "person" | "company"; entity_ids an array of strings; source "search_people",
--       "search_companies", "similar_companies" or "list_page"; opts.ref overrides what the
--       ids name (default: "person" -> world person ids such as "4482910", "company" ->
--       world company ids; "list_page" cohorts have ref "lead": the ids are lead ids);
--       opts.list_id records the list of a list-page cohort.
--   cohorts.get(state, task_id, org_id)   --> cohort | nil, reason ("not_found" | "expired")
--       Another organisation's handle is "not_found".
--   cohorts.error(reason, request_id, task_id) --> status, body: the 404 `not_found` MCP
--       envelope for an unknown or expired handle (the same for both; `details.reason` says
--       which), for every endpoint that takes a task_id.
--   cohorts.subset(cohort, entity_ids)    --> true | nil, unknown_ids (array, at most 20)
--   cohorts.TTL_MS                        --> 3600000 (one hour of sandbox time)
--
-- cohort (plain table under state.data.cohorts.by_id):
--   task_id, org_id, kind, ref, source, entity_ids (array of strings), list_id,
--   created_ms, expires_ms
--
-- Expired cohorts are kept for another hour (so their use answers "expired"), then dropped;
-- at most M.CAP cohorts are kept (checked every 256 creations; the oldest go first).
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local state_mod = require "sandbox.state"

local M = {}

local floor = math.floor

M.TTL_MS = 3600 * 1000
M.KEEP_MS = 3600 * 1000 -- how long an expired cohort still answers "expired"
M.CAP = 5000 -- cohorts kept at most (the oldest go first), so a search loop stays bounded
local PRUNE_EVERY = 256

state_mod.register("cohorts", function()
  return { by_id = {}, seq = 0 }
end)

local function prune(a, now)
  local live = {}
  for id, c in pairs(a.by_id) do
    if c.expires_ms + M.KEEP_MS < now then
      a.by_id[id] = nil
    else
      live[#live + 1] = c
    end
  end
  if #live > M.CAP then
    table.sort(live, function(x, y)
      if x.created_ms ~= y.created_ms then return x.created_ms < y.created_ms end
      return x.task_id < y.task_id
    end)
    for i = 1, #live - floor(M.CAP * 0.8) do
      a.by_id[live[i].task_id] = nil
    end
  end
end

function M.create(state, org_id, kind, entity_ids, source, opts)
  opts = opts or {}
  local a = state.data.cohorts
  a.seq = a.seq + 1
  local now = state:now_ms()
  if a.seq % PRUNE_EVERY == 0 then prune(a, now) end
  local ids = json.array()
  for i, id in ipairs(entity_ids) do
    ids[i] = tostring(id)
  end
  local ref = opts.ref or (source == "list_page" and "lead") or kind
  local cohort = {
    task_id = leads.mint(state, "cl-task_", a.seq, 47),
    org_id = org_id,
    kind = kind,
    ref = ref,
    source = source,
    entity_ids = ids,
    list_id = opts.list_id,
    created_ms = now,
    expires_ms = now + M.TTL_MS,
  }
  a.by_id[cohort.task_id] = cohort
  return cohort
end

function M.get(state, task_id, org_id)
  local c = type(task_id) == "string" and state.data.cohorts.by_id[task_id]
  if not c or c.org_id ~= org_id then return nil, "not_found" end
  if state:now_ms() >= c.expires_ms then return nil, "expired" end
  return c
end

function M.error(reason, rid, task_id)
  local shown = type(task_id) == "string" and task_id:sub(1, 80) or tostring(task_id)
  if reason == "expired" then
    return errors.build("not_found", rid, {
      problem = "The task_id " .. shown .. " has expired.",
      cause = "Cohort handles live for one hour after the search or list read that " .. "returned them.",
      fix = "Re-run the originating search (or list read) to get a fresh task_id.",
      details = { task_id = shown, reason = "expired" },
    })
  end
  return errors.build("not_found", rid, {
    problem = "The task_id " .. shown .. " was not found.",
    cause = "No cohort with this handle exists for your organization.",
    fix = "Pass the task_id from a recent POST /search/people, POST /search/companies or "
      .. "GET /lead-lists/{list_id}/leads response.",
    details = { task_id = shown, reason = "not_found" },
  })
end

function M.subset(cohort, entity_ids)
  local set = {}
  for _, id in ipairs(cohort.entity_ids) do
    set[id] = true
  end
  local bad = {}
  for _, id in ipairs(entity_ids) do
    if not set[id] then
      bad[#bad + 1] = id
      if #bad >= 20 then break end
    end
  end
  if bad[1] then return nil, bad end
  return true
end

return M
