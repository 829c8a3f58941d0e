--- POST /__sandbox/workflows/{id}/cancel: ends a run that has not ended `cancelled` now, the
-- way a user's cancel would. {id} is an enrichment workflow id (enrich-…, bulk-enrich-…), a
-- cl-task_ handle bound to one, or a legacy bulk workflow id (public_bulk_…). The leads
-- processed so far stay charged, the rest of the reservation is refunded (sandbox.workflows
-- and sandbox.legacy say how). Answers 200 with the run's status body, 409 conflict when the
-- run has already ended (its status in `run_status`), 404 not_found for an unknown id.
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local legacy = require "sandbox.legacy"
local workflows = require "sandbox.workflows"

local M = {}

local function ended(rid, id, status)
  return errors.build("conflict", rid, {
    status = 409,
    retryable = false,
    problem = ("The workflow %s has already ended (%s): there is nothing to cancel."):format(http.scrub(id), status),
    fix = "Cancel a run that is pending or running.",
    run_status = status,
  })
end

local function cancel(app, _, rid, params)
  local id, state = params.id, app.state
  local wf = workflows.get(state, id)
  if wf then
    local ok, status = workflows.cancel(state, wf)
    if not ok then return ended(rid, id, status) end
    return 200, workflows.status_body(state, wf, id)
  end
  local job = legacy.find(state, id)
  if job then
    local ok, status = legacy.cancel(app, job)
    if not ok then return ended(rid, id, status) end
    return 200, legacy.status_body(state, job)
  end
  return errors.build("not_found", rid, {
    problem = ("There is no enrichment or legacy bulk workflow %s."):format(http.scrub(id)),
    fix = "Give the workflow_id (or cl-task_ handle) a dispatching call returned.",
  })
end

--- Registers the route on an app's control router (sandbox.control).
function M.register_control(router)
  router:add("POST", "/workflows/{id}/cancel", { handler = cancel })
end

return M
