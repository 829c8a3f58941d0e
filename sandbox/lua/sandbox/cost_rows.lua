--- The rows a paid tool prices (sandbox.costs): a lead list the caller can read, a cohort
-- (task_id, optionally narrowed by entity_ids), or the caller's row_count (+ filters). Each
-- source returns what it found, or nil, status, body (400 validation_error, 404 not_found).
--
--   local rows = require "sandbox.cost_rows"
--   rows.list(ctx, r, tool)        --> list                 (r.list_id)
--   rows.cohort(ctx, r, tool)      --> cohort, entity_ids   (r.task_id, r.entity_ids)
--   rows.sync(ctx, r, tool, out)   --> row count; fills out.list | out.cohort + out.entity_ids,
--                                      out.filter_hash and out.binding_fields (list_id |
--                                      task_id + entity_ids | filter_hash)
--   rows.enrichments(ctx, r, out, tool, kind)  --> true; the cohort of add_person_enrichments
--                                      (kind "person") or add_company_enrichments ("company")
--                                      and its data_points: fills out.cohort, out.entity_ids,
--                                      out.row_count, out.binding_fields, out.filter_hash
--   rows.list_not_found(ctx, list_id, fields)  --> status, body
--   rows.present(v), rows.invalid(rid, problem, details, fix), rows.names(list)
local cohorts = require "sandbox.cohorts"
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local lists = require "sandbox.lists"
local quotes = require "sandbox.quotes"
local util = require "sandbox.util"

local M = {}

local null = json.null
local format = string.format

--- The data points each kind of cohort can be enriched with.
M.PERSON_POINTS = { Email = true, Phone = true, LinkedIn = true }
M.COMPANY_POINTS =
  { Industry = true, Employees = true, Revenue = true, Funding = true, TechStack = true, Domain = true }

--- True when a request field is given (not nil, not json.null).
function M.present(v)
  return v ~= nil and v ~= null
end

--- nil, status, body: a 400 validation_error.
function M.invalid(rid, problem, details, fix)
  local status, body = errors.build("validation_error", rid, {
    problem = problem,
    details = details,
    fix = fix,
  })
  return nil, status, body
end

--- The names of a list, comma-separated (for error messages).
function M.names(ids)
  return table.concat(ids, ", ")
end

local present, bad, list_of = M.present, M.invalid, M.names

--- 404 not_found for a lead list the caller cannot read: status, body. `fields` (optional)
-- replaces or adds error fields (fix, details, ...).
function M.list_not_found(ctx, list_id, fields)
  local f = {
    problem = "The lead list " .. tostring(list_id):sub(1, 80) .. " was not found.",
    cause = "No list with this id is accessible to your API key.",
    fix = "List your lists with GET /lead-lists.",
  }
  for k, v in pairs(fields or {}) do
    f[k] = v
  end
  return errors.build("not_found", ctx.request_id, f)
end

--- The readable list of r.list_id.
function M.list(ctx, r, tool)
  if not present(r.list_id) then return bad(ctx.request_id, tool .. " needs list_id.", { field = "list_id" }) end
  local list = lists.get(ctx.state, r.list_id, ctx)
  if not list then return nil, M.list_not_found(ctx, r.list_id) end
  return list
end

--- The cohort of r.task_id and the priced entity ids (entity_ids subset, without repeats, or
-- the whole cohort).
function M.cohort(ctx, r, tool)
  if not present(r.task_id) then return bad(ctx.request_id, tool .. " needs task_id.", { field = "task_id" }) end
  local cohort, reason = cohorts.get(ctx.state, r.task_id, ctx.org.id)
  if not cohort then
    local status, body = cohorts.error(reason, ctx.request_id, r.task_id)
    return nil, status, body
  end
  local ids = cohort.entity_ids
  if present(r.entity_ids) then
    if #r.entity_ids == 0 then
      return bad(
        ctx.request_id,
        "entity_ids must not be empty; omit it to use the whole " .. "cohort.",
        { field = "entity_ids" }
      )
    end
    local ok, unknown = cohorts.subset(cohort, r.entity_ids)
    if not ok then
      return bad(
        ctx.request_id,
        "entity_ids must be a subset of the task's cohort; "
          .. #unknown
          .. " id(s) are not in it: "
          .. list_of(unknown)
          .. ".",
        { field = "entity_ids", unknown_entity_ids = json.array(unknown) }
      )
    end
    local seen, uniq = {}, {}
    for _, id in ipairs(r.entity_ids) do
      if not seen[id] then
        seen[id], uniq[#uniq + 1] = true, id
      end
    end
    ids = uniq
  end
  return cohort, ids
end

--- Rows of a sync: from the list, the cohort, or the caller's row_count.
function M.sync(ctx, r, tool, out)
  if present(r.list_id) then
    local list, status, body = M.list(ctx, r, tool)
    if not list then return nil, status, body end
    out.list = list
    out.binding_fields.list_id = list.list_id
    out.filter_hash = quotes.filter_hash { list_id = list.list_id }
    return lists.count(list)
  end
  if present(r.task_id) then
    local cohort, ids, err = M.cohort(ctx, r, tool)
    if not cohort then return nil, ids, err end
    out.cohort, out.entity_ids = cohort, ids
    out.binding_fields.task_id = cohort.task_id
    out.binding_fields.entity_ids = present(r.entity_ids) and ids or nil
    out.filter_hash = quotes.filter_hash {
      task_id = cohort.task_id,
      entity_ids = quotes.sorted_array(present(r.entity_ids) and ids or {}),
    }
    return #ids
  end
  if present(r.row_count) and r.row_count >= 0 then
    out.filter_hash = present(r.filters) and quotes.filter_hash(r.filters) or "none"
    out.binding_fields.filter_hash = out.filter_hash
    return r.row_count
  end
  return bad(ctx.request_id, tool .. " needs list_id, task_id or row_count.", { field = "list_id" })
end

local function check_points(ctx, r, kind)
  local allowed = kind == "person" and M.PERSON_POINTS or M.COMPANY_POINTS
  if not present(r.data_points) or #r.data_points == 0 then
    return bad(ctx.request_id, "data_points needs at least one entry.", { field = "data_points" })
  end
  for _, p in ipairs(r.data_points) do
    if not allowed[p] then
      local names = util.sorted_keys(allowed)
      return bad(
        ctx.request_id,
        format("%s is not a %s data point (use %s).", tostring(p), kind, list_of(names)),
        { field = "data_points", allowed = json.array(names) }
      )
    end
  end
  return true
end

--- Rows of a by-task enrichment: the cohort of r.task_id, of `kind`, and its data points.
function M.enrichments(ctx, r, out, tool, kind)
  local cohort, ids, err = M.cohort(ctx, r, tool)
  if not cohort then return nil, ids, err end
  if cohort.kind ~= kind then
    local other = cohort.kind == "person" and "add_person_enrichments" or "add_company_enrichments"
    return bad(
      ctx.request_id,
      format("The task %s is a %s cohort; use %s.", cohort.task_id, cohort.kind, other),
      { field = "task_id", entity_kind = cohort.kind }
    )
  end
  local ok, s2, b2 = check_points(ctx, r, kind)
  if not ok then return nil, s2, b2 end
  out.cohort, out.entity_ids = cohort, ids
  out.row_count = #ids
  out.binding_fields = {
    task_id = cohort.task_id,
    data_points = r.data_points,
    entity_ids = present(r.entity_ids) and ids or nil,
  }
  out.filter_hash = quotes.filter_hash {
    task_id = cohort.task_id,
    entity_ids = quotes.sorted_array(present(r.entity_ids) and ids or {}),
    data_points = quotes.sorted_array(r.data_points),
  }
  return true
end

return M
