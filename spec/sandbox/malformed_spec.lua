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
    local counts = {}
    for i = 1, 300 do
      local ep = g.pick(ENDPOINTS)
      local text = malformed.body(g, sb.key)
      local status, decoded = sb:api(ep[1], ep[2], { body = text, headers = { ["Content-Type"] = "application/json" } })
      assert.is_true(
        status >= 400 and status < 500,
        ("case %d: %s %s answered %d to %q"):format(i, ep[1], ep[2], status, text)
      )
      -- a 422 names what in the body is wrong; any other 4xx is the MCP envelope
      local case = ("case %d: %s %s %d %q"):format(i, ep[1], ep[2], status, text)
      assert.equals("table", type(decoded), case)
      if status == 422 then
        assert.is_true(#decoded.detail > 0, case)
        for _, d in ipairs(decoded.detail) do
          assert.equals("body", d.loc[1], case)
          assert.matches("^[%a_]+$", d.type, 1, case)
        end
      else
        assert.matches("^[a-z_]+$", decoded.error.code, 1, case)
      end
      counts[status] = (counts[status] or 0) + 1
    end
    -- the default seed's 300 bodies are all malformed JSON or ill-typed fields: 422 each
    if SEED == 20261206 then assert.same({ [422] = 300 }, counts) end
  end)
end)
