--- Workspace & identity endpoints (API.md §6.1). Each returns the decoded body with its
-- envelope fields (timestamp_ms, agent_instructions, ...) kept, or nil and a cleanlist.Error.
local M = {}

--- GET /whoami: identity, tier, scopes and features of the credential. Free; no scope.
function M:whoami()
  return self:request("GET", "/whoami")
end

--- GET /credits/balance: the organisation's credits. Free; scope credits:read.
function M:credits_balance()
  return self:request("GET", "/credits/balance")
end

return M
