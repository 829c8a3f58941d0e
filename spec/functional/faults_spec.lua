-- The client's behaviour under the sandbox's injected faults (real libcurl, loopback).
local core = require "cleanlist.core"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"

describe("client under faults", function()
  local sb = sandbox.suite { clear = true }

  local function script(...)
    local _, status = sb:control("POST", "/script", { responses = { ... } })
    assert.equals(200, status)
  end

  local function client(opts)
    return clients.new(sb, opts)
  end

  local function recorder()
    local slept = {}
    return slept, function(s)
      slept[#slept + 1] = s
    end
  end

  it("times out on a stalled response and says so", function()
    script { fault = "stall", ms = 3000 }
    local t0 = core.monotonic()
    local _, err = client { timeout = 0.5 }:whoami()
    assert.equals("timeout", err.kind)
    assert.truthy(core.monotonic() - t0 < 2.5, "the total timeout did not cut the stall")
  end)

  it("retries a GET that timed out, and the retry succeeds", function()
    script { fault = "stall", ms = 3000 }
    local slept, sleep = recorder()
    local me = assert(client { timeout = 0.5, max_retries = 1, sleep = sleep }:whoami())
    assert.equals("api_key", me.auth_type)
    assert.equals(1, #slept)
  end)

  it("does not repeat a POST that timed out after the server acted: the outcome is unknown", function()
    script { fault = "stall", ms = 3000 }
    local slept, sleep = recorder()
    local _, err = client { timeout = 0.5, max_retries = 3, sleep = sleep }:request(
      "POST",
      "/lead-lists",
      { body = { name = "Stalled list" } }
    )
    assert.equals("timeout", err.kind)
    assert.is_true(err.ambiguous)
    assert.equals(0, #slept)
    assert.matches("outcome is unknown", tostring(err))
  end)

  it("retries a GET after a reset before any byte, and a partial body", function()
    script({ fault = "reset" }, { fault = "partial" })
    local slept, sleep = recorder()
    assert(client { max_retries = 2, sleep = sleep }:whoami())
    assert.equals(2, #slept)
    assert.equals(3, #sb:requests())
  end)

  it("reports a reset on a POST as transport failure with an unknown outcome", function()
    script { fault = "reset_mid_body" }
    local _, err = client { max_retries = 2 }:request("POST", "/lead-lists", { body = { name = "Cut list" } })
    assert.equals("transport", err.kind)
    assert.is_true(err.ambiguous)
    assert.equals(1, #sb:requests())
  end)

  it("waits as a Retry-After HTTP date says", function()
    script { fault = "429_date", retry_after = 3 }
    local slept, sleep = recorder()
    assert(client { max_retries = 1, sleep = sleep }:whoami())
    assert.equals(1, #slept)
    -- an HTTP date counts whole seconds on both sides (and a loaded machine adds one)
    assert.truthy(slept[1] >= 1 and slept[1] <= 5, "slept " .. slept[1])
  end)

  it("falls back to its own backoff when Retry-After is garbage or missing", function()
    script({ fault = "429_garbage" }, { fault = "429_missing" }, { fault = "503" })
    local slept, sleep = recorder()
    -- random() = 0: the backoff jittered to its least, 75 % of 0.5, 1 and 2 s
    local me = assert(client {
      max_retries = 3,
      sleep = sleep,
      random = function()
        return 0
      end,
    }:whoami())
    assert.equals("api_key", me.auth_type)
    assert.same({ 0.375, 0.75, 1.5 }, slept)
    local faults = {}
    for i, r in ipairs(sb:requests()) do
      faults[i] = r.fault or "none"
    end
    assert.same({ "429_garbage", "429_missing", "503", "none" }, faults)
  end)

  it("gives up on a 429 without Retry-After as rate_limited, with no retry_after", function()
    script { fault = "429_missing" }
    local _, err = client({ max_retries = 0 }):whoami()
    assert.equals("rate_limited", err.kind)
    assert.equals(429, err.status)
    assert.is_nil(err.retry_after)
    assert.equals(1, #sb:requests())
  end)

  it("reports truncated and malformed JSON with 200 as decode errors", function()
    script({ fault = "truncated" }, { fault = "malformed" })
    local c = client()
    local _, e1 = c:whoami()
    local _, e2 = c:whoami()
    assert.equals("decode", e1.kind)
    assert.equals("decode", e2.kind)
    assert.equals(200, e1.status)
  end)

  it("reads a dribbled body to the end", function()
    script { fault = "dribble", chunk = 64, ms = 5 }
    local me = assert(client():whoami())
    assert.equals("api_key", me.auth_type)
  end)

  it("keeps other calls going while one stalls", function()
    script { fault = "stall", ms = 1500 }
    local c = client { timeout = 5 }
    local done = {}
    local t0 = core.monotonic()
    local r = c:gather {
      function()
        local res = c:whoami()
        done[#done + 1] = "stalled"
        return res
      end,
      function()
        local res = c:credits_balance()
        done[#done + 1] = "fast"
        return res
      end,
    }
    assert.equals("Vera Okafor", r[1][1].user_name)
    assert.equals(5000, r[2][1].credits)
    assert.same({ "fast", "stalled" }, done)
    assert.truthy(core.monotonic() - t0 < 3)
  end)
end)
