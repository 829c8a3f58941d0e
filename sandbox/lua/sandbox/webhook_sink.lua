--- The sandbox's own webhook receiver for tests (POST /__sandbox/webhook-sink and its
-- control routes in sandbox.endpoints.legacy): it records what it gets, with credential
-- headers redacted, and can be told to fail the next N deliveries or to give every delivery
-- less time (sandbox.webhooks reads timeout_ms when it posts).
--
-- State area `webhook_sink`: { received = [{seq, time_ms, method, headers, body, body_text,
-- answered}], seq, fail_next, fail_status, timeout_ms }
local json = require "sandbox.json"
local http = require "sandbox.http"
local state_mod = require "sandbox.state"

local M = {}

M.TIMEOUT_MS = 10000 -- real time: how long a delivery waits for its receiver by default
M.SINK_KEEP = 200 -- deliveries kept, the oldest dropped first

state_mod.register("webhook_sink", function()
  return { received = json.array(), seq = 0, fail_next = 0, fail_status = 500, timeout_ms = M.TIMEOUT_MS }
end)

local function sink(state)
  return state.data.webhook_sink
end

--- Records a delivery; answers 2xx, or fail_status while fail_next > 0.
function M.receive(app, req)
  local s = sink(app.state)
  s.seq = s.seq + 1
  local headers = {}
  for k, v in pairs(req.headers) do
    headers[k] = http.SECRET_HEADERS[k] and http.redact_credential(v) or v
  end
  local body = json.decode(req.body)
  local status = 200
  if s.fail_next > 0 then
    s.fail_next = s.fail_next - 1
    status = s.fail_status
  end
  s.received[#s.received + 1] = {
    seq = s.seq,
    time_ms = app.state:now_ms(),
    method = req.method,
    headers = headers,
    body = body == nil and req.body or body,
    body_text = req.body,
    answered = status,
  }
  if #s.received > M.SINK_KEEP then table.remove(s.received, 1) end
  return status, { ok = status < 300, seq = s.seq }
end

--- GET /__sandbox/webhook-sink: what was received, and the settings.
function M.list(app)
  local s = sink(app.state)
  return 200,
    {
      received = s.received,
      count = #s.received,
      fail_next = s.fail_next,
      fail_status = s.fail_status,
      timeout_ms = s.timeout_ms,
    }
end

--- DELETE /__sandbox/webhook-sink: forgets what was received, and the settings.
function M.clear(app)
  local s = sink(app.state)
  s.received, s.fail_next, s.fail_status, s.timeout_ms = json.array(), 0, 500, M.TIMEOUT_MS
  return 200, { ok = true }
end

--- {"fail_next": N, "fail_status": S, "timeout_ms": T}: the next N deliveries get status S
-- (default 500); every delivery waits at most T real ms for its receiver (default 10000).
function M.config(app, body)
  local s = sink(app.state)
  local n, st = json.integer(body.fail_next), body.fail_status
  local t = body.timeout_ms
  if t ~= nil and (not json.integer(t) or t < 50 or t > 60000) then
    return nil, "timeout_ms must be an integer from 50 to 60000."
  end
  if body.fail_next ~= nil and (not n or n < 0 or n > 1000) then
    return nil, "fail_next must be an integer from 0 to 1000."
  end
  if st ~= nil and (not json.integer(st) or st < 100 or st > 599) then
    return nil, "fail_status must be an integer from 100 to 599."
  end
  s.fail_next = n or s.fail_next
  s.fail_status = st and json.integer(st) or s.fail_status
  s.timeout_ms = t and json.integer(t) or s.timeout_ms
  return { ok = true, fail_next = s.fail_next, fail_status = s.fail_status, timeout_ms = s.timeout_ms }
end

return M
