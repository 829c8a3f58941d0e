--- cleanlist.transport.curl: the libcurl transport (one multi handle per client).
-- The seam every transport implements:
--   transport:request{method=, url=, headers={"Name: value", ...}, body=, credential=,
--                     timeout=, connect_timeout=}
--     -> {status=, headers={lower-case name = value}, body=, reused=}
--      | nil, {kind=, message=, cause=, sent=}
--   transport:close()
local curl = require "cleanlist.curl"
local scheduler = require "cleanlist.scheduler"

local M = {}
local Transport = {}
Transport.__index = Transport

--- opts: user_agent, ca_file, trace (function(line) receiving redacted debug lines)
function M.new(opts)
  local handle, err = curl.transport {
    user_agent = opts.user_agent,
    ca_file = opts.ca_file,
    proxy = opts.proxy,
    trace = opts.trace ~= nil,
  }
  if not handle then return nil, err end
  return setmetatable({ handle = handle, trace = opts.trace }, Transport)
end

function Transport:_emit(trace)
  for line in trace:gmatch("[^\n]+") do
    self.trace(line)
  end
end

--- Drives every transfer of this transport for up to `timeout` seconds (returns early on
-- activity). Returns true, or nil and an error table when the multi handle fails.
function Transport:poll(timeout)
  local running, trace = self.handle:step(timeout)
  if not running then return nil, trace end
  if trace and self.trace then self:_emit(trace) end
  return true
end

-- A transfer as the scheduler sees it while a download streams: ready when it has finished or
-- when enough of the body waits to be handed on. The C side pauses a streamed 2xx body when
-- STREAM_HOLD bytes wait undrained (hold_body), so a download holds at most that much (plus
-- one libcurl write) whatever the size of the file; STREAM_CHUNK must not exceed it, or a
-- paused transfer would never be ready.
local STREAM_CHUNK = 64 * 1024
local STREAM_HOLD = 256 * 1024

local function streaming(r)
  return {
    finished = function()
      if r:finished() then return true end
      local _, buffered = r:status()
      return buffered >= STREAM_CHUNK
    end,
  }
end

-- Hands what arrived of a 2xx body to on_chunk. Returns nil, or the error on_chunk returned.
-- The piece is garbage once handed on: the collector is made to do as much work as that many
-- bytes call for. (LuaJIT's collector otherwise does a fixed amount of work per allocation,
-- whatever its size, and falls behind a stream of large strings: a 19 MB download in 256 KiB
-- pieces left ~15 MB of them uncollected.)
local function pass_on(r, on_chunk)
  local status = r:status()
  if status < 200 or status >= 300 then return nil end
  local chunk = r:drain()
  if chunk == "" then return nil end
  local err = on_chunk(chunk)
  collectgarbage("step", math.floor(#chunk / 1024))
  return err
end

-- Waits for r to finish: yields inside a scheduler task, blocks elsewhere. With on_chunk, the
-- 2xx body is handed on as it arrives (the result's body is then empty).
function Transport:_await(r, on_chunk)
  local in_task = scheduler.in_task()
  while not r:finished() do
    if in_task then
      scheduler.wait_transfer(self, on_chunk and streaming(r) or r)
    else
      local ok, perr = self:poll(on_chunk and 0.05 or 1.0)
      if not ok then return nil, perr end
    end
    if on_chunk then
      local serr = pass_on(r, on_chunk)
      if serr then return nil, serr end
    end
  end
  if on_chunk then return nil, pass_on(r, on_chunk) end
  return nil
end

--- Inside a scheduler task the transfer yields while in flight; elsewhere this blocks.
-- req.on_chunk(bytes), when given, receives a 2xx body as it arrives instead of the result's
-- body, in pieces of at most req.hold_body (default 256 KiB) + 16 KiB: the transfer waits
-- while the pieces are handed on. It may return an error table to stop the transfer.
function Transport:request(req)
  if req.on_chunk and req.hold_body == nil then
    local spec = { hold_body = STREAM_HOLD }
    for k, v in pairs(req) do
      spec[k] = v
    end
    req = spec
  end
  local r, err = self.handle:start(req)
  if not r then return nil, err end
  local _, werr = self:_await(r, req.on_chunk)
  if werr then
    r:close()
    return nil, werr
  end
  local res, rerr = r:result()
  r:close()
  return res, rerr
end

function Transport:close()
  self.handle:close()
end

return M
