--- GET /usage (API.md §6.1): the organisation's API traffic over the last `days` (1-365,
-- default 7) grouped by tool | key | day | error (default tool). UsageReportResponse (no
-- envelope fields: the V2 schema is closed).
--
-- Groups: tool = the request's route under its prefix ("/api/v1/public/enrichment/bulk",
-- templated paths keep their {placeholders}); key = the API key id ("ak_..."); day = the UTC
-- date "YYYY-MM-DD" (newest first); error = the HTTP status of non-2xx responses ("404"), and
-- "ok" for 2xx. errors = non-2xx responses. credits_spent = the credits the requests
-- themselves debited (reservations and charges minus refunds made during the request; the
-- refunds of later settlements are not attributed back). Requests that failed
-- authentication are not counted (they belong to no organisation). Recording lives in
-- sandbox.usage (called from init.lua for every API request).
local http = require "sandbox.http"
local usage = require "sandbox.usage"
local validate = require "sandbox.validate"

local M = {}

local GROUPS = { "tool", "key", "day", "error" }

function M.report(ctx)
  local query = http.parse_query(ctx.req.query)
  local days, err = validate.query_int(query, "days", 7, 1, 365)
  if err then return validate.response { err } end
  local group_by = validate.query_string(query, "group_by") or "tool"
  local ok = false
  for _, g in ipairs(GROUPS) do
    if g == group_by then ok = true end
  end
  if not ok then
    return validate.response {
      validate.error(
        { "query", "group_by" },
        "literal_error",
        "Input should be 'tool', 'key', 'day' or 'error'",
        group_by
      ),
    }
  end
  return 200, usage.report(ctx.state, days, group_by, ctx.now_ms())
end

function M.register(router)
  router:add("GET", "/usage", { scope = "admin:api_keys", handler = M.report })
end

return M
