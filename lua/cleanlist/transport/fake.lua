--- cleanlist.transport.fake: an in-memory transport for unit specs.
-- Queue responses (or transport errors) and read back the requests that were made:
--   local fake = require("cleanlist.transport.fake").new()
--   fake:push{status = 200, body = '{"ok":true}', headers = {["x-request-id"] = "req_1"}}
--   fake:push_error{kind = "transport", message = "refused", sent = false}
--   local client = cleanlist.new{api_key = ..., transport = fake}
--   fake.requests[1].url
local M = {}
local Fake = {}
Fake.__index = Fake

function M.new()
  return setmetatable({ queue = {}, requests = {}, closed = false }, Fake)
end

function Fake:push(res)
  res.headers = res.headers or {}
  res.body = res.body or ""
  self.queue[#self.queue + 1] = { res = res }
  return self
end

function Fake:push_error(err)
  self.queue[#self.queue + 1] = { err = err }
  return self
end

function Fake:request(req)
  self.requests[#self.requests + 1] = req
  local item = table.remove(self.queue, 1)
  if not item then error("fake transport: no response queued for " .. req.method .. " " .. req.url, 2) end
  if item.err then return nil, item.err end
  return item.res
end

function Fake:close()
  self.closed = true
end

return M
