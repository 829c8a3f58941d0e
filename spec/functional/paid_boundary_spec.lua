-- The client's dry run at the edge of the balance (cleanlist.paid): a balance exactly equal
-- to the cost is sufficient, one credit less is insufficient_credits, and neither spends.
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"

local ARGS = { "--time-scale", "600", "--rate-limit", "off", "--seed", "7" }
local calls = wire.calls
local client = clients.scaled(600)

local function balance(sb)
  return (sb:control("GET", "/credits")).credits
end

local function set_credits(sb, n)
  local _, status = sb:control("POST", "/credits", { credits = n })
  assert.equals(200, status)
end

describe("a dry run at the edge of the balance", function()
  local sb = sandbox.suite { args = ARGS, reset = true, clear = true }

  it("is sufficient when the balance equals the cost exactly (enrich_company, 1 credit)", function()
    set_credits(sb, 1)
    sb:clear()
    local dry, err = client(sb):enrich_company { domain = "example.com", dry_run = true }
    assert.is_nil(err)
    assert.is_true(dry.sufficient)
    assert.equals(1, dry.estimated_cost)
    assert.equals(1, dry.available_credits)
    assert.same({ "GET /credits/balance" }, calls(sb))
    assert.equals(1, balance(sb))
  end)

  it("is insufficient_credits one credit short, with nothing sent but the balance", function()
    set_credits(sb, 0)
    sb:clear()
    local dry, err = client(sb):enrich_company { domain = "example.com", dry_run = true }
    assert.is_nil(dry)
    assert.equals("insufficient_credits", err.kind)
    assert.equals(1, err.estimated_cost_credits)
    assert.equals(0, err.available_credits)
    assert.equals(1, err.shortfall_credits)
    assert.same({ "GET /credits/balance" }, calls(sb))
    assert.equals(0, balance(sb))
  end)

  it("is sufficient for the legacy bulk API when the balance is its maximum price exactly", function()
    set_credits(sb, 2 * 11)
    sb:clear()
    local contacts = {
      { first_name = "Ada", last_name = "Doe", company_domain = "example.com" },
      { first_name = "Bob", last_name = "Doe", company_domain = "example.com" },
    }
    local c = client(sb)
    local dry, err = c:legacy_enrich_bulk { contacts = contacts, enrichment_type = "full", dry_run = true }
    assert.is_nil(err)
    assert.is_true(dry.sufficient)
    assert.equals(22, dry.estimated_cost)
    assert.equals(22, dry.available_credits)
    set_credits(sb, 21)
    local short, serr = c:legacy_enrich_bulk { contacts = contacts, enrichment_type = "full", dry_run = true }
    assert.is_nil(short)
    assert.equals("insufficient_credits", serr.kind)
    assert.equals(1, serr.shortfall_credits)
    assert.equals(21, balance(sb))
  end)
end)
