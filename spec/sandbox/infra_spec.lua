-- luacheck: std +busted
-- The sandbox's infrastructure over real HTTP: the sandbox clock (--time-scale, advance),
-- rate limits (30/min per key, 60/min per organisation, Retry-After, the rate_limited
-- envelope, the legacy body, the off switch), reset, and `--help`. Faults are in
-- faults_spec.lua, --state in state_spec.lua.
local poll = require "spec.helpers.poll"
local sandbox = require "spec.helpers.sandbox"

local function now_of(sb)
  local body, status = sb:control("GET", "/clock")
  assert.are.equal(200, status)
  return body.now_ms, body
end

local function wall_ms()
  return os.time() * 1000
end

-- n GET requests to an API path on one kept-alive connection (one curl process); returns the
-- statuses in order. key: a key, or nil for the full-access key.
local function burst(sb, n, path, key)
  local codes = {}
  for c in sb:statuses(n, path, key):gmatch("%d+") do
    codes[#codes + 1] = tonumber(c)
  end
  assert.are.equal(n, #codes, "curl answered " .. #codes .. " of " .. n)
  return codes
end

-- Asserts that every status in codes is `want`.
local function all_are(want, codes, what)
  for i, c in ipairs(codes) do
    assert.are.equal(want, c, (what or "request") .. " " .. i)
  end
end

describe("sandbox clock", function()
  local sb = sandbox.suite { reset = true }

  it("starts at the wall clock, at scale 1, and whoami's timestamp_ms reads it", function()
    local now, info = now_of(sb)
    assert.are.equal(1, info.time_scale)
    assert.are.equal(0, info.offset_ms)
    assert.is_true(math.abs(now - wall_ms()) < 5000, "clock far from the wall clock")
    local status, body = sb:api("GET", "/whoami")
    assert.are.equal(200, status)
    assert.is_true(body.timestamp_ms >= now and body.timestamp_ms - now < 5000)
  end)

  it("moves forward by POST /__sandbox/clock {advance_ms}, and timestamps follow", function()
    local before = now_of(sb)
    local body, status = sb:control("POST", "/clock", { advance_ms = 600000 })
    assert.are.equal(200, status)
    assert.are.equal(600000, body.offset_ms)
    assert.is_true(body.now_ms >= before + 600000 and body.now_ms < before + 605000)
    local _, who = sb:api("GET", "/whoami")
    assert.is_true(who.timestamp_ms >= before + 600000)
    local _, bal = sb:api("GET", "/credits/balance")
    assert.is_true(bal.timestamp_ms >= before + 600000)
  end)

  it("changes its scale at run time without jumping", function()
    local before = now_of(sb)
    local body, status = sb:control("POST", "/clock", { time_scale = 1000 })
    assert.are.equal(200, status)
    assert.are.equal(1000, body.time_scale)
    assert.is_true(body.now_ms >= before and body.now_ms < before + 60000, "the clock jumped")
    -- 150 s of sandbox time: 0.15 s of real time at scale 1000 (150 s at scale 1)
    local t0 = poll.now()
    poll.wait_until(function()
      return now_of(sb) - body.now_ms >= 150000
    end, 3, "150 s of sandbox time to pass at scale 1000")
    assert.is_true(poll.now() - t0 < 3, "scale 1000 did not speed the clock up")
  end)

  it("refuses bad bodies with a validation_error", function()
    for _, bad in ipairs {
      { advance_ms = -1 },
      { time_scale = 0 },
      { time_scale = "fast" },
      {},
      { advance_ms = 1.5 },
    } do
      local body, status = sb:control("POST", "/clock", bad)
      assert.are.equal(400, status)
      assert.are.equal("validation_error", body.error.code)
    end
    assert.are.equal(0, select(2, now_of(sb)).offset_ms)
  end)

  it("goes back to the wall clock and scale on POST /__sandbox/reset", function()
    sb:control("POST", "/clock", { advance_ms = 3600000, time_scale = 50 })
    assert.is_true(now_of(sb) > wall_ms() + 3000000)
    sb:control("POST", "/reset")
    local now, info = now_of(sb)
    assert.are.equal(1, info.time_scale)
    assert.are.equal(0, info.offset_ms)
    assert.is_true(math.abs(now - wall_ms()) < 5000)
  end)
end)

describe("sandbox --time-scale", function()
  local sb = sandbox.suite { args = { "--time-scale", "5000" } }

  it("runs the clock N times faster: ten minutes pass in well under a second", function()
    local r0 = poll.now()
    local t0, info = now_of(sb)
    assert.are.equal(5000, info.time_scale)
    local t1 = poll.wait_until(function()
      local t = now_of(sb)
      return t - t0 >= 600000 and t, t - t0
    end, 2, "ten minutes of sandbox time at scale 5000")
    local real_ms = (poll.now() - r0) * 1000
    -- no faster than the scale: the sandbox time passed is at most 5000 times the real time
    assert.is_true(t1 - t0 <= 5000 * real_ms + 1000, (t1 - t0) .. " ms in " .. real_ms .. " ms real")
  end)

  it("opens a rate-limit window again after 60 s of sandbox time, given in real time", function()
    sb:control("POST", "/reset")
    sb:control("POST", "/rate-limit", { enabled = true, per_key = 2 })
    sb:control("POST", "/clock", { time_scale = 120 }) -- a minute per half real second
    all_are(200, burst(sb, 2))
    local status, body, headers = sb:api("GET", "/whoami")
    assert.are.equal(429, status)
    assert.are.equal("1", headers["retry-after"]) -- about 0.5 s of real time, rounded up
    assert.is_true(body.error.retry_after_ms > 0 and body.error.retry_after_ms <= 500)
    -- the window ends when retry_after_ms said (in real time): polled, refusals do not count
    local t0 = poll.now()
    poll.wait_until(function()
      return sb:api("GET", "/whoami") == 200
    end, body.error.retry_after_ms / 1000 + 0.5, "the window to open again")
    local waited = poll.now() - t0
    assert.is_true(waited >= body.error.retry_after_ms / 1000 - 0.1, "open again after " .. waited .. " s")
  end)

  it("rejects a non-positive or non-numeric scale on the command line", function()
    for _, v in ipairs { "0", "-2", "fast", "" } do
      local out, rc = sandbox.cli("sandbox --time-scale " .. sandbox.quote(v))
      assert.are.equal(2, rc)
      assert.is_truthy(out:find("--time-scale needs a number", 1, true))
    end
  end)
end)

describe("sandbox rate limits", function()
  local sb = sandbox.suite { rate_limit = true, reset = true }

  it("are on by default with the documented limits", function()
    local body, status = sb:control("GET", "/rate-limit")
    assert.are.equal(200, status)
    assert.are.same({ enabled = true, per_key = 30, per_org = 60, window_ms = 60000 }, body)
  end)

  it("answer the 31st request in a minute from one key with 429, Retry-After and the envelope", function()
    all_are(200, burst(sb, 30))
    local status, body, headers = sb:api("GET", "/credits/balance")
    assert.are.equal(429, status)
    local ra = headers["retry-after"]
    assert.is_truthy(ra and ra:match("^%d+$"), "Retry-After is not whole seconds: " .. tostring(ra))
    assert.is_true(tonumber(ra) >= 1 and tonumber(ra) <= 60)
    local e = body.error
    assert.are.equal("rate_limited", e.code)
    assert.is_true(e.retryable)
    assert.are.equal("https://docs.cleanlist.ai/errors/rate-limited", e.docs_url)
    assert.are.equal(headers["x-request-id"], e.request_id)
    assert.is_true(e.retry_after_ms > 0 and e.retry_after_ms <= 60000)
    -- Retry-After is retry_after_ms rounded up to whole seconds
    assert.are.equal(math.ceil(e.retry_after_ms / 1000), tonumber(ra))
    assert.are.equal("api_key", e.details.limit_scope)
    local log = sb:requests()
    assert.are.equal(31, #log)
    assert.are.equal(429, log[31].status)
    -- control endpoints are never limited
    assert.are.equal(200, select(2, sb:control("GET", "/health")))
  end)

  it("do not count refused requests, and reopen when the clock moves past the window", function()
    sb:control("POST", "/rate-limit", { per_key = 3 })
    all_are(200, burst(sb, 3))
    all_are(429, burst(sb, 5)) -- hammering while refused does not push the reopening back
    sb:control("POST", "/clock", { advance_ms = 30000 })
    assert.are.equal(429, (sb:api("GET", "/whoami")))
    sb:control("POST", "/clock", { advance_ms = 30001 })
    assert.are.same({ 200, 200, 200, 429 }, burst(sb, 4))
  end)

  it("share the organisation's budget between two keys of one organisation", function()
    -- per key 3, per organisation 5: the second key has budget of its own left, but the
    -- organisation has not
    sb:control("POST", "/rate-limit", { per_key = 3, per_org = 5 })
    all_are(200, burst(sb, 3))
    local status, body = sb:api("GET", "/whoami")
    assert.are.equal(429, status)
    assert.are.equal("api_key", body.error.details.limit_scope)
    local ro = { key = sb.readonly_key }
    assert.are.equal(200, (sb:api("GET", "/whoami", ro)))
    assert.are.equal(200, (sb:api("GET", "/whoami", ro)))
    status, body = sb:api("GET", "/whoami", ro)
    assert.are.equal(429, status)
    assert.are.equal("organization", body.error.details.limit_scope)
  end)

  it("serve 30 a minute to each of two keys of one organisation, 60 in all", function()
    all_are(200, burst(sb, 20), "full-access request")
    all_are(200, burst(sb, 30, "/whoami", sb.readonly_key), "read-only request")
    all_are(200, burst(sb, 10), "full-access request")
    assert.are.same({ 429 }, burst(sb, 1))
    assert.are.same({ 429 }, burst(sb, 1, "/whoami", sb.readonly_key))
  end)

  it("count neither unauthenticated requests nor unknown paths", function()
    sb:control("POST", "/rate-limit", { per_key = 2 })
    all_are(401, burst(sb, 4, "/whoami", "clapi_not_a_key_of_this_sandbox"))
    assert.are.equal(401, (sb:api("GET", "/whoami", { key = false })))
    all_are(404, burst(sb, 4, "/no-such-endpoint"))
    assert.are.same({ 200, 200, 429 }, burst(sb, 3))
  end)

  it('answer the legacy endpoints with {"detail":"Rate limit exceeded"}', function()
    sb:control("POST", "/rate-limit", { per_org = 2 })
    assert.are.equal(200, (sb:api("GET", "/auth/validate-key")))
    assert.are.equal(200, (sb:api("GET", "/auth/validate-key")))
    local status, body, headers = sb:api("GET", "/auth/validate-key")
    assert.are.equal(429, status)
    assert.are.same({ detail = "Rate limit exceeded" }, body)
    assert.is_truthy((headers["retry-after"] or ""):match("^%d+$"))
  end)

  it("switch off and on by POST /__sandbox/rate-limit", function()
    local body, status = sb:control("POST", "/rate-limit", { enabled = false })
    assert.are.equal(200, status)
    assert.is_false(body.enabled)
    all_are(200, burst(sb, 35))
    sb:control("POST", "/rate-limit", { enabled = true, per_key = 1 })
    assert.are.same({ 200, 429 }, burst(sb, 2))
    for _, bad in ipairs { { enabled = "yes" }, { per_key = 0 }, { per_org = 2.5 } } do
      local b, st = sb:control("POST", "/rate-limit", bad)
      assert.are.equal(400, st)
      assert.are.equal("validation_error", b.error.code)
    end
    -- reset puts the flags' settings back (on, 30, 60) and empties the windows
    sb:control("POST", "/reset")
    assert.are.same(
      { enabled = true, per_key = 30, per_org = 60, window_ms = 60000 },
      (sb:control("GET", "/rate-limit"))
    )
    assert.are.equal(200, (sb:api("GET", "/whoami")))
  end)
end)

describe("sandbox --rate-limit flags", function()
  it("off serves more than the limits; -key and -org set them", function()
    local sb = sandbox.start() -- the spec helper passes --rate-limit off
    local ok, err = pcall(function()
      assert.is_false((sb:control("GET", "/rate-limit")).enabled)
      all_are(200, burst(sb, 65))
    end)
    sb:stop()
    assert(ok, err)
    sb = sandbox.start { args = { "--rate-limit", "on", "--rate-limit-key", "2", "--rate-limit-org", "7" } }
    ok, err = pcall(function()
      assert.are.same(
        { enabled = true, per_key = 2, per_org = 7, window_ms = 60000 },
        (sb:control("GET", "/rate-limit"))
      )
      assert.are.same({ 200, 200, 429 }, burst(sb, 3))
    end)
    sb:stop()
    assert(ok, err)
  end)

  it("refuse bad values", function()
    for _, args in ipairs {
      "--rate-limit maybe",
      "--rate-limit-key 0",
      "--rate-limit-org x",
      "--fault-rate 2",
      "--workflow-fault sometimes",
      "--stall-ms 0",
    } do
      local out, rc = sandbox.cli("sandbox " .. args)
      assert.are.equal(2, rc, args)
      assert.is_truthy(out:find("cleanlist sandbox: ", 1, true), args)
    end
  end)
end)

describe("sandbox reset", function()
  it("restores state, clock, rate limits, faults and the script", function()
    local sb = sandbox.start { args = { "--fault-rate", "0", "--workflow-fault", "stuck" } }
    local ok, err = pcall(function()
      sb:control("POST", "/credits", { credits = 7 })
      sb:control("POST", "/clock", { advance_ms = 99000, time_scale = 3 })
      sb:control("POST", "/rate-limit", { enabled = true, per_key = 4 })
      sb:control("POST", "/faults", { rate = 0.5, kinds = { "500" }, workflow = "fail" })
      sb:control("POST", "/script", { responses = { { status = 200, body = "x" } } })
      local body, status = sb:control("POST", "/reset")
      assert.are.equal(200, status)
      assert.is_true(body.ok)
      assert.are.equal(5000, (sb:control("GET", "/credits")).credits)
      local clock = sb:control("GET", "/clock")
      assert.are.equal(0, clock.offset_ms)
      assert.are.equal(1, clock.time_scale)
      assert.is_false((sb:control("GET", "/rate-limit")).enabled)
      local f = sb:control("GET", "/faults")
      assert.are.equal(0, f.rate)
      assert.are.equal("stuck", f.workflow) -- back to the flag, not to "normal"
      assert.are.equal(0, (sb:control("GET", "/script")).pending)
      assert.are.equal(0, #sb:requests())
    end)
    sb:stop()
    assert(ok, err)
  end)
end)

describe("cleanlist sandbox --help", function()
  it("documents every flag and every control endpoint", function()
    local out, rc = sandbox.help()
    assert.are.equal(0, rc)
    for _, flag in ipairs {
      "--port",
      "--bind",
      "--api-key",
      "--seed",
      "--tls-cert",
      "--tls-key",
      "--quiet",
      "--help",
      "--time-scale",
      "--rate-limit ",
      "--rate-limit-key",
      "--rate-limit-org",
      "--fault-rate",
      "--faults",
      "--stall-ms",
      "--dribble-ms",
      "--workflow-fault",
      "--state",
    } do
      assert.is_truthy(out:find(flag, 1, true), "undocumented flag " .. flag)
    end
    for _, ep in ipairs {
      "/__sandbox/health",
      "/__sandbox/requests",
      "/__sandbox/script",
      "/__sandbox/reset",
      "/__sandbox/credits",
      "/__sandbox/clock",
      "/__sandbox/rate-limit",
      "/__sandbox/faults",
    } do
      assert.is_truthy(out:find(ep, 1, true), "undocumented control endpoint " .. ep)
    end
    for _, kind in ipairs {
      "500",
      "503_retry_after",
      "429_date",
      "429_missing",
      "429_garbage",
      "502",
      "reset",
      "empty",
      "partial",
      "reset_mid_body",
      "stall",
      "dribble",
      "truncated",
      "malformed",
    } do
      assert.is_truthy(out:find(kind, 1, true), "undocumented fault kind " .. kind)
    end
  end)
end)

describe("sandbox hostile bodies", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" } }
  local json_headers = { ["Content-Type"] = "application/json" }

  it("answers a number JSON cannot carry back with a 422 at its place, not a 500", function()
    local status, body = sb:api(
      "POST",
      "/search/people",
      { body = '{"limit": 1e400, "filters": {"x": [1, -1e999]}}', headers = json_headers }
    )
    assert.equals(422, status)
    local locs = require("spec.helpers.api").locs(body)
    table.sort(locs)
    assert.same({ "body.filters.x.1:finite_number", "body.limit:finite_number" }, locs)
  end)

  it("refuses NaN and Infinity literals as invalid JSON (422), not a 500", function()
    for _, text in ipairs { '{"limit": NaN}', '{"limit": Infinity}', '{"limit": -Infinity}' } do
      local status, body = sb:api("POST", "/search/people", { body = text, headers = json_headers })
      assert.equals(422, status, text)
      assert.equals("json_invalid", body.detail[1].type)
    end
  end)

  it("cuts a long invalid input it echoes in a 422", function()
    local name = ("x"):rep(100000)
    local status, body = sb:api("POST", "/lead-lists", { body = { name = name } })
    assert.equals(422, status)
    local input = body.detail[1].input
    assert.is_true(#input < 300)
    assert.matches("%.%.%. %(100000 bytes%)$", input)
  end)
end)
