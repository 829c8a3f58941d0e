--- Debian's nginx with libnginx-mod-http-lua, started for a spec with its own prefix on a free
-- loopback port, running the README's OpenResty nginx.conf (the project's Lua and LuaJIT
-- build put on its paths, plus a test server), and stopped by the spec.
--
--   local nginx = require "spec.helpers.nginx"
--   local why = nginx.missing()               --> nil, or why nginx cannot run here
--   local n = nginx.start { workers = 1, env = { CLEANLIST_BASE_URL = ... } }
--   n:get("/whoami")                          --> status, body, seconds (curl CLI)
--   n:eval("return 1 + 1")                    --> decoded JSON of what the chunk returned
--   n:log(), n:stop()
--
-- The test server (on n.test_port) has: /static/ok.txt (a file), /ping (Lua, no API call) and
-- POST /eval, which runs the Lua chunk of the body in the content phase and answers its
-- return value as JSON ({error = traceback} and status 500 when it raises).
local cjson = require "cjson"
local run = require "spec.helpers.run"

local M = {}

M.MODULES = { "/usr/lib/nginx/modules/ndk_http_module.so", "/usr/lib/nginx/modules/ngx_http_lua_module.so" }

local q = run.quote

--- Nil when nginx, its Lua module and the LuaJIT build are here; else why not.
function M.missing()
  if not run.execute("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx") then
    return "nginx is not installed (Debian: apt-get install nginx-light libnginx-mod-http-lua)"
  end
  for _, m in ipairs(M.MODULES) do
    if not run.read_file(m) then return m .. " is missing (Debian: apt-get install libnginx-mod-http-lua)" end
  end
  if not run.read_file("build/luajit/lib/cleanlist/core.so") then
    return "the LuaJIT build is missing (make build LUA=luajit)"
  end
end

--- The nginx.conf of the README's OpenResty section, as it is written there.
function M.readme_conf()
  local readme = assert(run.read_file("README.md"))
  local section = assert(readme:match("\n## OpenResty\n(.-)\n## "), "README: no OpenResty section")
  return assert(section:match("```nginx\n(.-)```"), "README: no nginx.conf in the OpenResty section")
end

local free_port = run.free_port

local TEST_SERVER = [[
  server {
    listen 127.0.0.1:%d%s;
    lua_need_request_body on;
    client_body_buffer_size 1m;
    client_max_body_size 1m;
    location /static/ { root %s; }
    location = /ping { content_by_lua_block { ngx.say("pong") } }
    location = /logphase {
      content_by_lua_block { ngx.say("ok") }
      log_by_lua_block {
        local c = require("cleanlist").new { base_url = os.getenv("CLEANLIST_BASE_URL"),
          rate_limit = false }
        local _, err = c:whoami()
        ngx.log(ngx.ERR, "logphase: ", err)
      }
    }
    location = /eval {
      default_type application/json;
      content_by_lua_block {
        local cjson = require "cjson"
        local chunk, err = loadstring(ngx.req.get_body_data() or "", "=eval")
        if not chunk then ngx.status = 400 ngx.say(cjson.encode { error = err }) return end
        local ok, res = xpcall(chunk, debug.traceback)
        if not ok then ngx.status = 500 ngx.say(cjson.encode { error = tostring(res) }) return end
        ngx.say(cjson.encode(res == nil and cjson.null or res))
      }
    }
  }
]]

local Nginx = {}
Nginx.__index = Nginx

--- The README's conf made to run here: its port, the worker count, the project's Lua paths
-- and the test server; nothing else of it changes.
function Nginx:_conf(opts)
  local conf = M.readme_conf()
  local n
  conf, n = conf:gsub("\nworker_processes [^;]+;", "\nworker_processes " .. (opts.workers or 1) .. ";", 1)
  assert(n == 1, "README's nginx.conf: no worker_processes line")
  conf, n = conf:gsub("listen 8080;", ("listen 127.0.0.1:%d;"):format(self.port), 1)
  assert(n == 1, "README's nginx.conf: no 'listen 8080;'")
  if opts.trust then
    conf, n = conf:gsub("lua_ssl_trusted_certificate [^;]+;", "lua_ssl_trusted_certificate " .. opts.trust .. ";", 1)
    assert(n == 1, "README's nginx.conf: no lua_ssl_trusted_certificate")
  end
  local root = run.capture("pwd"):gsub("\n$", "")
  local lines = {
    ('  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;;";'):format(root, root),
    ('  lua_package_cpath "%s/build/luajit/lib/?.so;;";'):format(root),
    ("  client_body_temp_path %s/body;"):format(self.dir),
    ("  proxy_temp_path %s/proxy;"):format(self.dir),
    (TEST_SERVER):format(self.test_port, opts.reuseport and " reuseport" or "", self.dir),
    opts.http or "",
  }
  conf, n = conf:gsub("\nhttp {\n", function()
    return "\nhttp {\n" .. table.concat(lines, "\n") .. "\n"
  end, 1)
  assert(n == 1, "README's nginx.conf: no http block")
  local top = {}
  for k in pairs(opts.env or {}) do
    top[#top + 1] = "env " .. k .. ";"
  end
  table.sort(top)
  -- as root, nginx would run its workers as www-data, who cannot read the spec's files
  if run.capture("id -u"):match("^0") then top[#top + 1] = "user root;" end
  return table.concat(top, "\n") .. "\n" .. conf
end

--- Starts nginx; opts: workers, env (variables for the workers, exported and named with env
-- directives), http (more text for the http block), reuseport (the test server's connections
-- spread over the workers by the kernel), trust (a CA file for lua_ssl_trusted_certificate). Waits until the test server answers.
function M.start(opts)
  opts = opts or {}
  local dir = os.tmpname()
  os.remove(dir)
  assert(run.execute("mkdir -p " .. q(dir .. "/logs") .. " " .. q(dir .. "/static")))
  run.write_file(dir .. "/static/ok.txt", "ok\n")
  local self = setmetatable({ dir = dir, port = free_port(), test_port = free_port() }, Nginx)
  run.write_file(dir .. "/nginx.conf", self:_conf(opts))
  local env = {}
  for k, v in pairs(opts.env or {}) do
    env[#env + 1] = k .. "=" .. q(v)
  end
  -- `timeout` ends nginx should the spec process die without stopping it
  local cmd = ("%s timeout -s TERM 900 nginx -p %s -c %s -e %s -g %s >%s 2>&1 & echo $!"):format(
    #env > 0 and ("env " .. table.concat(env, " ")) or "",
    q(dir),
    q(dir .. "/nginx.conf"),
    q(dir .. "/logs/error.log"),
    q("daemon off; master_process on; pid " .. dir .. "/nginx.pid;"),
    q(dir .. "/logs/stdout")
  )
  self.pid = tonumber((run.capture(cmd)))
  for _ = 1, 100 do
    local status = self:get("/ping", { port = self.test_port, max_time = 1 })
    if status == 200 then return self end
    run.execute("sleep 0.05")
  end
  local log = self:log()
  self:stop()
  error("nginx did not start: " .. log .. (run.read_file(dir .. "/logs/stdout") or ""))
end

--- GET (or opts.method) of path on the README's server (opts.port: another); returns the
-- status, the body and the seconds the answer took.
function Nginx:get(path, opts)
  opts = opts or {}
  local out = run.capture(
    ("curl -sS --max-time %s -o %s -w '%%{http_code} %%{time_total}' -X %s %s%s 2>/dev/null"):format(
      opts.max_time or 30,
      q(self.dir .. "/answer"),
      opts.method or "GET",
      opts.data and ("--data-binary @" .. q(opts.data) .. " ") or "",
      q(("http://127.0.0.1:%d%s"):format(opts.port or self.port, path))
    )
  )
  local status, seconds = out:match("^(%d+) ([%d.]+)")
  return tonumber(status), run.read_file(self.dir .. "/answer") or "", tonumber(seconds)
end

--- Runs a Lua chunk in a content handler of the test server; returns its decoded result (and
-- the status). A chunk that raises fails the spec with nginx's traceback.
function Nginx:eval(source, max_time)
  local file = self.dir .. "/chunk.lua"
  run.write_file(file, source)
  local status, body =
    self:get("/eval", { port = self.test_port, method = "POST", data = file, max_time = max_time or 60 })
  local ok, decoded = pcall(cjson.decode, body)
  if status ~= 200 then error(("eval answered %s: %s\n%s"):format(tostring(status), body, self:log()), 2) end
  assert(ok, "eval did not answer JSON: " .. body)
  return decoded, status
end

--- nginx's error log.
function Nginx:log()
  return run.read_file(self.dir .. "/logs/error.log") or ""
end

--- Stops nginx (idempotent), waits until it is gone, and removes its directory.
function Nginx:stop()
  if not self.pid then return end
  local master = tonumber(run.read_file(self.dir .. "/nginx.pid") or "")
  if master then run.execute("kill -TERM " .. master .. " 2>/dev/null") end
  for _ = 1, 100 do
    if not run.execute("kill -0 " .. self.pid .. " 2>/dev/null") then break end
    run.execute("sleep 0.05")
  end
  run.execute("kill -KILL " .. self.pid .. " 2>/dev/null")
  if master then run.execute("kill -KILL " .. master .. " 2>/dev/null") end
  self.pid = nil
  run.execute("rm -rf " .. q(self.dir))
end

return M
