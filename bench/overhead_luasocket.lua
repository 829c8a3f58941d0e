-- bench/overhead's LuaSocket contender: GET /whoami on one kept-alive connection opened with
-- socket.http's low-level API (http.open; socket.http.request would close it after each
-- call), the body decoded with cjson, status 200 checked each time.
-- Run: lua5.4 bench/overhead_luasocket.lua BASE_URL N WARMUP   (CLEANLIST_API_KEY set)
-- Prints "n=N wall_s=SECONDS cpu_s=SECONDS reconnects=K"; cpu_s is os.clock().
local socket = require "socket"
local http = require "socket.http"
local url = require "socket.url"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local base_url, n, warmup = arg[1], tonumber(arg[2]), tonumber(arg[3])
local parsed = url.parse(base_url .. "/whoami")
local host, port, path = parsed.host, tonumber(parsed.port or 80), parsed.path
local headers = {
  host = host .. ":" .. port,
  authorization = "Bearer " .. assert(os.getenv("CLEANLIST_API_KEY"), "CLEANLIST_API_KEY is not set"),
  accept = "application/json",
}

local conn, reconnects = nil, -1
local function connect()
  conn = http.open(host, port, socket.tcp)
  conn.c:setoption("tcp-nodelay", true)
  reconnects = reconnects + 1
end

local function call()
  if not conn then connect() end
  conn:sendrequestline("GET", path)
  conn:sendheaders(headers)
  local status = conn:receivestatusline()
  local resp = conn:receiveheaders()
  local parts = {}
  conn:receivebody(resp, (ltn12.sink.table(parts)))
  if status ~= 200 then error("status " .. tostring(status)) end
  local me = cjson.decode(table.concat(parts))
  if type(me.organization_id) ~= "string" then error("no organization_id in the answer") end
  if (resp.connection or ""):lower() == "close" then
    conn:close()
    conn = nil
  end
end

for _ = 1, warmup do
  call()
end
local t0, c0 = socket.gettime(), os.clock()
for _ = 1, n do
  call()
end
local wall, cpu = socket.gettime() - t0, os.clock() - c0
print(("n=%d wall_s=%.6f cpu_s=%.6f reconnects=%d"):format(n, wall, cpu, reconnects))
