-- luacheck: std +busted
-- Webhook delivery of the legacy bulk API (API.md §6.8): the sandbox POSTs the
-- `enrichment.completed` payload to a loopback receiver from its worker thread (its own
-- POST /__sandbox/webhook-sink here), retries failures with exponential backoff on the sandbox
-- clock (up to 5 retries), keeps the delivery log, completes workflows without anybody
-- polling, gives up on a receiver that does not answer in time, and stops cleanly.
local poll = require "spec.helpers.poll"
local run = require "spec.helpers.run"
local sandbox = require "spec.helpers.sandbox"

local null = sandbox.null
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"

local function contacts(n)
  local t = {}
  for i = 1, n do
    t[i] = { first_name = "Grace" .. i, last_name = "Hopper", company_domain = "navy" .. i .. ".mil" }
  end
  return t
end

-- A listener on a free loopback port that accepts connections (in the kernel backlog) but
-- never answers (for 20 s at most). Returns its port (nil when it did not start within about
-- 2 s) and a function that stops it.
local function silent_listener()
  local pyf = os.tmpname()
  local p = assert(
    io.popen(
      "python3 -c 'import socket,time\n"
        .. 's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8)\n'
        .. "print(s.getsockname()[1], flush=True); time.sleep(20)' > "
        .. pyf
        .. " 2>/dev/null & echo $!"
    )
  )
  local pid = tonumber(p:read("*l"))
  p:close()
  local port = poll.wait_until(function()
    return tonumber((sandbox.read_file(pyf) or ""):match("^[^\n]*"))
  end, 5, "the silent listener's port")
  return port, function()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.remove(pyf)
  end
end

describe("webhooks", function()
  local sb = sandbox.suite { reset = true }
  local sink_url

  local function submit(url, n, extra)
    local body = { contacts = contacts(n or 2), webhook_url = url or sink_url }
    for k, v in pairs(extra or {}) do
      body[k] = v
    end
    local status, wf = sb:api("POST", "/enrich/bulk", { body = body })
    assert.equals(200, status)
    return wf
  end

  local function received()
    return sb:control("GET", "/webhook-sink")
  end

  local function deliveries(wf)
    local status, body = sb:api("GET", "/webhooks/deliveries?workflow_id=" .. wf.workflow_id)
    assert.equals(200, status)
    return body
  end

  -- Polls (with requests, which also pump) until pred(deliveries body); fails after 5 s.
  local function wait_for(wf, pred)
    return (
      select(
        2,
        poll.wait_until(function()
          local b = deliveries(wf)
          return pred(b), b
        end, 5, "the deliveries of " .. wf.workflow_id .. " to change")
      )
    )
  end

  -- The connections from the sandbox to a loopback port, established (accepted or in the
  -- listener's backlog).
  local function connections_to(port)
    local out = run.capture("ss -tnH state established '( dport = :" .. port .. " )'")
    local n = 0
    for _ in out:gmatch("[^\n]+") do
      n = n + 1
    end
    return n
  end

  setup(function()
    sink_url = sb.root .. "/__sandbox/webhook-sink"
  end)

  it("POSTs the enrichment.completed payload once the workflow completes", function()
    local wf = submit(nil, 3, { enrichment_type = "full" })
    assert.equals(0, received().count)
    sb:control("POST", "/clock", { advance_ms = 10000 })
    local d = wait_for(wf, function(b)
      return b.status == "delivered"
    end)
    assert.equals("delivered", d.status)
    local got = received()
    assert.equals(1, got.count)
    local hit = got.received[1]
    assert.equals("POST", hit.method)
    assert.matches("^application/json", hit.headers["content-type"])
    assert.equals("enrichment.completed", hit.headers["x-cleanlist-event"])
    assert.equals("1", hit.headers["x-cleanlist-attempt"])
    assert.equals(d.delivery_id, hit.headers["x-cleanlist-delivery"])
    assert.matches("^Cleanlist%-Webhooks", hit.headers["user-agent"])
    local p = sandbox.decode(hit.body_text)
    assert.equals("enrichment.completed", p.event)
    assert.equals(wf.workflow_id, p.workflow_id)
    assert.equals("full", p.enrichment_type)
    assert.equals("completed", p.status)
    local _, lists = sb:api("GET", "/lead-lists?limit=100")
    local default_list
    for _, l in ipairs(lists.lists) do
      if l.name == "DEFAULT" then default_list = l.list_id end
    end
    assert.equals(default_list, p.lead_list_id) -- the user's protected DEFAULT list
    -- the seeded world's outcome for these three contacts
    assert.equals(3, p.summary.total)
    assert.equals(1, p.summary.successful)
    assert.equals(2, p.summary.failed)
    assert.equals(1, p.summary.emails_found)
    assert.equals(0, p.summary.phones_found)
    assert.equals(3, #p.results)
    assert.equals(250, p.results_limit)
    assert.is_false(p.results_truncated)
    assert.equals("/api/v1/public/enrich/status?workflow_id=" .. wf.workflow_id, p.results_endpoint)
    assert.matches(ISO, p.completed_at)
    local statuses, emails = {}, {}
    for i, r in ipairs(p.results) do
      statuses[i], emails[i] = r.status, r.primary_email
      assert.equals(wf.task_ids[i], r.task_id)
      assert.same({}, r.personal_phone_numbers) -- no phone found for any of them
      assert.equals("Grace" .. i, r.prospect.first_name)
      assert.equals("navy" .. i .. ".mil", r.company.domain)
    end
    -- the seeded outcome: the third contact is found, with an email
    assert.same({ "failed", "failed", "completed" }, statuses)
    assert.same({ null, null, "grace3.hopper@navy3.mil" }, emails)
    -- the delivery log
    assert.equals(1, #d.deliveries)
    local row = d.deliveries[1]
    assert.equals(1, row.attempt)
    assert.equals("delivered", row.status)
    assert.equals(200, row.response_code)
    assert.equals(null, row.error_message)
    assert.equals(null, row.next_retry_at)
    assert.equals(sink_url, row.url)
    assert.matches(ISO, row.attempted_at)
    -- the status aggregate says so too, and nothing is sent twice
    local _, st = sb:api("GET", "/enrich/status?workflow_id=" .. wf.workflow_id)
    assert.equals("delivered", st.webhook_status)
    sb:control("POST", "/clock", { advance_ms = 600000 })
    deliveries(wf)
    assert.equals(1, received().count)
  end)

  it("completes and delivers without anybody polling (the timer ticks the app)", function()
    -- a receiver of our own: seeing its hits asks nothing of the sandbox (a request to the
    -- sandbox would move the run and its delivery along itself)
    local receiver = run.server("python3 spec/helpers/webhook_receiver.py")
    local ok, err = pcall(function()
      sb:control("POST", "/clock", { time_scale = 10 })
      -- about 1.8 s of sandbox time at most: 0.18 s real; no request until the hit is seen
      local wf = submit("http://127.0.0.1:" .. receiver.port .. "/hook", 2)
      local hit = poll.wait_until(function()
        return (run.read_file(receiver.out) or ""):match("HIT ([^\n]+)\n")
      end, 5, "the delivery, with nobody polling the sandbox")
      assert.equals("1 enrichment.completed " .. wf.workflow_id, hit)
      local d = deliveries(wf)
      assert.equals("delivered", d.status)
      assert.equals(1, #d.deliveries)
      assert.equals(200, d.deliveries[1].response_code)
    end)
    receiver.stop()
    assert(ok, err)
  end)

  it("retries failed deliveries with exponential backoff and logs every attempt", function()
    -- the sandbox clock all but stopped: it moves by advance_ms alone
    sb:control("POST", "/clock", { time_scale = 0.001 })
    sb:control("POST", "/webhook-sink/config", { fail_next = 2, fail_status = 503 })
    local wf = submit()
    sb:control("POST", "/clock", { advance_ms = 5000 })
    local d = wait_for(wf, function(b)
      return #b.deliveries >= 1
    end)
    assert.equals("retrying", d.status)
    assert.equals(503, d.deliveries[1].response_code)
    assert.equals("failed", d.deliveries[1].status)
    assert.matches("503", d.deliveries[1].error_message)
    assert.matches(ISO, d.deliveries[1].next_retry_at)
    -- the retry is due 2 s (sandbox) later: nothing is sent before that
    sb:control("POST", "/clock", { advance_ms = 1900 })
    local tick = sb:control("POST", "/tick")
    assert.equals(0, tick.in_flight)
    assert.equals(1, tick.deliveries_pending) -- the retry, queued
    assert.equals(1, #deliveries(wf).deliveries)
    assert.equals(1, received().count)
    sb:control("POST", "/clock", { advance_ms = 100 })
    d = wait_for(wf, function(b)
      return #b.deliveries >= 2
    end)
    assert.equals(2, d.deliveries[2].attempt)
    assert.equals("failed", d.deliveries[2].status)
    sb:control("POST", "/clock", { advance_ms = 4000 })
    d = wait_for(wf, function(b)
      return b.status == "delivered"
    end)
    assert.equals("delivered", d.status)
    assert.equals(3, #d.deliveries)
    assert.equals(3, d.deliveries[3].attempt)
    assert.equals(200, d.deliveries[3].response_code)
    local got = received()
    assert.equals(3, got.count)
    for i, hit in ipairs(got.received) do
      assert.equals(tostring(i), hit.headers["x-cleanlist-attempt"])
      assert.equals(d.delivery_id, hit.headers["x-cleanlist-delivery"])
      assert.equals(hit.body_text, got.received[1].body_text) -- the same payload each time
    end
    assert.same({ 503, 503, 200 }, { got.received[1].answered, got.received[2].answered, got.received[3].answered })
  end)

  it("gives up after 1 try + 5 retries (6 attempts) on a receiver that is down", function()
    sb:control("POST", "/clock", { time_scale = 200 })
    local wf = submit("http://127.0.0.1:1/hook")
    local d = wait_for(wf, function(b)
      return b.status == "failed"
    end)
    assert.equals("failed", d.status)
    assert.equals(6, #d.deliveries)
    for i, row in ipairs(d.deliveries) do
      assert.equals(i, row.attempt)
      assert.equals("failed", row.status)
      assert.equals(null, row.response_code)
      assert.matches("Failed to connect to 127%.0%.0%.1 port 1", row.error_message)
    end
    assert.equals(null, d.deliveries[6].next_retry_at)
    local _, st = sb:api("GET", "/enrich/status?workflow_id=" .. wf.workflow_id)
    assert.equals("failed", st.webhook_status)
    assert.equals("completed", st.status) -- the enrichment itself succeeded
  end)

  it("counts a receiver that does not answer in time as a failed attempt", function()
    -- A listener that accepts connections (in the kernel backlog) but never answers.
    local port, stop_listener = silent_listener()
    local ok, err = pcall(function()
      sb:control("POST", "/webhook-sink/config", { timeout_ms = 300 })
      local wf = submit("http://127.0.0.1:" .. port .. "/hook")
      sb:control("POST", "/clock", { advance_ms = 5000 })
      local d = wait_for(wf, function(b)
        return #b.deliveries >= 1
      end)
      assert.equals(1, #d.deliveries)
      assert.equals("failed", d.deliveries[1].status)
      assert.equals(null, d.deliveries[1].response_code)
      assert.matches("[Tt]imed? ?out", d.deliveries[1].error_message)
      assert.is_true(d.deliveries[1].duration_ms >= 250)
    end)
    stop_listener()
    assert(ok, err)
  end)

  it("delivers to several workflows' receivers independently", function()
    sb:control("POST", "/webhook-sink/config", { fail_next = 1 })
    local a = submit(sink_url .. "?a", 1)
    local b = submit(sink_url .. "?b", 1)
    sb:control("POST", "/clock", { advance_ms = 5000 })
    wait_for(b, function(x)
      return #x.deliveries >= 1
    end)
    local db = deliveries(b)
    local da = wait_for(a, function(x)
      return #x.deliveries >= 1
    end)
    -- exactly one of the two first attempts got the injected failure
    local statuses = { da.deliveries[1].status, db.deliveries[1].status }
    table.sort(statuses)
    assert.same({ "delivered", "failed" }, statuses)
    assert.are_not.equal(da.delivery_id, db.delivery_id)
  end)

  it("forgets deliveries and the sink on reset", function()
    submit()
    sb:control("POST", "/clock", { advance_ms = 5000 })
    sb:api("GET", "/auth/validate-key")
    poll.wait_until(function()
      return received().count > 0
    end, 5, "the sink to receive the delivery")
    assert.equals(1, received().count)
    sb:control("POST", "/reset")
    assert.equals(0, received().count)
    local tick = sb:control("POST", "/tick")
    assert.is_true(tick.ok)
    assert.equals(0, tick.deliveries_pending)
    assert.equals(0, tick.legacy_active)
  end)

  it("stops promptly while a delivery is in flight (the worker is joined)", function()
    local other = sandbox.start()
    local port, stop_listener = silent_listener()
    local ok, err = pcall(function()
      local status = other:api(
        "POST",
        "/enrich/bulk",
        { body = { contacts = contacts(1), webhook_url = "http://127.0.0.1:" .. port .. "/slow" } }
      )
      assert.equals(200, status)
      other:control("POST", "/clock", { advance_ms = 5000 })
      other:control("POST", "/tick") -- the delivery now waits up to 10 s for an answer
      poll.wait_until(function()
        return connections_to(port) > 0
      end, 5, "the delivery's connection to the silent listener")
      local t0 = os.time()
      assert.equals(0, other:stop())
      assert.is_true(os.time() - t0 <= 3, "stop took too long")
      assert.is_false(other.killed_by_watchdog)
    end)
    other:stop()
    stop_listener()
    assert(ok, err)
  end)
end)
