--- Waiting for async work: client:wait follows one run to its end, client:wait_all many at
-- once. A run is an enrichment workflow (enrich-…, bulk-enrich-…) or cohort handle
-- (cl-task_…), a smart-agent run (run_…), or a legacy bulk job (public_bulk_…); or the table a
-- dispatching call returned. Polls are free but count against the rate limit, so the wait
-- starts short, backs off, and once the run shows progress sleeps until the end its rate
-- predicts. Status values it does not know are not terminal.
--
-- A run that ended is the answer, whatever its end: completed, completed_with_errors, failed
-- or cancelled come back as the status (read status, credits_charged, credits_refunded,
-- refund_status). An error means the outcome is unknown, not that the run failed: a timeout
-- (the run is still going), or a poll that failed; the error says so (`outcome = "unknown"`,
-- the last status seen in `last_status`).
local errors = require "cleanlist.errors"
local progress = require "cleanlist.progress"

local type, max, min = type, math.max, math.min

---@class cleanlist.Client
local M = {}

--- Terminal statuses by kind of run.
M.TERMINAL = {
  enrichment = { completed = true, completed_with_errors = true, failed = true, cancelled = true },
  smart_agent = { completed = true, failed = true },
  legacy = { completed = true, completed_with_errors = true, failed = true, cancelled = true },
}

local FETCH = {
  enrichment = function(c, id)
    return c:enrichment_status(id)
  end,
  smart_agent = function(c, id)
    return c:get_smart_agent_results(id)
  end,
  legacy = function(c, id)
    return c:legacy_enrich_status { workflow_id = id }
  end,
}

-- The kind and id of what to wait for.
local function classify(target, kind)
  if type(target) == "table" then
    if target.smart_agent_task_id then return kind or "smart_agent", target.smart_agent_task_id end
    local id = target.workflow_id
    if type(id) == "string" and target.task_ids then return kind or "legacy", id end
    if type(id) == "string" then return kind or "enrichment", id end
    if type(target.task_id) == "string" then return kind or "enrichment", target.task_id end
    return nil
  end
  if type(target) ~= "string" or target == "" then return nil end
  if kind then return kind, target end
  if target:find("^run_") then return "smart_agent", target end
  if target:find("^public_bulk_") then return "legacy", target end
  return "enrichment", target
end

-- The error of a wait that timed out: the outcome is unknown, the run goes on.
local function timed_out(id, st, polls, waited)
  return errors.new {
    kind = "timeout",
    code = "wait_timeout",
    last_status = st,
    polls = polls,
    outcome = "unknown",
    message = ("%s is still %s after %.0f s (timeout): its outcome is unknown, the run goes on; %s"):format(
      id,
      tostring(st.status),
      waited,
      "wait again to learn it"
    ),
  }
end

-- The share of the run done (0..1), or nil when the status does not say.
local function done_share(st)
  return progress.of(st).share
end

--- Polls a run until it reaches a terminal status and returns that status (with `result` for
-- a single person's enrichment; `polls` = requests made), failed and cancelled included.
-- opts: timeout (seconds; then nil and an error of kind "timeout", outcome "unknown", with
-- `last_status`: not a failure, the run goes on), interval (first wait, default 2 s),
-- max_interval (default 300 s), on_progress(status) after every poll, kind ("enrichment" |
-- "smart_agent" | "legacy") when the id does not tell. A failed poll returns nil, err (after
-- the client's own retries; outcome "unknown"). Intervals follow the client's time_scale.
---@param target string|table
---@param opts? {timeout?: number, interval?: number, max_interval?: number, on_progress?: fun(status: table), kind?: string}
---@return table|nil
---@return cleanlist.Error|nil
function M:wait(target, opts)
  opts = opts or {}
  local kind, id = classify(target, opts.kind)
  if not kind or not FETCH[kind] then
    return nil,
      errors.new {
        kind = "invalid_request",
        message = "wait needs a workflow id, a "
          .. "cl-task_ handle, a smart-agent run id, a legacy workflow id, or the result that named one",
      }
  end
  -- A result that is already final (a company cohort, enriched at once) is its own answer.
  if
    type(target) == "table"
    and M.TERMINAL[kind][target.status]
    and type(target.workflow_id) ~= "string"
    and type(target.smart_agent_task_id) ~= "string"
  then
    return target
  end
  local scale = self.time_scale or 1
  local interval = (opts.interval or 2) / scale
  local cap = (opts.max_interval or 300) / scale
  local start = self.clock()
  local deadline = opts.timeout and start + opts.timeout
  local polls, last, seen = 0, nil, nil
  local idle_at = start -- the last time the run was seen with nothing done
  local wait = interval
  -- A run that its dispatching call just returned as pending has nothing to show yet.
  if type(target) == "table" and (target.status == "pending" or target.status == "processing") then
    self:_sleep(interval, "poll", id)
  end
  while true do
    local st, err = FETCH[kind](self, id)
    polls = polls + 1
    if not st then
      err.last_status, err.polls, err.outcome = last, polls, "unknown"
      return nil, err
    end
    last = st
    if opts.on_progress then opts.on_progress(st) end
    if M.TERMINAL[kind][st.status] then
      st.polls = polls
      return st
    end
    local now = self.clock()
    local share = done_share(st)
    if share and share > 0 and share < 1 then
      -- The rate since the previous sighting (or since the run was last seen idle) predicts
      -- the end.
      local t0, s0 = idle_at, 0
      if seen and share > seen.share then
        t0, s0 = seen.t, seen.share
      end
      local rate = (share - s0) / max(now - t0, 1e-3)
      wait = (1 - share) / rate * 1.02 + interval / 4
      seen = { t = now, share = share }
    else
      if not share or share == 0 then idle_at = now end
      if polls > 1 then wait = wait * 2 end
    end
    wait = min(max(wait, interval / 2), cap)
    if deadline then
      if now >= deadline then return nil, timed_out(id, st, polls, now - start) end
      wait = min(wait, deadline - now)
    end
    self:_sleep(wait, "poll", id)
  end
end

--- Waits for many runs at once (concurrently, under the one rate limiter). Returns an array of
-- final statuses in the order of `targets`, and, when any wait failed, a second array of
-- errors at the same positions. opts: those of wait, plus concurrency (default 8).
---@param targets (string|table)[]
---@param opts? table
---@return table[]
---@return cleanlist.Error[]|nil
function M:wait_all(targets, opts)
  opts = opts or {}
  local fns = {}
  for i, t in ipairs(targets) do
    fns[i] = function()
      return self:wait(t, opts)
    end
  end
  local results = self:gather(fns, { concurrency = opts.concurrency or 8 })
  local out, errs = {}, nil
  for i = 1, #targets do
    out[i] = results[i][1]
    if results[i][2] then
      errs = errs or {}
      errs[i] = results[i][2]
    end
  end
  return out, errs
end

return M
