--- The credits ledger (API.md §2.6): every movement of the organisation's balance is a row of
-- `state.ledger` (time_ms, delta, balance, reason, plus kind and ref here); the balance never
-- goes negative.
--
-- Async runs hold a reservation: `reserve` debits the estimated maximum up front and stores
-- `reserved` on the holder (a workflow or run record); `settle` bills the results, refunds the
-- unused part and fills `charged` / `refunded`; `release` gives the whole reservation back
-- (a run that never started). Sync operations use `charge` / `refund` directly.
--
-- Request attribution: debits made while a request is served are added to state._req_spend,
-- which the usage log reads (credits spent per request); movements made by background progress
-- (state._bg set) are not attributed to the request that happened to trigger them.
local errors = require "sandbox.errors"

local M = {}

local format, floor = string.format, math.floor

local function attribute(state, delta)
  if not rawget(state, "_bg") then rawset(state, "_req_spend", (rawget(state, "_req_spend") or 0) - delta) end
end

local function move(state, delta, kind, reason, ref)
  state.credits = state.credits + delta
  state:record(delta, reason)
  local row = state.ledger[#state.ledger]
  row.kind = kind
  row.ref = ref
  attribute(state, delta)
end

--- The organisation's balance.
function M.available(state)
  return state.credits
end

--- Credit fields of an insufficient_credits error when `cost` exceeds the balance, else nil.
function M.shortfall(state, cost)
  local have = state.credits
  if cost <= have then return nil end
  return {
    estimated_cost_credits = cost,
    available_credits = have,
    shortfall_credits = cost - have,
  }
end

--- status, body of the 400 insufficient_credits envelope for `cost` (what: "This enrich_list
-- call").
function M.insufficient(rid, state, cost, what)
  local fields = M.shortfall(state, cost)
    or {
      estimated_cost_credits = cost,
      available_credits = state.credits,
      shortfall_credits = 0,
    }
  fields.problem = format("%s requires %s credits; organization has %d.", what or "This call", cost, state.credits)
  return errors.build("insufficient_credits", rid, fields)
end

--- Debits `amount` (> 0) for a sync operation. Returns true, or nil when the balance is short.
function M.charge(state, amount, reason, ref)
  if amount <= 0 then return true end
  if amount > state.credits then return nil end
  move(state, -amount, "charge", reason, ref)
  return true
end

--- Gives `amount` (> 0) back (a refund of an earlier charge).
function M.refund(state, amount, reason, ref)
  if amount > 0 then move(state, amount, "refund", reason, ref) end
end

--- Debits `amount` up front and records it on holder h (h.reserved). Returns true, or nil when
-- the balance is short (nothing is debited then).
function M.reserve(state, h, amount, ref)
  if amount > state.credits then return nil end
  h.reserved = amount
  h.charged, h.refunded = nil, nil
  if amount > 0 then move(state, -amount, "reserve", format("reserve %s", ref), ref) end
  return true
end

--- Settles a reservation: bills min(charge, reserved) and refunds the rest. Fills h.charged,
-- h.refunded and h.settled. Idempotent.
function M.settle(state, h, charge, ref)
  if h.settled then return h.charged, h.refunded end
  local reserved = h.reserved or 0
  charge = floor(charge + 0.5)
  if charge > reserved then
    charge = reserved
  elseif charge < 0 then
    charge = 0
  end
  local back = reserved - charge
  h.charged, h.refunded, h.settled = charge, back, true
  if back > 0 then
    local bg = rawget(state, "_bg")
    rawset(state, "_bg", true)
    move(state, back, "refund", format("settle %s: charged %d, refunded %d", ref, charge, back), ref)
    rawset(state, "_bg", bg)
  end
  return charge, back
end

--- Releases a whole reservation (the run failed to start): everything is refunded, nothing
-- charged.
function M.release(state, h, ref)
  return M.settle(state, h, 0, ref)
end

--- Runs fn with background attribution (movements are not billed to the current request).
function M.background(state, fn, ...)
  local bg = rawget(state, "_bg")
  rawset(state, "_bg", true)
  local ok, err = pcall(fn, ...)
  rawset(state, "_bg", bg)
  if not ok then error(err, 0) end
end

--- Takes and clears the credits attributed to the current request.
function M.take_request_spend(state)
  local n = rawget(state, "_req_spend") or 0
  if n ~= 0 then rawset(state, "_req_spend", 0) end
  return n
end

return M
