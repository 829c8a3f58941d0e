--- A client over a fresh fake transport for the unit specs: sleeps are recorded, not slept,
-- and the clocks stand still.
--
--   local fake_client = require "spec.helpers.fake_client"
--   local client, fake, sleeps, key = fake_client.new { max_retries = 1 }
local cleanlist = require "cleanlist"
local fake_transport = require "cleanlist.transport.fake"

local M = {}

M.KEY = "clapi_unit_secret_key_0123456789"
local n = 0

--- opts add to or override the defaults (rate_limit = false, a fake transport, a still clock).
function M.new(opts)
  n = n + 1
  local fake = fake_transport.new()
  local sleeps = {}
  local o = {
    api_key = M.KEY .. n, -- a key per client: rate-limit buckets are per key and process-wide
    base_url = "https://api.example.test/api/v1/public",
    transport = fake,
    sleep = function(s)
      sleeps[#sleeps + 1] = s
    end,
    random = function()
      return 0
    end,
    clock = function()
      return 1000
    end,
    wallclock = function()
      return 784111777
    end,
    rate_limit = false,
  }
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
  return cleanlist.new(o), fake, sleeps, o.api_key
end

return M
