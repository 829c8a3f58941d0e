--- cleanlist.errors: the one error type of the client.
-- Operational failures are returned as `nil, err`, where err has the metatable
-- `cleanlist.Error`. Both error shapes of the API are parsed: the MCP envelope
-- {"error": {...}} and FastAPI's {"detail": ...}. No message ever contains the API key.
local json = require "cleanlist.json"

local type, pairs, ipairs, tostring, tonumber = type, pairs, ipairs, tostring, tonumber
local concat, setmetatable, getmetatable = table.concat, setmetatable, getmetatable

local M = {}

local Error = { __name = "cleanlist.Error" }
Error.__index = Error
M.Error = Error

-- Fields copied as they are from the MCP error envelope.
local ENVELOPE_FIELDS = {
  "code",
  "problem",
  "cause",
  "fix",
  "retryable",
  "docs_url",
  "request_id",
  "details",
  "suggested_actions",
  "estimated_cost_credits",
  "available_credits",
  "shortfall_credits",
}

local function nonnull(v)
  if v == json.null then return nil end
  return v
end

function Error:__tostring()
  local head = "cleanlist: " .. (self.kind or "error") .. " error"
  local tags = {}
  if self.status then tags[#tags + 1] = "HTTP " .. tostring(self.status) end
  if self.code then tags[#tags + 1] = tostring(self.code) end
  if #tags > 0 then head = head .. " (" .. concat(tags, " ") .. ")" end
  local parts = { head .. ": " .. tostring(self.message or "no message") }
  if self.fix then parts[#parts + 1] = "fix: " .. tostring(self.fix) end
  if self.ambiguous then parts[#parts + 1] = "the outcome is unknown: the server may have acted on the request" end
  if self.attempts and self.attempts > 1 then parts[#parts + 1] = "after " .. self.attempts .. " attempts" end
  if self.request_id then parts[#parts + 1] = "request " .. tostring(self.request_id) end
  return concat(parts, "; ")
end

-- "failed: " .. err reads as the message (nginx code writes errors this way).
function Error.__concat(a, b)
  return tostring(a) .. tostring(b)
end

-- A copy of v with the key scrubbed from every string, at any depth (a server may echo the
-- Authorization value inside error.details or a 422 detail[].msg).
local function scrub(v, redactor, depth)
  if type(v) == "string" then return redactor:redact(v) end
  if type(v) ~= "table" or v == json.null or depth > 16 or getmetatable(v) then return v end
  local c = {}
  for k, item in pairs(v) do
    c[scrub(k, redactor, depth + 1)] = scrub(item, redactor, depth + 1)
  end
  return c
end

--- Builds an error from fields. `redactor`, when given, is a credential whose key is
-- scrubbed from every string, nested ones included.
function M.new(fields, redactor)
  local e = {}
  for k, v in pairs(fields) do
    if redactor then v = scrub(v, redactor, 0) end
    e[k] = v
  end
  return setmetatable(e, Error)
end

function M.is_error(v)
  return getmetatable(v) == Error
end

local function loc_string(loc)
  if type(loc) ~= "table" then return nil end
  local parts = {}
  for i, p in ipairs(loc) do
    parts[i] = tostring(p)
  end
  return concat(parts, ".")
end

-- {"detail": "text"} or {"detail": [{loc, msg, type}, ...]} (FastAPI / legacy API).
local function from_detail(e, detail)
  if type(detail) == "string" then
    e.message = detail
  elseif type(detail) ~= "table" or detail == json.null then
    return
  elseif type(detail) == "table" then
    e.detail = detail
    local first = detail[1]
    if type(first) == "table" then
      local where = loc_string(first.loc)
      e.message = (where and (where .. ": ") or "") .. tostring(first.msg or "invalid request")
      if #detail > 1 then e.message = e.message .. " (and " .. (#detail - 1) .. " more)" end
    end
  end
end

-- Envelope fields that are text, and the one that is a flag: a server that sends another type
-- there (a number is kept as text) does not get it into the error as it is.
local TEXT_FIELDS = { "code", "problem", "cause", "fix", "docs_url", "request_id" }

local function from_envelope(e, env)
  for _, k in ipairs(ENVELOPE_FIELDS) do
    e[k] = nonnull(env[k])
  end
  for _, k in ipairs(TEXT_FIELDS) do
    local v = e[k]
    if type(v) == "number" then
      e[k] = tostring(v)
    elseif type(v) ~= "string" then
      e[k] = nil
    end
  end
  if type(e.retryable) ~= "boolean" then e.retryable = nil end
  e.message = e.problem
  local ms = tonumber(nonnull(env.retry_after_ms))
  if ms and ms >= 0 then e.retry_after = ms / 1000 end
end

-- The kind an API error code selects over the one its status gives.
local CODE_KINDS = {
  insufficient_credits = "insufficient_credits",
  rate_limited = "rate_limited",
  validation_error = "invalid_request",
  spend_cap_exceeded = "spend_cap",
  quote_required = "quote",
  quote_invalid = "quote",
  quote_expired = "quote",
  quote_used = "quote",
  quote_mismatch = "quote",
}
M.CODE_KINDS = CODE_KINDS

-- The code of a legacy {"detail": ...} error, which carries none: named after its status.
local LEGACY_CODES = {
  [400] = "bad_request",
  [401] = "not_authenticated",
  [402] = "insufficient_credits",
  [403] = "forbidden",
  [404] = "not_found",
  [409] = "conflict",
  [413] = "payload_too_large",
  [422] = "validation_error",
  [429] = "rate_limited",
  [500] = "internal_error",
  [502] = "bad_gateway",
  [503] = "service_unavailable",
  [504] = "gateway_timeout",
}

--- Turns a non-2xx response into an error. ctx: {kind_for_status=fn, retry_after=fn(v),
-- credential=, method=, path=}.
function M.from_response(res, ctx)
  local e = { status = res.status, method = ctx.method, path = ctx.path }
  e.kind = ctx.kind_for_status(res.status)
  local body = json.decode(res.body or "")
  if type(body) == "table" and type(body.error) == "table" then
    from_envelope(e, body.error)
  elseif type(body) == "table" and body.detail ~= nil then
    from_detail(e, body.detail)
    e.code = LEGACY_CODES[res.status] or ("http_" .. tostring(res.status))
  else
    local ctype = res.headers and res.headers["content-type"] or "no content type"
    e.message = "HTTP "
      .. tostring(res.status)
      .. " with a body that is not an API error ("
      .. ctype
      .. ", "
      .. #(res.body or "")
      .. " bytes)"
    e.body = (res.body or ""):sub(1, 512)
  end
  e.kind = CODE_KINDS[e.code] or e.kind
  if type(e.message) ~= "string" or e.message == "" then e.message = "HTTP " .. tostring(res.status) end
  e.request_id = e.request_id or (res.headers and res.headers["x-request-id"])
  local ra = res.headers and res.headers["retry-after"]
  if ra then e.retry_after = ctx.retry_after(ra) or e.retry_after end
  return M.new(e, ctx.credential)
end

return M
