-- luacheck: std +busted
-- The sandbox's money at its edges: a quote caps the spend at its cost (a list grown by one
-- lead is refused), a sync charge larger than the balance is refused with nothing debited, and
-- a settlement never bills more than was reserved.
local paid = require "spec.helpers.paid"
require("spec.helpers.sandbox").use_modules()
local ledger = require "sandbox.ledger"
local state_mod = require "sandbox.state"

local code = paid.code

describe("the sandbox's money at its edges", function()
  local _, p = paid.suite()

  it("refuses a quote's run when its list grew by one lead (cost 3, quoted 2)", function()
    local l = p:new_list("Money spec growing list", 2)
    local q = p:quote { tool = "enrich_list", list_id = l, scope = "partial" }
    local task_id = p:search(1, { seniorities = { "entry" } })
    local st, added = p:post("/lead-lists/" .. l .. "/leads", { task_id = task_id })
    assert.equals(200, st)
    assert.equals(1, added.added)
    local before = p:credits()
    local status, body = p:post("/enrichment/bulk", { list_id = l, scope = "partial", quote_id = q })
    assert.equals(400, status)
    assert.equals("spend_cap_exceeded", code(body))
    assert.equals(2, body.error.details.quoted_cost)
    assert.equals(3, body.error.details.recomputed_cost)
    assert.equals(before, (p:credits()))
  end)

  it("refuses a company enrichment (1 credit) with an empty balance, debiting nothing", function()
    p:set_credits(0)
    local status, body = p:post("/enrichment/company", { domain = "example.com" })
    assert.equals(400, status)
    assert.equals("insufficient_credits", code(body))
    assert.equals(0, (p:credits()))
    p:set_credits(5000)
  end)
end)

describe("sandbox.ledger.settle", function()
  local function state(credits)
    local s = state_mod.new {
      api_key = "k",
      readonly_key = "r",
      now_ms = function()
        return 1700000000000
      end,
    }
    s.credits = credits
    return s
  end

  it("bills at most what was reserved and refunds the rest", function()
    local s = state(100)
    local h = {}
    assert.is_true(ledger.reserve(s, h, 30, "wf_1"))
    assert.equals(70, s.credits)
    assert.same({ 30, 0 }, { ledger.settle(s, h, 45, "wf_1") })
    assert.equals(30, h.charged)
    assert.equals(0, h.refunded)
    assert.equals(70, s.credits)
    local h2 = {}
    assert.is_true(ledger.reserve(s, h2, 20, "wf_2"))
    assert.same({ 12, 8 }, { ledger.settle(s, h2, 12, "wf_2") })
    assert.equals(58, s.credits)
    assert.same({ 12, 8 }, { ledger.settle(s, h2, 0, "wf_2") }) -- settled once
    assert.equals(58, s.credits)
  end)

  it("refunds the last credit of a reservation the run did not use", function()
    local s = state(20)
    local h = {}
    assert.is_true(ledger.reserve(s, h, 11, "wf_3"))
    assert.same({ 10, 1 }, { ledger.settle(s, h, 10, "wf_3") })
    assert.equals(10, s.credits)
    local row = s.ledger[#s.ledger]
    assert.equals(1, row.delta)
    assert.equals("refund", row.kind)
    assert.equals("wf_3", row.ref)
  end)

  it("refuses a charge larger than the balance, debiting nothing", function()
    local s = state(5)
    assert.is_nil(ledger.charge(s, 6, "too much", "x"))
    assert.equals(5, s.credits)
    assert.is_true(ledger.charge(s, 5, "all of it", "x"))
    assert.equals(0, s.credits)
  end)
end)
