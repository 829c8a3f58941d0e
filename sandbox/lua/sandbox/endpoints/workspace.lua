--- Workspace & identity (API.md §6.1): GET /whoami, GET /credits/balance.
local http = require "sandbox.http"
local json = require "sandbox.json"

local M = {}

local null = json.null
local format = string.format

--- "v***@example.com": what an api_key caller sees of the key creator's address.
function M.mask_email(email)
  if email == nil then return null end
  local first, domain = email:match("^(.)[^@]*@(.+)$")
  if not first then return "***" end
  return first .. "***@" .. domain
end

local function credits_note(credits)
  return format("You have %d credits remaining.", credits)
end

-- The parts of WhoamiResponse that do not change between calls with the same key.
local function whoami_static(key)
  local user, org = key.user, key.org
  local auth_type = key.auth_type or "api_key"
  return {
    -- masked for keys so a leaked key cannot reveal its creator's address; full for sessions
    user_email = auth_type == "api_key" and M.mask_email(user.email) or (user.email or null),
    user_id = user.id,
    user_name = user.name,
    organization_id = org.id,
    organization_name = org.name,
    auth_type = auth_type,
    scopes = key.scopes,
    tier = org.tier,
    appsumo_tier = org.appsumo_tier,
    features = org.features,
    task_id = null,
    usage = null,
    message = null,
  }
end

--- WhoamiResponse + envelope fields. GET /whoami is the benchmark's request, so the static
-- part is encoded once per key and only timestamp_ms and agent_instructions are added per call.
function M.whoami(ctx)
  local key = ctx.key
  local head = key.whoami_json
  if not head then
    head = json.encode(whoami_static(key)):sub(1, -2) -- without the closing "}"
    key.whoami_json = head
  end
  local note = "null"
  if key.scope_set["credits:read"] then note = json.encode(credits_note(ctx.state.credits)) end
  return 200, head .. ',"agent_instructions":' .. note .. ',"timestamp_ms":' .. format("%d", ctx.now_ms()) .. "}"
end

--- CreditsBalanceResponse + envelope fields.
function M.balance(ctx)
  local credits = ctx.state.credits
  return 200, http.envelope({ organization_id = ctx.org.id, credits = credits }, ctx.now_ms(), credits_note(credits))
end

function M.register(router)
  router:add("GET", "/whoami", { handler = M.whoami })
  router:add("GET", "/credits/balance", { scope = "credits:read", handler = M.balance })
end

return M
