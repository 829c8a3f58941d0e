-- luacheck: std +busted
-- Faults injected by the sandbox, seen by the curl CLI: status-level faults (500, 503, 429 in
-- four Retry-After forms, a proxy's 502, truncated and malformed JSON), connection-level ones
-- (reset before any byte: curl 56, empty reply: 52, cut body: 18, reset mid-body: 56, stall
-- past the timeout: 28, slow dribble), stalls that do not block other connections, seeded
-- random faults, and the workflow knob.
local poll = require "spec.helpers.poll"
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local q = sandbox.quote

-- GET path under the API base with the curl CLI. Returns curl's exit code, the status (nil
-- when none), the body, the headers (names lowercased) and the total time in seconds.
local function get(sb, path, max_time)
  local base = os.tmpname()
  local cmd = string.format(
    "curl -sS -o %s -D %s -w '%%{http_code} %%{time_total}' " .. "--max-time %s -H %s %s 2>/dev/null",
    q(base .. ".body"),
    q(base .. ".hdr"),
    tostring(max_time or 10),
    q("Authorization: Bearer " .. sb.key),
    q(sb.base_url .. path)
  )
  local out, rc = sandbox.run(cmd)
  local code, secs = out:match("(%d+) ([%d%.]+)")
  local body = sandbox.read_file(base .. ".body") or ""
  local raw = sandbox.read_file(base .. ".hdr") or ""
  for _, f in ipairs { base, base .. ".body", base .. ".hdr" } do
    os.remove(f)
  end
  local headers = {}
  for name, value in raw:gmatch("([%w%-]+):%s*([^\r\n]*)\r\n") do
    headers[name:lower()] = value
  end
  code = tonumber(code)
  return rc, code ~= 0 and code or nil, body, headers, tonumber(secs)
end

local function script(sb, items)
  local body, status = sb:control("POST", "/script", { responses = items })
  assert.are.equal(200, status, cjson.encode(body))
  return body
end

describe("sandbox faults", function()
  local sb = sandbox.suite { reset = true }

  it("500: an internal_error envelope, retryable unless told otherwise", function()
    script(sb, { { fault = "500" }, { fault = 500, retryable = false } })
    local rc, status, body = get(sb, "/whoami")
    assert.are.equal(0, rc)
    assert.are.equal(500, status)
    local e = cjson.decode(body).error
    assert.are.equal("internal_error", e.code)
    assert.is_true(e.retryable)
    rc, status, body = get(sb, "/whoami")
    assert.are.equal(0, rc)
    assert.are.equal(500, status)
    assert.is_false(cjson.decode(body).error.retryable)
    assert.are.equal(200, select(2, get(sb, "/whoami"))) -- the next request is normal
  end)

  it("503 with and without Retry-After", function()
    script(
      sb,
      { { fault = "503" }, { fault = "503_retry_after", retry_after = 7 }, { fault = "503", retry_after = 2 } }
    )
    local _, status, body, headers = get(sb, "/whoami")
    assert.are.equal(503, status)
    assert.is_nil(headers["retry-after"])
    local e = cjson.decode(body).error
    assert.are.equal("service_unavailable", e.code)
    assert.is_true(e.retryable)
    _, status, _, headers = get(sb, "/whoami")
    assert.are.equal(503, status)
    assert.are.equal("7", headers["retry-after"])
    assert.are.equal("2", select(4, get(sb, "/whoami"))["retry-after"])
  end)

  it("429 with Retry-After as seconds, as an HTTP date, missing and garbage", function()
    script(sb, {
      { fault = "429", retry_after = 3 },
      { fault = "429_date", retry_after = 30 },
      { fault = "429_missing" },
      { fault = "429_garbage" },
    })
    local _, status, body, headers = get(sb, "/whoami")
    assert.are.equal(429, status)
    assert.are.equal("3", headers["retry-after"])
    local e = cjson.decode(body).error
    assert.are.equal("rate_limited", e.code)
    assert.are.equal(3000, e.retry_after_ms)
    _, status, _, headers = get(sb, "/whoami")
    assert.are.equal(429, status)
    local date = headers["retry-after"]
    assert.is_truthy(date:match("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$"), date)
    assert.are_not.equal(headers.date, date) -- 30 s after the response's own Date
    _, status, body, headers = get(sb, "/whoami")
    assert.are.equal(429, status)
    assert.is_nil(headers["retry-after"])
    assert.are.equal(cjson.null, cjson.decode(body).error.retry_after_ms)
    _, status, _, headers = get(sb, "/whoami")
    assert.are.equal(429, status)
    assert.is_nil(tonumber(headers["retry-after"]))
    assert.is_truthy(headers["retry-after"])
  end)

  it("502: an HTML page from a proxy", function()
    script(sb, { { fault = "502" } })
    local _, status, body, headers = get(sb, "/whoami")
    assert.are.equal(502, status)
    assert.is_truthy(headers["content-type"]:find("text/html", 1, true))
    assert.is_truthy(body:find("<h1>502 Bad Gateway</h1>", 1, true))
    assert.is_false(pcall(cjson.decode, body))
  end)

  it("truncated and malformed JSON with status 200", function()
    script(sb, { { fault = "truncated" }, { fault = "malformed" } })
    local rc, status, body = get(sb, "/whoami")
    assert.are.equal(0, rc) -- a complete HTTP response whose JSON is cut
    assert.are.equal(200, status)
    assert.is_false(pcall(cjson.decode, body))
    assert.is_truthy(body:match('^{"appsumo_tier"'))
    rc, status, body = get(sb, "/whoami")
    assert.are.equal(0, rc)
    assert.are.equal(200, status)
    assert.is_false(pcall(cjson.decode, body))
  end)

  it("resets the connection before any byte (curl 56) or closes it empty (curl 52)", function()
    script(sb, { { fault = "reset" }, { fault = "empty" } })
    local rc, status = get(sb, "/whoami")
    assert.are.equal(56, rc)
    assert.is_nil(status)
    rc, status = get(sb, "/whoami")
    assert.are.equal(52, rc)
    assert.is_nil(status)
    assert.are.equal(200, select(2, get(sb, "/whoami")))
  end)

  it("cuts the body after the headers: a close (curl 18) or a reset (curl 56)", function()
    local whole = select(3, get(sb, "/whoami")) -- (its first half does not change)
    script(sb, { { fault = "partial" }, { fault = "reset_mid_body", bytes = 10 } })
    local rc, status, body, headers = get(sb, "/whoami")
    assert.are.equal(18, rc)
    assert.are.equal(200, status)
    assert.are.equal(#whole, tonumber(headers["content-length"]))
    assert.are.equal(whole:sub(1, math.floor(#whole / 2)), body) -- half, by default
    rc, status, body = get(sb, "/whoami")
    assert.are.equal(56, rc)
    assert.are.equal(200, status)
    assert.are.equal(whole:sub(1, #body), body)
    assert.is_true(#body <= 10, #body .. " bytes") -- at most the 10 asked for, before the reset
  end)

  it("stalls past the client's timeout (curl 28) without blocking other connections", function()
    script(sb, { { fault = "stall", ms = 900 } })
    local auth = q("Authorization: Bearer " .. sb.key)
    local url = q(sb.base_url .. "/whoami")
    -- the stalled request in the background; a second one on another connection meanwhile
    local a_out = os.tmpname()
    os.execute(
      string.format(
        '(curl -s -o /dev/null --max-time 0.5 -H %s %s; echo "A=$?" >%s) >/dev/null 2>&1 &',
        auth,
        url,
        q(a_out)
      )
    )
    -- B once A has taken the scripted stall
    poll.wait_until(function()
      return sb:control("GET", "/script").pending == 0
    end, 5, "the stalled request to take the scripted stall")
    local out =
      sandbox.run(string.format("curl -s -o /dev/null -w 'B=%%{http_code} %%{time_total}' -H %s %s", auth, url))
    local a = poll.wait_until(function()
      return (sandbox.read_file(a_out) or ""):match("A=(%d+)")
    end, 5, "the stalled request to end")
    os.remove(a_out)
    assert.are.equal("28", a)
    local code, secs = out:match("B=(%d+) ([%d%.]+)")
    assert.are.equal("200", code, out)
    assert.is_true(tonumber(secs) < 0.3, "the other connection waited " .. tostring(secs) .. " s")
  end)

  it("answers after a stall, or closes (curl 52)", function()
    script(sb, { { fault = "stall", ms = 300 }, { fault = "stall", ms = 200, close = true } })
    local rc, status, body, _, secs = get(sb, "/whoami")
    assert.are.equal(0, rc)
    assert.are.equal(200, status)
    assert.are.equal("Vera Okafor", cjson.decode(body).user_name)
    assert.is_true(secs >= 0.28, "answered after " .. secs .. " s")
    rc, status, _, _, secs = get(sb, "/whoami")
    assert.are.equal(52, rc)
    assert.is_nil(status)
    assert.is_true(secs >= 0.18)
  end)

  it("dribbles the body a few bytes at a time", function()
    script(sb, { { fault = "dribble", chunk = 200, ms = 100 }, { fault = "dribble", ms = 200 } })
    local rc, status, body, headers, secs = get(sb, "/whoami")
    assert.are.equal(0, rc)
    assert.are.equal(200, status)
    assert.are.equal(tonumber(headers["content-length"]), #body)
    assert.are.equal("Vera Okafor", cjson.decode(body).user_name)
    local chunks = math.ceil(#body / 200)
    assert.is_true(secs >= (chunks - 1) * 0.1 - 0.02, "whole body after " .. secs .. " s")
    -- 4 bytes every 200 ms: a 0.5 s timeout gets a few bytes and gives up (curl 28)
    local got
    rc, status, got = get(sb, "/whoami", 0.5)
    assert.are.equal(28, rc)
    assert.are.equal(200, status)
    assert.is_true(#got > 0 and #got <= 16, #got .. " bytes")
    assert.are.equal(body:sub(1, #got), got) -- the start of the answer
  end)

  it("never applies to /__sandbox/ requests, and the log says which fault was served", function()
    script(sb, { { fault = "reset" }, { fault = "500", times = 2 } })
    assert.are.equal(3, (sb:control("GET", "/script")).pending)
    assert.are.equal(200, select(2, sb:control("GET", "/health")))
    assert.are.equal(3, (sb:control("GET", "/script")).pending)
    get(sb, "/whoami")
    get(sb, "/whoami")
    get(sb, "/credits/balance")
    get(sb, "/whoami")
    local log = sb:requests()
    assert.are.equal(4, #log)
    assert.are.equal("reset", log[1].fault)
    assert.are.equal(sandbox.null, log[1].status) -- nothing was sent
    assert.are.equal("500", log[2].fault)
    assert.are.equal(500, log[2].status)
    assert.are.equal("500", log[3].fault)
    assert.is_nil(log[4].fault)
    assert.are.equal(200, log[4].status)
  end)

  it("refuses unknown kinds and bad parameters", function()
    for _, item in ipairs {
      { fault = "explode" },
      { fault = "stall", ms = -5 },
      { fault = "stall", close = "yes" },
      { fault = "500", times = 0 },
    } do
      local body, status = sb:control("POST", "/script", { responses = { item } })
      assert.are.equal(400, status)
      assert.are.equal("validation_error", body.error.code)
    end
    assert.are.equal(0, (sb:control("GET", "/script")).pending)
    for _, bad in ipairs {
      { rate = 2 },
      { kinds = { "nope" } },
      { kinds = {} },
      { workflow = "sometimes" },
      { stall_ms = 0 },
    } do
      local body, status = sb:control("POST", "/faults", bad)
      assert.are.equal(400, status)
      assert.are.equal("validation_error", body.error.code)
    end
  end)

  it("exposes the workflow knob: normal, stuck or fail", function()
    local body, status = sb:control("GET", "/faults")
    assert.are.equal(200, status)
    assert.are.equal("normal", body.workflow)
    body = sb:control("POST", "/faults", { workflow = "stuck" })
    assert.are.equal("stuck", body.workflow)
    assert.are.equal("stuck", (sb:control("GET", "/faults")).workflow)
    body = sb:control("DELETE", "/faults")
    assert.are.equal("normal", body.workflow)
    assert.are.equal(0, body.rate)
  end)
end)

describe("sandbox random faults", function()
  local FLAGS = { "--seed", "42", "--fault-rate", "0.5", "--faults", "500,503,429,502" }

  local function run_once(args)
    local sb = sandbox.start { args = args }
    local ok, seq = pcall(sb.statuses, sb, 24)
    local log = ok and sb:requests()
    sb:stop()
    assert(ok, seq)
    return seq, log
  end

  it("are reproducible across runs with the same seed", function()
    local a, log = run_once(FLAGS)
    local b = run_once(FLAGS)
    assert.are.equal(a, b)
    local faulted, fine = 0, 0
    for code in a:gmatch("%d+") do
      if code == "200" then
        fine = fine + 1
      else
        faulted = faulted + 1
        assert.is_truthy(({ ["500"] = 1, ["503"] = 1, ["429"] = 1, ["502"] = 1 })[code], code)
      end
    end
    assert.is_true(faulted >= 4 and fine >= 4, a)
    local logged = 0
    for _, e in ipairs(log) do
      if e.fault then
        logged = logged + 1
        assert.are.equal(string.format("%d", e.status), e.fault)
      end
    end
    assert.are.equal(faulted, logged)
    local other = run_once { "--seed", "43", "--fault-rate", "0.5", "--faults", "500,503,429,502" }
    assert.are_not.equal(a, other)
  end)

  it("are set by POST /__sandbox/faults, restart with reset, and stop with DELETE", function()
    local sb = sandbox.start { args = { "--seed", "42" } }
    local ok, err = pcall(function()
      assert.are.equal(string.rep("200 ", 6), sb:statuses(6))
      local body, status = sb:control("POST", "/faults", { rate = 1, kinds = { "503" } })
      assert.are.equal(200, status)
      assert.are.equal(1, body.rate)
      assert.are.equal(string.rep("503 ", 3), sb:statuses(3))
      -- reset goes back to the flags (no random faults)
      sb:control("POST", "/reset")
      assert.are.equal(string.rep("200 ", 3), sb:statuses(3))
      sb:control("POST", "/faults", { rate = 0.5, kinds = { "500", "503", "429", "502" } })
      local first = sb:statuses(24)
      sb:control("POST", "/reset")
      sb:control("POST", "/faults", { rate = 0.5, kinds = { "500", "503", "429", "502" } })
      assert.are.equal(first, sb:statuses(24))
      sb:control("DELETE", "/faults")
      assert.are.equal(string.rep("200 ", 4), sb:statuses(4))
    end)
    sb:stop()
    assert(ok, err)
  end)

  it("refuse an unknown kind in --faults at start", function()
    local out, rc = sandbox.cli("sandbox --port 0 --faults 500,boom")
    assert.are.equal(1, rc)
    assert.is_truthy(out:find("--faults: unknown fault kind 'boom'", 1, true), out)
  end)

  it("take --workflow-fault", function()
    local sb = sandbox.start { args = { "--workflow-fault", "fail" } }
    local body = sb:control("GET", "/faults")
    sb:stop()
    assert.are.equal("fail", body.workflow)
  end)
end)
