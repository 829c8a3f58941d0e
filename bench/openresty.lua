-- The client inside nginx, one worker (worker_processes 1), against a sandbox (limits off):
--   1. how long a static file and a Lua location take to answer while a client call in
--      another request is stalled 2 s by the sandbox, with the ngx transport and with libcurl
--      (transport = "curl", which blocks the worker);
--   2. requests/s of a location that calls GET /whoami, under wrk with 8 connections, for both
--      transports, with a client made per request and with one kept per worker, and the ratios.
-- Targets: with ngx, every answer during the stall under 50 ms; libcurl, for contrast, holds
-- them for the stall. Exits 1 when a target is missed.
-- Usage: luajit bench/openresty.lua [SECONDS]   (wrk's duration, default 5; run by bench/openresty)
package.path = "./?.lua;./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/luajit/lib/?.so;" .. package.cpath
local nginx = require "spec.helpers.nginx"
local sandbox = require "spec.helpers.sandbox"
local run = require "spec.helpers.run"

local seconds = tonumber(arg[1]) or 5
local why = nginx.missing()
if why then
  print("skipped: " .. why)
  os.exit(0)
end

local BENCH_SERVER = [==[
  server {
    listen 127.0.0.1:%d;
    location /static/ { root %s; }
    location = /ping { content_by_lua_block { ngx.say("pong") } }
    location ~ ^/call/(ngx|curl)(/kept)?$ {
      content_by_lua_block {
        -- a client per request, or (/kept) one per worker and transport, kept between requests
        local kept = _G.bench_clients or {}
        _G.bench_clients = kept
        local client = ngx.var[2] ~= "" and kept[ngx.var[1]]
          or require("cleanlist").new { transport = ngx.var[1], rate_limit = false }
        if ngx.var[2] ~= "" then kept[ngx.var[1]] = client end
        local me, err = client:whoami()
        if not me then ngx.status = 502 ngx.say(tostring(err)) return end
        ngx.say(me.organization_id)
      }
    }
  }
]==]

local sb = sandbox.start {}
local port = run.free_port()
local static = os.tmpname()
os.remove(static)
run.execute("mkdir -p " .. run.quote(static .. "/static"))
run.write_file(static .. "/static/ok.txt", "ok\n")
local ok, n = pcall(nginx.start, {
  workers = 1,
  http = BENCH_SERVER:format(port, static),
  env = { CLEANLIST_API_KEY = sb.key, CLEANLIST_BASE_URL = sb.base_url },
})
if not ok then
  sb:stop()
  error(n)
end

local failed = false
local function cleanup()
  n:stop()
  sb:stop()
  run.execute("rm -rf " .. run.quote(static))
end

print("== 1. answers while a call is stalled 2 s (one worker)")
print(("%-6s %14s %14s %14s"):format("", "static ms", "Lua ms", "stalled call s"))
for _, transport in ipairs { "ngx", "curl" } do
  sb:control("POST", "/script", { responses = { { fault = "stall", ms = 2000 } } })
  local out = n.dir .. "/stalled"
  run.execute(
    ("curl -s -o /dev/null -w '%%{time_total}' http://127.0.0.1:%d/call/%s >%s &"):format(
      port,
      transport,
      run.quote(out)
    )
  )
  sandbox.poll(100, 0.01, function()
    return #sb:requests() > 0
  end)
  -- a static file and a Lua location asked at the same moment, three times
  local worst_static, worst_lua = 0, 0
  for i = 1, 3 do
    local a, b = ("%s/static-%d"):format(n.dir, i), ("%s/lua-%d"):format(n.dir, i)
    run.execute(
      (
        "curl -s -o /dev/null -w '%%{time_total}' http://127.0.0.1:%d/static/ok.txt >%s & "
        .. "curl -s -o /dev/null -w '%%{time_total}' http://127.0.0.1:%d/ping >%s & wait"
      ):format(port, run.quote(a), port, run.quote(b))
    )
    worst_static = math.max(worst_static, tonumber(run.read_file(a)) or 99)
    worst_lua = math.max(worst_lua, tonumber(run.read_file(b)) or 99)
  end
  local stalled = sandbox.poll(200, 0.05, function()
    local t = tonumber(run.read_file(out) or "")
    return t, t
  end)
  print(("%-6s %14.1f %14.1f %14.2f"):format(transport, worst_static * 1000, worst_lua * 1000, stalled or -1))
  if transport == "ngx" and (worst_static >= 0.05 or worst_lua >= 0.05) then failed = true end
  sb:clear()
end

print(("== 2. GET /whoami through a location, wrk -c 8 -d %ds"):format(seconds))
local rates = {}
for _, variant in ipairs { "ngx", "curl", "ngx/kept", "curl/kept" } do
  local text = run.capture(("wrk -t 2 -c 8 -d %ds http://127.0.0.1:%d/call/%s 2>&1"):format(seconds, port, variant))
  rates[variant] = tonumber(text:match("Requests/sec:%s*([%d.]+)"))
  local non2xx = text:match("Non%-2xx or 3xx responses: (%d+)")
  print(
    ("%-10s %10.0f requests/s (%s)%s"):format(
      variant,
      rates[variant] or -1,
      variant:find("kept") and "one client per worker" or "a client per request",
      non2xx and (", " .. non2xx .. " failed") or ""
    )
  )
  if non2xx then failed = true end
  sb:clear()
end
for _, kind in ipairs { "", "/kept" } do
  local a, b = rates["ngx" .. kind], rates["curl" .. kind]
  if a and b then print(("ngx / curl%s: %.2f"):format(kind, a / b)) end
end
cleanup()
if failed then
  print("a target was missed")
  os.exit(1)
end
