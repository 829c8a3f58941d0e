--- cleanlist.transport.curl: the libcurl transport (one multi handle per client).
-- The seam every transport implements:
--   transport:request{method=, url=, headers={"Name: value", ...}, body=, credential=,
--                     timeout=, connect_timeout=}
--     -> {status=, headers={lower-case name = value}, body=, elapsed=, reused=}
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
    user_agent = opts.user_agent, ca_file = opts.ca_file, trace = opts.trace ~= nil,
  }
  if not handle then return nil, err end
  return setmetatable({ handle = handle, trace = opts.trace }, Transport)
end

function Transport:_emit(trace)
  for line in trace:gmatch("[^\n]+") do self.trace(line) end
end

--- Drives every transfer of this transport for up to `timeout` seconds (returns early on
-- activity). Returns true, or nil and an error table when the multi handle fails.
function Transport:poll(timeout)
  local running, trace = self.handle:step(timeout)
  if not running then return nil, trace end
  if trace and self.trace then self:_emit(trace) end
  return true
end

--- Inside a scheduler task the transfer yields while in flight; elsewhere this blocks.
function Transport:request(req)
  local r, err = self.handle:start(req)
  if not r then return nil, err end
  if scheduler.in_task() then
    scheduler.wait_transfer(self, r)
  else
    while not r:finished() do
      local ok, perr = self:poll(1.0)
      if not ok then
        r:close()
        return nil, perr
      end
    end
  end
  local res, rerr = r:result()
  r:close()
  return res, rerr
end

function Transport:close()
  self.handle:close()
end

return M
