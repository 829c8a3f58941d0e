-- The error, retry and backoff policy, one written-out row per case of the contract
-- (API.md §3 and §4, README's "Retries" and "Error kinds"): every HTTP status and transport
-- failure gives its kind, code, retry and retry_after (seconds); the retry decision per method,
-- idempotency key and whether anything was sent; the backoff's values. Each row states its
-- expected answer by hand (never read from the table it checks), through the whole client
-- pipeline over the fake transport, so a wrong row fails a test named after it.
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"
local json = require "cjson"
local fake_client = require "spec.helpers.fake_client"

-- The fake client's wall clock, 784111777: Sun, 06 Nov 1994 08:49:37 GMT.
local IN_10_S = "Sun, 06 Nov 1994 08:49:47 GMT"

local JSON_TYPE = "application/json"

local function envelope(status, code, extra)
  local e = {
    code = code,
    problem = code .. " happened",
    cause = json.null,
    fix = "do the fix",
    retryable = false,
    retry_after_ms = json.null,
    docs_url = "https://docs.cleanlist.ai/errors/" .. code:gsub("_", "-"),
    request_id = "req_00000000000000aa",
  }
  for k, v in pairs(extra or {}) do
    e[k] = v
  end
  return { status = status, body = json.encode { error = e }, headers = { ["content-type"] = JSON_TYPE } }
end

local function legacy(status, detail)
  return {
    status = status,
    body = json.encode { detail = detail },
    headers = { ["content-type"] = JSON_TYPE },
  }
end

local function copy(res)
  local h = {}
  for k, v in pairs(res.headers or {}) do
    h[k] = v
  end
  return { status = res.status, body = res.body, headers = h }
end

-- A GET /whoami (max_retries = 1, backoff draws 0) answered by `res` on every attempt.
-- Returns the error, the attempts the fake transport saw and the waits slept.
local function get(res, opts)
  local o = { max_retries = 1 }
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
  local c, fake, sleeps = fake_client.new(o)
  for _ = 1, o.max_retries + 1 do
    fake:push(copy(res))
  end
  local data, err = c:whoami()
  assert.is_nil(data)
  return err, #fake.requests, sleeps
end

local function with_retry_after(value, res)
  res.headers["retry-after"] = value
  return res
end

describe("policy row: HTTP status -> kind, code, retry", function()
  it("400 validation_error -> kind invalid_request, not retried", function()
    local err, attempts, sleeps = get(envelope(400, "validation_error"))
    assert.equals("invalid_request", err.kind)
    assert.equals("validation_error", err.code)
    assert.is_false(err.retryable)
    assert.equals(1, attempts)
    assert.same({}, sleeps)
  end)

  it("400 insufficient_credits -> kind insufficient_credits, not retried", function()
    local err, attempts = get(
      envelope(
        400,
        "insufficient_credits",
        { estimated_cost_credits = 110, available_credits = 40, shortfall_credits = 70 }
      )
    )
    assert.equals("insufficient_credits", err.kind)
    assert.equals(70, err.shortfall_credits)
    assert.equals(1, attempts)
  end)

  it("400 spend_cap_exceeded -> kind spend_cap, not retried", function()
    local err, attempts = get(envelope(400, "spend_cap_exceeded"))
    assert.equals("spend_cap", err.kind)
    assert.equals(1, attempts)
  end)

  it("400 approval_required -> kind invalid_request, not retried", function()
    local err, attempts = get(envelope(400, "approval_required"))
    assert.equals("invalid_request", err.kind)
    assert.equals("approval_required", err.code)
    assert.equals(1, attempts)
  end)

  it("400 missing_column -> kind invalid_request, not retried", function()
    local err, attempts = get(envelope(400, "missing_column"))
    assert.equals("invalid_request", err.kind)
    assert.equals(1, attempts)
  end)

  it("400 quote_required -> kind quote, not retried", function()
    local err, attempts = get(envelope(400, "quote_required"))
    assert.equals("quote", err.kind)
    assert.equals(1, attempts)
  end)

  it("400 legacy detail -> kind invalid_request, code bad_request", function()
    local err, attempts = get(legacy(400, "At least one contact is required."))
    assert.equals("invalid_request", err.kind)
    assert.equals("bad_request", err.code)
    assert.equals("At least one contact is required.", err.message)
    assert.equals(1, attempts)
  end)

  it("401 invalid_api_key -> kind auth, not retried", function()
    local err, attempts = get(envelope(401, "invalid_api_key"))
    assert.equals("auth", err.kind)
    assert.equals(401, err.status)
    assert.equals(1, attempts)
  end)

  it("401 legacy Not authenticated -> kind auth, code not_authenticated", function()
    local err, attempts = get(legacy(401, "Not authenticated"))
    assert.equals("auth", err.kind)
    assert.equals("not_authenticated", err.code)
    assert.equals(1, attempts)
  end)

  it("402 legacy Insufficient credits -> kind insufficient_credits, not retried", function()
    local err, attempts = get(legacy(402, "Insufficient credits"))
    assert.equals("insufficient_credits", err.kind)
    assert.equals("insufficient_credits", err.code)
    assert.equals(1, attempts)
  end)

  it("403 insufficient_scope -> kind permission, not retried", function()
    local err, attempts = get(envelope(403, "insufficient_scope", { details = { required = "enrich" } }))
    assert.equals("permission", err.kind)
    assert.equals("enrich", err.details.required)
    assert.equals(1, attempts)
  end)

  it("403 list_protected -> kind permission, not retried", function()
    local err, attempts = get(envelope(403, "list_protected"))
    assert.equals("permission", err.kind)
    assert.equals(1, attempts)
  end)

  it("404 not_found -> kind not_found, not retried", function()
    local err, attempts = get(envelope(404, "not_found"))
    assert.equals("not_found", err.kind)
    assert.equals(1, attempts)
  end)

  it("405 -> kind api, not retried", function()
    local err, attempts = get(legacy(405, "Method Not Allowed"))
    assert.equals("api", err.kind)
    assert.equals("http_405", err.code)
    assert.equals(1, attempts)
  end)

  it("409 conflict -> kind conflict, not retried", function()
    local err, attempts = get(legacy(409, "The list changed meanwhile."))
    assert.equals("conflict", err.kind)
    assert.equals("conflict", err.code)
    assert.equals(409, err.status)
    assert.equals(1, attempts)
  end)

  it("409 without a JSON body -> kind conflict, not retried", function()
    local err, attempts = get { status = 409, body = "conflict", headers = { ["content-type"] = "text/plain" } }
    assert.equals("conflict", err.kind)
    assert.equals(1, attempts)
  end)

  it("409 quote_used -> kind quote, not retried", function()
    local err, attempts = get(envelope(409, "quote_used"))
    assert.equals("quote", err.kind)
    assert.equals("quote_used", err.code)
    assert.equals(1, attempts)
  end)

  it("410 -> kind api, not retried", function()
    local err, attempts = get { status = 410, body = "", headers = {} }
    assert.equals("api", err.kind)
    assert.equals(1, attempts)
  end)

  it("413 -> kind invalid_request, code payload_too_large, not retried", function()
    local err, attempts = get(legacy(413, "The CSV is larger than 150 KB."))
    assert.equals("invalid_request", err.kind)
    assert.equals("payload_too_large", err.code)
    assert.equals(1, attempts)
  end)

  it("422 FastAPI detail list -> kind invalid_request, code validation_error", function()
    local err, attempts =
      get(legacy(422, { { type = "value_error", loc = { "body", "contacts", 7 }, msg = "bad contact" } }))
    assert.equals("invalid_request", err.kind)
    assert.equals("validation_error", err.code)
    assert.equals("body.contacts.7: bad contact", err.message)
    assert.equals(1, attempts)
  end)

  it("431 -> kind api, not retried", function()
    local err, attempts = get { status = 431, body = "", headers = {} }
    assert.equals("api", err.kind)
    assert.equals(1, attempts)
  end)

  it("500 internal_error retryable -> kind server, retried after the backoff", function()
    local err, attempts, sleeps = get(envelope(500, "internal_error", { retryable = true }))
    assert.equals("server", err.kind)
    assert.is_true(err.retryable)
    assert.equals(2, attempts)
    assert.same({ 0.375 }, sleeps)
  end)

  it("500 retryable false -> kind server, not retried", function()
    local err, attempts = get(envelope(500, "internal_error", { retryable = false }))
    assert.equals("server", err.kind)
    assert.equals(1, attempts)
  end)

  it("502 proxy page -> kind server, retried after the backoff", function()
    local err, attempts, sleeps =
      get { status = 502, body = "<html>Bad Gateway</html>", headers = { ["content-type"] = "text/html" } }
    assert.equals("server", err.kind)
    assert.is_nil(err.code)
    assert.equals(2, attempts)
    assert.same({ 0.375 }, sleeps)
  end)

  it("503 service_unavailable with Retry-After 4 -> kind server, retried after 4 s", function()
    local err, attempts, sleeps = get(with_retry_after("4", envelope(503, "service_unavailable", { retryable = true })))
    assert.equals("server", err.kind)
    assert.equals(4, err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 4 }, sleeps)
  end)

  it("503 legacy detail -> kind server, code service_unavailable, retried", function()
    local err, attempts = get(legacy(503, "Service Unavailable"))
    assert.equals("server", err.kind)
    assert.equals("service_unavailable", err.code)
    assert.equals(2, attempts)
  end)

  it("504 -> kind server, retried", function()
    local err, attempts = get { status = 504, body = "", headers = {} }
    assert.equals("server", err.kind)
    assert.equals(2, attempts)
  end)
end)

describe("policy row: 429 and its wait, in seconds", function()
  it("429 with Retry-After 7 -> kind rate_limited, retry_after 7 s, retried after 7 s", function()
    local err, attempts, sleeps =
      get(with_retry_after("7", envelope(429, "rate_limited", { retryable = true, retry_after_ms = 7000 })))
    assert.equals("rate_limited", err.kind)
    assert.equals(7, err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 7 }, sleeps)
  end)

  it("429 with Retry-After 1.5 -> retry_after 1.5 s", function()
    local err, _, sleeps = get(with_retry_after("1.5", envelope(429, "rate_limited")))
    assert.equals(1.5, err.retry_after)
    assert.same({ 1.5 }, sleeps)
  end)

  it("429 with only retry_after_ms 2500 in the body -> retry_after 2.5 s, not 2500", function()
    local err, attempts, sleeps = get(envelope(429, "rate_limited", { retryable = true, retry_after_ms = 2500 }))
    assert.equals("rate_limited", err.kind)
    assert.equals(2.5, err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 2.5 }, sleeps)
  end)

  it("429 with Retry-After 3 and retry_after_ms 9000 -> the header wins, 3 s", function()
    local err, _, sleeps = get(with_retry_after("3", envelope(429, "rate_limited", { retry_after_ms = 9000 })))
    assert.equals(3, err.retry_after)
    assert.same({ 3 }, sleeps)
  end)

  it("429 with Retry-After as an IMF date 10 s ahead -> retry_after 10 s", function()
    local err, _, sleeps = get(with_retry_after(IN_10_S, envelope(429, "rate_limited")))
    assert.equals(10, err.retry_after)
    assert.same({ 10 }, sleeps)
  end)

  it("429 with Retry-After as an RFC 850 date 10 s ahead -> retry_after 10 s", function()
    local err = get(with_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", envelope(429, "rate_limited")))
    assert.equals(10, err.retry_after)
  end)

  it("429 with Retry-After as an asctime date 10 s ahead -> retry_after 10 s", function()
    local err = get(with_retry_after("Sun Nov  6 08:49:47 1994", envelope(429, "rate_limited")))
    assert.equals(10, err.retry_after)
  end)

  it("429 with a Retry-After date in the past -> retry_after 0, retried after the backoff", function()
    local err, attempts, sleeps = get(with_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", envelope(429, "rate_limited")))
    assert.equals(0, err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 0.375 }, sleeps)
  end)

  it("429 without Retry-After or retry_after_ms -> no retry_after, retried after the backoff", function()
    local err, attempts, sleeps = get(envelope(429, "rate_limited", { retryable = true }))
    assert.equals("rate_limited", err.kind)
    assert.is_nil(err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 0.375 }, sleeps)
  end)

  it("429 with a garbage Retry-After and retry_after_ms 1200 -> retry_after 1.2 s", function()
    local err, _, sleeps = get(with_retry_after("soon-ish", envelope(429, "rate_limited", { retry_after_ms = 1200 })))
    assert.equals(1.2, err.retry_after)
    assert.same({ 1.2 }, sleeps)
  end)

  it("429 legacy Rate limit exceeded with Retry-After 5 -> rate_limited, code rate_limited, 5 s", function()
    local err, attempts, sleeps = get(with_retry_after("5", legacy(429, "Rate limit exceeded")))
    assert.equals("rate_limited", err.kind)
    assert.equals("rate_limited", err.code)
    assert.equals(5, err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 5 }, sleeps)
  end)

  it("429 on a POST without idempotency key -> retried (the server did not act)", function()
    local c, fake, sleeps = fake_client.new { max_retries = 1 }
    fake:push(with_retry_after("2", envelope(429, "rate_limited")))
    fake:push { status = 201, body = '{"id":"l1"}' }
    assert.equals("l1", c:request("POST", "/lead-lists", { body = { name = "x" } }).id)
    assert.same({ 2 }, sleeps)
  end)

  it("429 Retry-After 120 = max_retry_wait -> waits 120 s", function()
    local err, attempts, sleeps = get(with_retry_after("120", envelope(429, "rate_limited")))
    assert.equals(120, err.retry_after)
    assert.equals(2, attempts)
    assert.same({ 120 }, sleeps)
  end)

  it("429 Retry-After 121 > max_retry_wait -> returned at once, retry_after 121 s", function()
    local err, attempts, sleeps = get(with_retry_after("121", envelope(429, "rate_limited")))
    assert.equals("rate_limited", err.kind)
    assert.equals(121, err.retry_after)
    assert.equals(1, attempts)
    assert.same({}, sleeps)
    assert.matches("max_retry_wait", err.retry_reason)
  end)

  it("429 until the retries run out -> rate_limited, retry_after 7 s, 3 attempts, 2 waits of 7 s", function()
    local err, attempts, sleeps = get(with_retry_after("7", envelope(429, "rate_limited")), { max_retries = 2 })
    assert.equals("rate_limited", err.kind)
    assert.equals(7, err.retry_after)
    assert.equals(3, err.attempts)
    assert.equals(3, attempts)
    assert.same({ 7, 7 }, sleeps)
    assert.matches("retries exhausted", err.retry_reason)
  end)
end)

describe("policy row: a 429 pauses the client's own rate limiter", function()
  -- a client limited per key only (no organisation), on a clock that its sleeps move
  local function limited(key)
    local t = { now = 500, sleeps = {} }
    local c, fake = fake_client.new {
      api_key = key,
      max_retries = 0,
      rate_limit = { per_key = 30, per_org = false, window = 60, burst = 5, share = false },
      clock = function()
        return t.now
      end,
      sleep = function(s)
        t.sleeps[#t.sleeps + 1] = s
        t.now = t.now + s
      end,
    }
    return c, fake, t
  end

  it("429 Retry-After 6 -> the next call of the key waits 6 s before it is sent", function()
    local c, fake, t = limited("clapi_policy_rows_pause_6")
    fake:push(with_retry_after("6", envelope(429, "rate_limited")))
    local _, err = c:whoami()
    assert.equals("rate_limited", err.kind)
    assert.same({}, t.sleeps)
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami())
    assert.same({ 6 }, t.sleeps)
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami()) -- the pause is over
    assert.same({ 6 }, t.sleeps)
  end)

  it("429 retry_after_ms 2500 -> the next call waits 2.5 s, not 2500", function()
    local c, fake, t = limited("clapi_policy_rows_pause_ms")
    fake:push(envelope(429, "rate_limited", { retry_after_ms = 2500 }))
    assert.is_nil((c:whoami()))
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami())
    assert.same({ 2.5 }, t.sleeps)
  end)

  it("429 without a hint -> the next call waits the backoff base, 0.5 s", function()
    local c, fake, t = limited("clapi_policy_rows_pause_base")
    fake:push(envelope(429, "rate_limited"))
    assert.is_nil((c:whoami()))
    fake:push { status = 200, body = "{}" }
    assert.truthy(c:whoami())
    assert.same({ 0.5 }, t.sleeps)
  end)
end)

describe("policy row: transport failures", function()
  local function failing(terr, method, opts)
    local c, fake, sleeps = fake_client.new { max_retries = 1 }
    fake:push_error(terr)
    fake:push_error(terr)
    local _, err = c:request(method, "/lead-lists", opts or {})
    return err, #fake.requests, sleeps
  end

  it("connection refused, nothing sent -> kind transport, sent false, a POST retried", function()
    local err, attempts, sleeps = failing(
      { kind = "transport", message = "Connection refused", cause = 7, sent = false },
      "POST",
      { body = { name = "x" } }
    )
    assert.equals("transport", err.kind)
    assert.is_false(err.sent)
    assert.is_nil(err.ambiguous)
    assert.equals(2, attempts)
    assert.same({ 0.375 }, sleeps)
  end)

  it("DNS failure, nothing sent -> kind transport, a POST retried", function()
    local err, attempts = failing(
      { kind = "transport", message = "Could not resolve host", cause = 6, sent = false },
      "POST",
      { body = {} }
    )
    assert.equals("transport", err.kind)
    assert.equals(6, err.cause)
    assert.equals(2, attempts)
  end)

  it("connect timeout, nothing sent -> kind timeout, a POST retried", function()
    local err, attempts = failing(
      { kind = "timeout", message = "Connection timed out", cause = 28, sent = false },
      "POST",
      { body = {} }
    )
    assert.equals("timeout", err.kind)
    assert.is_false(err.sent)
    assert.equals(2, attempts)
  end)

  it("timeout after sending -> kind timeout, a GET retried", function()
    local err, attempts = failing({ kind = "timeout", message = "Operation timed out", cause = 28, sent = true }, "GET")
    assert.equals("timeout", err.kind)
    assert.is_true(err.sent)
    assert.equals(2, attempts)
  end)

  it("timeout after sending -> kind timeout, a POST ambiguous, not retried", function()
    local err, attempts = failing(
      { kind = "timeout", message = "Operation timed out", cause = 28, sent = true },
      "POST",
      { body = {} }
    )
    assert.equals("timeout", err.kind)
    assert.is_true(err.ambiguous)
    assert.equals(1, attempts)
  end)

  it("connection cut after sending -> kind transport, a POST ambiguous, not retried", function()
    local err, attempts = failing(
      { kind = "transport", message = "Connection reset", cause = 56, sent = true },
      "POST",
      { body = {} }
    )
    assert.equals("transport", err.kind)
    assert.is_true(err.ambiguous)
    assert.equals(1, attempts)
  end)

  it("certificate not verified -> kind tls, not retried, even a GET", function()
    local err, attempts =
      failing({ kind = "tls", message = "SSL certificate problem", cause = 60, sent = false }, "GET")
    assert.equals("tls", err.kind)
    assert.is_nil(err.ambiguous)
    assert.equals(1, attempts)
  end)

  it("a 2xx that is not JSON -> kind decode, a GET retried", function()
    local err, attempts = get { status = 200, body = "{not json", headers = {} }
    assert.equals("decode", err.kind)
    assert.equals(2, attempts)
  end)
end)

-- Method x idempotency key x what failed -> retried, ambiguous. Written out: a repeatable
-- request is a GET or one with an idempotency key; PATCH and DELETE are not repeatable.
local T, F = true, false
local UNSENT = { kind = "transport", message = "Connection refused", sent = false }
local SENT = { kind = "transport", message = "Connection reset by peer", sent = true }
local TIMED_OUT = { kind = "timeout", message = "Operation timed out", sent = true }
local BAD_GATEWAY = { status = 502, body = "<html>Bad Gateway</html>", headers = {} }
local TOO_MANY = { status = 429, body = "", headers = { ["retry-after"] = "1" } }
local MATRIX = {
  -- method, keyed, what failed, name, retried, ambiguous
  { "GET", F, UNSENT, "nothing sent", T, F },
  { "GET", F, SENT, "cut after sending", T, F },
  { "GET", F, TIMED_OUT, "timed out after sending", T, F },
  { "GET", F, BAD_GATEWAY, "502", T, F },
  { "GET", F, TOO_MANY, "429", T, F },
  { "POST", F, UNSENT, "nothing sent", T, F },
  { "POST", F, SENT, "cut after sending", F, T },
  { "POST", F, TIMED_OUT, "timed out after sending", F, T },
  { "POST", F, BAD_GATEWAY, "502", F, T },
  { "POST", F, TOO_MANY, "429", T, F },
  { "POST", T, UNSENT, "nothing sent", T, F },
  { "POST", T, SENT, "cut after sending", T, F },
  { "POST", T, TIMED_OUT, "timed out after sending", T, F },
  { "POST", T, BAD_GATEWAY, "502", T, F },
  { "POST", T, TOO_MANY, "429", T, F },
  { "PATCH", F, UNSENT, "nothing sent", T, F },
  { "PATCH", F, SENT, "cut after sending", F, T },
  { "PATCH", F, TIMED_OUT, "timed out after sending", F, T },
  { "PATCH", F, BAD_GATEWAY, "502", F, T },
  { "PATCH", F, TOO_MANY, "429", T, F },
  { "PATCH", T, UNSENT, "nothing sent", T, F },
  { "PATCH", T, SENT, "cut after sending", T, F },
  { "PATCH", T, TIMED_OUT, "timed out after sending", T, F },
  { "PATCH", T, BAD_GATEWAY, "502", T, F },
  { "PATCH", T, TOO_MANY, "429", T, F },
  { "DELETE", F, UNSENT, "nothing sent", T, F },
  { "DELETE", F, SENT, "cut after sending", F, T },
  { "DELETE", F, TIMED_OUT, "timed out after sending", F, T },
  { "DELETE", F, BAD_GATEWAY, "502", F, T },
  { "DELETE", F, TOO_MANY, "429", T, F },
  { "DELETE", T, UNSENT, "nothing sent", T, F },
  { "DELETE", T, SENT, "cut after sending", T, F },
  { "DELETE", T, TIMED_OUT, "timed out after sending", T, F },
  { "DELETE", T, BAD_GATEWAY, "502", T, F },
  { "DELETE", T, TOO_MANY, "429", T, F },
}

describe("policy row: method x idempotency key x sent", function()
  for _, row in ipairs(MATRIX) do
    local method, keyed, failure, what, retried, ambiguous = row[1], row[2], row[3], row[4], row[5], row[6]
    local name = ("%s %s, %s -> %s"):format(
      method,
      keyed and "with an idempotency key" or "without an idempotency key",
      what,
      retried and "retried" or (ambiguous and "ambiguous, not retried" or "not retried")
    )
    it(name, function()
      local c, fake = fake_client.new { max_retries = 1 }
      if failure.status then
        fake:push(copy(failure))
      else
        fake:push_error(failure)
      end
      fake:push { status = 200, body = '{"ok":true}' }
      local opts = { body = { name = "x" } }
      if method == "GET" then opts = {} end
      if keyed then
        opts.body.idempotency_key = "idem-1"
        opts.idempotency_key = "idem-1"
      end
      local data, err = c:request(method, "/lead-lists/l1", opts)
      if retried then
        assert.same({ ok = true }, data)
        assert.equals(2, #fake.requests)
      else
        assert.is_nil(data)
        assert.equals(1, #fake.requests)
        assert.equals(ambiguous, err.ambiguous == true)
      end
    end)
  end
end)

describe("policy row: backoff", function()
  local function backoffs(draw)
    local c, fake, sleeps = fake_client.new {
      max_retries = 6,
      random = function()
        return draw
      end,
    }
    for _ = 1, 7 do
      fake:push { status = 503, body = "", headers = {} }
    end
    local _, err = c:whoami()
    assert.equals(7, err.attempts)
    return sleeps
  end

  it("backoff, lowest draw -> 0.375 0.75 1.5 3 6 6 s (base 0.5 doubling, cap 8, times 0.75)", function()
    assert.same({ 0.375, 0.75, 1.5, 3, 6, 6 }, backoffs(0))
  end)

  it("backoff, highest draw -> just under 0.5 1 2 4 8 8 s", function()
    local expected = { 0.5, 1, 2, 4, 8, 8 }
    local sleeps = backoffs(0.999999)
    assert.equals(6, #sleeps)
    for i, e in ipairs(expected) do
      assert.truthy(sleeps[i] < e and sleeps[i] > e * 0.9999, i .. ": " .. sleeps[i])
    end
  end)

  it("backoff of attempt 1 with a draw of 0.5 -> 0.4375 s", function()
    assert.equals(0.4375, core.backoff(1, 0.5, 8, 0.5))
  end)

  it("backoff of attempt 40 -> the cap times the jitter, 6 s", function()
    assert.equals(6, core.backoff(40, 0.5, 8, 0))
  end)

  it("backoff draws outside [0, 1) are clamped to the jitter bounds", function()
    assert.equals(0.375, core.backoff(1, 0.5, 8, -3))
    local high = core.backoff(1, 0.5, 8, 7)
    assert.truthy(high < 0.5 and high > 0.4999, tostring(high))
  end)

  it("backoff with the client's backoff_base 2 and backoff_cap 3 -> 1.5 then 2.25 s", function()
    local c, fake, sleeps = fake_client.new { max_retries = 2, backoff_base = 2, backoff_cap = 3 }
    for _ = 1, 3 do
      fake:push { status = 500, body = "", headers = {} }
    end
    assert.is_nil((c:whoami()))
    assert.same({ 1.5, 2.25 }, sleeps)
  end)
end)

describe("policy row: the kinds' exit statuses and names", function()
  it("core.kinds.conflict is the 409 kind, never retried", function()
    assert.equals("never", core.kinds.conflict.retry)
    assert.equals("conflict", core.kind_for_status(409))
    assert.equals("rate_limited", core.kind_for_status(429))
    assert.equals("any", core.kinds.rate_limited.retry)
  end)

  it("cleanlist.check raises the conflict error as it is", function()
    local ok, err = pcall(cleanlist.check, nil, get(legacy(409, "changed")))
    assert.is_false(ok)
    assert.equals("conflict", err.kind)
  end)
end)
