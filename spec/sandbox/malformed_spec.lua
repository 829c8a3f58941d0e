-- Seeded malformed requests (spec/helpers/malformed.lua) thrown at the sandbox's validators:
-- each gets a 4xx with a JSON error body, never a 5xx. CLEANLIST_PROPERTY_SEED picks another
-- seed.
local sandbox = require "spec.helpers.sandbox"
local malformed = require "spec.helpers.malformed"

local SEED = tonumber(os.getenv("CLEANLIST_PROPERTY_SEED")) or 20261206

describe("the sandbox's validators, under 300 malformed requests", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off", "--seed", "7" } }
  local ENDPOINTS = {
    { "POST", "/search/people" },
    { "POST", "/search/companies" },
    { "POST", "/search/companies/similar" },
    { "POST", "/lead-lists" },
    { "POST", "/credits/estimate" },
    { "POST", "/enrichment/person" },
    { "POST", "/enrichment/by-task" },
    { "POST", "/enrichment/bulk" },
    { "POST", "/smart-agents/run" },
    { "POST", "/sync/crm" },
    { "POST", "/enrich/bulk" },
    { "POST", "/export/csv/signed-url" },
    { "PATCH", "/lead-lists/list_x" },
  }

  it("answers each with a 4xx and a JSON error body, never a 5xx", function()
    local g = malformed.generator(SEED + 1)
    for i = 1, 300 do
      local ep = g.pick(ENDPOINTS)
      local text = malformed.body(g, sb.key)
      local status, decoded = sb:api(ep[1], ep[2], { body = text, headers = { ["Content-Type"] = "application/json" } })
      assert.is_true(
        status >= 400 and status < 500,
        ("case %d: %s %s answered %d to %q"):format(i, ep[1], ep[2], status, text)
      )
      assert.is_table(decoded, ("case %d: the error is not JSON"):format(i))
    end
  end)
end)
