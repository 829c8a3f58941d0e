-- The recipes that wait on a run, spawned as a user runs them against a sandbox whose workflow
-- faults script how the run ends (sandbox.faults: errors, fail, fail_refund; stuck and then
-- POST /__sandbox/workflows/{id}/cancel): what each prints, its exit status (0 for completed
-- and completed_with_errors, 20 when the run ended failed or cancelled), what it keeps (the
-- file, the rows) and what it does not do (sync after a failure), and a refund under review
-- said as such.
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local run = require "spec.helpers.run"
local ls = function(dir)
  return (run.capture("ls " .. run.quote(dir) .. "/cleanlist 2>/dev/null"))
end
local summary_of, step, balance = recipe.summary_of, recipe.step, recipe.balance
local wire = require "spec.helpers.wire"

local START = 5000 -- the organisation's credits after a reset
local PROSPECT = { "--title", "VP Sales", "--country", "US", "--limit", "10", "--max-credits", "100" }

local function with(list, ...)
  local out = {}
  for _, a in ipairs(list) do
    out[#out + 1] = a
  end
  for _, a in ipairs { ... } do
    out[#out + 1] = a
  end
  return out
end

local function fault(sb, kind)
  local _, status = sb:control("POST", "/faults", { workflow = kind })
  assert.equals(200, status)
end

describe("recipes against every end of the run they wait on", function()
  local sb = sandbox.suite {
    args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" },
    reset = true,
    clear = true,
  }

  describe("prospect_to_crm", function()
    it("completed_with_errors: syncs the leads enriched, says how many were not, exit 0", function()
      fault(sb, "errors")
      local r = recipe.run(sb, "prospect_to_crm", with(PROSPECT, "--json"), { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.equals("completed_with_errors", s.status)
      assert.equals("completed_with_errors", step(lines, "enriched").status)
      assert.same({ 6, 6, 4, 6 }, { s.enriched, s.credits_charged, s.credits_refunded, s.created })
      assert.matches(
        "enrichment bulk%-enrich%-%x+ ended completed_with_errors: 6 of 10 enriched, 10 processed; "
          .. "6 credits charged, 4 refunded%.",
        r.stderr
      )
      assert.equals(1, recipe.count(wire.calls(sb), "POST /sync/crm"))
      assert.equals(START - 6 - 6, balance(sb))
    end)

    it("failed (charge kept): exit 20, nothing synced, the refund under review said plainly", function()
      fault(sb, "fail")
      local home = recipe.state_home()
      local r = recipe.run(sb, "prospect_to_crm", PROSPECT, { scale = 600, home = home })
      assert.equals(20, r.code, r.stderr)
      assert.matches(
        "prospect_to_crm: enrichment bulk%-enrich%-%x+ ended failed: 5 of 10 enriched, 5 processed; "
          .. "10 credits charged, 0 refunded%. The charge is not refunded automatically; it is under "
          .. "review: This prepaid run failed after credits were charged%..- Nothing was synced to the CRM%.",
        r.stderr
      )
      assert.matches("kind: run_failed", r.stderr, 1, true)
      assert.equals(0, recipe.count(wire.calls(sb), "POST /sync/crm"))
      assert.equals(START - 10, balance(sb))
      assert.equals("", ls(home)) -- the run ended: nothing to resume
      recipe.remove(home)
    end)

    it("failed (reservation refunded): exit 20, nothing synced, charged 0", function()
      fault(sb, "fail_refund")
      local r = recipe.run(sb, "prospect_to_crm", with(PROSPECT, "--json"), { scale = 600 })
      assert.equals(20, r.code, r.stderr)
      local lines = recipe.json_lines(r.stdout)
      assert.equals("failed", step(lines, "enriched").status)
      assert.same({ 0, 10 }, { step(lines, "enriched").credits_charged, step(lines, "enriched").credits_refunded })
      local last = lines[#lines].error
      assert.same({ "run_failed", "failed" }, { last.kind, last.code })
      assert.matches(
        "5 of 10 enriched, 5 processed; 0 credits charged, 10 refunded. The run failed; its 10 "
          .. "unused credits were refunded. Nothing was synced to the CRM.",
        last.message,
        1,
        true
      )
      assert.equals(0, recipe.count(wire.calls(sb), "POST /sync/crm"))
      assert.equals(START, balance(sb))
    end)

    it("cancelled while it waits: exit 20, nothing synced", function()
      fault(sb, "stuck")
      local home = recipe.state_home()
      local bg = recipe.spawn(sb, "prospect_to_crm", PROSPECT, { scale = 600, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find("bulk%-enrich%-%x+") ~= nil
      end)
      local id = text:match("bulk%-enrich%-%x+")
      local _, status = sb:control("POST", "/workflows/" .. id .. "/cancel")
      assert.equals(200, status)
      local r = bg:wait()
      assert.equals(20, r.code, r.stderr)
      local charged, refunded = r.stderr:match(
        "ended cancelled: %d+ of 10 enriched, %d+ processed; (%d+) credits "
          .. "charged, (%d+) refunded%. The charge is not refunded automatically; it is under review: This prepaid "
          .. "run was cancelled"
      )
      assert.equals(10, tonumber(charged) + tonumber(refunded))
      assert.equals(START - tonumber(charged), balance(sb))
      assert.matches("Nothing was synced to the CRM.", r.stderr, 1, true)
      assert.equals(0, recipe.count(wire.calls(sb), "POST /sync/crm"))
      assert.equals("", ls(home))
      recipe.remove(home)
    end)

    it("a timeout: exit 5, the outcome said to be unknown", function()
      fault(sb, "stuck")
      local home = recipe.state_home()
      local r = recipe.run(sb, "prospect_to_crm", with(PROSPECT, "--timeout", "1"), { scale = 600, home = home })
      assert.equals(5, r.code, r.stderr)
      assert.matches("is still running after 1 s (timeout): its outcome is unknown, the run goes on", r.stderr, 1, true)
      assert.matches("run the same command again", r.stderr, 1, true)
      assert.is_not.equal("", ls(home)) -- kept, to wait again without paying again
      recipe.remove(home)
    end)
  end)

  describe("smart_agent_column", function()
    it("failed (out of credits): shows the rows it did, then exit 20 with the API's message", function()
      sb:control("POST", "/clock", { time_scale = 1e-6 }) -- held until the balance is cut
      local home = recipe.state_home()
      local args = { "--list", "Example: Sales leaders in Software (US)", "--agent", "cold_intro_email" }
      local bg = recipe.spawn(
        sb,
        "smart_agent_column",
        with(args, "--column", "Intro", "--max-rows", "10", "--max-credits", "30"),
        { scale = 600, home = home }
      )
      recipe.wait_for_state(home, function(t)
        return t:find("run_%x+") ~= nil
      end)
      sb:control("POST", "/credits", { credits = 7 }) -- 3 a row: two rows, then out
      sb:control("POST", "/clock", { time_scale = 600 })
      local r = bg:wait()
      recipe.remove(home)
      assert.equals(20, r.code, r.stderr)
      assert.matches(
        "smart_agent_column: smart agent run_%x+ ended failed: 2 of 10 succeeded, 3 processed%. The run stopped: "
          .. "the organization ran out of credits%. The 2 rows it did are in the column%.",
        r.stderr
      )
      assert.equals(1, balance(sb)) -- 7 less the two rows' 6
    end)
  end)

  describe("legacy_bulk", function()
    local function contacts_csv(n)
      local dir = recipe.state_home()
      local lines = { "First Name,Last Name,Company Domain" }
      for i = 1, n do
        lines[#lines + 1] = ("Pat%d,Tester,acme%d.example.com"):format(i, i)
      end
      run.write_file(dir .. "/contacts.csv", table.concat(lines, "\n") .. "\n")
      return dir, dir .. "/contacts.csv"
    end

    it("failed: writes every row, then exit 20 naming the job, charged 0", function()
      fault(sb, "fail")
      local dir, path = contacts_csv(5)
      local out = dir .. "/out.csv"
      local r = recipe.run(sb, "legacy_bulk", { path, "--out", out }, { scale = 600 })
      assert.equals(20, r.code, r.stderr)
      assert.matches(
        "legacy_bulk: job 1/1 public_bulk_[%x-]+ ended failed: 0 of 5 enriched, 5 processed; 0 credits charged, "
          .. "5 refunded%.\nthe results %(those jobs' contacts not enriched%) are in "
          .. out:gsub("%p", "%%%0"),
        r.stderr
      )
      assert.equals(6, #recipe.lines_of(run.read_file(out))) -- the header and the 5 rows
      assert.equals(START, balance(sb))
      recipe.remove(dir)
    end)

    it("failed with the reservation refunded: exit 20, charged 0", function()
      fault(sb, "fail_refund")
      local dir, path = contacts_csv(5)
      local r = recipe.run(sb, "legacy_bulk", { path, "--out", dir .. "/out.csv" }, { scale = 600 })
      assert.equals(20, r.code, r.stderr)
      assert.matches("ended failed: 0 of 5 enriched, 5 processed; 0 credits charged, 5 refunded.", r.stderr, 1, true)
      assert.equals(START, balance(sb))
      recipe.remove(dir)
    end)

    it("cancelled while it waits: exit 20, the reservation refunded", function()
      fault(sb, "stuck")
      local dir, path = contacts_csv(5)
      local home = recipe.state_home()
      local bg = recipe.spawn(sb, "legacy_bulk", { path, "--out", dir .. "/out.csv" }, { scale = 600, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find("public_bulk_[%x-]+") ~= nil
      end)
      local _, status = sb:control("POST", "/workflows/" .. text:match("public_bulk_[%x-]+") .. "/cancel")
      assert.equals(200, status)
      local r = bg:wait()
      recipe.remove(home)
      assert.equals(20, r.code, r.stderr)
      assert.matches("ended cancelled: 0 of 5 enriched, 0 processed; 0 credits charged, 5 refunded.", r.stderr, 1, true)
      assert.equals(START, balance(sb))
      recipe.remove(dir)
    end)
  end)

  describe("enrich_csv", function()
    -- A directory holding contacts.csv of 4 contacts (an email each); returns it and the path.
    local function contacts_csv()
      local dir = recipe.state_home()
      local lines = { "Email,First Name,Last Name,Company" }
      for i = 1, 4 do
        lines[#lines + 1] = ("pat%d@example.com,Pat%d,Tester,Acme"):format(i, i)
      end
      run.write_file(dir .. "/contacts.csv", table.concat(lines, "\n") .. "\n")
      return dir, dir .. "/contacts.csv"
    end

    it("completed_with_errors: the file written, the leads not enriched said, exit 0", function()
      fault(sb, "errors")
      local dir, path = contacts_csv()
      local r = recipe.run(sb, "enrich_csv", { path, "--out", dir .. "/out.csv", "--json" }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s = summary_of(r)
      assert.same({ "completed_with_errors", 2, 2, 2 }, { s.status, s.enriched, s.credits_charged, s.credits_refunded })
      assert.matches(
        "ended completed_with_errors: 2 of 4 enriched, 4 processed; 2 credits charged, 2 refunded.",
        r.stderr,
        1,
        true
      )
      assert.equals(5, #recipe.lines_of(run.read_file(dir .. "/out.csv")))
      assert.equals(START - 2, balance(sb))
      recipe.remove(dir)
    end)

    it("failed with the reservation refunded: the file written, exit 20, charged 0", function()
      fault(sb, "fail_refund")
      local dir, path = contacts_csv()
      local r = recipe.run(sb, "enrich_csv", { path, "--out", dir .. "/out.csv" }, { scale = 600 })
      assert.equals(20, r.code, r.stderr)
      assert.matches(
        "ended failed: 2 of 4 enriched, 2 processed; 0 credits charged, 4 refunded. The run failed; "
          .. "its 4 unused credits were refunded.",
        r.stderr,
        1,
        true
      )
      assert.equals(START, balance(sb))
      recipe.remove(dir)
    end)

    it("cancelled while it waits: the file written, exit 20", function()
      fault(sb, "stuck")
      local dir, path = contacts_csv()
      local home = recipe.state_home()
      local bg = recipe.spawn(sb, "enrich_csv", { path, "--out", dir .. "/out.csv" }, { scale = 600, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find("bulk%-enrich%-%x+") ~= nil
      end)
      local _, status = sb:control("POST", "/workflows/" .. text:match("bulk%-enrich%-%x+") .. "/cancel")
      assert.equals(200, status)
      local r = bg:wait()
      recipe.remove(home)
      assert.equals(20, r.code, r.stderr)
      assert.matches("ended cancelled: ", r.stderr, 1, true)
      assert.matches("holds the list as the run left it", r.stderr, 1, true)
      assert.equals(5, #recipe.lines_of(run.read_file(dir .. "/out.csv")))
      recipe.remove(dir)
    end)

    it("failed: writes the list as the run left it, then exit 20 with the refund under review", function()
      fault(sb, "fail")
      local dir, path = contacts_csv()
      local out = dir .. "/out.csv"
      local r = recipe.run(sb, "enrich_csv", { path, "--out", out }, { scale = 600 })
      assert.equals(20, r.code, r.stderr)
      assert.matches(
        "ended failed: 2 of 4 enriched, 2 processed; 4 credits charged, 0 refunded. The charge is not "
          .. "refunded automatically; it is under review",
        r.stderr,
        1,
        true
      )
      assert.matches(out .. " holds the list as the run left it (2 leads enriched).", r.stderr, 1, true)
      assert.equals(5, #recipe.lines_of(run.read_file(out))) -- the header and the 4 leads
      assert.equals(START - 4, balance(sb))
      recipe.remove(dir)
    end)
  end)
end)
