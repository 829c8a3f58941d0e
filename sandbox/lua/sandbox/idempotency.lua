--- Idempotency keys of the endpoints that take one in the body (POST
-- /lead-lists/{list_id}/leads, CSV import): a key belongs to the organisation and is
-- remembered for TTL_MS of sandbox time, and a repeat replays the first answer.
local json = require "sandbox.json"
local util = require "sandbox.util"

local M = {}

M.TTL_MS = 24 * 3600 * 1000

local null = json.null

--- The store key of the caller's idempotency_key (nil when absent or null).
function M.key(ctx, key)
  if key == nil or key == null then return nil end
  return ctx.org.id .. "|" .. key
end

--- The record remembered under skey in store while it is younger than TTL_MS; or nil.
function M.prior(store, skey, now)
  local prior = skey and store[skey]
  if prior and prior.time_ms + M.TTL_MS >= now then return prior end
  return nil
end

--- Remembers rec under skey, stamped now. count: how many records the caller has remembered
-- so far, this one included; every 64th prunes the expired ones.
function M.remember(store, skey, now, rec, count)
  if count % 64 == 0 then util.prune_expired(store, now, M.TTL_MS) end
  rec.time_ms = now
  store[skey] = rec
end

return M
