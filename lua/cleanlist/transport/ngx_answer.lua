--- cleanlist.transport.ngx_answer: one HTTP/1.1 answer read on an nginx cosocket, for
-- cleanlist.transport.ngx. The status line and headers (past interim 1xx answers), then the
-- body: Content-Length, chunked, or up to the close; every read armed with the time left
-- before the exchange's deadline. Failures have the shape of transport.curl's:
-- {kind, message, sent}.
local ngx = ngx -- luacheck: ignore 113 (nginx's global)

local tonumber, tostring, setmetatable, concat = tonumber, tostring, setmetatable, table.concat
local floor, max, min = math.floor, math.max, math.min

local M = {}

local PIECE = 64 * 1024 -- the largest piece read at once (and handed to on_chunk)
local MAX_HEADER_LINES = 200
local MAX_LINE = 16 * 1024

--- nginx's clock, brought up to date.
function M.now()
  ngx.update_time()
  return ngx.now()
end
local now = M.now

--- A failure of the transport.
function M.failure(kind, message, sent)
  return { kind = kind, message = message, sent = sent }
end
local failure = M.failure

--- The failure of a cosocket operation (`what`) that failed with err ("timeout": no progress
-- within `timeout` seconds).
function M.io_failure(what, err, sent, timeout)
  if err == "timeout" then
    return failure("timeout", ("%s: no progress within the client's timeout (%g s)"):format(what, timeout), sent)
  end
  return failure("transport", what .. ": " .. tostring(err), sent)
end
local io_failure = M.io_failure

-- A reader of one exchange's answer on sock, within the exchange's deadline: each read is
-- armed with the time left. The body goes to req.on_chunk (a 2xx streamed) or is kept.
local Reader = {}
Reader.__index = Reader

-- What a read says when the deadline passed before it, and when the connection ended in it.
local PARTS = {
  status = { "waiting for the answer", "the connection ended before an answer" },
  headers = { "reading the answer's headers", "the connection ended in the answer's headers" },
  body = { "reading the answer's body", "the connection ended in the answer's body" },
}

local function reader(sock, req, deadline, timeout)
  return setmetatable(
    { sock = sock, req = req, deadline = deadline, timeout = timeout, parts = {}, size = 0, cap = req.max_body or 0 },
    Reader
  )
end

-- Sets the socket's timeout to the time left; false when none is left.
function Reader:arm()
  local left = self.deadline - now()
  if left <= 0 then return false end
  self.sock:settimeout(max(1, floor(left * 1000)))
  return true
end

-- The error of a read that failed with err (a timeout when the deadline has passed meanwhile).
function Reader:lost(what, err)
  if err ~= "timeout" and not self:arm() then err = "timeout" end
  return io_failure(what, err, true, self.timeout)
end

-- One read of `pattern` ("*l", or a byte count) in `part` of the answer (PARTS). Returns the
-- data, or nil, the error and true when the connection ended (not the deadline).
function Reader:receive(pattern, part)
  local texts = PARTS[part]
  if not self:arm() then return nil, io_failure(texts[1], "timeout", true, self.timeout) end
  local data, err = self.sock:receive(pattern)
  if not data then return nil, self:lost(texts[2], err), true end
  return data
end

-- A piece of the body: streamed or kept, within the cap. Returns an error to stop on.
function Reader:take(piece)
  self.size = self.size + #piece
  if self.cap > 0 and self.size > self.cap then
    return failure(
      "transport",
      ("the answer is larger than %d bytes (the client's " .. "max_body_bytes): stopped"):format(self.cap),
      true
    )
  end
  if self.stream then return self.req.on_chunk(piece) end
  self.parts[#self.parts + 1] = piece
end

-- n bytes of the body, in pieces. Returns an error to stop on.
function Reader:exactly(n)
  while n > 0 do
    local piece, err = self:receive(min(n, PIECE), "body")
    if not piece then return err end
    n = n - #piece
    local serr = self:take(piece)
    if serr then return serr end
  end
end

-- The status line and the headers, past any interim 1xx answer. Returns status, the HTTP
-- minor version and the headers (lower-case names), or nil, err, nothing_read.
function Reader:head()
  local status, minor, headers
  repeat
    local line, err, ended = self:receive("*l", "status")
    if not line then return nil, err, ended end
    local m
    m, status = line:match("^HTTP/1%.(%d) (%d%d%d)")
    if not m then
      return nil,
        failure("transport", "the server did not answer in HTTP/1.x: " .. line:sub(1, 40):gsub("%c", "?"), true)
    end
    minor, status = tonumber(m), tonumber(status)
    local count = 0
    headers = {}
    while true do
      line, err = self:receive("*l", "headers")
      if not line then return nil, err end
      if line == "" then break end
      count = count + 1
      if count > MAX_HEADER_LINES or #line > MAX_LINE then
        return nil, failure("transport", "the answer's headers are too large", true)
      end
      local name, value = line:match("^([^:%s]+)%s*:%s*(.-)%s*$")
      if name then
        name = name:lower()
        headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
      end
    end
  until status >= 200
  return status, minor, headers
end

-- A chunked body, with its trailers. Returns an error to stop on.
function Reader:chunked()
  while true do
    local line, err = self:receive("*l", "body")
    if not line then return err end
    local n = tonumber(line:match("^%s*(%x+)"), 16)
    if not n then return failure("transport", "a malformed chunk in the answer", true) end
    if n == 0 then
      repeat -- trailers, up to the blank line
        line, err = self:receive("*l", "body")
        if not line then return err end
      until line == ""
      return nil
    end
    err = self:exactly(n)
    if err then return err end
    line, err = self:receive(2, "body")
    if not line then return err end
  end
end

-- A body that runs to the end of the connection. Returns an error to stop on.
function Reader:to_close()
  while true do
    if not self:arm() then return io_failure(PARTS.body[1], "timeout", true, self.timeout) end
    local piece, err = self.sock:receiveany(PIECE)
    if not piece then
      if err == "closed" then return nil end
      return self:lost(PARTS.body[2], err)
    end
    err = self:take(piece)
    if err then return err end
  end
end

--- Reads one exchange's answer on sock (req: the transport's request). Returns status, headers, body, keep (the connection
-- may be kept), or nil, err, nothing_read.
function M.read(sock, req, deadline, timeout)
  local rd = reader(sock, req, deadline, timeout)
  local status, minor, headers = rd:head()
  if not status then return nil, minor, headers end
  rd.stream = req.on_chunk and status >= 200 and status < 300
  local te = (headers["transfer-encoding"] or ""):lower()
  local conn = (headers["connection"] or ""):lower()
  local keep = minor == 1 and not conn:find("close", 1, true) or conn:find("keep-alive", 1, true)
  local ferr
  if req.method == "HEAD" or status == 204 or status == 304 then -- luacheck: ignore 542
  elseif te:find("chunked", 1, true) then
    ferr = rd:chunked()
  elseif headers["content-length"] then
    local n = tonumber(headers["content-length"])
    if not n or n < 0 then return nil, failure("transport", "a malformed Content-Length", true) end
    ferr = rd:exactly(n)
  else
    keep = false
    ferr = rd:to_close()
  end
  if ferr then return nil, ferr end
  return status, headers, concat(rd.parts), keep
end

return M
