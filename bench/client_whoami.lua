-- Client throughput: sequential and concurrent GET /whoami through the full client pipeline
-- (libcurl transport, JSON decode, error mapping) against a sandbox.
-- Run: bench/client_whoami.sh   (starts the sandbox)   or
--      cleanlist bench/client_whoami.lua BASE_URL [N]   (CLEANLIST_API_KEY set)
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"

local base_url, n = arg[1], tonumber(arg[2] or "2000")
local client = cleanlist.new { base_url = base_url, rate_limit = false, max_retries = 0 }
assert(client:whoami()) -- warm the connection

local function measure(label, fn)
  local t0, c0 = core.monotonic(), os.clock()
  fn()
  local wall, cpu = core.monotonic() - t0, os.clock() - c0
  print(("%-28s %7.0f req/s   %6.1f us CPU/req"):format(label, n / wall, cpu / n * 1e6))
  return n / wall
end

local seq = measure("sequential", function()
  for _ = 1, n do
    assert(client:whoami())
  end
end)

local fns = {}
for i = 1, n do
  fns[i] = function()
    return client:whoami()
  end
end
measure("gather, concurrency 4", function()
  local r = client:gather(fns, { concurrency = 4 })
  assert(r[n][1])
end)

-- A reused libcurl easy handle reached ~7,100 req/s against a single-connection server here
-- (shared/reference/ANCHORS-PERF-REL.md §6.2); the ratio says what the Lua pipeline costs.
print(("sequential / bare libcurl reference (7100 req/s): %.2f"):format(seq / 7100))
