-- bench/overhead's client contender: GET /whoami through client:whoami() (the whole pipeline:
-- URL, headers, libcurl transport, JSON decode, error mapping), each answer checked.
-- Run: cleanlist bench/overhead_client.lua BASE_URL N WARMUP   (CLEANLIST_API_KEY set)
-- Prints "n=N wall_s=SECONDS cpu_s=SECONDS" for the N timed calls; cpu_s is os.clock()
-- (user+sys of the process).
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"

local base_url, n, warmup = arg[1], tonumber(arg[2]), tonumber(arg[3])
local client = cleanlist.new { base_url = base_url, rate_limit = false, max_retries = 0 }

local function call()
  local me, err = client:whoami()
  if not me or type(me.organization_id) ~= "string" then
    error("whoami failed: " .. tostring(err or "no organization_id"))
  end
end

for _ = 1, warmup do
  call()
end
local t0, c0 = core.monotonic(), os.clock()
for _ = 1, n do
  call()
end
local wall, cpu = core.monotonic() - t0, os.clock() - c0
print(("n=%d wall_s=%.6f cpu_s=%.6f"):format(n, wall, cpu))
