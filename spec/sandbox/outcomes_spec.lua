-- luacheck: std +busted
-- What an enrichment finds and costs (sandbox.outcomes), in plain Lua: who can be identified,
-- the legacy contacts' seeded truth, and a legacy contact's result and price per enrichment
-- type.
require("spec.helpers.sandbox").use_modules()

local outcomes = require "sandbox.outcomes"

local FOUND =
  { email = "a@x.io", email_found = true, email_status = "valid", phone = "+14155550100", phone_found = true }
local NOTHING =
  { email = "a@x.io", email_found = false, email_status = "invalid", phone = "+14155550100", phone_found = false }

describe("sandbox.outcomes", function()
  it("identifies a person by email, LinkedIn or id, or by name with a company", function()
    assert.is_true(outcomes.identifiable { email = "a@x.io" })
    assert.is_true(outcomes.identifiable { linkedin_url = "linkedin.com/in/a" })
    assert.is_true(outcomes.identifiable { person_id = "4400001" })
    assert.is_true(outcomes.identifiable { first_name = "Ada", last_name = "Lee", company_domain = "x.io" })
    assert.is_true(outcomes.identifiable { full_name = "Ada Lee", company = "X" })
    assert.is_false(outcomes.identifiable { first_name = "Ada", last_name = "Lee" })
    assert.is_false(outcomes.identifiable { full_name = "Ada", company = "X" })
    assert.is_false(outcomes.identifiable { email = "" })
  end)

  it("gives a legacy contact the world does not know the same truth for the same seed", function()
    local c = { first_name = "Zoë", last_name = "Smith", company_domain = "https://www.acme.io/x" }
    local a = outcomes.contact_truth({ config = { seed = 42 } }, c)
    assert.are.same(a, outcomes.contact_truth({ config = { seed = 42 } }, c))
    assert.are.equal("zoe.smith@acme.io", a.email)
    assert.are.equal("sandbox-waterfall", a.provider)
    assert.matches("^%+1%d%d%d%d%d%d%d%d%d%d$", a.phone)
    local none = outcomes.contact_truth({ config = { seed = 42 } }, { last_name = "Smith" })
    assert.is_nil(none.email)
    assert.is_false(none.email_found)
  end)

  it("prices a legacy contact's result per enrichment type", function()
    local function run(t, truth, known, fail)
      return { outcomes.contact_outcome(t, truth, known, fail) }
    end
    assert.are.same({ true, 11, FOUND.email, FOUND.phone }, run("full", FOUND, true))
    assert.are.same({ true, 1, FOUND.email }, run("partial", FOUND, false))
    assert.are.same({ true, 10, nil, FOUND.phone }, run("phone_only", FOUND, false))
    assert.are.same({ true, 0 }, run("none", FOUND, true))
    assert.are.same({ true, 1 }, run("prospecting_only", FOUND, true))
    assert.are.same({ false, 0 }, run("prospecting_only", FOUND, false))
    assert.are.same({ false, 0 }, run("full", NOTHING, true))
    assert.are.same({ false, 0 }, run("full", FOUND, true, true))
  end)
end)
