-- The recipe `cleanlist run enrich_csv`, spawned as a user runs it against a sandbox (--seed 7)
-- on a CSV the spec writes: the import (with the rows the API skips), the list, the enrichment
-- by the ledger, the CSV written; a dry run, a refused overspend, faults while it waits, and
-- resuming after SIGKILL with one reservation.
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local count, balance, summary_of, step = recipe.count, recipe.balance, recipe.summary_of, recipe.step
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local run = require "spec.helpers.run"

local START = 5000 -- the organisation's credits after a reset
local HEADER = "lead_id,first_name,last_name,email,title,company,domain,linkedin_url,phone,location"

local FIRST =
  { "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken", "Dennis", "Niklaus" }

-- A directory with contacts.csv: `n` good rows (an email each, every other one a LinkedIn
-- URL), then a row with the first row's email in capitals (duplicate_email) and a row with
-- only a first name (missing_required). Returns the directory and the file's path.
local function write_csv(n)
  local dir = recipe.state_home()
  local lines = { "Email,First Name,Last Name,Company,LinkedIn" }
  for i = 1, n do
    local first = FIRST[i]
    lines[#lines + 1] = ("%s@example.com,%s,Tester%d,Acme %d,%s"):format(
      first:lower(),
      first,
      i,
      i,
      i % 2 == 0 and ("https://www.linkedin.com/in/%s-tester-%d"):format(first:lower(), i) or ""
    )
  end
  lines[#lines + 1] = ("%s@EXAMPLE.com,Again,Duplicate,Acme,"):format(FIRST[1]:lower())
  lines[#lines + 1] = ",Nobody,,,"
  local path = dir .. "/contacts.csv"
  run.write_file(path, table.concat(lines, "\r\n") .. "\r\n")
  return dir, path
end

-- The records of a CSV file the export wrote: header line and data lines (CRLF).
local function csv_lines(path)
  local text = assert(run.read_file(path), "no file " .. path)
  local lines = {}
  for line in text:gmatch("([^\r\n]+)") do
    lines[#lines + 1] = line
  end
  return table.remove(lines, 1), lines
end

local function reserves(rows)
  local n = 0
  for _, row in ipairs(rows) do
    if row.kind == "reserve" then n = n + 1 end
  end
  return n
end

local function import_path(list_id)
  return "/lead-lists/" .. list_id .. "/csv-import"
end

describe("recipe enrich_csv", function()
  describe("at --time-scale 600", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("imports the file, enriches the list, writes it out and sums it up by the ledger", function()
      local dir, path = write_csv(4)
      local r = recipe.run(sb, "enrich_csv", { path, "--json", "--max-credits", "100" }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      -- six rows read: four imported, the duplicate email and the row without identifiers skipped
      assert.equals(6, s.rows_read)
      assert.equals(4, s.imported)
      assert.equals(2, s.skipped)
      assert.same({ duplicate_email = 1, missing_required = 1 }, s.skip_reasons)
      assert.same({ 6, 7 }, step(lines, "import").sample_skip_rows)
      -- the list, named after the file, holds the four leads
      assert.equals("contacts", s.list)
      local list = assert(clients.new(sb):get_list(s.list_id))
      assert.equals("contacts", list.name)
      assert.equals(4, list.lead_count)
      assert.equals(4, s.list_leads)
      -- the import went once, without enrichment, with the columns the header names
      local bodies = wire.bodies(sb, "POST", import_path(s.list_id))
      assert.equals(1, #bodies)
      assert.is_false(bodies[1].dispatch_enrichment)
      assert.same({
        email = "Email",
        first_name = "First Name",
        last_name = "Last Name",
        company_name = "Company",
        linkedin_url = "LinkedIn",
      }, bodies[1].column_mapping)
      assert.matches("^enrich_csv%-%x+$", bodies[1].idempotency_key)
      assert.equals(bodies[1].idempotency_key, step(lines, "import").idempotency_key)
      -- one reservation of 1 credit per lead (partial), settled: charged + refunded = reserved
      local wf = step(lines, "enrich").workflow_id
      local rows = recipe.ledger_of(sb, wf)
      assert.equals("reserve", rows[1].kind)
      assert.equals(-4, rows[1].delta)
      assert.equals(4, s.credits_reserved)
      assert.equals(4, s.credits_charged + s.credits_refunded)
      assert.equals(s.credits_charged, s.emails_found)
      assert.equals(0, s.phones_found)
      assert.equals("completed", s.status)
      assert.equals(START - s.credits_charged, balance(sb))
      local calls = wire.calls(sb)
      assert.equals(1, count(calls, "POST /enrichment/bulk"))
      assert.equals(1, count(calls, "POST /credits/estimate"))
      -- the enriched list beside the input: the export's header and a row per lead
      assert.equals(dir .. "/contacts-enriched.csv", s.out)
      assert.equals(4, s.out_rows)
      local header, data = csv_lines(s.out)
      assert.equals(HEADER, header)
      assert.equals(4, #data)
      local emails = {}
      for _, line in ipairs(data) do
        emails[#emails + 1] = line:match("^[^,]*,[^,]*,[^,]*,([^,]*),")
      end
      table.sort(emails)
      assert.same({ "ada@example.com", "alan@example.com", "edsger@example.com", "grace@example.com" }, emails)
      -- a run that finished leaves no state behind
      assert.equals("", (run.capture("ls " .. recipe.env(sb).XDG_STATE_HOME .. "/cleanlist")))
      recipe.remove(dir)
    end)

    it("takes --list, --map, --type full and --out, and prints the summary for a person", function()
      local dir, path = write_csv(3)
      local out = dir .. "/out.csv"
      local r = recipe.run(sb, "enrich_csv", {
        path,
        "--list",
        "Event leads",
        "--type",
        "full",
        "--map",
        "linkedin_url=",
        "--map",
        "job_title=Company",
        "--out",
        out,
      }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      assert.matches(
        "imported 3 of 5 rows into 'Event leads' %(list_%x+%); skipped 2: " .. "duplicate_email 1, missing_required 1",
        r.stdout
      )
      assert.matches("credits reserved: +33\n", r.stdout)
      assert.matches("out: +" .. out:gsub("%p", "%%%0") .. "\n", r.stdout)
      assert.matches("out rows: +3\n", r.stdout)
      assert.matches("enriching  %[#+%]  3/3", r.stderr)
      local list_id = wire.list_named(clients.new(sb), "Event leads")
      local body = wire.bodies(sb, "POST", import_path(list_id))[1]
      assert.same({
        email = "Email",
        first_name = "First Name",
        last_name = "Last Name",
        company_name = "Company",
        job_title = "Company",
      }, body.column_mapping)
      local bulk = wire.bodies(sb, "POST", "/enrichment/bulk")[1]
      assert.equals("full", bulk.scope)
      local wf = r.stdout:match("enrichment (bulk%-enrich%-%x+) of 3 leads")
      assert.equals(-33, recipe.ledger_of(sb, wf)[1].delta) -- 11 credits a lead
      local header, data = csv_lines(out)
      assert.equals(HEADER, header)
      assert.equals(3, #data)
      recipe.remove(dir)
    end)

    it("on --dry-run imports (free), prints the quote, spends nothing; the run then goes on", function()
      local dir, path = write_csv(4)
      local home = recipe.state_home()
      local r = recipe.run(
        sb,
        "enrich_csv",
        { path, "--dry-run", "--json", "--type", "phone_only" },
        { scale = 600, home = home }
      )
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.is_true(s.dry_run)
      assert.equals(40, s.estimated_cost) -- 4 leads, 10 credits each
      local q
      for _, l in ipairs(lines) do
        if l.quote then q = l.quote end
      end
      assert.equals(40, q.estimated_cost)
      assert.equals(START, q.available_credits)
      assert.matches("^qte_v1_", q.quote_id)
      assert.equals(START, balance(sb))
      assert.equals(1, #(sb:control("GET", "/credits")).ledger) -- the initial grant alone
      assert.equals(0, count(wire.calls(sb), "POST /enrichment/bulk"))
      assert.equals(4, assert(clients.new(sb):get_list(s.list_id)).lead_count)
      assert.is_nil(run.read_file(dir .. "/contacts-enriched.csv"))
      -- the same command without --dry-run resumes: no second import
      sb:clear()
      r = recipe.run(sb, "enrich_csv", { path, "--json", "--type", "phone_only" }, { scale = 600, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.matches("resuming the run of", r.stderr)
      local calls = wire.calls(sb)
      assert.equals(0, count(calls, "POST " .. import_path(s.list_id)))
      assert.equals(1, count(calls, "POST /enrichment/bulk"))
      s = summary_of(r)
      assert.equals(4, s.imported)
      assert.equals(40, s.credits_reserved)
      assert.equals(4, assert(clients.new(sb):get_list(s.list_id)).lead_count)
      assert.equals(START - s.credits_charged, balance(sb))
      recipe.remove(home)
      recipe.remove(dir)
    end)

    it("refuses to spend over --max-credits: exit 18, nothing enriched; again with more, imports once", function()
      local dir, path = write_csv(4)
      local home = recipe.state_home()
      local r = recipe.run(sb, "enrich_csv", { path, "--max-credits", "3" }, { scale = 600, home = home })
      assert.equals(18, r.code)
      assert.matches("the estimate is 4 credits, more than max_credits = 3; nothing was sent", r.stderr)
      assert.matches("kind: spend_cap", r.stderr)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /enrichment/bulk"))
      assert.equals("", (run.capture("ls " .. home .. "/cleanlist")))
      -- the state went with the refusal; the import's idempotency key still imports once
      local list_id = wire.list_named(clients.new(sb), "contacts")
      sb:clear()
      r = recipe.run(sb, "enrich_csv", { path, "--max-credits", "4", "--json" }, { scale = 600, home = home })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.is_true(step(lines, "import").replayed)
      assert.equals(4, s.imported)
      assert.equals(4, assert(clients.new(sb):get_list(list_id)).lead_count)
      assert.equals(4, s.credits_reserved)
      recipe.remove(home)
      recipe.remove(dir)
    end)

    it("refuses bad arguments with exit 2 before sending anything", function()
      local dir, path = write_csv(2)
      local cases = {
        { { path, "--type", "cheap" }, "%-%-type takes one of partial, phone_only, full, not 'cheap'" },
        { { path, "--map", "nickname=Email" }, "'nickname' is not a field a column can be mapped to" },
        { { path, "--map", "email=E-mail" }, "the file's header has no column 'E%-mail'" },
        { { dir .. "/missing.csv" }, "cannot read .*missing%.csv" },
        { { path, "--out", path }, "would overwrite the input" },
        { {}, "needs FILE%.csv" },
      }
      for _, c in ipairs(cases) do
        local r = recipe.run(sb, "enrich_csv", c[1], { scale = 600 })
        assert.equals(2, r.code, r.stderr)
        assert.matches(c[2], r.stderr)
      end
      assert.same({}, wire.calls(sb))
      recipe.remove(dir)
    end)
  end)

  describe("while a run is under way (--time-scale 5)", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "5", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("survives faults on its status polls", function()
      local dir, path = write_csv(10)
      local r = recipe.survives_faults(sb, "enrich_csv", { path, "--json" }, { scale = 5 }, '"workflow_id"')
      assert.equals(1, count(wire.calls(sb), "POST /enrichment/bulk"))
      local s = summary_of(r)
      assert.equals(10, s.credits_reserved)
      assert.equals(10, s.credits_charged + s.credits_refunded)
      assert.equals(10, s.out_rows)
      recipe.remove(dir)
    end)

    it("killed with SIGKILL mid-wait, resumes on the same run with one reservation", function()
      local dir, path = write_csv(10)
      local home = recipe.state_home()
      local bg = recipe.spawn(sb, "enrich_csv", { path, "--json" }, { scale = 5, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find('"workflow_id"', 1, true) and t:find('"enriching"', 1, true)
      end)
      bg:kill("KILL")
      assert.equals(137, bg:wait().code)
      local wf = text:match('"workflow_id":"([^"]+)"')
      assert.equals(1, #recipe.ledger_of(sb, wf))
      assert.is_nil(run.read_file(dir .. "/contacts-enriched.csv"))
      local r = recipe.run(sb, "enrich_csv", { path, "--json" }, { scale = 5, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.matches("resuming the run of", r.stderr)
      local s, lines = summary_of(r)
      assert.equals(wf, step(lines, "enrich").workflow_id)
      local calls = wire.calls(sb)
      assert.equals(1, count(calls, "POST /enrichment/bulk"))
      assert.equals(1, count(calls, "POST " .. import_path(s.list_id)))
      assert.equals(1, reserves(recipe.ledger_of(sb, wf)))
      assert.equals(10, assert(clients.new(sb):get_list(s.list_id)).lead_count)
      assert.equals(START - s.credits_charged, balance(sb))
      local _, data = csv_lines(s.out)
      assert.equals(10, #data)
      recipe.remove(home)
      recipe.remove(dir)
    end)
  end)
end)
