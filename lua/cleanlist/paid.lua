--- cleanlist.paid: the quote flow of the paid methods, one call for the user.
--
-- A paid method takes, beside its body's fields, `max_credits = N` and `dry_run = true`
-- (never sent). Unless the body already has a `quote_id` (used as given), the client
-- estimates right before the call (POST /credits/estimate with the fields the quote binds),
-- refuses with kind "spend_cap" when the estimate exceeds max_credits and with kind
-- "insufficient_credits" when the organisation's balance is short, and otherwise sends the
-- call with that quote. dry_run returns the estimate and spends nothing. A quote that expired
-- on the way (a long rate-limit wait) is replaced once, within max_credits. The result keeps
-- the estimate it ran with in `estimate`.
--
-- The endpoint's `paid` table:
--   estimate = function(body, opts) -> the /credits/estimate body  (the API prices the call)
--   cost = function(body, opts) -> credits                         (no tool: priced here)
--   required = true   the API needs a quote: always estimate
--   applies = function(body, opts) -> false when this call is free (a CSV import that does
--             not dispatch enrichment)
--   find = function(client, body) -> the result of a call that ran but whose answer was lost
--   lost = what to check when such a run cannot be found
local endpoint = require "cleanlist.endpoint"
local errors = require "cleanlist.errors"

local M = {}

local function estimate(client, paid, body, opts)
  if paid.cost then return { estimated_cost = paid.cost(body, opts), priced_by = "client" } end
  return client:credits_estimate(paid.estimate(body, opts))
end

-- The refusal an estimate calls for under the caller's options, or nil.
local function judge(est, opts, def)
  local cost = est.estimated_cost
  if opts.max_credits and type(cost) == "number" and cost > opts.max_credits then
    return errors.new {
      kind = "spend_cap",
      code = "spend_cap",
      method = def.method,
      path = def.path,
      message = ("the estimate is %s credits, more than max_credits = %s; nothing was sent"):format(
        cost,
        opts.max_credits
      ),
      estimated_cost_credits = cost,
      max_credits = opts.max_credits,
      estimate = est,
    }
  end
  if est.sufficient == false then
    local available = est.available_credits
    return errors.new {
      kind = "insufficient_credits",
      code = "insufficient_credits",
      method = def.method,
      path = def.path,
      message = ("the estimate is %s credits and the organisation has %s; nothing was sent"):format(
        cost,
        tostring(available)
      ),
      estimated_cost_credits = cost,
      available_credits = available,
      shortfall_credits = type(available) == "number" and cost - available or nil,
      estimate = est,
    }
  end
  return nil
end

-- A dry run that the API cannot price (no tool): the client's price and the balance.
local function with_balance(client, est)
  local bal, err = client:credits_balance()
  if not bal then return nil, err end
  est.available_credits = bal.credits
  est.sufficient = bal.credits >= est.estimated_cost
  return est
end

--- The estimate for a call under the caller's options, or nil and the refusal (spend_cap,
-- insufficient_credits) or the estimate's error.
function M.quote_for(client, def, body, opts)
  local est, err = estimate(client, def.paid, body, opts)
  if not est then return nil, err end
  if opts.dry_run and def.paid.cost then
    est, err = with_balance(client, est)
    if not est then return nil, err end
  end
  local refusal = judge(est, opts, def)
  if refusal then return nil, refusal end
  return est
end

--- What a dry run returns: the estimate (and its quote) and the body that would be sent.
function M.dry_run(est, body)
  return {
    dry_run = true,
    estimate = est,
    estimated_cost = est.estimated_cost,
    quote_id = est.quote_id,
    available_credits = est.available_credits,
    sufficient = est.sufficient,
    request = body,
  }
end

--- After a paid call with a quote whose outcome is unknown (err.ambiguous: the connection
-- was cut after sending, a 5xx, a 2xx with an unreadable body), finds out what happened. The
-- call is sent again with the same single-use quote: if the first sending had not run, this
-- one runs (and is the only one paid); if it had, the API answers quote_used and the run is
-- looked for (paid.find: by-task through its cohort handle, smart agents through the runs of
-- the list). Returns the result with recovered = true, or the error saying what is known.
function M.reconcile(client, def, path, body, err)
  local again, aerr
  -- The sending again is safe however often it is repeated (the quote is single-use): while
  -- its own answer is lost too, it is tried again (the client's retry budget, at least 2).
  for _ = 1, math.max(2, (client.max_retries or 0) + 1) do
    again, aerr = endpoint.send(client, def, path, body)
    if again then
      again.recovered = true
      again.recovery = "the first sending had not run (its quote was unused): sent again with it"
      return again
    end
    if not aerr.ambiguous then break end
  end
  if aerr.code ~= "quote_used" then
    err.reconcile_error = aerr
    return nil, err -- still unknown: the first error, ambiguous as it was
  end
  local found = def.paid.find and def.paid.find(client, body)
  if found then
    found.recovered = true
    found.recovery = "the first sending ran (its quote is used); its run was found"
    return found
  end
  err.ambiguous, err.ran = false, true
  err.message = tostring(err.message)
    .. "; the call ran (the API says its quote is used), but "
    .. "its answer was lost"
    .. (def.paid.lost and ": " .. def.paid.lost or "")
  return nil, err
end

--- Runs a prepared paid call (see cleanlist.endpoint).
function M.run(client, def, path, body, opts)
  local paid = def.paid
  local wants = paid.required or opts.max_credits ~= nil or opts.dry_run
  if paid.applies and not paid.applies(body, opts) then wants = false end
  if (body.quote_id ~= nil and not opts.dry_run) or not wants then return endpoint.send(client, def, path, body) end
  local est, err = M.quote_for(client, def, body, opts)
  if not est then return nil, err end
  if opts.dry_run then return M.dry_run(est, body) end
  body.quote_id = est.quote_id
  local res, rerr = endpoint.send(client, def, path, body)
  if not res and rerr.code == "quote_expired" and est.quote_id then
    est, err = M.quote_for(client, def, body, opts)
    if not est then return nil, err end
    body.quote_id = est.quote_id
    res, rerr = endpoint.send(client, def, path, body)
  end
  if not res and rerr.ambiguous and body.quote_id ~= nil then
    res, rerr = M.reconcile(client, def, path, body, rerr)
  end
  if res then res.estimate = est end
  return res, rerr
end

return M
