--- Behaviour switches of the paid endpoints, kept in the state area `switches` (so that
-- POST /__sandbox/reset returns them to what the flags set):
--   strict_quotes  (bool; --strict-quotes) POST /enrichment/by-task requires a quote_id
--                  (400 quote_required), the V2 rule; default false (the seeds' rule)
--   csv_import     (bool; default true) the CSV-import feature flag; false makes
--                  POST /lead-lists/{id}/csv-import answer 503 csv_import_disabled
-- Control endpoint (sandbox.control): GET /__sandbox/switches -> {"strict_quotes","csv_import"};
-- POST /__sandbox/switches with either or both.
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local state_mod = require "sandbox.state"

local M = {}

state_mod.register("switches", function(state)
  return { strict_quotes = state.config.strict_quotes and true or false, csv_import = true }
end)

function M.get(state)
  return state.data.switches
end

local function post(app, req, rid)
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then
    return errors.build("validation_error", rid, { problem = "The body must be a JSON object." })
  end
  local sw = app.state.data.switches
  for k, v in pairs(body) do
    if sw[k] == nil then
      return errors.build("validation_error", rid, {
        problem = "Unknown switch " .. tostring(k) .. " (strict_quotes, csv_import).",
      })
    end
    if type(v) ~= "boolean" then
      return errors.build("validation_error", rid, { problem = tostring(k) .. " must be a boolean." })
    end
  end
  for k, v in pairs(body) do
    sw[k] = v
  end
  return 200, { ok = true, strict_quotes = sw.strict_quotes, csv_import = sw.csv_import }
end

--- Registers GET and POST /switches on an app's control router (sandbox.control).
function M.register_control(router)
  router:add("GET", "/switches", {
    handler = function(app)
      local sw = app.state.data.switches
      return 200, { strict_quotes = sw.strict_quotes, csv_import = sw.csv_import }
    end,
  })
  router:add("POST", "/switches", { handler = post })
end

return M
