-- The flagship recipe, `cleanlist run prospect_to_crm`, spawned as a user runs it against a
-- sandbox (--seed 7): the whole flow and its summary checked against the sandbox's ledger and
-- request log, a dry run, a refused overspend, faults in the middle, and resuming after
-- SIGKILL and Ctrl-C with one charge.
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local count, balance, summary_of, step = recipe.count, recipe.balance, recipe.summary_of, recipe.step
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"

local START = 5000 -- the organisation's credits after a reset
local SEARCH = { "--title", "VP Sales", "--country", "US" }

local function args(...)
  local out = {}
  for _, a in ipairs(SEARCH) do
    out[#out + 1] = a
  end
  for _, a in ipairs { ... } do
    out[#out + 1] = a
  end
  return out
end

describe("recipe prospect_to_crm", function()
  describe("at --time-scale 600", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("searches, enriches the page, waits, syncs to HubSpot and sums it up by the ledger", function()
      local page =
        assert(clients.new(sb):search_people { job_titles = { "VP Sales" }, countries = { "US" }, limit = 10 })
      sb:clear()
      local r =
        recipe.run(sb, "prospect_to_crm", args("--limit", "10", "--json", "--max-credits", "100"), { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.equals(page.total, s.found)
      assert.matches("^cl%-task_", step(lines, "search").task_id)
      assert.equals(10, step(lines, "search").returned)
      local wf = step(lines, "enrich").workflow_id
      -- one reservation of 1 credit per lead (an Email), settled: charged + refunded = reserved
      local rows = recipe.ledger_of(sb, wf)
      assert.equals("reserve", rows[1].kind)
      assert.equals(-10, rows[1].delta)
      assert.equals(10, s.credits_reserved)
      assert.equals(10, s.credits_charged + s.credits_refunded)
      assert.equals(s.credits_charged, s.emails_found)
      assert.equals("hubspot", s.crm)
      assert.equals(10, s.created + s.updated + s.skipped + s.failed) -- every lead of the list
      assert.equals(START - s.credits_charged - s.sync_credits, balance(sb))
      local calls = wire.calls(sb)
      assert.equals(1, count(calls, "POST /enrichment/by-task"))
      assert.equals(1, count(calls, "POST /sync/crm"))
      assert.equals(2, count(calls, "POST /credits/estimate"))
      -- a run that finished leaves no state behind
      assert.equals("", (require("spec.helpers.run").capture("ls " .. recipe.env(sb).XDG_STATE_HOME .. "/cleanlist")))
    end)

    it("prints the summary for a person: counts, credits and CRM records", function()
      local r = recipe.run(sb, "prospect_to_crm", args("--limit", "5"), { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      assert.matches("found %d+ people matching; taking 5", r.stdout)
      assert.matches("credits reserved: +5\n", r.stdout)
      assert.matches("crm: +hubspot\n", r.stdout)
      assert.matches("created: +%d+\n", r.stdout)
      -- progress went to stderr as plain lines (not a terminal)
      assert.matches("enriching  %[#+%]  5/5", r.stderr)
    end)

    it("prints the quote on --dry-run and spends nothing", function()
      local r = recipe.run(sb, "prospect_to_crm", args("--limit", "10", "--dry-run", "--json"), { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.is_true(s.dry_run)
      assert.equals(10, s.estimated_cost)
      local q
      for _, l in ipairs(lines) do
        if l.quote then q = l.quote end
      end
      assert.equals(10, q.estimated_cost)
      assert.equals(START, q.available_credits)
      assert.matches("^qte_v1_", q.quote_id)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /enrichment/by-task"))
    end)

    it("refuses to spend over --max-credits: exit 18, nothing dispatched, no state left", function()
      local home = recipe.state_home()
      local r =
        recipe.run(sb, "prospect_to_crm", args("--limit", "10", "--max-credits", "9"), { scale = 600, home = home })
      assert.equals(18, r.code)
      assert.matches("the estimate is 10 credits, more than max_credits = 9; nothing was sent", r.stderr)
      assert.matches("kind: spend_cap", r.stderr)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /enrichment/by-task"))
      assert.equals("", (require("spec.helpers.run").capture("ls " .. home .. "/cleanlist")))
      recipe.remove(home)
    end)

    it("refuses bad arguments with exit 2 and names the option", function()
      local r = recipe.run(sb, "prospect_to_crm", { "--limit" }, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("%-%-limit needs a value", r.stderr)
      r = recipe.run(sb, "prospect_to_crm", { "--limit", "many" }, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("%-%-limit takes a number, not 'many'", r.stderr)
      assert.same({}, wire.calls(sb))
    end)

    it("says what an API refusal means and exits with its kind's status", function()
      local r = recipe.run(sb, "prospect_to_crm", args("--limit", "500"), { scale = 600 })
      assert.equals(11, r.code)
      assert.matches("kind: invalid_request", r.stderr)
      assert.matches("body.limit", r.stderr)
    end)
  end)

  describe("while a run is under way (--time-scale 5)", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "5", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("survives faults on its status polls", function()
      local r =
        recipe.survives_faults(sb, "prospect_to_crm", args("--limit", "10", "--json"), { scale = 5 }, '"workflow_id"')
      assert.equals(1, count(wire.calls(sb), "POST /enrichment/by-task"))
      local s = summary_of(r)
      assert.equals(10, s.credits_charged + s.credits_refunded)
    end)

    it("killed with SIGKILL mid-wait, resumes on the same run and is charged once", function()
      local home = recipe.state_home()
      local bg = recipe.spawn(sb, "prospect_to_crm", args("--limit", "10", "--json"), { scale = 5, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find('"workflow_id"', 1, true) and t:find('"enriching"', 1, true)
      end)
      bg:kill("KILL")
      assert.equals(137, bg:wait().code)
      local wf = text:match('"workflow_id":"([^"]+)"')
      assert.equals(1, #recipe.ledger_of(sb, wf))
      local r = recipe.run(sb, "prospect_to_crm", args("--limit", "10", "--json"), { scale = 5, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.matches("resuming the run of", r.stderr)
      local s, lines = summary_of(r)
      assert.equals(wf, step(lines, "enrich").workflow_id)
      local calls = wire.calls(sb)
      assert.equals(1, count(calls, "POST /enrichment/by-task"))
      assert.equals(1, count(calls, "POST /search/people"))
      local rows = recipe.ledger_of(sb, wf)
      assert.equals(
        1,
        count(
          (function()
            local kinds = {}
            for i, row in ipairs(rows) do
              kinds[i] = row.kind
            end
            return kinds
          end)(),
          "reserve"
        )
      )
      assert.equals(START - s.credits_charged - s.sync_credits, balance(sb))
      recipe.remove(home)
    end)

    it("interrupted with Ctrl-C, says how to resume (exit 130), and resumes", function()
      local home = recipe.state_home()
      local bg = recipe.spawn(sb, "prospect_to_crm", args("--limit", "10"), { scale = 5, home = home })
      recipe.wait_for_state(home, function(t)
        return t:find('"enriching"', 1, true)
      end)
      bg:kill("INT")
      local first = bg:wait()
      assert.equals(130, first.code, first.stderr)
      assert.matches("interrupted%. What was dispatched is recorded in .*run the same command again", first.stderr)
      local r = recipe.run(sb, "prospect_to_crm", args("--limit", "10"), { scale = 5, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.equals(1, count(wire.calls(sb), "POST /enrichment/by-task"))
      assert.equals(1, count(wire.calls(sb), "POST /sync/crm"))
      recipe.remove(home)
    end)
  end)
end)
