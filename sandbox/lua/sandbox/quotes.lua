--- Signed, single-use spend quotes (API.md §2.6, §6.1 POST /credits/estimate).
--
-- quote_id = "qte_v1_<issued_at epoch s>_<64 hex>", the hex being
-- HMAC-SHA256(secret, canonical) where canonical is the byte-stable JSON of
--   { v = 1, binding = <the canonical request>, row_count, cost, issued_at }
-- and the binding holds the tool, the organisation and the tool's canonical fields (list_id |
-- cohort task_id + sorted entity_ids + sorted data_points | filter_hash, scope /
-- enrichment_type / agent_type / column_name / provider / sub_action). The secret is derived
-- from the sandbox seed, so quotes are reproducible for a given seed and survive --state.
--
-- Issued quotes live in state.data.quotes (by signature) so that redemption is single-use and
-- the spend cap (the quoted cost) is known at execution. Redemption checks, in order:
--   quote_required (400)  no quote where one is required
--   quote_invalid  (400)  malformed, unknown, or the signature does not verify (tampered)
--   quote_expired  (400)  more than TTL seconds of sandbox time since issue
--   quote_used     (409)  already redeemed
--   quote_mismatch (400)  issued for another tool, list, cohort, scope, ... (details.field)
--   spend_cap_exceeded (400) the recomputed cost exceeds the quoted cost
-- A quote is consumed only by `commit`, once every other check of the request passed.
local errors = require "sandbox.errors"
local json = require "sandbox.json"
local native = require "sandbox.native"
local state_mod = require "sandbox.state"

local M = {}

M.TTL_S = 300 -- CLEANLIST_QUOTE_TTL_SECONDS
M.RETAIN_S = 3600 -- how long an expired quote is remembered (then it is "expired" by its date)

local format, floor = string.format, math.floor

state_mod.register("quotes", function()
  return { by_sig = {}, order = json.array() }
end)

local secrets = {}

--- The signing secret for a state (derived from its seed).
function M.secret(state)
  local seed = tostring(state.config.seed or 0)
  local s = secrets[seed]
  if not s then
    s = native.sha256_hex("cleanlist-sandbox quote signing key v1|seed=" .. seed)
    secrets[seed] = s
  end
  return s
end

local function sorted_array(list)
  local t = json.array()
  if type(list) == "table" then
    for i, v in ipairs(list) do
      t[i] = tostring(v)
    end
  end
  table.sort(t)
  return t
end
M.sorted_array = sorted_array

--- Builds a binding (the canonical request without row count and cost). fields: a table of
-- strings, arrays (sorted here) or nil; keys with nil values are left out.
function M.binding(tool, org_id, fields)
  local b = { tool = tool, org = org_id }
  for k, v in pairs(fields or {}) do
    if v ~= nil and v ~= json.null then
      if type(v) == "table" then
        b[k] = sorted_array(v)
      else
        b[k] = tostring(v)
      end
    end
  end
  return b
end

--- "none" or the first 16 hex digits of SHA-256 over the canonical JSON of t.
function M.filter_hash(t)
  if t == nil or t == json.null then return "none" end
  return native.sha256_hex(json.encode(t)):sub(1, 16)
end

local function canonical(binding, row_count, cost, issued_at)
  return json.encode {
    v = 1,
    binding = binding,
    row_count = row_count,
    cost = cost,
    issued_at = issued_at,
  }
end

local function now_s(state)
  return floor(state:now_ms() / 1000)
end

local function prune(q, now)
  local order = q.order
  local drop = 0
  for i = 1, #order do
    local rec = q.by_sig[order[i]]
    if rec and rec.expires_at + M.RETAIN_S > now then break end
    drop = i
  end
  if drop > 0 then
    for i = 1, drop do
      q.by_sig[order[i]] = nil
    end
    local rest = json.array()
    for i = drop + 1, #order do
      rest[#rest + 1] = order[i]
    end
    q.order = rest
  end
end

--- Issues a quote. Returns quote_id, expires_at (epoch s).
function M.issue(state, binding, row_count, cost)
  local q = state.data.quotes
  local issued_at = now_s(state)
  prune(q, issued_at)
  local text = canonical(binding, row_count, cost, issued_at)
  local sig = native.hmac_sha256_hex(M.secret(state), text)
  local expires_at = issued_at + M.TTL_S
  if not q.by_sig[sig] then q.order[#q.order + 1] = sig end
  q.by_sig[sig] = {
    binding = binding,
    row_count = row_count,
    cost = cost,
    issued_at = issued_at,
    expires_at = expires_at,
    used = false,
  }
  return format("qte_v1_%d_%s", issued_at, sig), expires_at
end

local function fail(code, rid, fields)
  local status, body = errors.build(code, rid, fields)
  return nil, status, body
end

local function show(v)
  if v == nil then return "(none)" end
  if type(v) == "table" then return "[" .. table.concat(v, ",") .. "]" end
  return v
end

-- The first field whose value differs between the quoted and the requested binding.
local function first_difference(quoted, requested)
  local keys, seen = {}, {}
  for k in pairs(quoted) do
    keys[#keys + 1], seen[k] = k, true
  end
  for k in pairs(requested) do
    if not seen[k] then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    if a == "tool" then return b ~= "tool" end
    if b == "tool" then return false end
    return a < b
  end)
  for _, k in ipairs(keys) do
    local a, b = quoted[k], requested[k]
    local ea = a ~= nil and json.encode(a) or nil
    local eb = b ~= nil and json.encode(b) or nil
    if ea ~= eb then return k, a, b end
  end
  return nil
end

-- The issued record that quote_id (a given, non-empty value) names, its signature verified:
-- rec and the sandbox time (epoch s), or nil, status, body.
local function issued_record(state, rid, quote_id)
  if type(quote_id) ~= "string" then return fail("quote_invalid", rid, { problem = "quote_id must be a string." }) end
  local issued, sig = quote_id:match("^qte_v1_(%d+)_(%x+)$")
  if not issued or #sig ~= 64 or #issued > 12 then
    return fail("quote_invalid", rid, {
      problem = "The quote_id is malformed.",
      cause = "A quote_id looks like qte_v1_<issued_at>_<64 hex digits>.",
    })
  end
  issued = tonumber(issued)
  local now = now_s(state)
  local q = state.data.quotes
  local rec = q.by_sig[sig:lower()]
  if not rec then
    if issued + M.TTL_S <= now and issued + M.RETAIN_S <= now then
      return fail("quote_expired", rid, {
        problem = "The quote has expired.",
        cause = format("Quotes are valid for %d seconds after issue.", M.TTL_S),
      })
    end
    return fail("quote_invalid", rid, {
      problem = "The quote_id was not issued by this server or has been altered.",
      cause = "Its signature does not match any issued quote.",
    })
  end
  local text = canonical(rec.binding, rec.row_count, rec.cost, issued)
  if not native.equal(native.hmac_sha256_hex(M.secret(state), text), sig:lower()) then
    return fail("quote_invalid", rid, {
      problem = "The quote_id has been altered.",
      cause = "Its signature does not verify against the issued quote.",
    })
  end
  return rec, now
end

-- rec when its quote may pay, at `now`, for the execution `binding` at `cost`; else nil,
-- status, body.
local function redeemable(rec, rid, binding, cost, now)
  if rec.binding.org ~= binding.org then
    return fail("quote_invalid", rid, {
      problem = "The quote was issued for another organization.",
    })
  end
  if now >= rec.expires_at then
    return fail("quote_expired", rid, {
      problem = "The quote has expired.",
      cause = format("Quotes are valid for %d seconds after issue; this one expired at %d.", M.TTL_S, rec.expires_at),
      details = { expires_at = rec.expires_at },
    })
  end
  if rec.used then
    return fail("quote_used", rid, {
      problem = "The quote has already been used.",
      cause = "Quotes are single-use.",
    })
  end
  local field, quoted, requested = first_difference(rec.binding, binding)
  if field then
    return fail("quote_mismatch", rid, {
      problem = format("The quote was issued for a different request (%s differs).", field),
      cause = format("The quote binds %s = %s; this request has %s.", field, show(quoted), show(requested)),
      details = { field = field, quoted = quoted or json.null, requested = requested or json.null },
    })
  end
  if cost > rec.cost then
    return fail("spend_cap_exceeded", rid, {
      problem = format(
        "This call would cost %s credits; the quote caps it at %s.",
        json.encode(cost),
        json.encode(rec.cost)
      ),
      cause = "The list or cohort grew since the estimate, or the request asks for more rows.",
      details = { quoted_cost = rec.cost, recomputed_cost = cost, quoted_row_count = rec.row_count },
    })
  end
  return rec
end

--- Verifies `quote_id` for the execution `binding` at recomputed cost `cost`. opts: required
-- (bool), what ("enrich_list"). Returns:
--   false                    when no quote was given and none is required;
--   rec                      the quote record (call M.commit(state, rec) once the run starts);
--   nil, status, body        an error envelope.
function M.verify(state, rid, quote_id, binding, cost, opts)
  opts = opts or {}
  if quote_id == nil or quote_id == json.null or quote_id == "" then
    if not opts.required then return false end
    return fail("quote_required", rid, {
      problem = format("This %s call requires a quote_id.", opts.what or binding.tool),
      fix = format(
        'Call POST /credits/estimate with tool "%s" and the same parameters, then '
          .. "retry with its quote_id within %d seconds.",
        binding.tool,
        M.TTL_S
      ),
    })
  end
  local rec, now_or_status, body = issued_record(state, rid, quote_id)
  if not rec then return nil, now_or_status, body end
  return redeemable(rec, rid, binding, cost, now_or_status)
end

--- Redeems a verified quote (single use).
function M.commit(_, rec)
  if rec then rec.used = true end
end

return M
