--- Behaviour switches of the API, kept in the state area `switches` (so that
-- POST /__sandbox/reset returns them to what the flags set):
--   strict_quotes  (bool; --strict-quotes) POST /enrichment/by-task requires a quote_id
--                  (400 quote_required), the V2 rule; default false (the seeds' rule)
--   csv_import     (bool; default true) the CSV-import feature flag; false makes
--                  POST /lead-lists/{id}/csv-import answer 503 csv_import_disabled
--   strict         (bool; --strict) request bodies are checked against the strict variant of
--                  their schema (sandbox.validate.strict): the v2 schema's one spelling per
--                  field and enum value, its fields only (422 extra_forbidden for the seeds'
--                  list_id alias lead_list_id, ...); default false (the seeds' spellings pass)
-- Control endpoint (sandbox.control): GET /__sandbox/switches -> {"strict_quotes","csv_import",
-- "strict"}; POST /__sandbox/switches with any of them.
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"

local M = {}

M.NAMES = { "strict_quotes", "csv_import", "strict" }
local KNOWN = util.set_of(M.NAMES)

state_mod.register("switches", function(state)
  return {
    strict_quotes = state.config.strict_quotes and true or false,
    csv_import = true,
    strict = state.config.strict and true or false,
  }
end)

function M.get(state)
  return state.data.switches
end

-- The switches as a JSON object (with `extra` fields first, if given).
local function view(sw, extra)
  local t = extra or {}
  for _, k in ipairs(M.NAMES) do
    t[k] = sw[k]
  end
  return t
end

local function post(app, req, rid)
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then
    return errors.build("validation_error", rid, { problem = "The body must be a JSON object." })
  end
  local sw = app.state.data.switches
  for k, v in pairs(body) do
    if not KNOWN[k] then
      return errors.build("validation_error", rid, {
        problem = "Unknown switch " .. tostring(k) .. " (" .. table.concat(M.NAMES, ", ") .. ").",
      })
    end
    if type(v) ~= "boolean" then
      return errors.build("validation_error", rid, { problem = tostring(k) .. " must be a boolean." })
    end
  end
  for k, v in pairs(body) do
    sw[k] = v
  end
  return 200, view(sw, { ok = true })
end

--- Registers GET and POST /switches on an app's control router (sandbox.control).
function M.register_control(router)
  router:add("GET", "/switches", {
    handler = function(app)
      return 200, view(app.state.data.switches)
    end,
  })
  router:add("POST", "/switches", { handler = post })
end

return M
