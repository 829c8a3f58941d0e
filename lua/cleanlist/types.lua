---@meta
-- luacheck: ignore
-- Types for lua-language-server (LuaCATS): the shapes the client returns. Nothing here runs;
-- the README says how to point the language server at lua/.

---@class cleanlist.Error
---@field kind string invalid_request, auth, permission, not_found, conflict, quote, spend_cap, insufficient_credits, rate_limited, server, transport, timeout, tls, decode, config, api
---@field code string? the API's code (validation_error, quote_expired, ...), or one named after the status for legacy errors
---@field status integer? the HTTP status
---@field message string
---@field fix string?
---@field retryable boolean?
---@field ambiguous boolean? the server may have acted on the request
---@field sent boolean? false when no byte of the last attempt reached the server
---@field request_id string?
---@field retry_after number? seconds
---@field detail table[]? validation problems {loc, msg, type}
---@field attempts integer?
---@field estimate table? the estimate a spend_cap or insufficient_credits refusal was based on
---@field last_status table? wait: the last status seen
---@field dispatched table? legacy_enrich_bulk: what earlier calls started before one failed

---@class cleanlist.Whoami
---@field organization_id string
---@field user_id string
---@field auth_type string
---@field tier string
---@field scopes string[]
---@field features string[]
---@field timestamp_ms integer

---@class cleanlist.List
---@field list_id string
---@field name string
---@field lead_count integer
---@field enriched_count integer?
---@field reused boolean?

---@class cleanlist.Lead
---@field lead_id string
---@field first_name string?
---@field last_name string?
---@field email string?
---@field phone string?
---@field linkedin_url string?

---@class cleanlist.WorkflowStatus
---@field workflow_id string
---@field status string pending, running, completed, completed_with_errors, failed, cancelled
---@field progress number?
---@field total integer?
---@field processed integer?
---@field credits_charged integer?
---@field credits_refunded integer?
---@field result table? a single person's result, once terminal
---@field polls integer? (client:wait) the status requests made

---@class cleanlist.Pager
---@field err cleanlist.Error? the error of the page that failed, after the loop
---@field page table? the last page read (task_id, total, envelope fields)
---@field pages integer pages fetched
---@field count integer items handed out
---@operator call: table?
local Pager = {}

--- Every remaining item, or nil and the error of the page that failed.
---@return table[]|nil
---@return cleanlist.Error|nil
function Pager:all() end
