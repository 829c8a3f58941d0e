--- cleanlist.scheduler: runs many API calls at once on one thread.
-- Each task is a coroutine. A request made inside a task starts its transfer on the client's
-- curl multi handle and yields; a backoff or rate-limit wait yields a timer. The loop drives
-- every transport that has transfers in flight and resumes tasks as their transfers finish
-- or their timers fall due. Outside a task, the same calls simply block (see transport/curl).
--
--   local results = cleanlist.gather({
--     function() return client:whoami() end,
--     function() return client:credits_balance() end,
--   }, { concurrency = 8 })
--   local me, err = results[1][1], results[1][2]
local core = require "cleanlist.core"

local cocreate, coresume, costatus, corunning, coyield =
  coroutine.create, coroutine.resume, coroutine.status, coroutine.running, coroutine.yield
local pack = rawget(table, "pack") or function(...)
  return { n = select("#", ...), ... }
end
local unpack = rawget(table, "unpack") or rawget(_G, "unpack") -- 5.2+ / 5.1 and LuaJIT
local min, error, type, pairs = math.min, error, type, pairs

local M = {}

local owner = setmetatable({}, { __mode = "k" }) -- task coroutine -> scheduler
local parent = setmetatable({}, { __mode = "k" }) -- M.pcall's coroutine -> the task's own

--- Who is running: the task's coroutine (also inside M.pcall), another coroutine, or "main".
function M.current()
  local co = corunning()
  if co == nil then return "main" end
  while parent[co] do
    co = parent[co]
  end
  return co
end

--- True when the running code is a task of a scheduler (so waits must yield).
function M.in_task()
  local co = corunning()
  return co ~= nil and owner[co] ~= nil
end

-- Lua 5.2+ and LuaJIT yield through pcall; plain Lua 5.1 raises "attempt to yield across
-- metamethod/C-call boundary".
local YIELDS_THROUGH_PCALL = coroutine.wrap(function()
  return select(2, pcall(coyield, true))
end)() == true

--- pcall(f, ...) that a task's requests and waits can yield through. On plain Lua 5.1, inside
-- a task, f runs as a coroutine of its own, owned by the same scheduler, whose yields are
-- passed on to the scheduler and its answers back.
function M.pcall(f, ...)
  local outer = corunning()
  local sched = outer and owner[outer]
  if YIELDS_THROUGH_PCALL or not sched then return pcall(f, ...) end
  local co = cocreate(f)
  owner[co], parent[co] = sched, outer
  local r = pack(coresume(co, ...))
  while r[1] and costatus(co) ~= "dead" do
    r = pack(coresume(co, coyield(unpack(r, 2, r.n))))
  end
  return unpack(r, 1, r.n)
end

--- Waits for a transfer from inside a task: transport:poll(timeout) must make it progress.
function M.wait_transfer(transport, transfer)
  coyield("transfer", transport, transfer)
end

--- Waits `seconds` from inside a task.
function M.sleep(seconds)
  coyield("sleep", seconds)
end

local Scheduler = {}
Scheduler.__index = Scheduler

local function new(opts)
  return setmetatable({
    clock = opts.clock or core.monotonic,
    sleep = opts.sleep or core.sleep,
    concurrency = opts.concurrency or math.huge,
    live = {},
    results = {},
    active = 0,
    next_index = 1,
  }, Scheduler)
end

-- What a task's resume returned: its results when it ended, else what it waits for.
function Scheduler:_settle(task, ok, ...)
  if not ok then
    self.failure = self.failure or debug.traceback(task.co, tostring((...)))
    task.done = true
  elseif costatus(task.co) == "dead" then
    task.done = true
    self.results[task.index] = pack(...)
  else
    local kind, a, b = ...
    if kind == "transfer" then
      task.wait = { transport = a, transfer = b }
    elseif kind == "sleep" then
      task.wait = { due = self.clock() + (a or 0) }
    else
      self.failure = self.failure or ("a task yielded an unknown value: " .. tostring(kind))
      task.done = true
    end
  end
  if task.done then self.active = self.active - 1 end
end

-- Resumes a task with its last wait satisfied.
function Scheduler:_resume(task)
  task.wait = nil
  self:_settle(task, coresume(task.co))
end

function Scheduler:_start_more(fns)
  while self.active < self.concurrency and self.next_index <= #fns do
    local i = self.next_index
    self.next_index = i + 1
    local co = cocreate(fns[i])
    owner[co] = self
    local task = { co = co, index = i }
    self.live[#self.live + 1] = task
    self.active = self.active + 1
    self:_resume(task)
  end
end

-- One round: resume what is ready; otherwise wait for I/O or the next timer.
function Scheduler:_round()
  local now, progressed = self.clock(), false
  local next_due, transports = math.huge, {}
  local live, kept = self.live, 0
  for i = 1, #live do
    local task = live[i]
    local w = task.wait
    if not task.done and w then
      if w.transfer and w.transfer:finished() then
        self:_resume(task)
        progressed = true
      elseif w.due and w.due <= now then
        self:_resume(task)
        progressed = true
      elseif w.due then
        next_due = min(next_due, w.due)
      elseif w.transport then
        transports[w.transport] = true
      end
    end
    if not task.done then
      kept = kept + 1
      live[kept] = task
    end
  end
  for i = #live, kept + 1, -1 do
    live[i] = nil
  end
  if progressed then return end
  local wait = next_due == math.huge and 1.0 or math.max(0, next_due - now)
  local list = {}
  for t in pairs(transports) do
    list[#list + 1] = t
  end
  if #list == 0 then
    if wait > 0 and next_due < math.huge then self.sleep(wait) end
    return
  end
  -- One transport waits in poll; several share the time in short slices.
  local slice = #list == 1 and wait or min(wait, 0.01)
  for _, t in ipairs(list) do
    local ok, err = t:poll(slice)
    if not ok and err then self.failure = self.failure or tostring(err.message or err) end
  end
end

--- Raises (at `level`) unless fns is an array of functions.
function M.check_functions(fns, level)
  if type(fns) ~= "table" then error("gather expects an array of functions", level) end
  for i, f in ipairs(fns) do
    if type(f) ~= "function" then error("gather: element " .. i .. " is not a function", level) end
  end
end

--- Runs every function of `fns` as a task and returns their results, in order: results[i]
-- is a table of what fns[i] returned (with field n). opts: concurrency (default: all at
-- once), clock, sleep. A task that raises makes gather raise once every task has ended.
function M.gather(fns, opts)
  M.check_functions(fns, 3)
  local s = new(opts or {})
  s:_start_more(fns)
  while s.active > 0 do
    s:_round()
    s:_start_more(fns)
  end
  if s.failure then error(s.failure, 2) end
  for i = 1, #fns do
    s.results[i] = s.results[i] or { n = 0 }
  end
  return s.results
end

return M
