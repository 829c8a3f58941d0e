--- cleanlist.transport.ngx: HTTP/1.1 over nginx's cosockets, for OpenResty and Debian's
-- libnginx-mod-http-lua. A request never blocks the worker: connecting, the TLS handshake,
-- sending and every read yield to nginx, which serves other requests meanwhile. Chosen by
-- cleanlist.new inside nginx; see docs/transport.md for the interface it implements.
--
-- * TLS is verified (sslhandshake with verification on): nginx trusts the CA file named by
--   `lua_ssl_trusted_certificate` (on Debian /etc/ssl/certs/ca-certificates.crt).
-- * Connections are kept alive in nginx's per-worker pool (setkeepalive), one pool per origin;
--   a call that asks for a fresh connection (the paid methods) gets one and closes it after.
-- * Timeouts are the client's seconds: `connect_timeout` for the connection, `timeout` for the
--   whole exchange.
-- * Bodies: Content-Length, chunked, or up to the close; a 2xx body may be streamed to
--   req.on_chunk in pieces of at most 64 KiB (cleanlist.transport.ngx_answer reads answers).
-- * The result and error shapes are those of transport.curl, so errors, retries and the rate
--   limiter behave the same. As libcurl does, a request that meets a kept-alive connection the
--   server had closed (no byte of an answer) is sent once more on a new connection, unless it
--   asked for a fresh connection.
local ngx = ngx -- luacheck: ignore 113 (nginx's global)

local monotonic = require("cleanlist.core").monotonic
local answer = require "cleanlist.transport.ngx_answer"

local type, tonumber, tostring, concat = type, tonumber, tostring, table.concat
local floor, max, min = math.floor, math.max, math.min

local M = {}

-- The phases in which cosockets and ngx.sleep work.
local COSOCKET_PHASES = {
  rewrite = true,
  access = true,
  content = true,
  timer = true,
  ssl_cert = true,
  ssl_session_fetch = true,
  ssl_client_hello = true,
}

local now, failure, io_failure = answer.now, answer.failure, answer.io_failure

--- True when this code runs inside nginx's Lua module.
function M.in_nginx()
  return type(ngx) == "table" and type(ngx.get_phase) == "function" and type(ngx.socket) == "table"
end

--- nil when cosockets work in the current phase, else an error table of kind "config".
function M.check()
  local phase = ngx.get_phase()
  if COSOCKET_PHASES[phase] then return nil end
  return {
    kind = "config",
    sent = false,
    message = (
      "cleanlist cannot call the API in nginx's %s phase: nginx allows no network "
      .. "there (call it from a content, access or rewrite handler or an ngx.timer.at "
      .. 'callback; or create the client with transport = "curl", which blocks the worker)'
    ):format(tostring(phase)),
  }
end

--- True when cosockets can run now (inside nginx, in a phase that allows them).
function M.usable()
  return M.in_nginx() and M.check() == nil
end

local Transport = {}
Transport.__index = Transport

--- opts: user_agent, trace (function(line) receiving redacted lines), ca_file (refused: nginx
-- reads its CAs from lua_ssl_trusted_certificate), keepalive (seconds an idle connection is
-- kept, default 60), pool_size (idle connections kept per origin and worker, default 32).
function M.new(opts)
  opts = opts or {}
  if not M.in_nginx() then return nil, { kind = "config", message = 'transport "ngx" runs only inside nginx' } end
  if opts.ca_file then
    return nil,
      {
        kind = "config",
        message = "under nginx the CA file is named by nginx's "
          .. "lua_ssl_trusted_certificate directive, not the ca_file option",
      }
  end
  if opts.proxy and opts.proxy ~= "" then -- "": no proxy, which is what cosockets do anyway
    return nil,
      {
        kind = "config",
        message = "the ngx transport connects directly: it cannot go "
          .. 'through a proxy (leave proxy out, or use transport = "curl")',
      }
  end
  return setmetatable({
    user_agent = opts.user_agent or "cleanlist-lua",
    trace = opts.trace,
    keepalive_ms = floor((opts.keepalive or 60) * 1000),
    pool_size = opts.pool_size or 32,
  }, Transport)
end

-- scheme, host (brackets kept for IPv6), port, authority (for Host:), target (path?query)
local function parse_url(url)
  local scheme, authority, target = url:match("^(https?)://([^/?#]+)([^#]*)")
  if not scheme then return nil end
  local host, port = authority:match("^(%[[^%]]+%]):?(%d*)$")
  if not host then
    host, port = authority:match("^([^:]+):?(%d*)$")
  end
  if not host then return nil end
  local default = scheme == "https" and 443 or 80
  port = tonumber(port) or default
  if target == "" then target = "/" end
  if target:sub(1, 1) == "?" then target = "/" .. target end
  return {
    scheme = scheme,
    host = host,
    port = port,
    target = target,
    authority = port == default and host or (host .. ":" .. port),
    sni = host:sub(1, 1) ~= "[" and host or nil,
    pool = "cleanlist:" .. scheme .. "://" .. host .. ":" .. port,
  }
end

function Transport:_trace(prefix, text, credential)
  for line in text:gmatch("[^\r\n]+") do
    if credential then line = credential:redact(line) end
    self.trace(prefix .. line)
  end
end

-- The request's head: request line, Host, User-Agent, the caller's lines, Authorization.
function Transport:_head(u, req)
  local lines = {
    req.method .. " " .. u.target .. " HTTP/1.1",
    "Host: " .. u.authority,
    "User-Agent: " .. self.user_agent,
  }
  for _, h in ipairs(req.headers or {}) do
    lines[#lines + 1] = h
  end
  local body = req.body
  if body or req.method == "POST" or req.method == "PUT" or req.method == "PATCH" then
    lines[#lines + 1] = "Content-Length: " .. (body and #body or 0)
  end
  if req.fresh_connect then lines[#lines + 1] = "Connection: close" end
  if req.credential then lines[#lines + 1] = req.credential:authorization_header() end
  lines[#lines + 1] = ""
  lines[#lines + 1] = ""
  return concat(lines, "\r\n")
end

-- One exchange on one connection. Returns the result; or nil, err; or nil, nil, true when a
-- reused connection turned out dead before any answer (the caller sends it once more).
function Transport:_exchange(u, req, t0, fresh)
  local timeout = req.timeout or 60
  local deadline = t0 + timeout
  local sock = ngx.socket.tcp()
  local connect_s = min(req.connect_timeout or 10, timeout)
  sock:settimeout(max(1, floor(connect_s * 1000)))
  local ok, err = sock:connect(u.host, u.port, { pool = fresh and (u.pool .. "#fresh") or u.pool })
  if not ok then return nil, io_failure("cannot connect to " .. u.authority, err, false, connect_s) end
  local reused = (sock:getreusedtimes() or 0) > 0
  if self.trace then self:_trace("* ", (reused and "reusing the connection to " or "connected to ") .. u.authority) end
  if u.scheme == "https" and not reused then
    local session, herr = sock:sslhandshake(nil, u.sni, true)
    if not session then
      sock:close()
      if herr == "timeout" then return nil, io_failure("the TLS handshake", herr, false, connect_s) end
      return nil,
        failure(
          "tls",
          ("TLS handshake with %s failed: %s (is the CA in nginx's " .. "lua_ssl_trusted_certificate?)"):format(
            u.authority,
            tostring(herr)
          ),
          false
        )
    end
  end
  local head = self:_head(u, req)
  if self.trace then self:_trace("> ", head, req.credential) end
  local left = deadline - now()
  if left <= 0 then
    sock:close()
    return nil, io_failure("sending the request", "timeout", false, timeout)
  end
  sock:settimeout(max(1, floor(left * 1000)))
  local sent, serr = sock:send(req.body and { head, req.body } or head)
  if not sent then
    sock:close()
    if reused and not req.fresh_connect and serr ~= "timeout" then return nil, nil, true end
    return nil, io_failure("sending the request", serr, true, timeout)
  end
  local status, headers, body, keep = answer.read(sock, req, deadline, timeout)
  if not status then
    sock:close()
    local rerr, nothing_read = headers, body
    if nothing_read and reused and not req.fresh_connect and rerr.kind == "transport" then return nil, nil, true end
    return nil, rerr
  end
  if self.trace then self:_trace("< ", ("HTTP/1.1 %d"):format(status)) end
  if keep and not fresh then
    sock:setkeepalive(self.keepalive_ms, self.pool_size)
  else
    sock:close()
  end
  return {
    status = status,
    headers = headers,
    body = req.on_chunk and status >= 200 and status < 300 and "" or body,
    reused = reused,
  }
end

--- The transport's request (docs/transport.md). The client asks check() first, before any
-- wait; a caller of its own does the same.
function Transport:request(req)
  local u = parse_url(req.url)
  if not u then return nil, failure("config", "cannot parse the URL " .. req.url:sub(1, 80), false) end
  local t0 = now()
  local fresh = req.fresh_connect == true
  local res, err, again = self:_exchange(u, req, t0, fresh)
  if again then
    if self.trace then self:_trace("* ", "the kept-alive connection was closed: sending again on a new one") end
    res, err = self:_exchange(u, req, t0, true)
  end
  return res, err
end

--- Nothing to release: idle connections belong to nginx's pool.
function Transport:close() end -- luacheck: ignore 212

--- Waits yield to nginx. nginx times them from its cached clock, which lags while the worker
-- is busy, so a wait can end early: the rest is waited again (a rate-limit slot must not be
-- taken before its time).
function Transport.sleep(seconds)
  local deadline = monotonic() + seconds
  local left = seconds
  repeat
    ngx.sleep(left)
    left = deadline - monotonic()
  until left <= 0
end

--- nil when calls can go out now, else an error of kind "config".
function Transport.check() -- luacheck: ignore 212
  return M.check()
end

--- cleanlist.gather under nginx: each function runs in a light thread (ngx.thread.spawn), at
-- most opts.concurrency at once; results[i] holds what fns[i] returned (with field n). A
-- function that raises makes gather raise once every one has ended.
function M.gather(fns, opts)
  require("cleanlist.scheduler").check_functions(fns, 3)
  local concurrency = min(opts and opts.concurrency or #fns, #fns)
  local results, failure_text, next_index = {}, nil, 1
  local pack = rawget(table, "pack") or function(...)
    return { n = select("#", ...), ... }
  end
  local function worker()
    while next_index <= #fns do
      local i = next_index
      next_index = i + 1
      local r = pack(xpcall(fns[i], debug.traceback))
      if r[1] then
        results[i] = pack(select(2, (table.unpack or unpack)(r, 1, r.n))) -- luacheck: ignore 143 113
      else
        failure_text = failure_text or tostring(r[2])
        results[i] = { n = 0 }
      end
    end
  end
  local threads = {}
  for t = 1, concurrency do
    threads[t] = ngx.thread.spawn(worker)
  end
  for t = 1, #threads do
    local ok, err = ngx.thread.wait(threads[t])
    if not ok then failure_text = failure_text or tostring(err) end
  end
  if failure_text then error(failure_text, 2) end
  for i = 1, #fns do
    results[i] = results[i] or { n = 0 }
  end
  return results
end

function Transport.gather(_, fns, opts)
  return M.gather(fns, opts)
end

return M
