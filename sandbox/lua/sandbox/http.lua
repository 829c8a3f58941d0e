--- Small HTTP helpers for handlers: query strings, credential redaction and the envelope of
-- MCP-style response bodies. The redactions are the core's (cl_auth.c, through
-- sandbox.native), loaded on first use so that in-process specs can load this module.
local null = require("sandbox.json").null

local M = {}

local char, tonumber = string.char, tonumber

local function hex_char(h)
  return char(tonumber(h, 16))
end

--- Percent-decodes s ("+" is a space, as in form-encoded query strings).
function M.url_decode(s)
  s = s:gsub("%+", " ")
  return (s:gsub("%%(%x%x)", hex_char))
end

--- Parses a raw query string into a table name -> value (a repeated name -> array of values).
function M.parse_query(qs)
  local out = {}
  if qs == nil or qs == "" then return out end
  for pair in qs:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    k = M.url_decode(k or pair)
    v = M.url_decode(v or "")
    local prev = out[k]
    if prev == nil then
      out[k] = v
    elseif type(prev) == "table" then
      prev[#prev + 1] = v
    else
      out[k] = { prev, v }
    end
  end
  return out
end

local native

local function core()
  native = native or require "sandbox.native"
  return native
end

--- A credential header value with its secret removed: "Bearer clapi_…a4f9". Only the scheme
-- (when it is a plain word), the clapi_ prefix and the last four characters of a token of at
-- least 12 characters are kept (cl_redact_credential).
function M.redact_credential(value)
  return core().redact_credential(value)
end

--- s with anything that looks like a clapi_ key cut down to "clapi_…" (for log lines and
-- echoed paths; cl_redact_text with CL_REDACT_KEYS).
function M.scrub(s)
  return core().scrub(tostring(s))
end

--- body completed with the envelope fields: timestamp_ms = now_ms, agent_instructions = note
-- and usage = usage (json.null when nil); task_id and message keep the values body already
-- has (json.null when it has none). Returns body.
function M.envelope(body, now_ms, note, usage)
  body.task_id = body.task_id or null
  body.timestamp_ms = now_ms
  body.agent_instructions = note or null
  body.usage = usage or null
  body.message = body.message or null
  return body
end

--- Header names whose values are credentials, redacted wherever they are recorded.
M.SECRET_HEADERS = { authorization = true, ["proxy-authorization"] = true, ["x-api-key"] = true }

return M
