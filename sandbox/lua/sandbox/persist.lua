--- `--state FILE`: the sandbox's state.data saved as JSON and restored at the next start.
--
--   {"format": "cleanlist-sandbox-state", "version": 1, "saved_at_ms": <sandbox clock>,
--    "data": {<area>: ..., ...}}
--
-- * load(): a missing file is fine (it is created at the first save); anything else that is
--   not such a document is refused with a message (the sandbox then exits 1; the file is left
--   as it is).
-- * Saving writes FILE.tmp and renames it over FILE (atomic on POSIX). After a request that
--   may have changed the state (touch()): at once when the last save is a second old or more,
--   else from tick() (called once a second by the timer thread, under the Lua lock); and from
--   shutdown() on a clean exit. A save that would write the same data as the last one is
--   skipped, so read-only traffic costs at most one encoding of the state a second.
-- * Decoding: lua-cjson gives floats for every number under Lua 5.4, so integral floats become
--   integers again; arrays come back marked with json.array (an empty `[]` stays an array);
--   JSON null is json.null.
-- What is saved is exactly state.data, so every area must be plain JSON values (state.lua).
local json = require "sandbox.json"

local M = {}
M.__index = M

M.FORMAT = "cleanlist-sandbox-state"
M.VERSION = 1

local tointeger = rawget(math, "tointeger")
local floor, find, sub = math.floor, string.find, string.sub
local EMPTY = "\0sandbox-empty-array"

--- mono: a monotonic milliseconds function (for the once-a-second pace).
function M.new(app, path, mono)
  return setmetatable({
    app = app,
    path = path,
    dirty = false,
    mono = mono or function()
      return os.time() * 1000
    end,
    saved_at = -math.huge,
  }, M)
end

-- Replaces every `[]` outside strings by a one-element array holding EMPTY, so that the walk
-- below can tell an empty array from an empty object (cjson decodes both to {}).
local function mark_empty_arrays(text)
  if not find(text, "[", 1, true) then return text end
  local out, n, i, len = {}, 0, 1, #text
  local from = 1
  while i <= len do
    local a = find(text, '["%[]', i)
    if not a then break end
    if sub(text, a, a) == '"' then
      local j = a + 1
      while true do -- the end of the string: a quote not escaped
        local q = find(text, '["\\]', j)
        if not q then
          return text -- unterminated: let cjson report it
        end
        if sub(text, q, q) == "\\" then
          j = q + 2
        else
          i = q + 1
          break
        end
      end
    else
      local b = find(text, "[^ \t\r\n]", a + 1)
      if b and sub(text, b, b) == "]" then
        n = n + 1
        out[n] = sub(text, from, a - 1)
        n = n + 1
        out[n] = '["\\u0000sandbox-empty-array"]'
        from = b + 1
        i = b + 1
      else
        i = a + 1
      end
    end
  end
  n = n + 1
  out[n] = sub(text, from)
  return table.concat(out, "", 1, n)
end

local function restore_value(v)
  local tv = type(v)
  if tv == "number" then
    if v == floor(v) and v > -9007199254740992 and v < 9007199254740992 and tointeger then return tointeger(v) end
    return v
  end
  if tv ~= "table" then return v end
  local len = #v
  if len == 1 and v[1] == EMPTY then return json.array() end
  local count = 0
  for k, x in pairs(v) do
    count = count + 1
    v[k] = restore_value(x)
  end
  if len > 0 and count == len then json.array(v) end
  return v
end

--- Decodes a state document; returns data or nil, message.
function M.decode(text)
  local doc, err = json.decode(mark_empty_arrays(text))
  if type(doc) ~= "table" then return nil, "not valid JSON" .. (err and (" (" .. err .. ")") or "") end
  if doc.format ~= M.FORMAT or type(doc.data) ~= "table" then
    return nil, 'not a sandbox state file (no "format": "' .. M.FORMAT .. '" and "data")'
  end
  if doc.version ~= M.VERSION then return nil, "unsupported state file version " .. tostring(doc.version) end
  return restore_value(doc.data)
end

--- Restores the app's state from the file. true (also when the file does not exist), or nil
-- and a message.
function M:load()
  local f = io.open(self.path, "rb")
  if not f then
    local probe = io.open(self.path, "a") -- exists but unreadable, or a directory?
    if probe then
      probe:close()
      os.remove(self.path)
      return true
    end
    return nil, "cannot read or create " .. self.path
  end
  local text = f:read("*a")
  f:close()
  if text == nil then return nil, "cannot read " .. self.path end
  local data, err = M.decode(text)
  if not data then return nil, self.path .. " is " .. err end
  self.app.state:restore(data)
  return true
end

--- The state document: its text and the text of its data part alone.
function M:encode()
  local body = json.encode(self.app.state.data)
  return string.format(
    '{"data":%s,"format":"%s","saved_at_ms":%d,"version":%d}',
    body,
    M.FORMAT,
    self.app.clock.now_ms(),
    M.VERSION
  ),
    body
end

local function write_atomically(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    return nil, werr or cerr
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

--- Writes the state when it differs from the last saved text. Returns true or nil, message.
function M:save()
  self.dirty = false
  local ok, text, body = pcall(self.encode, self)
  if not ok then return nil, "cannot encode the state: " .. tostring(text) end
  if self.last_body == body then return true end
  local wok, err = write_atomically(self.path, text)
  if not wok then return nil, "cannot write " .. self.path .. ": " .. tostring(err) end
  self.last_body = body
  return true
end

--- Marks the state as possibly changed; saves at once when the last save is a second old.
function M:touch()
  self.dirty = true
  if self.mono() - self.saved_at >= 1000 then self:tick() end
end

--- Saves if a request may have changed the state; reports a failure once on stderr.
function M:tick()
  if not self.dirty then return end
  self.saved_at = self.mono()
  local ok, err = self:save()
  if not ok and err ~= self.failed and not self.app.quiet then io.stderr:write("sandbox: --state: " .. err .. "\n") end
  self.failed = not ok and err or nil
end

return M
