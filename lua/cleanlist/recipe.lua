--- cleanlist.recipe: what every recipe shares, so a recipe is only its workflow.
--
--   local recipe = require "cleanlist.recipe"
--   return recipe.main {
--     name = "my_recipe", purpose = "one line: what it does",
--     paid = true,                          -- adds --dry-run, --max-credits, --state, --fresh
--     options = { { "--title TEXT", "a job title to search for", many = true } },
--     run = function(r) ... end,            -- r: the run (below); returns the summary table
--   }
--
-- The run `r` gives: r.opts (options by name, dashes as underscores), r.args (the operands),
-- r.stdout_busy (set it when the recipe writes its records on stdout: the summary then goes to
-- stderr),
-- r.client (a client from the environment), r:say(fmt, ...) (a line for a person: stdout, or
-- stderr under --json, nothing under --quiet), r:emit(record) (a JSON line under --json),
-- r:progress(label) (an on_progress function for client:wait that draws a bar on stderr),
-- r:once(key, send, opts) (a call made once across runs: see below) and r:fail(err).
--
-- Resuming: a paid recipe keeps its state in a file (--state FILE; by default one per recipe,
-- arguments, key and API under $XDG_STATE_HOME/cleanlist). r:once(key, send) records that it is
-- about to send before sending and what came back after, so a run started again after a
-- crash or Ctrl-C returns the recorded result instead of sending again. A paid call goes out
-- with a quote recorded first: sent again, the quote makes the API refuse a second use, so it
-- is never paid twice. A call whose outcome is unknown (sent without a quote, no answer) is
-- not sent again: the run stops and says so (--resend-unknown sends it anyway). A run that
-- finishes removes its state file.
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"
local errors = require "cleanlist.errors"
local json = require "cleanlist.json"
local scheduler = require "cleanlist.scheduler"
local progress = require "cleanlist.progress"

local M = {}

M.EXIT_OK, M.EXIT_ERROR, M.EXIT_USAGE, M.EXIT_INTERRUPTED = 0, 1, 2, 130
M.EXIT_UNKNOWN = 19 -- a call the state file says was sent, with no known outcome

local Run = {}
Run.__index = Run

---------------------------------------------------------------------------------------------
-- Options

local COMMON = {
  { "--help", "print this help and exit", short = "-h" },
  { "--json", "write JSON lines on stdout instead of text for a person" },
  { "--quiet", "no progress and no messages on stderr (errors still)", short = "-q" },
}
local PAID = {
  { "--dry-run", "estimate and print the quote; spend nothing" },
  { "--max-credits N", "refuse to spend more than N credits (checked against the estimate)",
    number = true },
  { "--state FILE", "where this run records what it dispatched (default: one file per recipe, "
    .. "arguments, key and API under $XDG_STATE_HOME/cleanlist)" },
  { "--fresh", "forget the state of an earlier run of the same command and start over" },
  { "--resend-unknown", "send again a call an earlier run sent without learning its outcome "
    .. "(it may be paid twice)" },
}

-- { name =, flag =, metavar =, help =, ... } from { "--flag METAVAR", help, ... }.
local function option(o)
  local flag, metavar = o[1]:match("^(%-%-[%w-]+)%s*(.*)$")
  local opt = { flag = flag, metavar = metavar ~= "" and metavar or nil, help = o[2],
    name = flag:sub(3):gsub("-", "_"), short = o.short, many = o.many, number = o.number,
    default = o.default, choices = o.choices, resume = o.resume }
  return opt
end

local function all_options(def)
  local list = {}
  for _, group in ipairs { def.options or {}, def.paid and PAID or {}, COMMON } do
    for _, o in ipairs(group) do
      if type(o[1]) == "table" then -- a group of options (recipe.list_options)
        for _, inner in ipairs(o) do list[#list + 1] = option(inner) end
      else
        list[#list + 1] = option(o)
      end
    end
  end
  return list
end

local function usage_error(def, fmt, ...)
  return { usage = true, message = ("%s: " .. fmt):format(def.name, ...)
    .. ("\nrun `cleanlist run %s --help` for its options"):format(def.name) }
end

-- Parses argv (an array) against the definition: opts, operands, or nil and a usage error.
function M.parse(def, argv)
  local options, by_flag = all_options(def), {}
  for _, o in ipairs(options) do
    by_flag[o.flag] = o
    if o.short then by_flag[o.short] = o end
  end
  local opts, operands, i = {}, {}, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do operands[#operands + 1] = argv[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local flag, inline = a:match("^(%-%-[^=]+)=(.*)$")
      flag = flag or a
      local o = by_flag[flag]
      if not o then return nil, nil, usage_error(def, "unknown option '%s'", flag) end
      local value = true
      if o.metavar then
        value = inline
        if value == nil then
          i = i + 1
          value = argv[i]
        end
        if value == nil then return nil, nil, usage_error(def, "%s needs a value (%s)", o.flag, o.metavar) end
        if o.number then
          local n = tonumber(value)
          if not n or n < 0 then
            return nil, nil, usage_error(def, "%s takes a number, not '%s'", o.flag, value)
          end
          value = n
        end
        if o.choices then
          local ok = false
          for _, c in ipairs(o.choices) do ok = ok or c == value end
          if not ok then
            return nil, nil, usage_error(def, "%s takes one of %s, not '%s'", o.flag,
              table.concat(o.choices, ", "), value)
          end
        end
      elseif inline ~= nil then
        return nil, nil, usage_error(def, "%s takes no value", o.flag)
      end
      if o.many then
        opts[o.name] = opts[o.name] or {}
        local list = opts[o.name]
        -- "a,b" gives two values as well as --flag a --flag b
        for v in tostring(value):gmatch("[^,]+") do list[#list + 1] = v end
      else
        opts[o.name] = value
      end
    else
      operands[#operands + 1] = a
    end
    i = i + 1
  end
  for _, o in ipairs(options) do
    if opts[o.name] == nil and o.default ~= nil then opts[o.name] = o.default end
  end
  local min = def.operands and def.operands.min or 0
  if not opts.help and #operands < min then
    return nil, nil, usage_error(def, "needs %s", def.operands.name)
  end
  if not opts.help and def.operands == nil and #operands > 0 then
    return nil, nil, usage_error(def, "takes no operand ('%s')", operands[1])
  end
  return opts, operands
end

local function exit_table()
  local rows = {}
  for kind, code in pairs(core.exit_status) do rows[#rows + 1] = { code, kind } end
  table.sort(rows, function(a, b) return a[1] < b[1] end)
  local out = { "  0  done", "  1  a script error (a bug: the traceback says where)",
    "  2  bad arguments" }
  for _, r in ipairs(rows) do out[#out + 1] = ("%3d  an error of kind %s"):format(r[1], r[2]) end
  out[#out + 1] = ("%3d  a call an earlier run sent has no known outcome (see --resend-unknown)")
    :format(M.EXIT_UNKNOWN)
  out[#out + 1] = "130  interrupted (Ctrl-C): run the same command again to resume"
  return table.concat(out, "\n")
end
M.exit_table = exit_table

--- The --help text of a recipe.
function M.help(def)
  local lines = { ("usage: cleanlist run %s [options]%s"):format(def.name,
    def.operands and " " .. def.operands.name or ""), "", def.purpose }
  if def.description then lines[#lines + 1] = "" lines[#lines + 1] = def.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  for _, o in ipairs(all_options(def)) do
    local left = (o.short and o.short .. ", " or "    ") .. o.flag .. (o.metavar and " " .. o.metavar or "")
    local help = o.help
    if o.many then help = help .. " (repeatable, or comma-separated)" end
    if o.default ~= nil then help = help .. " (default " .. tostring(o.default) .. ")" end
    if #left > 24 then
      lines[#lines + 1] = "  " .. left
      lines[#lines + 1] = (" "):rep(28) .. help
    else
      lines[#lines + 1] = ("  %-26s%s"):format(left, help)
    end
  end
  if def.examples then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "examples:"
    for _, e in ipairs(def.examples) do lines[#lines + 1] = "  " .. e end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "exit status:"
  lines[#lines + 1] = exit_table()
  return table.concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------------------------
-- Output

local function is_tty(fd)
  return core.isatty and core.isatty(fd) or false
end

--- A line for a person: stdout (stderr under --json), nothing under --quiet.
function Run:say(fmt, ...)
  if self.opts.quiet then return end
  local line = select("#", ...) > 0 and fmt:format(...) or fmt
  local out = (self.opts.json or self.stdout_busy) and io.stderr or io.stdout
  self:_clear_bar()
  out:write(line, "\n")
  out:flush()
end

--- A record on stdout as one JSON line, under --json only.
function Run:emit(record)
  if not self.opts.json then return end
  io.stdout:write(json.encode(record), "\n")
  io.stdout:flush()
end

--- A notice on stderr (not under --quiet).
function Run:note(fmt, ...)
  if self.opts.quiet then return end
  self:_clear_bar()
  io.stderr:write(self.def.name, ": ", select("#", ...) > 0 and fmt:format(...) or fmt, "\n")
  io.stderr:flush()
end

function Run:_clear_bar()
  if self._bar_drawn then
    io.stderr:write("\r\27[K")
    self._bar_drawn = false
  end
end

local function clock_text(s)
  s = math.floor(s + 0.5)
  local floor = math.floor
  if s >= 3600 then return ("%dh%02dm"):format(floor(s / 3600), floor(s % 3600 / 60)) end
  return ("%d:%02d"):format(floor(s / 60), s % 60)
end

--- The progress line of a run status: label, bar, processed/total, completed, failed,
-- elapsed and the time left (from the rate since the first progress seen).
function M.progress_line(label, st, elapsed, left)
  local p = progress.of(st)
  local parts = { label }
  if p.share then
    local width = 20
    local fill = math.floor(p.share * width + 0.5)
    parts[#parts + 1] = "[" .. ("#"):rep(fill) .. ("."):rep(width - fill) .. "]"
  end
  if p.total then
    parts[#parts + 1] = ("%d/%d"):format(p.processed or 0, p.total)
  elseif p.share then
    parts[#parts + 1] = ("%d%%"):format(math.floor(p.share * 100))
  end
  if p.completed then parts[#parts + 1] = ("%d done"):format(p.completed) end
  if p.failed and p.failed > 0 then parts[#parts + 1] = ("%d failed"):format(p.failed) end
  parts[#parts + 1] = tostring(st.status or "?")
  parts[#parts + 1] = clock_text(elapsed)
  if left then parts[#parts + 1] = "~" .. clock_text(left) .. " left" end
  return table.concat(parts, "  ")
end

--- An on_progress function for client:wait: a bar on stderr redrawn in place on a terminal,
-- a plain line every `every` seconds (default 10) otherwise, nothing under --quiet.
function Run:progress(label, every)
  if self.opts.quiet then return function() end end
  local tty = self.tty
  local start, first_share, first_at, last_line = core.monotonic(), nil, nil, nil
  every = every or 10
  return function(st)
    local now = core.monotonic()
    local share = progress.of(st).share
    local left
    if share and share > 0 then
      if not first_share then
        first_share, first_at = share, now
      elseif share > first_share and share < 1 then
        left = (now - first_at) / (share - first_share) * (1 - share)
      end
    end
    local line = M.progress_line(label, st, now - start, left)
    if tty then
      io.stderr:write("\r\27[K", line)
      self._bar_drawn = true
      if share and share >= 1 or st.status == "completed" or st.status == "failed" then
        io.stderr:write("\n")
        self._bar_drawn = false
      end
    elseif not last_line or now - last_line >= every or (share and share >= 1) then
      io.stderr:write(line, "\n")
      last_line = now
    end
    io.stderr:flush()
  end
end

--- client:wait on a run with a progress bar labelled `label`; the last counters seen are kept
-- in the state file (state.progress[label]). opts: client:wait's (timeout, interval, ...).
function Run:wait(run, label, opts)
  local bar = self:progress(label)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.on_progress = function(st)
    bar(st)
    if self.state then
      local p = progress.of(st)
      self.state.progress = self.state.progress or {}
      self.state.progress[label] = { status = st.status, processed = p.processed, total = p.total }
      self:save()
    end
  end
  return self.client:wait(run, o)
end

--- The --timeout SECONDS option of a recipe that waits for `what` (default an hour; not part
-- of the run's identity), as an entry of `options`.
function M.timeout_option(what)
  return { "--timeout SECONDS", "give up waiting for " .. what .. " after this long", number = true,
    default = 3600, resume = false }
end

--- The columns of a CSV header row that hold known fields: {field = column index}, the first
-- column whose name matches one of the field's aliases. `aliases` is {field = {alias, ...}},
-- the aliases in lower case without spaces or punctuation ("Work Email" matches "workemail").
function M.header_columns(header, aliases)
  local trim = require("cleanlist.csv").trim
  local by_alias = {}
  for field, names in pairs(aliases) do
    for _, n in ipairs(names) do by_alias[n] = field end
  end
  local columns = {}
  for i, h in ipairs(header) do
    local field = by_alias[(trim(h):lower():gsub("[^%w]", ""))]
    if field and not columns[field] then columns[field] = i end
  end
  return columns
end

--- Whether an --out file gets JSON lines: a .jsonl, .ndjson or .json file does, a .csv file
-- does not, another does under --json.
function M.jsonl_path(path, opts)
  local ext = (path:match("%.(%w+)$") or ""):lower()
  if ext == "jsonl" or ext == "ndjson" or ext == "json" then return true end
  return ext ~= "csv" and opts.json and true or false
end

--- The options that name a list, --list-id ID and --list NAME, as one entry of `options`
-- (r:find_list reads them).
function M.list_options(what)
  return { { "--list-id ID", "the list " .. what .. ", by id" }, { "--list NAME", "the list " .. what
    .. ", by name (exact, else without regard to case)" } }
end

--- The list that --list-id ID or --list NAME names (one of them is required): the list as
-- the API gives it (list_id, name, lead_count, ...). Ends the run when no list or several
-- have that name. Free: one GET /lead-lists/{id}, or the pages of GET /lead-lists.
function Run:find_list()
  local o = self.opts
  if (o.list_id == nil) == (o.list == nil) then
    self:fail(errors.new { kind = "invalid_request", exit_status = M.EXIT_USAGE,
      message = "give one of --list-id ID or --list NAME" })
  end
  if o.list_id then return self:check(self.client:get_list(o.list_id)) end
  local exact, folded = {}, {}
  local lists = self.client:iter_lists { limit = 100 }
  for l in lists do
    if l.name == o.list then exact[#exact + 1] = l end
    if type(l.name) == "string" and l.name:lower() == o.list:lower() then folded[#folded + 1] = l end
  end
  if lists.err then self:fail(lists.err) end
  local hits = #exact > 0 and exact or folded
  if #hits == 0 then
    self:fail(errors.new { kind = "not_found", code = "not_found",
      message = ("no list called %q among the %d lists this key can see"):format(o.list, lists.count),
      fix = "give --list-id ID, or check the name (cleanlist -e 'for l in "
        .. "require(\"cleanlist\").new():iter_lists() do print(l.list_id, l.name) end')" })
  elseif #hits > 1 then
    local ids = {}
    for i, l in ipairs(hits) do ids[i] = l.list_id end
    self:fail(errors.new { kind = "invalid_request", code = "ambiguous_list", exit_status = M.EXIT_USAGE,
      message = ("%d lists are called %q (%s): give --list-id"):format(#hits, o.list,
        table.concat(ids, ", ")) })
  end
  return hits[1]
end

---------------------------------------------------------------------------------------------
-- State

local function now_text()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

local read_file = require("cleanlist.recipes").read_file

-- A digest of a string as 16 hex digits (two 32-bit polynomial hashes): tells runs apart in
-- a file name; it is not a secret.
local function digest(s)
  local a, b = 5381, 52711
  for i = 1, #s do
    local c = s:byte(i)
    a = (a * 33 + c) % 4294967291
    b = (b * 131 + c) % 4294967279
  end
  return ("%08x%08x"):format(a, b)
end
M.digest = digest

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
  local neutral = { ["--json"] = true, ["--quiet"] = true, ["-q"] = true, ["--fresh"] = true,
    ["--resend-unknown"] = true, ["--dry-run"] = true, ["--state"] = true,
    ["--max-credits"] = true }
  local valued = { ["--state"] = true, ["--max-credits"] = true }
  for _, o in ipairs(all_options(def)) do
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
  return def.name .. "\0" .. table.concat(kept, "\0") .. "\0" .. (fingerprint or "") .. "\0"
    .. (base_url or "")
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

function Run:_open_state(argv)
  if not self.def.paid then return true end
  local identity = run_identity(self.def, argv, self.client.credential:fingerprint(),
    self.client.base_url)
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
      return nil, ("%s is not a state file of %s: give another --state, or --fresh to replace it")
        :format(path, self.def.name)
    end
    if st.identity ~= digest(identity) then
      return nil, ("%s holds the state of another run of %s (other arguments or another key): "
        .. "give another --state, or --fresh to start over"):format(path, self.def.name)
    end
    self.state, self.resumed = st, true
    self:note("resuming the run of %s from %s", tostring(st.started_at), path)
  else
    self.state = { recipe = self.def.name, identity = digest(identity), started_at = now_text(),
      calls = {} }
  end
  return true
end

local function unknown_error(key, call, why)
  return errors.new {
    kind = "unknown_outcome", exit_status = M.EXIT_UNKNOWN, step = key,
    message = ("an earlier run sent %s at %s and did not learn its outcome%s: it may have run "
      .. "(and been paid). Check its results (or the usage report) before sending it again "
      .. "with --resend-unknown"):format(key, tostring(call.sent_at), why or ""),
  }
end

-- Whether an error says the call did not run: the API refused it (4xx), or the client did
-- before sending. A 2xx with a broken body, a 5xx or a lost connection may have run.
local REFUSED_BEFORE_SENDING = { invalid_request = true, spend_cap = true,
  insufficient_credits = true, config = true, quote = true }

local function refused(err)
  if err.status then return err.status >= 400 and err.status < 500 end
  if err.sent == false then return true end -- the connection failed before the request left
  return not err.ambiguous and REFUSED_BEFORE_SENDING[err.kind] == true
end

--- Makes the call `send(extra)` once across runs of this command. The result `keep(res)` (by
-- default res itself) is recorded and returned by any later run. opts.quote: the call is paid
-- and takes a quote: `quote()` returns the estimate (with quote_id) or nil, err; the quote is
-- recorded before sending and `send` gets { quote_id = } to send with, so a second sending is
-- refused by the API (quote_used) rather than paid twice. opts.idempotent: `send` carries
-- its own idempotency key, so a call whose outcome was lost is sent again. Returns the result,
-- or nil and the error.
function Run:once(key, send, opts)
  opts = opts or {}
  local calls = self.state and self.state.calls or {}
  if self.state then self.state.calls = calls end
  local call = calls[key]
  if call and call.done then return call.result end
  local resent = false
  if call and call.sent_at then
    if call.quote_id and not call.quote_expired then
      resent = true -- sent again with its quote: the API refuses a second use
    elseif self.opts.resend_unknown or opts.idempotent then
      call = nil -- (an idempotent call, sent again with the same key, acts once)
    else
      return nil, unknown_error(key, call, call.quote_expired and " (its quote has expired)")
    end
  end
  for _ = 1, 2 do
    if not call then
      call = { paid = opts.paid }
      if opts.quote then
        local est, err = opts.quote()
        if not est then return nil, err end
        call.quote_id, call.estimate = est.quote_id, est
      end
    end
    -- Recorded as sent when the request leaves, not before: a run killed while the call
    -- waits for the rate limiter has sent nothing. (Quoted calls are recorded at once: the
    -- quote makes a second sending safe.)
    calls[key] = call
    local client, sent = self.client, false
    local function mark_sent()
      if sent then return end
      sent, call.sent_at = true, now_text()
      self:save()
    end
    if call.quote_id then mark_sent() end
    local previous = client.on_send
    client.on_send = function(...)
      mark_sent()
      if previous then previous(...) end
    end
    local ok, res, err = scheduler.pcall(send, { quote_id = call.quote_id })
    client.on_send = previous
    if not ok then error(res, 0) end
    if res then
      call.done, call.result = true, (opts.keep or function(x) return x end)(res)
      self:save()
      return call.result
    end
    if err.code == "quote_used" and resent then
      err.message = ("%s already went out with its quote in an earlier run (the API refused "
        .. "to use the quote again, so nothing was paid twice); that run's result was not "
        .. "recorded"):format(key)
      err.dispatched_earlier = true
      return nil, err
    elseif err.code == "quote_expired" and resent then
      call.quote_expired = true
      self:save()
      return nil, unknown_error(key, call, " (its quote has expired since)")
    elseif err.code == "quote_expired" then
      call = nil -- waited too long between quote and call: nothing ran; quote again, once
    elseif refused(err) then
      calls[key] = nil -- refused: nothing ran, the next run may send it
      self:save()
      return nil, err
    else
      return nil, err -- kept as sent: the next run resends it with its quote, or stops
    end
  end
  calls[key] = nil
  self:save()
  return nil, errors.new { kind = "quote", code = "quote_expired",
    message = key .. ": the quote expired twice before the call went out" }
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

--- A paid call made once across runs (see once) with its quote recorded first: `call(body)`
-- is the client method (function(b) return client:enrich_list(b) end); the quote is asked for
-- with dry_run and max_credits (opts.max_credits, else --max-credits), so a refused spend
-- sends nothing. opts.keep: what of the result to record.
function Run:paid(key, call, body, opts)
  opts = opts or {}
  return self:once(key, function(extra)
    local b = copy(body)
    b.quote_id = extra.quote_id
    return call(b)
  end, { keep = opts.keep, paid = true, quote = function()
    local b = copy(body)
    b.dry_run, b.max_credits = true, opts.max_credits or self.opts.max_credits
    return call(b)
  end })
end

--- The estimate of a paid call (a dry run: nothing is spent), said for a person and emitted
-- as {quote = ...} under --json. Returns it, or nil and the refusal.
function Run:quote(label, call, body, max_credits)
  local b = copy(body)
  b.dry_run, b.max_credits = true, max_credits or self.opts.max_credits
  local est, err = call(b)
  if not est then return nil, err end
  local cost = est.estimated_cost
  self:say("%s: %s credits estimated%s%s", label, tostring(cost),
    type(est.available_credits) == "number" and (" of %s available"):format(est.available_credits) or "",
    est.quote_id and " (quote " .. est.quote_id .. ")" or " (priced by the client)")
  self:emit { quote = { step = label, estimated_cost = cost, quote_id = est.quote_id,
    available_credits = est.available_credits, sufficient = est.sufficient } }
  return est
end

---------------------------------------------------------------------------------------------
-- Errors and the main loop

local function error_report(name, err)
  local lines = { ("%s: %s"):format(name, tostring(err.message or err)) }
  if err.problem and err.problem ~= err.message then lines[#lines + 1] = "  problem: " .. tostring(err.problem) end
  if err.fix then lines[#lines + 1] = "  fix: " .. tostring(err.fix) end
  if err.detail and type(err.detail) == "table" then
    for _, d in ipairs(err.detail) do
      if type(d) == "table" and d.loc then
        local loc = {}
        for i, p in ipairs(d.loc) do loc[i] = tostring(p) end
        lines[#lines + 1] = ("  %s: %s"):format(table.concat(loc, "."), tostring(d.msg))
      end
    end
  end
  if err.ambiguous then lines[#lines + 1] = "  the outcome is unknown: the server may have acted on the request" end
  if err.docs_url then lines[#lines + 1] = "  docs: " .. tostring(err.docs_url) end
  if err.request_id then lines[#lines + 1] = "  request: " .. tostring(err.request_id) end
  if err.kind then lines[#lines + 1] = "  kind: " .. tostring(err.kind) end
  return table.concat(lines, "\n")
end
M.error_report = error_report

--- Ends the run on err (a cleanlist.Error or a message): raised, caught by main.
function Run:fail(err) -- luacheck: no unused args
  error({ recipe_failure = err }, 0)
end

--- res, or the run ends on err (as cleanlist.check, with the recipe's report and exit status).
function Run:check(res, err)
  if res == nil then self:fail(err or "no result and no error") end
  return res
end

-- Whether the state records a paid call that went out.
function Run:_dispatched()
  for _, call in pairs(self.state and self.state.calls or {}) do
    if call.paid and call.sent_at then return true end
  end
  return false
end

local function exit_status_of(err)
  if type(err) == "table" then
    if err.exit_status then return err.exit_status end
    if err.kind and core.exit_status[err.kind] then return core.exit_status[err.kind] end
  end
  return M.EXIT_ERROR
end

local function print_summary(r, summary)
  local order = summary._order
  summary._order = nil
  if r.opts.json then
    r:emit { summary = summary }
    return
  end
  if r.opts.quiet then return end
  -- Records on stdout (r.stdout_busy): the summary for a person goes to stderr.
  local out = r.stdout_busy and io.stderr or io.stdout
  local keys = order
  if not keys then
    keys = {}
    for k in pairs(summary) do keys[#keys + 1] = k end
    table.sort(keys)
  end
  for _, k in ipairs(keys) do
    if summary[k] ~= nil and not (type(summary[k]) == "table" and next(summary[k]) == nil) then
      local v = summary[k]
      if type(v) == "table" and #v > 0 and type(v[1]) ~= "table" then
        local parts = {}
        for i, x in ipairs(v) do parts[i] = tostring(x) end
        v = table.concat(parts, ", ")
      elseif type(v) == "table" then
        v = json.encode(v)
      end
      out:write(("%-22s %s\n"):format(k:gsub("_", " ") .. ":", tostring(v)))
    end
  end
end

--- Runs a recipe with the command line `argv` (default: the global arg) and returns the exit
-- status. Under the cleanlist executable, a script that returns it exits with it; under
-- another interpreter main exits itself.
function M.main(def, argv)
  if argv == nil then
    argv = {}
    for i = 1, #(arg or {}) do argv[i] = arg[i] end
  end
  local status = M.run(def, argv)
  if not package.loaded["cleanlist.hosted"] then os.exit(status) end
  return status
end

--- As main, without exiting: the exit status.
function M.run(def, argv)
  local opts, operands, uerr = M.parse(def, argv)
  if not opts then
    io.stderr:write(uerr.message, "\n")
    return M.EXIT_USAGE
  end
  if opts.help then
    io.stdout:write(M.help(def))
    return M.EXIT_OK
  end
  local r = setmetatable({ def = def, opts = opts, args = operands, tty = is_tty(2) }, Run)
  local ok, client = pcall(cleanlist.new, def.client_options)
  if not ok then
    io.stderr:write(error_report(def.name, client), "\n")
    return exit_status_of(client)
  end
  r.client = client
  if opts.quiet then client.on_wait = function() end end
  local sok, serr = r:_open_state(argv)
  if not sok then
    io.stderr:write(def.name, ": ", serr, "\n")
    return M.EXIT_USAGE
  end
  local done, result = xpcall(function() return def.run(r) end, function(e) -- 5.1: no arguments
    if type(e) == "table" and e.recipe_failure ~= nil then return e end
    if type(e) == "string" and e:find("interrupted!", 1, true) then return { interrupted = true } end
    if cleanlist.is_error(e) then return { recipe_failure = e } end
    return { crash = debug.traceback(tostring(e), 2) }
  end)
  r:_clear_bar()
  client:close()
  if done then
    if r.state_path and not opts.dry_run then os.remove(r.state_path) end
    if type(result) == "table" then print_summary(r, result) end
    return M.EXIT_OK
  end
  if result.interrupted then
    io.stderr:write(("\n%s: interrupted."):format(def.name))
    if r:_dispatched() then
      io.stderr:write((" What was dispatched is recorded in %s: run the same command again to "
        .. "resume (nothing sent is sent or paid again)."):format(r.state_path))
    elseif r.state_path then
      os.remove(r.state_path)
    end
    io.stderr:write("\n")
    return M.EXIT_INTERRUPTED
  end
  if result.crash then
    io.stderr:write(def.name, ": ", result.crash, "\n")
    return M.EXIT_ERROR
  end
  local err = result.recipe_failure
  if r.opts.json and type(err) == "table" then
    r:emit { error = { kind = err.kind, code = err.code, message = err.message, status = err.status,
      request_id = err.request_id } }
  end
  io.stderr:write(error_report(def.name, err), "\n")
  if r:_dispatched() then
    io.stderr:write(("%s: what was dispatched is recorded in %s: run the same command again "
      .. "(with a larger --max-credits if the budget stopped it) to resume; nothing sent is "
      .. "sent or paid again\n"):format(def.name, r.state_path))
  elseif r.state_path then
    os.remove(r.state_path) -- nothing paid went out: the next run starts afresh
  end
  return exit_status_of(err)
end

return M
