--- cleanlist.progress: how far a run is, read from any status the API returns (an enrichment
-- workflow, a smart-agent run, a legacy bulk job), whatever its spelling.
--
--   local p = progress.of(status)   --> { processed =, total =, completed =, failed =, share = }
local M = {}

local function num(v)
  return type(v) == "number" and v or tonumber(v)
end

--- The counters of a run status: processed and total rows (nil when the status does not say),
-- completed and failed rows, and share (0..1) of the run done.
---@param st table
---@return {processed: number?, total: number?, completed: number?, failed: number?, share: number?}
function M.of(st)
  local summary = type(st.summary) == "table" and st.summary or {}
  local total = num(st.total) or num(summary.total) or num(st.total_rows) or num(st.contacts)
  local completed = num(st.succeeded) or num(st.completed) or num(summary.succeeded) or num(st.completed_rows)
  local failed = num(st.failed) or num(summary.failed) or num(st.failed_rows)
  local processed = num(st.processed) or num(st.processed_rows)
  if not processed and completed then processed = completed + (failed or 0) end
  local share
  if total and total > 0 and processed then
    share = processed / total
  elseif num(st.progress) then
    share = num(st.progress) / 100
  end
  if share and share > 1 then share = 1 end
  return { processed = processed, total = total, completed = completed, failed = failed, share = share }
end

return M
