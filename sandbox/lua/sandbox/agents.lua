--- Smart-agent runs (API.md §6.5, §7): pending -> processing -> completed / failed, one AI
-- call per lead, computed lazily from the sandbox clock like sandbox.workflows (which ticks
-- them). A run starts START_MS after launch and completes one row every ROW_MS.
--
-- Each row writes a deterministic, plausible value onto the lead
-- (lead.smart_agents[column_name], via leads.set_smart_agent; the CSV export reads it):
--   title_normalizer       the title with abbreviations expanded and casing fixed
--   cold_intro_email       a short templated opener (subject line + 3 sentences)
--   company_intel          a one-line summary from the world's company data
--   pain_point_hypothesis  a hypothesis from the lead's department and seniority
--   custom_ai              a short answer to the prompt about the lead and its company
-- A row fails (value null, error text) when the lead lacks what the agent needs (no title, no
-- company, no name), or for ~2% of custom_ai / pain_point rows (a seeded "model timeout").
--
-- Billing: metered per succeeded row at AGENT_RATES (fractional rates accumulate; whole
-- credits are debited as rows complete, the remainder rounded up at the end). When the balance
-- runs out the next row fails with "insufficient credits" and the run ends failed.
--
-- State area `agents`: { by_id, order (run ids, oldest first), active (ids), seq }.
local costs = require "sandbox.costs"
local http = require "sandbox.http"
local json = require "sandbox.json"
local ledger = require "sandbox.ledger"
local leads = require "sandbox.leads"
local state_mod = require "sandbox.state"
local workflows = require "sandbox.workflows"
local values = require "sandbox.agent_values"

local M = {}

M.START_MS = 2000
M.ROW_MS = 500
M.FAR = workflows.FAR

local null = json.null
local floor, format = math.floor, string.format

state_mod.register("agents", function()
  return { by_id = {}, order = json.array(), active = json.array(), seq = 0 }
end)

local function area(state)
  return state.data.agents
end

-- Runs (the values they write: sandbox.agent_values) -------------------------------------

--- Launches a run. spec: org_id, user_id, list_id, column_name, agent_type, prompt, overwrite,
-- lead_ids (the rows, in order), estimated_cost. Returns the run.
function M.launch(state, spec)
  local a = area(state)
  a.seq = a.seq + 1
  local now = state:now_ms()
  local run = {
    run_id = leads.mint(state, "run_", a.seq, 67),
    org_id = spec.org_id,
    user_id = spec.user_id,
    list_id = spec.list_id,
    column_name = spec.column_name,
    agent_type = spec.agent_type,
    prompt = spec.prompt,
    overwrite = spec.overwrite and true or false,
    lead_ids = json.array(spec.lead_ids),
    total = #spec.lead_ids,
    processed = 0,
    succeeded = 0,
    failed = 0,
    results = json.array(),
    status = "pending",
    created_ms = now,
    created_at = leads.iso(now),
    start_ms = now + M.START_MS,
    row_ms = M.ROW_MS,
    rate = costs.AGENT_RATES[spec.agent_type] or 1,
    accrued = 0,
    debited = 0,
    estimated_cost = spec.estimated_cost,
  }
  a.by_id[run.run_id] = run
  a.order[#a.order + 1] = run.run_id
  a.active[#a.active + 1] = run.run_id
  workflows.wake(state, run.start_ms)
  return run
end

function M.get(state, run_id)
  return type(run_id) == "string" and area(state).by_id[run_id] or nil
end

local function debit_due(state, run, final)
  local owed = run.accrued - run.debited
  local whole = final and math.ceil(owed - 1e-9) or floor(owed + 1e-9)
  if whole <= 0 then return true end
  if not ledger.charge(state, whole, format("smart agent %s (%s)", run.run_id, run.agent_type), run.run_id) then
    return false
  end
  run.debited = run.debited + whole
  return true
end

local function process_row(state, run, i)
  local lead_id = run.lead_ids[i]
  local lead = leads.get(state, lead_id)
  local value, err
  if not lead then
    err = "lead no longer exists"
  else
    value, err = values.producers[run.agent_type](state, lead, run)
  end
  if value ~= nil then
    -- a row is paid when it succeeds; stop when the balance cannot cover it
    run.accrued = run.accrued + run.rate
    if not debit_due(state, run, false) then
      run.accrued = run.accrued - run.rate
      value, err = nil, "insufficient credits"
      run.out_of_credits = true
    end
  end
  if value ~= nil then
    local existing = lead.smart_agents and lead.smart_agents[run.column_name]
    if existing ~= nil and existing ~= null and not run.overwrite then
      value = existing -- an existing column keeps its values unless overwrite is true
    else
      leads.set_smart_agent(state, lead, run.column_name, value)
    end
    run.succeeded = run.succeeded + 1
    run.results[#run.results + 1] = { lead_id = lead_id, value = value, error = null }
  else
    run.failed = run.failed + 1
    run.results[#run.results + 1] = { lead_id = lead_id, value = null, error = err }
  end
  run.processed = run.processed + 1
end

local function finish(state, run, status)
  debit_due(state, run, true)
  run.status = status
  run.finished_ms = state:now_ms()
end

--- Advances a run to virtual time now; returns the time of its next event.
function M.advance(state, run, now)
  if run.status == "completed" or run.status == "failed" then return M.FAR end
  if now < run.start_ms then return run.start_ms end
  run.status = "processing"
  local due = floor((now - run.start_ms) / run.row_ms)
  if due > run.total then due = run.total end
  ledger.background(state, function()
    for i = run.processed + 1, due do
      process_row(state, run, i)
      if run.out_of_credits then break end
    end
    if run.out_of_credits then
      finish(state, run, "failed")
    elseif run.processed >= run.total then
      finish(state, run, "completed")
    end
  end)
  if run.status ~= "processing" then return M.FAR end
  return run.start_ms + (run.processed + 1) * run.row_ms
end

workflows.on_tick(function(state, now)
  local a = area(state)
  if #a.active == 0 then return nil end
  local next_due, keep = M.FAR, json.array()
  for _, id in ipairs(a.active) do
    local run = a.by_id[id]
    if run then
      local d = M.advance(state, run, now)
      if run.status == "pending" or run.status == "processing" then keep[#keep + 1] = id end
      if d < next_due then next_due = d end
    end
  end
  a.active = keep
  return next_due
end)

--- Runs of the org, most recent first (filter(run) -> bool), at most limit.
function M.recent(state, org_id, limit, filter)
  local a, out = area(state), {}
  for i = #a.order, 1, -1 do
    local run = a.by_id[a.order[i]]
    if run and run.org_id == org_id and (not filter or filter(run)) then
      out[#out + 1] = run
      if #out >= limit then break end
    end
  end
  return out
end

--- SmartAgentRun.
function M.summary(run)
  return {
    task_id = run.run_id,
    list_id = run.list_id,
    column_name = run.column_name,
    agent_type = run.agent_type,
    status = run.status,
    total = run.total,
    processed = run.processed,
    failed = run.failed,
    created_at = run.created_at,
  }
end

--- SmartAgentResultsResponse (+ envelope fields).
function M.results_body(state, run)
  M.advance(state, run, state:now_ms())
  local progress = run.total > 0 and floor(run.processed * 100 / run.total) or 100
  if run.status == "completed" then progress = 100 end
  local note
  if run.status == "completed" or run.status == "failed" then
    note =
      format("Run %s: %d succeeded, %d failed; %d credits debited.", run.status, run.succeeded, run.failed, run.debited)
  else
    note = format("Run %s: %d of %d rows done. Poll again in a few seconds.", run.status, run.processed, run.total)
  end
  return http.envelope({
    smart_agent_task_id = run.run_id,
    status = run.status,
    progress = progress,
    total = run.total,
    succeeded = run.succeeded,
    failed = run.failed,
    results = json.array(run.results), -- (restored state loses the array mark)
    message = run.out_of_credits and "The run stopped: the organization ran out of credits." or null,
  }, state:now_ms(), note)
end

return M
