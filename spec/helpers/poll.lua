--- Waiting on a condition with a deadline, for specs that must wait for something another
-- process does (a webhook delivered, a connection closed, a log line written): never a fixed
-- sleep.
--
--   local poll = require "spec.helpers.poll"
--   local row = poll.wait_until(function() return deliveries()[1] end, 5, "the first delivery")
--
-- wait_until calls fn until it returns a truthy first value, and returns what fn returned;
-- past `seconds` it fails the test, naming `what` it waited for (and the last value fn gave
-- with it, when there was one).
local M = {}

M.INTERVAL = 0.02 -- seconds between two checks

local unpack = table.unpack or unpack -- luacheck: ignore 143 113

local function pack(...)
  return { n = select("#", ...), ... }
end

local function now()
  -- wall-clock seconds with a fraction (os.time has whole seconds only)
  local p = io.popen("date +%s.%N")
  local s = p and p:read("*l")
  if p then p:close() end
  return tonumber(s) or os.time()
end
M.now = now

--- Calls fn() until its first result is truthy and returns its results; fails the test with
-- "timed out after N s waiting for <what>" when `seconds` pass first.
---@param fn fun(): any
---@param seconds number
---@param what string
function M.wait_until(fn, seconds, what)
  local deadline = now() + seconds
  local last
  while true do
    local r = pack(fn())
    if r[1] then return unpack(r, 1, r.n) end
    last = r[2]
    if now() >= deadline then
      local said = last ~= nil and (" (last seen: " .. tostring(last) .. ")") or ""
      error(string.format("timed out after %g s waiting for %s%s", seconds, what, said), 2)
    end
    os.execute("sleep " .. M.INTERVAL)
  end
end

return M
