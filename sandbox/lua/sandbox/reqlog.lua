--- The request log behind GET /__sandbox/requests: one entry per API-path request, bounded to
-- the newest `cap` entries. Recording is cheap (the req table itself is kept); credential
-- headers are redacted and entries shaped only when the log is read. `fault` names the fault
-- served (sandbox.faults), when one was; `status` is null when no response was sent (reset,
-- empty, a stall ending in a close).
local json = require "sandbox.json"
local http = require "sandbox.http"

local M = {}
M.__index = M

M.DEFAULT_CAP = 1000
M.MAX_BODY = 65536 -- request bodies longer than this are listed cut, with body_truncated

function M.new(cap)
  local self = setmetatable({ cap = cap or M.DEFAULT_CAP }, M)
  self:reset()
  return self
end

--- Empties the log and restarts seq at 1.
function M:reset()
  self.items, self.first, self.last = {}, 1, 0
end

--- Empties the log; seq keeps counting so that `since` stays meaningful.
function M:clear()
  self.items = {}
  self.first = self.last + 1
end

--- Records req (adding seq, request_id and time_ms to it) and returns it; the caller sets
-- req.status once the response is known.
function M:add(req, request_id, time_ms)
  local seq = self.last + 1
  req.seq, req.request_id, req.time_ms = seq, request_id, time_ms
  self.items[seq], self.last = req, seq
  if seq - self.first >= self.cap then
    self.items[self.first] = nil
    self.first = self.first + 1
  end
  return req
end

local secret = http.SECRET_HEADERS

-- Clients send the same credential on every request: remember its redaction.
local redacted, redacted_size = {}, 0

local function redact(v)
  local r = redacted[v]
  if not r then
    r = http.redact_credential(v)
    if redacted_size >= 1024 then
      redacted, redacted_size = {}, 0
    end
    redacted[v], redacted_size = r, redacted_size + 1
  end
  return r
end

--- The public shape of a recorded request: credentials redacted, long bodies cut.
local function entry(req)
  local headers = {}
  for k, v in pairs(req.headers) do
    headers[k] = secret[k] and redact(v) or v
  end
  local body, cut = req.body, nil
  if #body > M.MAX_BODY then
    body, cut = body:sub(1, M.MAX_BODY), true
  end
  return {
    seq = req.seq,
    method = req.method,
    path = req.path,
    query = req.query,
    conn = req.conn,
    headers = headers,
    status = req.status or json.null,
    request_id = req.request_id,
    time_ms = req.time_ms,
    body = body,
    body_truncated = cut,
    fault = req.fault,
  }
end

--- The entries with seq > since (all when since is nil), oldest first, as a JSON array.
function M:list(since)
  local out = json.array()
  local from = self.first
  if since and since + 1 > from then from = since + 1 end
  for seq = from, self.last do
    out[#out + 1] = entry(self.items[seq])
  end
  return out
end

return M
