--- cleanlist.ratelimit: the client-side limiter, shared by every client of the process.
-- The API allows 30 requests a minute per key and 60 per organisation (all its keys and
-- members), counted in a sliding window. One bucket per key and one per organisation, each
-- sized to the window (core/cl_ratelimit.h: never more than the limit in any window, the whole
-- limit for a steady caller, bursts paced); the buckets live for the
-- process, so two clients built with one key share one budget, and clients of three keys of
-- one organisation share the organisation's.
local core = require "cleanlist.core"

local M = {}

local buckets = {} -- "key:" fingerprint or "org:" id, .. limits -> bucket
local organizations = {} -- key fingerprint -> organisation id (learned from /whoami)

-- margin: the window is widened by this share against network jitter (the server counts
-- arrivals, the client starts): 2 % costs 2 % of the rate and keeps requests that left a
-- window apart from arriving closer.
M.DEFAULTS = { per_key = 30, per_org = 60, window = 60, burst = 5, margin = 0.02 }

-- A bucket kept in a file that the processes of this machine share (core.shared_bucket: a
-- lock per operation, nothing stuck when a process dies), under $XDG_RUNTIME_DIR (else /tmp),
-- named after the key's fingerprint (or the organisation), the server and the limits, never
-- the key. When the file cannot be used the process's own bucket serves, and that is said once.
local FileBucket = {}
FileBucket.__index = FileBucket

local function fall_back(self, err)
  if not self.warned then
    self.warned = true
    io.stderr:write("cleanlist: the rate limit is no longer shared with other processes ("
      .. tostring(err or "the shared file failed") .. "); this process limits itself alone\n")
  end
end

function FileBucket:acquire(now)
  local w = self.file:acquire(now)
  if w then return w end
  fall_back(self)
  return self.own:acquire(now)
end

function FileBucket:peek(now)
  return self.file:peek(now) or self.own:peek(now)
end

function FileBucket:penalize(now, retry_after)
  self.own:penalize(now, retry_after)
  if not self.file:penalize(now, retry_after) then fall_back(self) end
end

local function file_bucket(id, limit, limits)
  local dir = os.getenv("XDG_RUNTIME_DIR")
  if not dir or dir == "" then dir = "/tmp" end
  local name = (id .. "@" .. (limits.origin or "")):gsub("[^%w%.%-]", "_")
  local path = ("%s/cleanlist-ratelimit-%s"):format(dir, name)
  local file, err = core.shared_bucket(path, limit, limits.window, limits.burst, limits.margin)
  local own = core.bucket(limit, limits.window, limits.burst, limits.margin)
  if not file then
    fall_back({}, err) -- said once: this bucket is the process's own from now on
    return own
  end
  return setmetatable({ file = file, own = own, path = path }, FileBucket)
end

local function shared(id, limit, limits)
  id = id .. "/" .. limit .. "/" .. limits.window .. "/" .. limits.burst .. "/" .. limits.margin
  local share = limits.share == true
  local key = (share and "file:" or "") .. id .. "@" .. tostring(limits.origin)
  local b = buckets[key]
  if not b then
    if share then
      b = file_bucket(id, limit, limits)
    else
      b = core.bucket(limit, limits.window, limits.burst, limits.margin)
    end
    buckets[key] = b
  end
  return b
end

--- Returns the bucket for a credential under the given limits (a table like DEFAULTS).
function M.bucket(credential, limits)
  return shared("key:" .. credential:fingerprint(), limits.per_key, limits)
end

--- Returns the bucket of an organisation (limits.per_org requests per window).
function M.org_bucket(organization_id, limits)
  return shared("org:" .. organization_id, limits.per_org, limits)
end

--- The organisation a key belongs to, when a client of the process has learned it.
function M.organization_of(credential)
  return organizations[credential:fingerprint()]
end

function M.remember_organization(credential, organization_id)
  organizations[credential:fingerprint()] = organization_id
end

return M
