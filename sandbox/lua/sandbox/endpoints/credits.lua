--- POST /credits/estimate (API.md §6.1): prices a paid operation and mints a signed,
-- single-use quote (sandbox.quotes) over its canonical request (sandbox.costs).
--
-- Errors: 422 for schema violations (closed body); 400 validation_error for an unknown tool,
-- `extra` keys outside the tool's canonical set, or parameters the tool needs; 404 not_found
-- for an inaccessible list or an unknown/expired cohort. An insufficient balance is still a
-- 200 with `sufficient: false`.
--
-- Sandbox additions: `column_name` is accepted at the top level as well as in `extra` (for
-- run_smart_agent; not in strict mode, sandbox.switches); tool `enrich_company` (1 row, 1
-- credit) prices the optional quote of POST /enrichment/company.
local costs = require "sandbox.costs"
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local quotes = require "sandbox.quotes"
local util = require "sandbox.util"
local validate = require "sandbox.validate"

local M = {}

local null = json.null

local str = { type = "string", nullable = true }

M.SCHEMA = validate.object {
  tool = { type = "string", required = true },
  list_id = str,
  filters = { type = "object", nullable = true },
  row_count = { type = "integer", nullable = true, min = 0 },
  scope = str,
  agent_type = str,
  include_phone = { type = "boolean" },
  provider = str,
  sub_action = str,
  enrichment_type = str,
  task_id = str,
  data_points = { type = "array", nullable = true, items = { type = "string" } },
  entity_ids = { type = "array", nullable = true, items = { type = "string" } },
  extra = { type = "object", nullable = true },
  -- v2 has it in `extra` only: refused at the top level in strict mode
  column_name = { type = "string", nullable = true, min_len = 1, max_len = 100, lenient = true },
}

local EXTRA_TYPES = {
  column_name = { type = "string", min_len = 1, max_len = 100 },
  lead_scope = { type = "string", enum = { "subset", "all" } },
  max_rows = { type = "integer", min = 1, max = 10000 },
  campaign_id = { type = "string", min_len = 1 },
  enrichment_type = { type = "string" },
}

costs.TOOLS.enrich_company = { extras = {} }

local function bad(rid, problem, details)
  return errors.build("validation_error", rid, { problem = problem, details = details })
end

--- Normalises an estimate body into the costs.compute request; nil, status, body on error.
function M.request(ctx, body)
  local tool = body.tool
  local def = costs.TOOLS[tool]
  if not def then
    local names = json.array {}
    for _, n in ipairs(costs.TOOL_NAMES) do
      names[#names + 1] = n
    end
    names[#names + 1] = "enrich_company"
    local status, err = errors.build("validation_error", ctx.request_id, {
      problem = "Unknown tool " .. tostring(tool):sub(1, 60) .. ".",
      fix = "Use one of: " .. table.concat(names, ", ") .. ".",
      details = { field = "tool", allowed = names },
    })
    return nil, status, err
  end
  local r = util.without_nulls(body)
  if validate.is_list(body.extra) and next(body.extra) ~= nil then
    return nil, bad(ctx.request_id, "extra must be an object.", { field = "extra" })
  end
  if body.extra ~= nil and body.extra ~= null then
    local unknown = {}
    for k in pairs(body.extra) do
      if not def.extras[k] then unknown[#unknown + 1] = tostring(k) end
    end
    table.sort(unknown)
    if unknown[1] then
      local allowed = util.sorted_keys(def.extras)
      return nil,
        bad(
          ctx.request_id,
          "extra keys outside the canonical set of " .. tool .. ": " .. table.concat(unknown, ", ") .. ".",
          {
            field = "extra",
            unknown_keys = json.array(unknown),
            allowed = json.array(allowed),
          }
        )
    end
    for k, v in pairs(body.extra) do
      local errs = validate.check({ [k] = v }, validate.object { [k] = EXTRA_TYPES[k] }, { "body", "extra" })
      if errs[1] then
        return nil, bad(ctx.request_id, "extra." .. k .. ": " .. errs[1].msg .. ".", { field = "extra." .. k })
      end
      if r[k] == nil then r[k] = v end
    end
  end
  return r
end

local function enrich_company(ctx)
  return {
    tool = "enrich_company",
    row_count = 1,
    cost = 1,
    filter_hash = "none",
    binding = quotes.binding("enrich_company", ctx.org.id, {}),
  }
end

--- The priced tool (see costs.compute) for an estimate body; nil, status, body on error.
function M.price(ctx, body)
  local r, status, err = M.request(ctx, body)
  if not r then return nil, status, err end
  if r.tool == "enrich_company" then return enrich_company(ctx) end
  return costs.compute(ctx, r.tool, r)
end

function M.estimate(ctx)
  local priced, status, err = M.price(ctx, ctx.body)
  if not priced then return status, err end
  local quote_id, expires_at = quotes.issue(ctx.state, priced.binding, priced.row_count, priced.cost)
  local available = ledger.available(ctx.state)
  return 200,
    {
      quote_id = quote_id,
      expires_at = expires_at,
      estimated_cost = priced.cost,
      tool = priced.tool,
      row_count = priced.row_count,
      filter_hash = priced.filter_hash or "none",
      available_credits = available,
      sufficient = available >= priced.cost,
    }
end

--- The enrich_company binding (for POST /enrichment/company).
M.enrich_company = enrich_company

function M.register(router)
  router:add("POST", "/credits/estimate", { scope = "credits:read", body = M.SCHEMA, handler = M.estimate })
end

return M
