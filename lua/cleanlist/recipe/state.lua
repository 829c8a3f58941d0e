--- cleanlist.recipe.state: the state file of a paid recipe's run. Where it is (--state FILE,
-- else one file per recipe, arguments, key and API under $XDG_STATE_HOME/cleanlist), what
-- identifies a run, and reading and writing it. Run holds the methods of the run `r`.
local json = require "cleanlist.json"
local cli = require "cleanlist.recipe.cli"
local read_file = require("cleanlist.recipes").read_file

local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local concat = table.concat

local M = {}
local Run = {}
M.Run = Run

--- The present time as ISO 8601 text (UTC).
function M.now_text()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end
local now_text = M.now_text

--- A digest of a string as 16 hex digits (two 32-bit polynomial hashes): tells runs apart in
-- a file name; it is not a secret.
function M.digest(s)
  local a, b = 5381, 52711
  for i = 1, #s do
    local c = s:byte(i)
    a = (a * 33 + c) % 4294967291
    b = (b * 131 + c) % 4294967279
  end
  return ("%08x%08x"):format(a, b)
end
local digest = M.digest

local function state_dir()
  local base = os.getenv("XDG_STATE_HOME")
  if not base or base == "" then
    local home = os.getenv("HOME")
    base = (home and home ~= "" and home or "/tmp") .. "/.local/state"
  end
  return base .. "/cleanlist"
end

local function mkdir_p(dir)
  os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
end

-- What identifies a run: the recipe, its arguments without the output and state options,
-- the key (by fingerprint) and the API it runs against (a state recorded against one sandbox
-- names lists and tasks another one never had).
-- (--max-credits is not part of it: a run refused for its budget resumes with a larger one;
-- nor is any option a recipe marks `resume = false`.)
local function run_identity(def, argv, fingerprint, base_url)
  local neutral = {
    ["--json"] = true,
    ["--quiet"] = true,
    ["-q"] = true,
    ["--fresh"] = true,
    ["--resend-unknown"] = true,
    ["--dry-run"] = true,
    ["--state"] = true,
    ["--max-credits"] = true,
  }
  local valued = { ["--state"] = true, ["--max-credits"] = true }
  for _, o in ipairs(cli.all_options(def)) do
    if o.resume == false then
      neutral[o.flag] = true
      valued[o.flag] = o.metavar ~= nil
    end
  end
  local kept, i = {}, 1
  while i <= #argv do
    local a = argv[i]
    local flag, inline = a:match("^(%-%-[^=]+)=(.*)$")
    flag = flag or a
    if neutral[flag] then
      if valued[flag] and inline == nil then i = i + 1 end
    else
      kept[#kept + 1] = a
    end
    i = i + 1
  end
  return def.name .. "\0" .. concat(kept, "\0") .. "\0" .. (fingerprint or "") .. "\0" .. (base_url or "")
end

--- Writes the state file: a new file beside it, then renamed over it (a crash leaves the old
-- state or the new, never half of one).
function Run:save()
  if not self.state_path then return end
  local tmp = self.state_path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("cannot write the state file " .. tmp .. ": " .. tostring(err), 0) end
  f:write(json.encode(self.state), "\n")
  f:close()
  local ok, rerr = os.rename(tmp, self.state_path)
  if not ok then error("cannot write the state file " .. self.state_path .. ": " .. tostring(rerr), 0) end
end

-- Opens the state of a paid recipe's run: the state an earlier run of the same command left
-- (resumed), else a new one. nil and a message when the file holds something else.
function Run:_open_state(argv)
  if not self.def.paid then return true end
  local identity = run_identity(self.def, argv, self.client.credential:fingerprint(), self.client.base_url)
  local path = self.opts.state
  if not path then
    local dir = state_dir()
    mkdir_p(dir)
    path = ("%s/%s-%s.json"):format(dir, self.def.name, digest(identity))
  end
  self.state_path = path
  local text = not self.opts.fresh and read_file(path)
  if text then
    local st = json.decode(text)
    if type(st) ~= "table" or st.recipe ~= self.def.name then
      return nil,
        ("%s is not a state file of %s: give another --state, or --fresh to replace it"):format(path, self.def.name)
    end
    if st.identity ~= digest(identity) then
      return nil,
        (
          "%s holds the state of another run of %s (other arguments or another key): "
          .. "give another --state, or --fresh to start over"
        ):format(path, self.def.name)
    end
    self.state, self.resumed = st, true
    self:note("resuming the run of %s from %s", tostring(st.started_at), path)
  else
    self.state = { recipe = self.def.name, identity = digest(identity), started_at = now_text(), calls = {} }
  end
  return true
end

--- Whether the state records a paid call that went out.
function Run:_dispatched()
  for _, call in pairs(self.state and self.state.calls or {}) do
    if call.paid and call.sent_at then return true end
  end
  return false
end

return M
