--- The MCP error envelope (API.md §3.1):
-- {"error":{"code","problem","cause","fix","retryable","docs_url","request_id", ...}}.
local json = require "sandbox.json"

local M = {}

local DOCS = "https://docs.cleanlist.ai/errors/"

--- Default status, retryability and wording per code (API.md §3.2). Callers may override
-- problem/cause/fix per response.
M.catalogue = {
  validation_error = {
    status = 400,
    retryable = false,
    problem = "The request failed validation.",
    fix = "Correct the request body or parameters and send it again.",
  },
  insufficient_credits = {
    status = 400,
    retryable = false,
    problem = "The organization does not have enough credits for this call.",
    fix = "Top up at app.cleanlist.ai/billing, or reduce the scope of the call.",
  },
  spend_cap_exceeded = {
    status = 400,
    retryable = false,
    problem = "The recomputed cost exceeds the quote.",
    fix = "Request a new estimate with POST /credits/estimate and retry with its quote_id.",
  },
  -- Quotes (sandbox.quotes) and the other paid-call checks of the credits / enrichment /
  -- smart-agent / CSV-import endpoints.
  quote_required = {
    status = 400,
    retryable = false,
    problem = "This call requires a quote_id.",
    fix = "Call POST /credits/estimate with the same parameters and retry with its quote_id.",
  },
  quote_invalid = {
    status = 400,
    retryable = false,
    problem = "The quote_id is not valid.",
    fix = "Request a new estimate with POST /credits/estimate and pass its quote_id unchanged.",
  },
  quote_expired = {
    status = 400,
    retryable = false,
    problem = "The quote has expired.",
    fix = "Quotes are valid for 5 minutes: request a new estimate and retry with its quote_id.",
  },
  quote_mismatch = {
    status = 400,
    retryable = false,
    problem = "The quote was issued for a different request.",
    fix = "Estimate exactly the request you are making (same tool, list or cohort, scope and "
      .. "options), then retry with that quote_id.",
  },
  quote_used = {
    status = 409,
    retryable = false,
    problem = "The quote has already been used.",
    fix = "Quotes are single-use: request a new estimate for another run.",
  },
  approval_required = {
    status = 400,
    retryable = false,
    problem = "This run needs human approval.",
    fix = "Narrow the run (lead_scope subset with max_rows) or route it for approval.",
  },
  missing_column = {
    status = 400,
    retryable = false,
    problem = "column_mapping names a header that is not in the CSV.",
    fix = "Map each field to a header of the file's first row (details.missing_headers).",
  },
  csv_import_disabled = {
    status = 503,
    retryable = true,
    problem = "CSV import is temporarily disabled.",
    fix = "Retry later with backoff.",
  },
  unauthenticated = {
    status = 401,
    retryable = false,
    problem = "No valid credentials were sent.",
    fix = "Send the header `Authorization: Bearer clapi_...` with an API key from " .. "Settings > API Keys.",
  },
  invalid_api_key = {
    status = 401,
    retryable = false,
    problem = "The API key is not valid.",
    cause = "No active key matches the bearer token; it may be mistyped, revoked or from " .. "another environment.",
    fix = "Check the key, or create a new one in Settings > API Keys.",
  },
  insufficient_scope = {
    status = 403,
    retryable = false,
    problem = "The credential lacks the scope this endpoint requires.",
    fix = "Use a key whose user holds the required scope, or ask an admin to grant it.",
  },
  feature_gated = {
    status = 403,
    retryable = false,
    problem = "The organization's plan does not include this feature.",
    fix = "Upgrade the plan at app.cleanlist.ai/billing.",
  },
  not_found = {
    status = 404,
    retryable = false,
    problem = "The resource was not found.",
    fix = "Check the path and identifiers against the API reference.",
  },
  list_cap_reached = {
    status = 403,
    retryable = false,
    problem = "You have reached the maximum number of lead lists.",
    fix = "Delete lists you no longer need, or reuse an existing list.",
  },
  list_protected = {
    status = 403,
    retryable = false,
    problem = "The list is protected.",
    fix = "Protected lists cannot be deleted or edited; use another list.",
  },
  export_link_invalid = { -- the signed CSV download (outside the API path)
    status = 403,
    retryable = false,
    problem = "The download link's signature is not valid.",
    cause = "The exp or sig query parameter is missing or was changed.",
    fix = "Use the download_url exactly as POST /export/csv/signed-url returned it.",
  },
  export_link_expired = {
    status = 410,
    retryable = false,
    problem = "The download link has expired.",
    cause = "Signed export links are valid for 24 hours.",
    fix = "Request a new link with POST /export/csv/signed-url.",
  },
  method_not_allowed = {
    status = 405,
    retryable = false,
    problem = "The method is not allowed on this path.",
    fix = "Use one of the methods listed in the Allow header.",
  },
  payload_too_large = {
    status = 413,
    retryable = false,
    problem = "The request body is too large.",
    fix = "Send a smaller body.",
  },
  rate_limited = {
    status = 429,
    retryable = true,
    problem = "Too many requests.",
    fix = "Wait for the Retry-After interval, then retry.",
  },
  internal_error = {
    status = 500,
    retryable = true,
    problem = "The sandbox failed while handling the request.",
    fix = "Retry the request; if it keeps failing, read the sandbox's stderr.",
  },
}

--- "https://docs.cleanlist.ai/errors/<code with _ replaced by ->".
function M.docs_url(code)
  return DOCS .. (code:gsub("_", "-"))
end

local base_keys = {
  code = true,
  problem = true,
  cause = true,
  fix = true,
  retryable = true,
  docs_url = true,
  request_id = true,
  status = true,
}

--- Returns status, body (a table for json.encode) for `code`. `fields` may set problem, cause,
-- fix, retryable, status, and any extra members (details, credit fields, retry_after_ms...).
function M.build(code, request_id, fields)
  local entry = M.catalogue[code] or M.catalogue.internal_error
  fields = fields or {}
  local err = {
    code = code,
    problem = fields.problem or entry.problem,
    cause = fields.cause or entry.cause or json.null,
    fix = fields.fix or entry.fix or json.null,
    retryable = fields.retryable,
    docs_url = M.docs_url(code),
    request_id = request_id,
  }
  if err.retryable == nil then err.retryable = entry.retryable end
  for k, v in pairs(fields) do
    if not base_keys[k] then err[k] = v end
  end
  return fields.status or entry.status, { error = err }
end

return M
