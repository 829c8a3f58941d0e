--- cleanlist.recipe.output: what a run writes for people and for programs. Lines for a
-- person, JSON lines, notices, the progress bar of a wait, the summary at the end and the
-- report of an error. Run holds the methods of the run `r` (see cleanlist.recipe).
local cli = require "cleanlist.recipe.cli"
local core = require "cleanlist.core"
local json = require "cleanlist.json"
local progress = require "cleanlist.progress"

local type, ipairs, pairs, tostring, select = type, ipairs, pairs, tostring, select
local concat, floor = table.concat, math.floor

local M = {}
local Run = {}
M.Run = Run

--- Whether the file descriptor is a terminal.
function M.is_tty(fd)
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
  s = floor(s + 0.5)
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
    local fill = floor(p.share * width + 0.5)
    parts[#parts + 1] = "[" .. ("#"):rep(fill) .. ("."):rep(width - fill) .. "]"
  end
  if p.total then
    parts[#parts + 1] = ("%d/%d"):format(p.processed or 0, p.total)
  elseif p.share then
    parts[#parts + 1] = ("%d%%"):format(floor(p.share * 100))
  end
  if p.completed then parts[#parts + 1] = ("%d done"):format(p.completed) end
  if p.failed and p.failed > 0 then parts[#parts + 1] = ("%d failed"):format(p.failed) end
  parts[#parts + 1] = tostring(st.status or "?")
  parts[#parts + 1] = clock_text(elapsed)
  if left then parts[#parts + 1] = "~" .. clock_text(left) .. " left" end
  return concat(parts, "  ")
end

--- An on_progress function for client:wait: a bar on stderr redrawn in place on a terminal,
-- a plain line every `every` seconds (default 10) otherwise, nothing under --quiet.
function Run:progress(label, every)
  if self.opts.quiet then
    return function() end
  end
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
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
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

--- The error a recipe ends on when a run it waited on ended failed or cancelled (exit status
-- 20; no state kept to resume: the run is over). kind default "run_failed".
function M.run_ended(message, kind, code)
  return {
    kind = kind or "run_failed",
    code = code,
    exit_status = cli.EXIT_RUN_ENDED,
    message = message,
    run_ended = true,
  }
end

local function count(v)
  return type(v) == "number" and v or nil
end

--- What the end of a run waited on (a status client:wait returned) tells the user, for the
-- run named `label` ("enrichment bulk-enrich-…", "job 2/3"...), whose good results are
-- `what` (default "enriched"). completed: nothing.
-- completed_with_errors: a line (how many leads were not enriched, the credits charged and
-- refunded); nil. failed or cancelled: the line, and returned, the error the recipe ends on
-- (exit status 20) once it has kept what the run gave: its status, what was charged and
-- refunded, and a refund under review said as such (with the API's refund_message).
function Run:run_end(label, done, what)
  local status = done.status
  if status ~= "completed_with_errors" and status ~= "failed" and status ~= "cancelled" then return nil end
  local summary = type(done.summary) == "table" and done.summary or {}
  local total = count(done.total) or count(done.total_contacts) or count(summary.total)
  local good = count(done.completed) or count(summary.successful) or count(done.succeeded)
  local bad = count(done.failed) or count(summary.failed)
  local processed = count(done.processed) or (good and bad and good + bad) or good
  local charged, refunded = count(done.credits_charged), count(done.credits_refunded)
  local parts = { ("%s ended %s"):format(label, status) }
  if good and total then
    parts[#parts + 1] = (": %d of %d %s, %d processed"):format(good, total, what or "enriched", processed)
  end
  if charged then parts[#parts + 1] = ("; %d credits charged, %d refunded"):format(charged, refunded or 0) end
  local text = concat(parts)
  if done.refund_status == "pending_review" then
    text = text .. ". The charge is not refunded automatically; it is under review: " .. tostring(done.refund_message)
  elseif type(done.message) == "string" then
    text = text .. ". " .. done.message
  end
  if not text:find("%.$") then text = text .. "." end
  if status == "completed_with_errors" then
    self:say("%s", text)
    return nil
  end
  return M.run_ended(text, "run_" .. status, status)
end

--- Whether an --out file gets JSON lines: a .jsonl, .ndjson or .json file does, a .csv file
-- does not, another does under --json.
function M.jsonl_path(path, opts)
  local ext = (path:match("%.(%w+)$") or ""):lower()
  if ext == "jsonl" or ext == "ndjson" or ext == "json" then return true end
  return ext ~= "csv" and opts.json and true or false
end

--- The summary a run returned: a {"summary": ...} line under --json; else, for a person, a
-- line a key (in the order of summary._order, else by name) on stdout, or on stderr when the
-- records took stdout (r.stdout_busy); nothing under --quiet.
function M.print_summary(r, summary)
  local order = summary._order
  summary._order = nil
  if r.opts.json then
    r:emit { summary = summary }
    return
  end
  if r.opts.quiet then return end
  local out = r.stdout_busy and io.stderr or io.stdout
  local keys = order
  if not keys then
    keys = {}
    for k in pairs(summary) do
      keys[#keys + 1] = k
    end
    table.sort(keys)
  end
  for _, k in ipairs(keys) do
    if summary[k] ~= nil and not (type(summary[k]) == "table" and next(summary[k]) == nil) then
      local v = summary[k]
      if type(v) == "table" and #v > 0 and type(v[1]) ~= "table" then
        local parts = {}
        for i, x in ipairs(v) do
          parts[i] = tostring(x)
        end
        v = concat(parts, ", ")
      elseif type(v) == "table" then
        v = json.encode(v)
      end
      out:write(("%-22s %s\n"):format(k:gsub("_", " ") .. ":", tostring(v)))
    end
  end
end

--- The report of an error for a person: its message, then what the API said of it.
function M.error_report(name, err)
  local lines = { ("%s: %s"):format(name, tostring(err.message or err)) }
  if err.problem and err.problem ~= err.message then lines[#lines + 1] = "  problem: " .. tostring(err.problem) end
  if err.fix then lines[#lines + 1] = "  fix: " .. tostring(err.fix) end
  if err.detail and type(err.detail) == "table" then
    for _, d in ipairs(err.detail) do
      if type(d) == "table" and d.loc then
        local loc = {}
        for i, p in ipairs(d.loc) do
          loc[i] = tostring(p)
        end
        lines[#lines + 1] = ("  %s: %s"):format(concat(loc, "."), tostring(d.msg))
      end
    end
  end
  if err.ambiguous then lines[#lines + 1] = "  the outcome is unknown: the server may have acted on the request" end
  if err.docs_url then lines[#lines + 1] = "  docs: " .. tostring(err.docs_url) end
  if err.request_id then lines[#lines + 1] = "  request: " .. tostring(err.request_id) end
  if err.kind then lines[#lines + 1] = "  kind: " .. tostring(err.kind) end
  return concat(lines, "\n")
end

return M
