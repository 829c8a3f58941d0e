--- Workspace & identity endpoints (API.md §6.1). Each returns the decoded body with its
-- envelope fields (timestamp_ms, agent_instructions, ...) kept, or nil and a cleanlist.Error.
local endpoint = require "cleanlist.endpoint"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

local WHOAMI = define { "GET", "/whoami" }
local BALANCE = define { "GET", "/credits/balance" }
local API_KEYS = define { "GET", "/api-keys" }
local USAGE = define {
  "GET",
  "/usage",
  query = {
    days = { "integer", min = 1, max = 365 },
    group_by = { "string", enum = { "tool", "key", "day", "error" } },
  },
}

local str, strings = { "string", nullable = true }, { "array", items = "string", nullable = true }

--- The fields of POST /credits/estimate (EstimateCostRequest, a closed model).
M.ESTIMATE_FIELDS = {
  tool = { "string", required = true, min_len = 1 },
  list_id = str,
  filters = { "object", nullable = true },
  row_count = { "integer", min = 0, nullable = true },
  scope = str,
  agent_type = str,
  include_phone = { "boolean" },
  provider = str,
  sub_action = str,
  enrichment_type = str,
  task_id = str,
  data_points = strings,
  entity_ids = strings,
  extra = { "object", nullable = true },
}
local ESTIMATE = define { "POST", "/credits/estimate", safe = true, body = M.ESTIMATE_FIELDS }

--- GET /whoami: identity, tier, scopes and features of the credential. Free; no scope.
---@return cleanlist.Whoami|nil
---@return cleanlist.Error|nil
function M:whoami()
  return call(self, WHOAMI)
end

--- GET /credits/balance: the organisation's credits. Free; scope credits:read. Also the
-- legacy API's balance (the same path).
---@return {organization_id: string, credits: integer}|nil
---@return cleanlist.Error|nil
function M:credits_balance()
  return call(self, BALANCE)
end
M.legacy_credits_balance = M.credits_balance

--- POST /credits/estimate: a signed, single-use quote (300 s) for a paid call. Free; scope
-- credits:read. Paid methods call it for you (max_credits, dry_run); use it directly to price
-- a call and pass its quote_id yourself.
---@param body {tool: string, list_id?: string, scope?: string, task_id?: string, data_points?: string[], entity_ids?: string[], enrichment_type?: string, agent_type?: string, provider?: string, sub_action?: string, row_count?: integer, filters?: table, extra?: table}
---@return {quote_id: string, expires_at: integer, estimated_cost: number, tool: string, row_count: integer, available_credits: number, sufficient: boolean}|nil
---@return cleanlist.Error|nil
function M:credits_estimate(body)
  return call(self, ESTIMATE, body)
end

--- GET /api-keys: the caller's keys (prefix and last 4 only). Free; scope admin:api_keys.
---@return {keys: table[]}|nil
---@return cleanlist.Error|nil
function M:list_api_keys()
  return call(self, API_KEYS)
end

--- GET /usage: requests, errors and credits by tool, key, day or error. Free; scope
-- admin:api_keys.
---@param query? {days?: integer, group_by?: "tool"|"key"|"day"|"error"}
---@return {rows: table[]}|nil
---@return cleanlist.Error|nil
function M:usage_report(query)
  return call(self, USAGE, query)
end

return M
