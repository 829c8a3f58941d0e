-- The recipe `cleanlist run smart_agent_column`, spawned as a user runs it against a sandbox
-- (--seed 7) on the seeded list "Example: Sales leaders in Software (US)" (25 leads): the
-- column written out checked row by row against the sandbox's run, the credits against its
-- ledger; a dry run, a refused overspend, faults while it waits, and resuming after SIGKILL
-- on the same run with one charge.
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local count, balance = recipe.count, recipe.balance
local summary_of, step, temp_path = recipe.summary_of, recipe.step, recipe.tmp_path
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local run = require "spec.helpers.run"
local csv = require "cleanlist.csv"

local START = 5000 -- the organisation's credits after a reset
local LIST = "Example: Sales leaders in Software (US)"
local LEADS = 25

-- The credits the ledger charged for `ref` (a run id).
local function charged(sb, ref)
  local n = 0
  for _, row in ipairs(recipe.ledger_of(sb, ref)) do
    n = n - row.delta
  end
  return n
end

-- The records of a CSV file: the header and the rows (arrays of fields).
local function read_csv(path)
  local text = assert(run.read_file(path), "no file " .. path)
  local header, rows = nil, {}
  csv.each_record(text, function(fields)
    if header then
      rows[#rows + 1] = fields
    else
      header = fields
    end
  end)
  return header, rows
end

-- The leads of the list by lead_id, read with the real client.
local function leads_by_id(c, list_id)
  local out = {}
  for lead in c:iter_leads(list_id, { limit = 100 }) do
    out[lead.lead_id] = lead
  end
  return out
end

describe("recipe smart_agent_column", function()
  describe("at --time-scale 600", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("normalizes the list's titles, writes the column as CSV and is charged what the ledger says", function()
      local out = temp_path(".csv")
      local r = recipe.run(sb, "smart_agent_column", {
        "--list",
        LIST,
        "--agent",
        "title_normalizer",
        "--column",
        "Title (clean)",
        "--max-rows",
        "25",
        "--out",
        out,
        "--json",
        "--max-credits",
        "20",
      }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      local id = step(lines, "run").smart_agent_task_id
      assert.matches("^run_", id)
      local c = clients.new(sb)
      local res = assert(c:get_smart_agent_results(id))
      assert.equals("completed", res.status)
      assert.equals(LEADS, res.total)
      assert.equals(res.total, s.rows)
      assert.equals(res.succeeded, s.succeeded)
      assert.equals(res.failed, s.failed)
      assert.equals(LEADS, s.succeeded + s.failed)
      -- title_normalizer bills 0.5 a succeeded row, the total rounded up (25 rows -> 13)
      assert.equals(13, s.estimated_cost)
      assert.equals(math.ceil(s.succeeded / 2), s.credits_charged)
      assert.equals(charged(sb, id), s.credits_charged)
      assert.equals(START - s.credits_charged, balance(sb))
      -- the column, row by row as the sandbox's run has it, with the leads' names and emails
      local header, rows = read_csv(out)
      assert.same({ "lead_id", "name", "email", "Title (clean)", "error" }, header)
      assert.equals(LEADS, #rows)
      assert.equals(LEADS, s.out_rows)
      local leads = leads_by_id(c, s.list_id)
      local emails = 0
      for i, row in ipairs(rows) do
        local want = res.results[i]
        assert.equals(want.lead_id, row[1])
        assert.equals(leads[row[1]].full_name, row[2])
        assert.equals(type(leads[row[1]].email) == "string" and leads[row[1]].email or "", row[3])
        if row[3] ~= "" then emails = emails + 1 end
        assert.equals(want.value, row[4])
        assert.equals("", row[5])
      end
      local with_email = 0
      for _, lead in pairs(leads) do
        if type(lead.email) == "string" then with_email = with_email + 1 end
      end
      assert.equals(with_email, emails)
      assert.is_true(emails > 0) -- the seeded list's first 15 leads are enriched
      local calls = wire.calls(sb)
      assert.equals(1, count(calls, "POST /smart-agents/run"))
      assert.equals(1, count(calls, "POST /credits/estimate"))
      assert.equals("", (run.capture("ls " .. recipe.env(sb).XDG_STATE_HOME .. "/cleanlist")))
      os.remove(out)
    end)

    it("runs a custom prompt by list id and writes JSON lines with the failed rows' errors", function()
      local c = clients.new(sb)
      local list_id = wire.list_named(c, LIST)
      local out = temp_path(".jsonl")
      local r = recipe.run(sb, "smart_agent_column", {
        "--list-id",
        list_id,
        "--prompt",
        "What does their company sell?",
        "--column",
        "Offer",
        "--out",
        out,
        "--json",
      }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.equals("custom_ai", s.agent)
      local id = step(lines, "run").smart_agent_task_id
      local res = assert(c:get_smart_agent_results(id))
      assert.equals(LEADS, s.rows) -- the API's default 100 rows, clamped to the list
      assert.equals(res.succeeded, s.succeeded)
      assert.equals(res.failed, s.failed)
      assert.equals(s.succeeded, s.credits_charged) -- custom_ai: 1 a succeeded row
      assert.equals(charged(sb, id), s.credits_charged)
      local records = recipe.json_lines(run.read_file(out))
      assert.equals(LEADS, #records)
      local failed = 0
      for i, rec in ipairs(records) do
        assert.equals(res.results[i].lead_id, rec.lead_id)
        assert.equals("Offer", rec.column)
        if type(rec.error) == "string" then
          failed = failed + 1
          assert.equals(res.results[i].error, rec.error)
        else
          assert.equals(res.results[i].value, rec.value)
          assert.matches('^Re "What does their company sell%?": ', rec.value)
        end
      end
      assert.equals(s.failed, failed)
      os.remove(out)
    end)

    it("puts the rows on stdout under --json without --out, and shows a person the first ones", function()
      local r = recipe.run(
        sb,
        "smart_agent_column",
        { "--list", LIST, "--agent", "company_intel", "--column", "Intel", "--max-rows", "3", "--json" },
        { scale = 600 }
      )
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      local rows = {}
      for _, l in ipairs(lines) do
        if l.row then rows[#rows + 1] = l.row end
      end
      assert.equals(3, #rows)
      assert.equals(3, s.rows)
      assert.equals(6, s.credits_charged) -- company_intel: 2 a row
      local c = clients.new(sb)
      local res = assert(c:get_smart_agent_results(step(lines, "run").smart_agent_task_id))
      for i = 1, 3 do
        assert.equals(res.results[i].lead_id, rows[i].lead_id)
        assert.equals(res.results[i].value, rows[i].value)
        assert.equals("Intel", rows[i].column)
      end
      local first = leads_by_id(c, s.list_id)[rows[1].lead_id]
      assert.equals(first.full_name, rows[1].name)
      r = recipe.run(
        sb,
        "smart_agent_column",
        { "--list", LIST, "--agent", "title_normalizer", "--column", "T2", "--max-rows", "12" },
        { scale = 600 }
      )
      assert.equals(0, r.code, r.stderr)
      local id = r.stdout:match("run id: +(run_%w+)\n")
      local title = assert(c:get_smart_agent_results(id)).results[1].value
      assert.truthy(r.stdout:find(("\n  %s: %s\n"):format(first.full_name, title), 1, true), r.stdout)
      assert.matches("%.%.%. and 2 more %(%-%-out FILE writes them all%)", r.stdout)
      assert.matches("credits charged: +6\n", r.stdout)
      assert.matches("title_normalizer  %[#+%]  12/12", r.stderr)
    end)

    it("prints the quote on --dry-run and spends nothing", function()
      local r = recipe.run(
        sb,
        "smart_agent_column",
        { "--list", LIST, "--agent", "cold_intro_email", "--column", "Intro", "--dry-run", "--json" },
        { scale = 600 }
      )
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.is_true(s.dry_run)
      assert.equals(75, s.estimated_cost) -- cold_intro_email: 3 a row, 25 rows
      assert.equals(LEADS, s.rows)
      local q
      for _, l in ipairs(lines) do
        if l.quote then q = l.quote end
      end
      assert.equals(75, q.estimated_cost)
      assert.equals(START, q.available_credits)
      assert.matches("^qte_v1_", q.quote_id)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /smart-agents/run"))
    end)

    it("refuses to spend over --max-credits: exit 18, nothing dispatched, no state left", function()
      local home = recipe.state_home()
      local r = recipe.run(
        sb,
        "smart_agent_column",
        { "--list", LIST, "--agent", "cold_intro_email", "--column", "Intro", "--max-credits", "74" },
        { scale = 600, home = home }
      )
      assert.equals(18, r.code)
      assert.matches("the estimate is 75 credits, more than max_credits = 74; nothing was sent", r.stderr)
      assert.matches("kind: spend_cap", r.stderr)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /smart-agents/run"))
      assert.equals("", (run.capture("ls " .. home .. "/cleanlist")))
      recipe.remove(home)
    end)

    it("refuses bad arguments with exit 2 and an unknown list with exit 9", function()
      local r = recipe.run(sb, "smart_agent_column", { "--list", LIST, "--column", "X" }, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("needs %-%-prompt TEXT", r.stderr)
      r = recipe.run(sb, "smart_agent_column", { "--list", LIST, "--agent", "robot", "--column", "X" }, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("%-%-agent takes one of custom_ai, cold_intro_email", r.stderr)
      r = recipe.run(
        sb,
        "smart_agent_column",
        { "--list", LIST, "--agent", "title_normalizer", "--prompt", "hi", "--column", "X" },
        { scale = 600 }
      )
      assert.equals(2, r.code)
      assert.same({}, wire.calls(sb))
      r = recipe.run(
        sb,
        "smart_agent_column",
        { "--list", "No such list", "--agent", "company_intel", "--column", "X" },
        { scale = 600 }
      )
      assert.equals(9, r.code)
      assert.matches('no list called "No such list" among the 3 lists this key can see', r.stderr)
      assert.equals(0, count(wire.calls(sb), "POST /smart-agents/run"))
    end)
  end)

  describe("while a run is under way (--time-scale 5)", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "5", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }
    local ARGS =
      { "--list", LIST, "--agent", "title_normalizer", "--column", "Title (clean)", "--max-rows", "25", "--json" }

    it("survives faults on its status polls", function()
      local r = recipe.survives_faults(sb, "smart_agent_column", ARGS, { scale = 5 }, '"smart_agent_task_id"')
      assert.equals(1, count(wire.calls(sb), "POST /smart-agents/run"))
      local s, lines = summary_of(r)
      assert.equals(LEADS, s.succeeded + s.failed)
      assert.equals(charged(sb, step(lines, "run").smart_agent_task_id), s.credits_charged)
    end)

    it("killed with SIGKILL mid-wait, resumes on the same run and is charged once", function()
      local home = recipe.state_home()
      local out = temp_path(".csv")
      local args = { "--out", out }
      for _, a in ipairs(ARGS) do
        args[#args + 1] = a
      end
      local bg = recipe.spawn(sb, "smart_agent_column", args, { scale = 5, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find('"smart_agent_task_id"', 1, true) and t:find('"progress"', 1, true)
      end)
      bg:kill("KILL")
      assert.equals(137, bg:wait().code)
      local id = text:match('"smart_agent_task_id":"([^"]+)"')
      local c = clients.new(sb)
      assert.is_not.equals("completed", (assert(c:get_smart_agent_results(id))).status) -- mid-run
      local r = recipe.run(sb, "smart_agent_column", args, { scale = 5, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.matches("resuming the run of", r.stderr)
      local s, lines = summary_of(r)
      assert.equals(id, step(lines, "run").smart_agent_task_id)
      local calls = wire.calls(sb)
      assert.equals(1, count(calls, "POST /smart-agents/run"))
      assert.equals(1, count(calls, "POST /credits/estimate"))
      assert.equals(13, s.credits_charged)
      assert.equals(13, charged(sb, id))
      assert.equals(START - 13, balance(sb))
      local _, rows = read_csv(out)
      assert.equals(LEADS, #rows)
      assert.equals(s.run_id, id)
      os.remove(out)
      recipe.remove(home)
    end)
  end)
end)
