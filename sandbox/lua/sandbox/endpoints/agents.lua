--- Smart agents (API.md §6.5): POST /smart-agents/run, GET /smart-agents,
-- GET /smart-agents/{smart_agent_task_id}. Runs progress in sandbox.agents.
--
-- POST /smart-agents/run checks, in order: 422 schema; 404 list not accessible; 400
-- validation_error (custom_ai without prompt); 400 approval_required (lead_scope all above
-- APPROVAL_THRESHOLD leads); the quote (required; bound to list_id + agent_type + column_name,
-- capped at the quoted cost: quote_required / quote_invalid / quote_expired / quote_mismatch /
-- 409 quote_used / spend_cap_exceeded); 400 insufficient_credits when the balance is below
-- the estimated cost.
local agents = require "sandbox.agents"
local costs = require "sandbox.costs"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local lists = require "sandbox.lists"
local quotes = require "sandbox.quotes"
local validate = require "sandbox.validate"

local NO_RUNS_USAGE = "No smart-agent runs yet: start one with POST /smart-agents/run"
  .. " (estimate it first with tool run_smart_agent)."
local M = {}

M.APPROVAL_THRESHOLD = 500

local null = json.null
local format = string.format

M.RUN_SCHEMA = validate.object {
  list_id = { type = "string", required = true },
  agent_type = { type = "string", enum = costs.AGENT_TYPES },
  prompt = { type = "string", nullable = true },
  column_name = { type = "string", required = true, min_len = 1, max_len = 100 },
  lead_scope = { type = "string", enum = { "subset", "all" } },
  max_rows = { type = "integer", min = 1, max = 10000 },
  quote_id = { type = "string", required = true },
  overwrite = { type = "boolean" },
}

function M.run(ctx)
  local b = ctx.body
  local state = ctx.state
  local list = lists.get(state, b.list_id, ctx)
  if not list then return costs.list_not_found(ctx, b.list_id) end
  local agent = b.agent_type or "custom_ai"
  local prompt = b.prompt ~= null and b.prompt or nil
  if agent == "custom_ai" and (not prompt or prompt:match("^%s*$")) then
    return errors.build("validation_error", ctx.request_id, {
      problem = "agent_type custom_ai needs a prompt.",
      fix = "Pass the instruction to run on each lead in prompt, or pick a preset agent_type.",
      details = { field = "prompt" },
    })
  end
  local scope = b.lead_scope or "subset"
  local n = lists.count(list)
  if scope == "all" and n > M.APPROVAL_THRESHOLD then
    return errors.build("approval_required", ctx.request_id, {
      problem = format(
        "A lead_scope all run over %d leads needs approval (the threshold is %d).",
        n,
        M.APPROVAL_THRESHOLD
      ),
      details = { lead_count = n, threshold = M.APPROVAL_THRESHOLD },
    })
  end
  local priced, rec, err = costs.authorize(ctx, "run_smart_agent", {
    list_id = list.list_id,
    agent_type = agent,
    column_name = b.column_name,
    lead_scope = scope,
    max_rows = b.max_rows,
  }, b.quote_id, { what = "smart-agents/run", required = true })
  if not priced then return rec, err end
  local ids = {}
  local all = lists.lead_ids(list)
  for i = 1, priced.row_count do
    ids[i] = all[i]
  end
  local run = agents.launch(state, {
    org_id = ctx.org.id,
    user_id = ctx.user.id,
    list_id = list.list_id,
    column_name = b.column_name,
    agent_type = agent,
    prompt = prompt,
    overwrite = b.overwrite,
    lead_ids = ids,
    estimated_cost = priced.cost,
  })
  quotes.commit(state, rec)
  return 200,
    http.envelope(
      {
        smart_agent_task_id = run.run_id,
        smart_agent_task_ids = { [agent] = run.run_id },
        status = "pending",
        list_id = list.list_id,
        column_name = b.column_name,
        estimated_cost = priced.cost,
        task_id = run.run_id,
      },
      ctx.now_ms(),
      format(
        "Running %s on %d leads (about %s credits, debited as rows " .. "complete). Poll GET /smart-agents/%s.",
        agent,
        #ids,
        priced.cost,
        run.run_id
      )
    )
end

-- A run is visible to who when its list is readable, or when who launched it.
local function visible(state, run, ctx)
  if run.org_id ~= ctx.org.id then return false end
  return run.user_id == ctx.user.id or lists.get(state, run.list_id, ctx) ~= nil
end

function M.list_runs(ctx)
  local query = http.parse_query(ctx.req.query)
  local limit, err = validate.query_int(query, "limit", 20, 1, 100)
  if err then return validate.response { err } end
  local state = ctx.state
  local list_id = validate.query_string(query, "list_id")
  if list_id and list_id ~= "" and not lists.get(state, list_id, ctx) then return costs.list_not_found(ctx, list_id) end
  local runs = agents.recent(state, ctx.org.id, limit, function(run)
    if list_id and list_id ~= "" and run.list_id ~= list_id then return false end
    return visible(state, run, ctx)
  end)
  local out = json.array()
  local now = state:now_ms()
  for i, run in ipairs(runs) do
    agents.advance(state, run, now)
    out[i] = agents.summary(run)
  end
  return 200, http.envelope({ runs = out, total = #out }, now, nil, #out == 0 and NO_RUNS_USAGE or nil)
end

function M.get_run(ctx)
  local id = ctx.params.smart_agent_task_id
  local run = agents.get(ctx.state, id)
  if not run or not visible(ctx.state, run, ctx) then
    return errors.build("not_found", ctx.request_id, {
      problem = "No smart-agent run " .. tostring(id):sub(1, 80) .. " was found.",
      fix = "Use the smart_agent_task_id returned by POST /smart-agents/run.",
    })
  end
  return 200, agents.results_body(ctx.state, run)
end

function M.register(router)
  router:add("POST", "/smart-agents/run", { scope = "smart_agents:write", body = M.RUN_SCHEMA, handler = M.run })
  router:add("GET", "/smart-agents", { scope = "smart_agents:read", handler = M.list_runs })
  router:add("GET", "/smart-agents/{smart_agent_task_id}", { scope = "smart_agents:read", handler = M.get_run })
end

return M
