--- Running recipes (`cleanlist run NAME ...`) against a sandbox of spec.helpers.sandbox, in
-- the foreground or in the background (to kill them), each run with its own state directory.
--
--   local recipe = require "spec.helpers.recipe"
--   local r = recipe.run(sb, "prospect_to_crm", { "--title", "VP Sales" })  --> {code, stdout, stderr}
--   local bg = recipe.spawn(sb, "prospect_to_crm", {...}); bg:kill("KILL"); bg:wait()
local run = require "spec.helpers.run"
local assert = require "luassert"

local M = {}

--- A fresh directory for XDG_STATE_HOME (state files land in DIR/cleanlist).
function M.state_home()
  local dir = os.tmpname()
  os.remove(dir)
  assert(run.execute("mkdir -p " .. run.quote(dir .. "/cleanlist")))
  return dir
end

--- Removes a directory made by state_home.
function M.remove(dir)
  run.execute("rm -rf " .. run.quote(dir))
end

--- The environment of a recipe run against sb: its URL and key, its time scale (opts.scale),
-- a state home (opts.home), and opts.env on top.
function M.env(sb, opts)
  opts = opts or {}
  local env = {
    CLEANLIST_BASE_URL = sb.base_url,
    CLEANLIST_API_KEY = sb.key,
    CLEANLIST_TIME_SCALE = opts.scale and tostring(opts.scale) or false,
    XDG_STATE_HOME = opts.home or M.state_home(),
    CLEANLIST_RECIPES = false,
  }
  for k, v in pairs(opts.env or {}) do
    env[k] = v
  end
  return env
end

local function command(env, name, args)
  local argv = { run.quote(run.bin()), "run", run.quote(name) }
  for _, a in ipairs(args or {}) do
    argv[#argv + 1] = run.quote(a)
  end
  return run.env_prefix(env) .. table.concat(argv, " ")
end

--- Runs a recipe to its end (30 s limit): {code =, stdout =, stderr =}.
function M.run(sb, name, args, opts)
  return run.sh(command(M.env(sb, opts), name, args))
end

local Background = {}
Background.__index = Background

--- Starts a recipe in the background; returns a handle with pid, kill(sig), wait(), output().
function M.spawn(sb, name, args, opts)
  local out, err, rc = os.tmpname(), os.tmpname(), os.tmpname()
  local line = "("
    .. command(M.env(sb, opts), name, args)
    .. " </dev/null >"
    .. run.quote(out)
    .. " 2>"
    .. run.quote(err)
    .. "; echo $? >"
    .. run.quote(rc)
    .. ") >/dev/null 2>&1 & echo $!"
  -- The subshell's pid; the recipe is its child (found with pgrep -P to signal it).
  local pid = tonumber((run.capture(line)))
  assert(pid, "could not start the recipe")
  return setmetatable({ pid = pid, out = out, err = err, rc = rc }, Background)
end

--- The pid of the cleanlist process itself (the subshell's child).
function Background:child()
  for _ = 1, 100 do
    local text = run.capture("pgrep -P " .. self.pid)
    local pid = tonumber(text:match("%d+"))
    if pid then return pid end
    run.execute("sleep 0.05")
  end
  error("the recipe process did not start")
end

--- Sends a signal ("KILL", "INT") to the recipe process.
function Background:kill(sig)
  assert(run.execute("kill -" .. sig .. " " .. self:child()))
end

--- Waits (up to 30 s) for the run to end; returns {code, stdout, stderr} and removes the files.
function Background:wait()
  for _ = 1, 600 do
    local rc = run.read_file(self.rc)
    if rc and rc:match("%d") then
      local r = {
        code = tonumber(rc:match("%d+")),
        stdout = run.read_file(self.out) or "",
        stderr = run.read_file(self.err) or "",
      }
      os.remove(self.out)
      os.remove(self.err)
      os.remove(self.rc)
      return r
    end
    run.execute("sleep 0.05")
  end
  error("the recipe did not end within 30 s")
end

--- Waits (up to `seconds`, default 20) until pred(text of the state file) is true; returns the
-- text. The state file is the one file under home/cleanlist.
function M.wait_for_state(home, pred, seconds)
  local deadline = os.time() + (seconds or 20)
  repeat
    local name = run.capture("ls " .. run.quote(home .. "/cleanlist") .. " 2>/dev/null | grep -v tmp | head -n 1")
    name = name:gsub("%s+$", "")
    if name ~= "" then
      local text = run.read_file(home .. "/cleanlist/" .. name)
      if text and pred(text) then return text, home .. "/cleanlist/" .. name end
    end
    run.execute("sleep 0.05")
  until os.time() > deadline
  error("the state file never showed what was waited for")
end

--- Starts a recipe, waits until its state file holds `marker` (the run it waits on), scripts
-- a 503, a reset and a 500 for its next requests (its status polls), and checks that it
-- survives them: exit status 0, each fault served once. Returns the run's result.
function M.survives_faults(sb, name, args, opts, marker)
  local home = M.state_home()
  local o = { home = home }
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
  local bg = M.spawn(sb, name, args, o)
  M.wait_for_state(home, function(t)
    return t:find(marker, 1, true)
  end)
  sb:control("POST", "/script", { responses = { { fault = "503" }, { fault = "reset" }, { fault = "500" } } })
  local r = bg:wait()
  M.remove(home)
  assert.equals(0, r.code, r.stderr)
  local statuses = require("spec.helpers.wire").statuses(sb)
  assert.equals(1, M.count(statuses, 503))
  assert.equals(1, M.count(statuses, 500))
  return r
end

--- The ledger rows of the sandbox whose ref is `ref`.
function M.ledger_of(sb, ref)
  local rows = {}
  for _, row in ipairs((sb:control("GET", "/credits")).ledger) do
    if row.ref == ref then rows[#rows + 1] = row end
  end
  return rows
end

--- The lines of a text (empty ones left out).
function M.lines_of(text)
  local out = {}
  for l in (text or ""):gmatch("[^\n]+") do
    out[#out + 1] = l
  end
  return out
end

--- The JSON lines of a text (a --json run's stdout, a .jsonl file), decoded.
function M.json_lines(text)
  local out = {}
  for i, line in ipairs(M.lines_of(text)) do
    out[i] = require("cjson").decode(line)
  end
  return out
end

--- The summary of a --json run (its last line, {"summary": ...}), and all its lines.
function M.summary_of(r)
  local lines = M.json_lines(r.stdout)
  local last = lines[#lines]
  assert.is_table(last and last.summary, "no summary line in: " .. r.stdout)
  return last.summary, lines
end

--- The first line of a --json run's lines whose step is `name`.
function M.step(lines, name)
  for _, l in ipairs(lines) do
    if l.step == name then return l end
  end
  error("no step " .. name)
end

--- How many items of a list equal value.
function M.count(list, value)
  local n = 0
  for _, v in ipairs(list) do
    if v == value then n = n + 1 end
  end
  return n
end

--- The organisation's credits in the sandbox.
function M.balance(sb)
  return (sb:control("GET", "/credits")).credits
end

--- A path for a temporary file ending in ext (nothing is created).
function M.tmp_path(ext)
  local p = os.tmpname()
  os.remove(p)
  return p .. (ext or "")
end

return M
