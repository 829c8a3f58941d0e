--- API-key management (API.md §6.7): under https://api.cleanlist.ai/api/v1/api-keys, not the
-- public base path, and callable only with a Clerk session token (cleanlist.new{ api_key =
-- "<session JWT>" }); a clapi_ key gets 401 there. All free.
local endpoint = require "cleanlist.endpoint"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

local CREATE = define {
  "POST",
  "/api/v1/api-keys",
  root = true,
  body = {
    name = { "string", required = true, min_len = 1, max_len = 100 },
  },
}
local INDEX = define { "GET", "/api/v1/api-keys", root = true }
local REVOKE = define { "POST", "/api/v1/api-keys/{key_id}/revoke", root = true }
local REVOKE_ALL = define { "POST", "/api/v1/api-keys/revoke-all", root = true }
local REQUESTS = define {
  "GET",
  "/api/v1/api-keys/{key_id}/requests",
  root = true,
  query = {
    limit = { "integer", min = 1, max = 500 },
  },
}

--- POST /api/v1/api-keys: a new key; its secret `key` is shown this once. Session only.
---@param body {name: string}
---@return {key_id: string, key: string, name: string, prefix: string, last4: string}|nil
---@return cleanlist.Error|nil
function M:create_api_key(body)
  return call(self, CREATE, body)
end

--- GET /api/v1/api-keys: the session user's keys (never their secrets). Session only.
---@return {keys: table[]}|nil
---@return cleanlist.Error|nil
function M:list_user_api_keys()
  return call(self, INDEX)
end

--- POST /api/v1/api-keys/{key_id}/revoke: revokes one key at once. Session only.
---@param key_id string
---@return {key_id: string, is_active: boolean}|nil
---@return cleanlist.Error|nil
function M:revoke_api_key(key_id)
  return call(self, REVOKE, key_id)
end

--- POST /api/v1/api-keys/revoke-all: revokes every key of the session user. Session only.
---@return {revoked: integer, key_ids: string[]}|nil
---@return cleanlist.Error|nil
function M:revoke_all_api_keys()
  return call(self, REVOKE_ALL)
end

--- GET /api/v1/api-keys/{key_id}/requests: the request log of one key. Session only.
---@param key_id string
---@param query? {limit?: integer}
---@return {key_id: string, requests: table[]}|nil
---@return cleanlist.Error|nil
function M:list_api_key_requests(key_id, query)
  return call(self, REQUESTS, key_id, query)
end

return M
