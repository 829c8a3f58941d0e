-- A paid recipe's state belongs to one run against one API: the same command against another
-- sandbox (its own world, its own lists and tasks) starts afresh instead of resuming what the
-- first one recorded. Each `cleanlist --sandbox` starts a sandbox of its own on a free port.
local run = require "spec.helpers.run"
local recipe = require "spec.helpers.recipe"

describe("a recipe's state", function()
  it("is not resumed against another API: the same dry run on two sandboxes runs twice", function()
    local home = recipe.state_home()
    finally(function()
      recipe.remove(home)
    end)
    local argv = {
      "--sandbox",
      "--time-scale",
      "600",
      "run",
      "prospect_to_crm",
      "--title",
      "VP Sales",
      "--country",
      "US",
      "--limit",
      "5",
      "--dry-run",
      "--json",
      "--quiet",
    }
    local env = { XDG_STATE_HOME = home, CLEANLIST_RECIPES = false }
    for _ = 1, 2 do
      local r = run.host(argv, env)
      assert.equals(0, r.code, r.stderr)
      assert.is_nil(r.stderr:find("resuming", 1, true), r.stderr)
      local s = recipe.summary_of(r)
      assert.is_true(s.dry_run)
      assert.equals(5, s.estimated_cost)
      assert.matches("^qte_v1_", s.quote_id) -- (two sandboxes of one seed may sign the same quote)
    end
    -- each dry run kept its own state (a dry run keeps its quote for the real run)
    local files = run.capture("ls " .. run.quote(home .. "/cleanlist") .. " | wc -l")
    assert.equals("2", files:match("%d+"))
  end)
end)
