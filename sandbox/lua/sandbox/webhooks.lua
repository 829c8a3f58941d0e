--- Webhook delivery for the legacy bulk API (API.md §6.8): one `enrichment.completed` POST per
-- completed workflow that named a webhook_url, retried up to 5 times with exponential backoff,
-- and the delivery log behind GET /webhooks/deliveries. The HTTP work happens on the webhook
-- worker thread (sandbox/sb_webhook.c, module `sandbox.webhook_worker`); this module decides
-- what is sent when, at the start of each request and on the sandbox timer's ticks
-- (legacy.pump), which it asks for while deliveries are pending; a result of the worker brings
-- a tick at once.
--
-- Timing: attempt 1 is due when the workflow completes; after a failed attempt n (a non-2xx
-- answer, a connection error, or no answer within 10 s of real time) attempt n+1 is due
-- BACKOFF_MS * 2^(n-1) of sandbox time later (2, 4, 8, 16, 32 s), so --time-scale and
-- POST /__sandbox/clock speed retries up. After attempt 6 (1 try + 5 retries) the delivery is
-- `failed` for good. Every attempt is a row of the delivery log.
--
-- Receivers: loopback URLs only (checked at submission and again in C); no redirects are
-- followed and no proxy is used. The sandbox's own POST /__sandbox/webhook-sink is a receiver
-- for tests: it records what it gets and can be told to fail the next N deliveries.
--
-- State areas:
--   webhooks     { events = { [workflow_id] = ev }, queue = [{w, attempt, due}],
--                  inflight = { [job_id] = {w, attempt, sent_ms} }, pending_n, next_due_ms,
--                  seq }
--     ev: delivery_id, workflow_id, url, body (the JSON text), status ("pending" |
--         "delivered" | "retrying" | "failed"), attempts [row]
-- The test receiver POST /__sandbox/webhook-sink is sandbox.webhook_sink (its functions are
-- also here, as sink_*).
local json = require "sandbox.json"
local http = require "sandbox.http"
local prng = require "sandbox.prng"
local sink = require "sandbox.webhook_sink"
local state_mod = require "sandbox.state"
local util = require "sandbox.util"

local M = {}

local null = json.null
local format, floor = string.format, math.floor

M.MAX_ATTEMPTS = 6 -- 1 try + 5 retries
M.BACKOFF_MS = 2000
M.TIMEOUT_MS = sink.TIMEOUT_MS -- real time: the receiver must answer within 10 s (default)
M.EVENT = "enrichment.completed"
M.sink_receive, M.sink_list, M.sink_clear, M.sink_config = sink.receive, sink.list, sink.clear, sink.config

state_mod.register("webhooks", function()
  return {
    events = {},
    queue = json.array(),
    inflight = {},
    pending_n = 0,
    next_due_ms = false,
    seq = 0,
  }
end)

local worker
do
  local ok, mod = pcall(require, "sandbox.webhook_worker")
  if ok and type(mod) == "table" then worker = mod end
end

local function area(state)
  return state.data.webhooks
end

local iso = util.iso_or_null

--- "http(s)://loopback[:port]/..." check for a webhook_url: true, or nil, pydantic error type
-- and message.
function M.check_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "url_parsing", "Input should be a valid URL, relative URL without a base" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "url_scheme", "URL scheme should be 'http' or 'https'" end
  local authority = rest:match("^([^/?#]*)")
  if authority == "" then return nil, "url_parsing", "Input should be a valid URL, empty host" end
  local loopback_msg = "Value error, the sandbox delivers webhooks to loopback addresses only "
    .. "(127.0.0.0/8, ::1 or localhost)"
  if authority:find("@", 1, true) then return nil, "value_error", loopback_msg end
  local host, port = authority:match("^%[([^%]]+)%](.*)$")
  if not host then
    host, port = authority:match("^([^:]*)(.*)$")
  end
  if port ~= "" and not port:match("^:%d+$") then
    return nil, "url_parsing", "Input should be a valid URL, invalid port number"
  end
  if not require("sandbox.native").is_loopback(host) then -- the core's cl_host_is_loopback
    return nil, "value_error", loopback_msg
  end
  return true
end

-- Runtime state of one app: the jobs posted to the worker (keyed by job id) for the current
-- data table; a new data table (reset, restore) starts a new epoch, so late results of jobs
-- posted before are ignored.
local function runtime(app)
  local d = area(app.state)
  local rt = app._webhooks_rt
  if not rt or rt.data ~= d then
    local epoch = rt and rt.epoch + 1 or 1
    rt = { data = d, epoch = epoch, posted = {}, posted_n = 0, ticks = rt and rt.ticks or 0 }
    app._webhooks_rt = rt
  end
  return rt
end

--- True when no delivery is queued or in flight.
function M.idle(state)
  return area(state).pending_n == 0
end

--- Nothing pending any more: no more ticks wanted (as tick_info reports).
function M.quiet(app)
  local rt = app._webhooks_rt
  if rt then rt.ticks = 0 end
end

local function recompute_due(d)
  local due = false
  for _, q in ipairs(d.queue) do
    if not due or q.due < due then due = q.due end
  end
  d.next_due_ms = due
end

local function enqueue(d, w, attempt, due)
  d.queue[#d.queue + 1] = { w = w, attempt = attempt, due = due }
  d.pending_n = d.pending_n + 1
  if not d.next_due_ms or due < d.next_due_ms then d.next_due_ms = due end
end

--- Schedules the first delivery of wf's completion event (payload: a table), due at `at`.
function M.schedule(state, wf, payload, at)
  local d = area(state)
  if d.events[wf.workflow_id] then return end
  d.seq = d.seq + 1
  local g = prng.new(state.config.seed, 900000 + d.seq)
  d.events[wf.workflow_id] = {
    delivery_id = "whd_" .. g:hex(16),
    workflow_id = wf.workflow_id,
    url = wf.webhook_url,
    body = json.encode(payload),
    status = "pending",
    attempts = json.array(),
  }
  enqueue(d, wf.workflow_id, 1, at)
end

local function backoff(attempt)
  return M.BACKOFF_MS * 2 ^ (attempt - 1)
end

-- Records the outcome of one attempt and schedules the retry.
local function record(state, job, status, err, ms, now)
  local d = area(state)
  local ev = d.events[job.w]
  if not ev then return end
  local ok = not err and status >= 200 and status < 300
  local row = {
    delivery_id = ev.delivery_id,
    workflow_id = ev.workflow_id,
    event = M.EVENT,
    url = ev.url,
    attempt = job.attempt,
    status = ok and "delivered" or "failed",
    response_code = status > 0 and status or null,
    error_message = ok and null or http.scrub(err or format("Receiver answered HTTP %d", status)),
    attempted_at = iso(job.sent_ms),
    duration_ms = ms or 0,
    next_retry_at = null,
  }
  if ok then
    ev.status = "delivered"
  elseif job.attempt < M.MAX_ATTEMPTS then
    local due = now + backoff(job.attempt)
    row.next_retry_at = iso(due)
    ev.status = "retrying"
    enqueue(d, job.w, job.attempt + 1, due)
  else
    ev.status = "failed"
  end
  ev.attempts[#ev.attempts + 1] = row
end

local HEADERS = "Content-Type: application/json"

local function post(app, rt, item, now)
  local state = app.state
  local d = area(state)
  local ev = d.events[item.w]
  d.pending_n = d.pending_n - 1
  if not ev then return end
  local job = { w = item.w, attempt = item.attempt, sent_ms = now }
  local job_id = format("%s#%d#%d", ev.delivery_id, item.attempt, rt.epoch)
  local ok, err
  if worker and worker.available() then
    ok, err = worker.post {
      id = job_id,
      url = ev.url,
      body = ev.body,
      timeout_ms = state.data.webhook_sink.timeout_ms or M.TIMEOUT_MS,
      headers = {
        HEADERS,
        "X-Cleanlist-Event: " .. M.EVENT,
        "X-Cleanlist-Delivery: " .. ev.delivery_id,
        "X-Cleanlist-Attempt: " .. item.attempt,
        "X-Cleanlist-Workflow-Id: " .. ev.workflow_id,
      },
    }
  else
    err = "the webhook worker is not available in this sandbox"
  end
  if ok then
    rt.posted[job_id], rt.posted_n = job, rt.posted_n + 1
    d.inflight[job_id] = job
    d.pending_n = d.pending_n + 1
  else
    record(state, job, 0, err, 0, now)
  end
end

-- Jobs in data.inflight that this process never posted (saved by --state while in flight):
-- sent again, as the same attempt.
local function requeue_lost(d, rt, now)
  local lost = {}
  for id in pairs(d.inflight) do
    if not rt.posted[id] then lost[#lost + 1] = id end
  end
  table.sort(lost)
  for _, id in ipairs(lost) do
    local job = d.inflight[id]
    d.inflight[id] = nil
    d.pending_n = d.pending_n - 1
    enqueue(d, job.w, job.attempt, now)
  end
end

local function clamp(v, lo, hi)
  if v < lo then return lo end
  if v > hi then return hi end
  return v
end

--- Moves deliveries along at sandbox time `now`: takes the worker's results and sends what is
-- due. wf_due: when the next workflow completes (sandbox ms), or nil. Returns in how many real
-- milliseconds the next pump is wanted (0: none).
function M.pump(app, now, wf_due)
  local state = app.state
  local d = area(state)
  local rt = runtime(app)
  if rt.posted_n > 0 and worker then
    local results = worker.drain()
    if results then
      for _, r in ipairs(results) do
        local job = rt.posted[r.id]
        if job then
          rt.posted[r.id], rt.posted_n = nil, rt.posted_n - 1
          d.inflight[r.id] = nil
          d.pending_n = d.pending_n - 1
          record(state, job, r.status or 0, r.error, r.ms, now)
        end
      end
    end
  end
  if d.pending_n > #d.queue + rt.posted_n then requeue_lost(d, rt, now) end
  if d.next_due_ms and now >= d.next_due_ms then
    local keep, due = json.array(), {}
    for _, q in ipairs(d.queue) do
      if q.due <= now then
        due[#due + 1] = q
      else
        keep[#keep + 1] = q
      end
    end
    d.queue = keep
    recompute_due(d)
    for _, q in ipairs(due) do
      post(app, rt, q, now)
    end
  end
  -- Ticks: often while results are awaited (a result also brings one at once), otherwise
  -- around the next due time.
  local next_due = d.next_due_ms or nil
  if wf_due and (not next_due or wf_due < next_due) then next_due = wf_due end
  local want = 0
  if rt.posted_n > 0 then
    want = 200
  elseif next_due then
    local wait = next_due - now
    local clock = app.clock
    if clock and clock.real_ms then wait = clock:real_ms(wait > 0 and wait or 0) end
    want = clamp(floor(wait), 20, 500)
  end
  rt.ticks = want
  return want
end

--- The workflow's webhook status: "not_requested", "pending" (not sent yet or in flight),
-- "delivered", "retrying" or "failed" (every attempt failed).
function M.status_of(state, wf)
  if not wf.webhook_url then return "not_requested" end
  local ev = area(state).events[wf.workflow_id]
  return ev and ev.status or "pending"
end

--- GET /webhooks/deliveries body (shape chosen by the sandbox).
function M.deliveries_body(state, wf)
  local ev = area(state).events[wf.workflow_id]
  return {
    workflow_id = wf.workflow_id,
    webhook_url = wf.webhook_url or null,
    delivery_id = ev and ev.delivery_id or null,
    status = M.status_of(state, wf),
    deliveries = ev and ev.attempts or json.array(),
  }
end

--- What POST /__sandbox/tick reports.
function M.tick_info(app)
  local d = area(app.state)
  local rt = app._webhooks_rt
  local stats = worker and worker.available() and worker.stats() or null
  if stats ~= null then
    stats.tick_ms = rt and rt.ticks or 0 -- how soon the next pump is wanted (real ms)
  end
  return {
    ok = true,
    legacy_active = app.state.data.legacy and app.state.data.legacy.active_n or 0,
    deliveries_pending = d.pending_n,
    in_flight = rt and rt.posted_n or 0,
    worker = stats,
  }
end

return M
