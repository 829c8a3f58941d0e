--- cleanlist.recipe.calls: the calls a recipe makes once across runs of the same command,
-- recorded in the state file (cleanlist.recipe.state): r:once, r:paid and r:quote. Run holds
-- the methods of the run `r`.
--
-- r:once(key, send) records that it is about to send before sending and what came back after,
-- so a run started again after a crash or Ctrl-C returns the recorded result instead of
-- sending again. A paid call goes out with a quote recorded first: sent again, the quote makes
-- the API refuse a second use, so it is never paid twice. A call whose outcome is unknown
-- (sent without a quote, no answer) is not sent again: the run stops and says so
-- (--resend-unknown sends it anyway).
local errors = require "cleanlist.errors"
local scheduler = require "cleanlist.scheduler"
local cli = require "cleanlist.recipe.cli"
local now_text = require("cleanlist.recipe.state").now_text

local type, pairs, tostring, error = type, pairs, tostring, error

local M = {}
local Run = {}
M.Run = Run

local function unknown_error(key, call, why)
  return errors.new {
    kind = "unknown_outcome",
    exit_status = cli.EXIT_UNKNOWN,
    step = key,
    message = (
      "an earlier run sent %s at %s and did not learn its outcome%s: it may have run "
      .. "(and been paid). Check its results (or the usage report) before sending it again "
      .. "with --resend-unknown"
    ):format(key, tostring(call.sent_at), why or ""),
  }
end

-- Whether an error says the call did not run: the API refused it (4xx), or the client did
-- before sending. A 2xx with a broken body, a 5xx or a lost connection may have run.
local REFUSED_BEFORE_SENDING =
  { invalid_request = true, spend_cap = true, insufficient_credits = true, config = true, quote = true }

local function refused(err)
  if err.status then return err.status >= 400 and err.status < 500 end
  if err.sent == false then return true end -- the connection failed before the request left
  return not err.ambiguous and REFUSED_BEFORE_SENDING[err.kind] == true
end

-- A call an earlier run recorded as sent: sent again with its quote (resent = true: the API
-- refuses a second use), sent afresh (nil: --resend-unknown, or an idempotent call, which
-- acts once when sent again with the same key), or not at all (nil, nil, the error).
local function earlier(r, key, call, opts)
  if call.quote_id and not call.quote_expired then return call, true end
  if r.opts.resend_unknown or opts.idempotent then return nil, false end
  return nil, false, unknown_error(key, call, call.quote_expired and " (its quote has expired)")
end

-- A new record of a call; a paid one is quoted first (opts.quote). nil and the error when
-- the quote is refused.
local function new_call(opts)
  local call = { paid = opts.paid }
  if opts.quote then
    local est, err = opts.quote()
    if not est then return nil, err end
    call.quote_id, call.estimate = est.quote_id, est
  end
  return call
end

-- Sends the call once: send(extra) with the client's on_send hooked, so that the call is
-- recorded as sent when the request leaves, not before (a run killed while the call waits for
-- the rate limiter has sent nothing). A quoted call is recorded at once: its quote makes a
-- second sending safe. Returns what send returned.
function Run:_send_call(call, send)
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
  return res, err
end

-- After the call `key` of `calls` failed with err: true when it is quoted and sent again (its quote expired
-- before it went out: nothing ran), else nil and the error to return, the state updated.
function Run:_call_failed(calls, key, call, err, resent)
  if err.code == "quote_used" and resent then
    err.message = (
      "%s already went out with its quote in an earlier run (the API refused "
      .. "to use the quote again, so nothing was paid twice); that run's result was not "
      .. "recorded"
    ):format(key)
    err.dispatched_earlier = true
    return nil, err
  elseif err.code == "quote_expired" and resent then
    call.quote_expired = true
    self:save()
    return nil, unknown_error(key, call, " (its quote has expired since)")
  elseif err.code == "quote_expired" then
    return true -- waited too long between quote and call: nothing ran; quote again, once
  elseif refused(err) then
    calls[key] = nil -- refused: nothing ran, the next run may send it
    self:save()
    return nil, err
  end
  return nil, err -- kept as sent: the next run resends it with its quote, or stops
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
  local call, resent, err = calls[key], false
  if call and call.done then return call.result end
  if call and call.sent_at then
    call, resent, err = earlier(self, key, call, opts)
    if err then return nil, err end
  end
  for _ = 1, 2 do
    if not call then
      call, err = new_call(opts)
      if not call then return nil, err end
    end
    calls[key] = call
    local res, serr = self:_send_call(call, send)
    if res then
      call.done, call.result = true, (opts.keep or function(x)
        return x
      end)(res)
      self:save()
      return call.result
    end
    local again, ferr = self:_call_failed(calls, key, call, serr, resent)
    if not again then return nil, ferr end
    call = nil
  end
  calls[key] = nil
  self:save()
  return nil,
    errors.new {
      kind = "quote",
      code = "quote_expired",
      message = key .. ": the quote expired twice before the call went out",
    }
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do
    c[k] = v
  end
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
  end, {
    keep = opts.keep,
    paid = true,
    quote = function()
      local b = copy(body)
      b.dry_run, b.max_credits = true, opts.max_credits or self.opts.max_credits
      return call(b)
    end,
  })
end

--- The estimate of a paid call (a dry run: nothing is spent), said for a person and emitted
-- as {quote = ...} under --json. Returns it, or nil and the refusal.
function Run:quote(label, call, body, max_credits)
  local b = copy(body)
  b.dry_run, b.max_credits = true, max_credits or self.opts.max_credits
  local est, err = call(b)
  if not est then return nil, err end
  local cost = est.estimated_cost
  self:say(
    "%s: %s credits estimated%s%s",
    label,
    tostring(cost),
    type(est.available_credits) == "number" and (" of %s available"):format(est.available_credits) or "",
    est.quote_id and " (quote " .. est.quote_id .. ")" or " (priced by the client)"
  )
  self:emit {
    quote = {
      step = label,
      estimated_cost = cost,
      quote_id = est.quote_id,
      available_credits = est.available_credits,
      sufficient = est.sufficient,
    },
  }
  return est
end

return M
