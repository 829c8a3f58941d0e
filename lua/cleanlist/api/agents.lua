--- Smart agents (API.md §6.5): an AI column over a list's leads. Running one is paid (a quote
-- is required: the client gets it); listing runs and reading results are free.
local endpoint = require "cleanlist.endpoint"
local validate = require "cleanlist.validate"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

M.AGENT_TYPES = { "custom_ai", "cold_intro_email", "title_normalizer", "company_intel", "pain_point_hypothesis" }

--- Credits per succeeded row by agent type (API.md §5); a run bills the rows that succeed,
-- the total rounded up.
M.AGENT_RATES =
  { custom_ai = 1, cold_intro_email = 3, title_normalizer = 0.5, company_intel = 2, pain_point_hypothesis = 2 }

local RUN = define {
  "POST",
  "/smart-agents/run",
  body = {
    list_id = { "string", required = true, min_len = 1 },
    column_name = { "string", required = true, min_len = 1, max_len = 100 },
    agent_type = { "string", enum = M.AGENT_TYPES },
    prompt = { "string", nullable = true },
    lead_scope = { "string", enum = { "subset", "all" } },
    max_rows = { "integer", min = 1, max = 10000 },
    overwrite = { "boolean" },
    quote_id = { "string", nullable = true },
  },
  check = function(t, errs)
    if (t.agent_type == nil or t.agent_type == "custom_ai") and (type(t.prompt) ~= "string" or t.prompt == "") then
      validate.add(
        errs,
        { "body", "prompt" },
        "missing",
        "is required for agent_type custom_ai (the default); presets ignore it"
      )
    end
  end,
  paid = {
    required = true,
    estimate = function(b)
      return {
        tool = "run_smart_agent",
        list_id = b.list_id,
        agent_type = b.agent_type or "custom_ai",
        extra = { column_name = b.column_name, lead_scope = b.lead_scope, max_rows = b.max_rows },
      }
    end,
    -- The newest run of the list that fills this column.
    find = function(client, b)
      local page = client:list_smart_agents { list_id = b.list_id, limit = 100 }
      for _, run in ipairs(page and page.runs or {}) do
        if run.column_name == b.column_name then
          run.smart_agent_task_id = run.smart_agent_task_id or run.task_id or run.run_id
          return run
        end
      end
      return nil
    end,
    lost = "see list_smart_agents{list_id = ...} for the run that fills the column",
  },
}

local RUNS = define {
  "GET",
  "/smart-agents",
  query = {
    list_id = { "string" },
    limit = { "integer", min = 1, max = 100 },
  },
}
local RESULTS = define { "GET", "/smart-agents/{smart_agent_task_id}" }

--- POST /smart-agents/run: fills column_name for the list's leads with an agent: custom_ai
-- (with a prompt), cold_intro_email, title_normalizer, company_intel or pain_point_hypothesis.
-- lead_scope subset (max_rows, default 100) or all. Paid per lead: max_credits, dry_run. The
-- run is async: client:wait(res) follows it. Scope smart_agents:write.
---@param body {list_id: string, column_name: string, agent_type?: string, prompt?: string, lead_scope?: "subset"|"all", max_rows?: integer, overwrite?: boolean, quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return {smart_agent_task_id: string, status: string, estimated_cost: number}|nil
---@return cleanlist.Error|nil
function M:run_smart_agent(body)
  return call(self, RUN, body)
end

--- GET /smart-agents: the latest runs (optionally of one list), newest first. Free.
---@param query? {list_id?: string, limit?: integer}
---@return {runs: table[], total: integer}|nil
---@return cleanlist.Error|nil
function M:list_smart_agents(query)
  return call(self, RUNS, query)
end

--- GET /smart-agents/{id}: a run's status, progress and the rows done so far. Free.
---@param smart_agent_task_id string
---@return {status: string, progress: number, total: integer, succeeded: integer, failed: integer, results: table[]}|nil
---@return cleanlist.Error|nil
function M:get_smart_agent_results(smart_agent_task_id)
  return call(self, RESULTS, smart_agent_task_id)
end

return M
