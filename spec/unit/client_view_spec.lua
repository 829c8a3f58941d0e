-- Unit specs of client:with over the fake transport: a view and its client share what they
-- learn as they run (the organisation of the key, for its rate-limit bucket), and the extra
-- headers computed once per client and per view.
local make = require("spec.helpers.fake_client").new

local LIMITS = { per_key = 100, per_org = 100, window = 60, burst = 50 }

local function paths(fake)
  local out = {}
  for i, r in ipairs(fake.requests) do
    out[i] = r.method .. " " .. r.url:match("/public(/[^?]*)")
  end
  return out
end

local function whoami(org)
  return { status = 200, body = '{"organization_id":"' .. org .. '","auth_type":"api_key"}' }
end

local BALANCE = { status = 200, body = '{"organization_id":"x","credits":10}' }

describe("a view of a client", function()
  it("learns the organisation for its client: the client and its other views ask no more", function()
    local c, fake = make { rate_limit = LIMITS }
    local v = c:with { timeout = 5 }
    fake:push(whoami("org_view_spec_1")):push(BALANCE)
    assert.truthy(v:credits_balance())
    fake:push(BALANCE)
    assert.truthy(c:credits_balance())
    fake:push(BALANCE)
    assert.truthy(c:with({ max_retries = 0 }):credits_balance())
    fake:push(BALANCE)
    assert.truthy(v:with({ timeout = 3 }):credits_balance())
    assert.same(
      { "GET /whoami", "GET /credits/balance", "GET /credits/balance", "GET /credits/balance", "GET /credits/balance" },
      paths(fake)
    )
  end)

  it("knows the organisation its client learned after the view was made", function()
    local c, fake = make { rate_limit = LIMITS }
    local v = c:with { headers = { ["X-View"] = "1" } }
    fake:push(whoami("org_view_spec_2")):push(BALANCE)
    assert.truthy(c:credits_balance())
    fake:push(BALANCE)
    assert.truthy(v:credits_balance())
    assert.same({ "GET /whoami", "GET /credits/balance", "GET /credits/balance" }, paths(fake))
  end)

  it("sends its own headers and its client's, each call's merged over them", function()
    local c, fake = make { headers = { ["X-B"] = "b", ["X-A"] = "a" } }
    local v = c:with { headers = { ["x-b"] = "view", ["X-C"] = "c" } }
    for _ = 1, 2 do
      fake:push(BALANCE)
    end
    assert.truthy(v:credits_balance())
    assert.truthy(v:credits_balance())
    fake:push(BALANCE)
    assert.truthy(v:request("POST", "/x", { body = { n = 1 }, headers = { ["X-A"] = "call" } }))
    fake:push(BALANCE)
    assert.truthy(c:credits_balance())
    local want = { "Accept: application/json", "X-A: a", "x-b: view", "X-C: c" }
    assert.same(want, fake.requests[1].headers)
    assert.same(want, fake.requests[2].headers)
    assert.same(
      { "Accept: application/json", "X-A: call", "x-b: view", "X-C: c", "Content-Type: application/json" },
      fake.requests[3].headers
    )
    assert.same({ "Accept: application/json", "X-A: a", "X-B: b" }, fake.requests[4].headers)
  end)

  it("writes the header lines of the client and of the view once, not on every call", function()
    local headers = require "cleanlist.headers"
    local lines, computed = headers.lines, 0
    headers.lines = function(...)
      computed = computed + 1
      return lines(...)
    end
    local ok, err = pcall(function()
      local c, fake = make { headers = { ["X-A"] = "a" } }
      local v = c:with { headers = { ["X-B"] = "b" } }
      assert.equals(2, computed)
      for _ = 1, 4 do
        fake:push(BALANCE)
      end
      for _ = 1, 2 do
        assert.truthy(c:credits_balance())
        assert.truthy(v:credits_balance())
      end
      assert.equals(2, computed)
      fake:push(BALANCE)
      assert.truthy(v:request("GET", "/x", { headers = { ["X-C"] = "c" } }))
      assert.equals(3, computed)
    end)
    headers.lines = lines
    assert(ok, err)
  end)
end)
