--- cleanlist.pacing: the client's waits, as methods of the client class. Sleeps (announced
-- through on_wait when long), the rate limiter's slots of the key and of the organisation
-- (whose id is learned from /whoami when not given), the pause after a 429, and the wait
-- before a retry.
local core = require "cleanlist.core"
local ratelimit = require "cleanlist.ratelimit"
local scheduler = require "cleanlist.scheduler"

local type = type

local Client = {}

-- Waits shorter than this are not announced through on_wait.
local ANNOUNCE_AFTER = 1.0

local WAIT_MESSAGES = {
  rate_limit = "rate limit: waiting %s before %s",
  retry_after = "rate limited: waiting %s (Retry-After) before retrying %s",
  backoff = "waiting %s before retrying %s",
  poll = "waiting %s before polling %s again",
}

local function seconds_text(s)
  if s < 10 then return ("%.1f s"):format(s) end
  return ("%.0f s"):format(s)
end

--- Waits: a timer of the scheduler inside a task, the client's sleep elsewhere. A wait of a
-- second or more is announced first through on_wait (the option, else cleanlist.on_wait):
-- on_wait{reason = "rate_limit" | "retry_after" | "backoff" | "poll", seconds =, what =, message =}.
function Client:_sleep(seconds, reason, what)
  if seconds <= 0 then return end
  local hook = self.on_wait or package.loaded.cleanlist and package.loaded.cleanlist.on_wait
  if hook and reason and seconds >= ANNOUNCE_AFTER then
    what = what or "the request"
    hook {
      reason = reason,
      seconds = seconds,
      what = what,
      message = WAIT_MESSAGES[reason]:format(seconds_text(seconds), what),
    }
  end
  if scheduler.in_task() then
    scheduler.sleep(seconds)
    return
  end
  -- A signal ends core.sleep early (Ctrl-C's hook runs between the pieces): sleep the rest.
  local left = self.sleep(seconds)
  while type(left) == "number" and left > 0 do
    left = self.sleep(left)
  end
end

-- The per-organisation bucket needs the organisation's id: given as an option, learned by
-- another client of the process, or asked of /whoami once per key and process (free; it
-- counts against the key). Calls that need it while another call of the process asks (inside
-- cleanlist.gather, or nginx's light threads) wait for that answer instead of asking again,
-- so that none goes out without the organisation's slot. What is learned goes into
-- self.org, the table a client shares with its views.
function Client:_learn_organization()
  local me, org = scheduler.current(), self.org
  org.asked = true
  local learner = ratelimit.learner(self.credential)
  if learner == nil then
    ratelimit.set_learner(self.credential, me)
    local ok, res = scheduler.pcall(self.request, self, "GET", "/whoami")
    ratelimit.set_learner(self.credential, nil)
    if not ok then error(res, 0) end
    local id = res and type(res.organization_id) == "string" and res.organization_id
    if id then
      ratelimit.remember_organization(self.credential, id)
      -- the lookup itself counts against the organisation: its slot is taken now, so that the
      -- keys of an organisation running at its limit do not meet a 429 for their lookups
      ratelimit.org_bucket(id, self.limits):acquire(self.clock())
    end
  elseif learner ~= me then
    while ratelimit.learner(self.credential) do
      self:_sleep(0.005)
    end
  end
  local id = ratelimit.organization_of(self.credential)
  if id then
    org.id = id
    org.bucket = ratelimit.org_bucket(id, self.limits)
  end
end

--- Takes the slots of the key and of the organisation for a call of ctx.method to ctx.path,
-- waiting (announced) until they are free.
function Client:_wait_for_slot(ctx)
  if not self.bucket then return end
  local org = self.org
  if self.limits.per_org and not org.bucket then
    local learner = ratelimit.learner(self.credential)
    -- not asked yet, or another call asks now (wait for its answer)
    if not org.asked or (learner and learner ~= scheduler.current()) then self:_learn_organization() end
  end
  local wait = ratelimit.reserve(self.bucket, org.bucket, self.clock)
  self:_sleep(wait, "rate_limit", ctx.method .. " " .. ctx.path)
end

--- After a 429 (err): the key and the organisation pause for its Retry-After (else the
-- backoff's base), for every client of the process.
function Client:_penalize(err)
  if not self.bucket then return end
  local now, pause = self.clock(), err.retry_after or self.backoff_base
  self.bucket:penalize(now, pause)
  if self.org.bucket then self.org.bucket:penalize(now, pause) end
end

--- The wait before the next attempt: the server's Retry-After when it gave one, else
-- exponential backoff with jitter.
function Client:_retry_wait(err, attempt)
  local backoff = core.backoff(attempt, self.backoff_base, self.backoff_cap, self.random())
  -- "Retry-After: 0" (or a date already past) is no reason to hammer: the backoff then.
  if err.retry_after and err.retry_after > 0 then return err.retry_after end
  return backoff
end

return Client
