-- The recipe `cleanlist run legacy_bulk`, spawned as a user runs it against a sandbox (--seed 7)
-- on a CSV of 600 contacts the spec writes (3 jobs: 250 + 250 + 100): the POSTs to the legacy
-- /enrich/bulk, the merged results checked against the sandbox's jobs and ledger, webhook
-- deliveries; a dry run, a refused overspend, a job refused mid-way then resumed, faults while
-- it waits, and resuming after SIGKILL without sending any job twice.
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local count, balance, summary_of = recipe.count, recipe.balance, recipe.summary_of
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local run = require "spec.helpers.run"
local csv = require "cleanlist.csv"

local START = 5000 -- the organisation's credits after a reset
local CONTACTS = 600

-- A directory with contacts.csv: CONTACTS good rows (a name and a company domain, every tenth a
-- LinkedIn URL only), headers in mixed case and spelling, then a row with a first name only
-- (row 601, skipped). Returns the directory and the file's path.
local function write_csv()
  local dir = recipe.state_home()
  local lines = { "First_Name,LAST NAME,Email,Company_Domain,LinkedIn URL" }
  for i = 1, CONTACTS do
    if i % 10 == 0 then
      lines[#lines + 1] = (",,,,https://www.linkedin.com/in/pat-tester-%d"):format(i)
    else
      lines[#lines + 1] = ("Pat%d,Tester,,acme%d.example.com,"):format(i, i % 13)
    end
  end
  lines[#lines + 1] = "Solo,,,,"
  local path = dir .. "/contacts.csv"
  run.write_file(path, table.concat(lines, "\n") .. "\n")
  return dir, path
end

local function steps(lines, name)
  local out = {}
  for _, l in ipairs(lines) do
    if l.step == name then out[#out + 1] = l end
  end
  return out
end

-- The requests of the log to `path` (under the base path) that got `status`.
local function answered(sb, method, path, status)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.method == method and r.path == wire.PREFIX .. path and math.floor(tonumber(r.status)) == status then
      n = n + 1
    end
  end
  return n
end

-- The contacts sent in the POSTs to /enrich/bulk answered 200, by their CSV identity.
local function sent_contacts(sb)
  local seen, total, sizes = {}, 0, {}
  for _, r in ipairs(sb:requests()) do
    if r.method == "POST" and r.path == wire.PREFIX .. "/enrich/bulk" and math.floor(tonumber(r.status)) == 200 then
      local body = require("cjson").decode(r.body)
      sizes[#sizes + 1] = #body.contacts
      for _, c in ipairs(body.contacts) do
        local key = c.linkedin_url or (c.first_name .. "|" .. c.company_domain)
        seen[key] = (seen[key] or 0) + 1
        total = total + 1
      end
    end
  end
  return seen, total, sizes
end

local function read_csv(path)
  local text = assert(run.read_file(path), "no file " .. path)
  local header, rows = nil, {}
  csv.each_record(text, function(fields)
    if header then
      local row = {}
      for i, h in ipairs(header) do
        row[h] = fields[i]
      end
      rows[#rows + 1] = row
    else
      header = fields
    end
  end)
  return header, rows
end

describe("recipe legacy_bulk", function()
  describe("at --time-scale 600", function()
    local sb = sandbox.suite {
      args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("sends 600 contacts in 3 jobs, waits for each and merges the results by the sandbox's jobs", function()
      local dir, path = write_csv()
      local out = dir .. "/out.csv"
      local r = recipe.run(sb, "legacy_bulk", { path, "--out", out, "--json", "--max-credits", "600" }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.equals(CONTACTS, s.contacts)
      assert.equals(1, s.skipped)
      assert.matches("row 601 skipped: Each contact must include linkedin_url", r.stderr)
      assert.equals(3, s.jobs)
      assert.equals(3, s.completed)
      -- three POSTs of 250, 250 and 100 contacts, each contact once
      assert.equals(3, answered(sb, "POST", "/enrich/bulk", 200))
      local seen, total, sizes = sent_contacts(sb)
      assert.same({ 250, 250, 100 }, sizes)
      assert.equals(CONTACTS, total)
      for k, n in pairs(seen) do
        assert.equals(1, n, k)
      end
      -- the summary is the sum of the sandbox's jobs; the credits are the ledger's
      local c = clients.new(sb)
      local dispatched = steps(lines, "dispatch")
      assert.equals(3, #dispatched)
      local emails, phones, failed, charged, by_task = 0, 0, 0, 0, {}
      for i, d in ipairs(dispatched) do
        assert.equals(i, d.job)
        local st = assert(c:legacy_enrich_status { workflow_id = d.workflow_id })
        assert.equals("completed", st.status)
        emails = emails + st.summary.emails_found
        phones = phones + st.summary.phones_found
        failed = failed + st.summary.failed
        charged = charged + st.credits_charged
        for _, item in ipairs(st.results) do
          by_task[item.task_id] = item
        end
        local rows = recipe.ledger_of(sb, d.workflow_id)
        assert.equals("reserve", rows[1].kind)
        assert.equals(-d.contacts, rows[1].delta) -- partial: 1 credit a contact at most
        local net = 0
        for _, row in ipairs(rows) do
          net = net - row.delta
        end
        assert.equals(st.credits_charged, net)
      end
      assert.equals(emails, s.emails_found)
      assert.equals(phones, s.phones_found)
      assert.equals(0, s.phones_found) -- partial finds emails only
      assert.equals(failed, s.failed)
      assert.equals(charged, s.credits_charged)
      assert.equals(emails, s.credits_charged) -- 1 credit an email found
      assert.equals(CONTACTS, s.credits_reserved)
      assert.equals(CONTACTS, s.credits_charged + s.credits_refunded)
      assert.equals(START - s.credits_charged, balance(sb))
      -- the merged results: one row a contact, in file order, as the sandbox's jobs have them
      local header, rows = read_csv(out)
      assert.equals("row", header[1])
      assert.equals(CONTACTS, #rows)
      assert.equals(CONTACTS, s.out_rows)
      local with_email = 0
      for i, row in ipairs(rows) do
        assert.equals(tostring(i), row.row)
        local item = by_task[row.task_id]
        assert.is_table(item, row.task_id)
        assert.equals(item.status, row.status)
        assert.equals(type(item.primary_email) == "string" and item.primary_email or "", row.email)
        if row.email ~= "" then with_email = with_email + 1 end
      end
      assert.equals(emails, with_email)
      assert.equals("https://www.linkedin.com/in/pat-tester-10", rows[10].linkedin_url)
      assert.equals("acme1.example.com", rows[1].company_domain)
      assert.equals("", (run.capture("ls " .. recipe.env(sb).XDG_STATE_HOME .. "/cleanlist")))
      recipe.remove(dir)
    end)

    it("checks each job's webhook deliveries with --webhook, and writes JSON lines for .jsonl", function()
      local dir, path = write_csv()
      local sink = ("http://127.0.0.1:%d/__sandbox/webhook-sink"):format(sb.port)
      local out = dir .. "/out.jsonl"
      local r = recipe.run(sb, "legacy_bulk", { path, "--webhook", sink, "--out", out }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local records = recipe.json_lines(run.read_file(out))
      assert.equals(CONTACTS, #records)
      assert.equals(1, records[1].row)
      local bodies = wire.bodies(sb, "POST", "/enrich/bulk")
      assert.equals(3, #bodies)
      for _, b in ipairs(bodies) do
        assert.equals(sink, b.webhook_url)
      end
      -- the sink received one delivery a job; the recipe read each job's delivery log
      local ok, got = sandbox.poll(100, 0.05, function()
        local t = sb:control("GET", "/webhook-sink")
        return t.count >= 3, t
      end)
      assert.is_true(ok)
      assert.equals(3, got.count)
      local reads = 0
      for _, call in ipairs(wire.calls(sb)) do
        if call:find("^GET /webhooks/deliveries") then reads = reads + 1 end
      end
      assert.equals(3, reads)
      assert.matches("job 1/3: webhook delivered after 1 attempt\n", r.stdout)
      assert.matches("webhook: +3 of 3 delivered\n", r.stdout)
      recipe.remove(dir)
    end)

    it("prints the price and the balance on --dry-run and sends nothing", function()
      local dir, path = write_csv()
      local r = recipe.run(sb, "legacy_bulk", { path, "--dry-run", "--json" }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      local s, lines = summary_of(r)
      assert.is_true(s.dry_run)
      assert.equals(CONTACTS, s.estimated_cost) -- partial: 1 a contact at most
      assert.equals(START, s.available_credits)
      assert.equals(3, s.jobs)
      assert.equals(CONTACTS, s.contacts)
      local q
      for _, l in ipairs(lines) do
        if l.quote then q = l.quote end
      end
      assert.equals(CONTACTS, q.estimated_cost)
      assert.equals(START, q.available_credits)
      assert.is_true(q.sufficient)
      r = recipe.run(sb, "legacy_bulk", { path, "--dry-run" }, { scale = 600 })
      assert.equals(0, r.code, r.stderr)
      assert.matches("legacy bulk: 600 credits estimated of 5000 available %(priced by the client%)", r.stdout)
      -- full (11 a contact at most) is more than the balance: the dry run says so
      r = recipe.run(sb, "legacy_bulk", { path, "--dry-run", "--type", "full" }, { scale = 600 })
      assert.equals(12, r.code)
      assert.matches("the estimate is 6600 credits and the organisation has 5000; nothing was sent", r.stderr)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /enrich/bulk"))
      recipe.remove(dir)
    end)

    it("refuses to spend over --max-credits: exit 18, nothing dispatched, no state left", function()
      local dir, path = write_csv()
      local home = recipe.state_home()
      local r = recipe.run(sb, "legacy_bulk", { path, "--max-credits", "599" }, { scale = 600, home = home })
      assert.equals(18, r.code)
      assert.matches("the estimate is 600 credits, more than max_credits = 599; nothing was sent", r.stderr)
      assert.matches("kind: spend_cap", r.stderr)
      assert.equals(START, balance(sb))
      assert.equals(0, count(wire.calls(sb), "POST /enrich/bulk"))
      assert.equals("", (run.capture("ls " .. home .. "/cleanlist")))
      recipe.remove(home)
      recipe.remove(dir)
    end)

    it("stopped by a job refused mid-way, resumes without sending the first job again", function()
      local dir, path = write_csv()
      local home = recipe.state_home()
      -- the client's whoami and the price's balance pass, the first job goes out, the second is
      -- answered 402
      sb:control("POST", "/script", {
        responses = {
          { fault = "stall", ms = 1, times = 3 },
          { status = 402, body = { detail = "Insufficient credits" } },
        },
      })
      local r = recipe.run(sb, "legacy_bulk", { path, "--max-credits", "600", "--json" }, { scale = 600, home = home })
      assert.equals(12, r.code, r.stderr)
      assert.matches("kind: insufficient_credits", r.stderr)
      assert.matches("what was dispatched is recorded in", r.stderr)
      local first = steps(recipe.json_lines(r.stdout), "dispatch")
      assert.equals(1, #first)
      -- the budget left for the rest is what the first job did not take
      r = recipe.run(sb, "legacy_bulk", { path, "--max-credits", "599" }, { scale = 600, home = home })
      assert.equals(18, r.code)
      assert.matches("the estimate is 350 credits, more than max_credits = 349", r.stderr)
      r = recipe.run(sb, "legacy_bulk", { path, "--max-credits", "600", "--json" }, { scale = 600, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.matches("resuming the run of", r.stderr)
      local s, lines = summary_of(r)
      local jobs = steps(lines, "dispatch")
      assert.equals(first[1].workflow_id, jobs[1].workflow_id)
      assert.is_true(jobs[1].earlier)
      assert.is_false(jobs[2].earlier)
      assert.equals(3, answered(sb, "POST", "/enrich/bulk", 200))
      assert.equals(1, answered(sb, "POST", "/enrich/bulk", 402))
      local seen, total, sizes = sent_contacts(sb)
      assert.same({ 250, 250, 100 }, sizes)
      assert.equals(CONTACTS, total)
      for k, n in pairs(seen) do
        assert.equals(1, n, k)
      end
      assert.equals(CONTACTS, s.out_rows)
      assert.equals(START - s.credits_charged, balance(sb))
      recipe.remove(home)
      recipe.remove(dir)
    end)

    it("refuses bad arguments with exit 2", function()
      local r = recipe.run(sb, "legacy_bulk", {}, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("needs FILE%.csv", r.stderr)
      r = recipe.run(sb, "legacy_bulk", { "/nonexistent/contacts.csv" }, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("cannot read /nonexistent/contacts%.csv", r.stderr)
      r = recipe.run(sb, "legacy_bulk", { "x.csv", "--type", "gold" }, { scale = 600 })
      assert.equals(2, r.code)
      assert.matches("%-%-type takes one of none, partial, phone_only, full, prospecting_only", r.stderr)
      assert.same({}, wire.calls(sb))
    end)
  end)

  describe("while the jobs run (--time-scale 20)", function()
    -- 250 contacts take about a minute of sandbox time: 3 s here
    local sb = sandbox.suite {
      args = { "--time-scale", "20", "--seed", "7", "--rate-limit", "off" },
      reset = true,
      clear = true,
    }

    it("survives faults on its status polls", function()
      local dir, path = write_csv()
      local r = recipe.survives_faults(sb, "legacy_bulk", { path, "--json" }, { scale = 20 }, '"progress"')
      assert.equals(3, answered(sb, "POST", "/enrich/bulk", 200))
      local s = summary_of(r)
      assert.equals(3, s.completed)
      assert.equals(CONTACTS, s.out_rows)
      assert.equals(START - s.credits_charged, balance(sb))
      recipe.remove(dir)
    end)

    it("killed with SIGKILL mid-wait, resumes on the recorded jobs and sends none twice", function()
      local dir, path = write_csv()
      local home = recipe.state_home()
      local out = dir .. "/out.csv"
      local bg = recipe.spawn(sb, "legacy_bulk", { path, "--out", out, "--json" }, { scale = 20, home = home })
      local text = recipe.wait_for_state(home, function(t)
        return t:find('"chunk:1"', 1, true) and t:find('"progress"', 1, true)
      end)
      bg:kill("KILL")
      assert.equals(137, bg:wait().code)
      local wfs = {}
      for wf in text:gmatch('"workflow_id":"(public_bulk_[^"]+)"') do
        wfs[#wfs + 1] = wf
      end
      assert.equals(3, #wfs)
      local c = clients.new(sb)
      local unfinished = 0
      for _, wf in ipairs(wfs) do
        if assert(c:legacy_enrich_status { workflow_id = wf }).status ~= "completed" then
          unfinished = unfinished + 1
        end
      end
      assert.is_true(unfinished > 0, "killed after the jobs ended")
      local r = recipe.run(sb, "legacy_bulk", { path, "--out", out, "--json" }, { scale = 20, home = home })
      assert.equals(0, r.code, r.stderr)
      assert.matches("resuming the run of", r.stderr)
      local s, lines = summary_of(r)
      local jobs = steps(lines, "dispatch")
      local got = {}
      for i, j in ipairs(jobs) do
        assert.is_true(j.earlier)
        got[i] = j.workflow_id
      end
      table.sort(got)
      table.sort(wfs)
      assert.same(wfs, got)
      assert.equals(3, answered(sb, "POST", "/enrich/bulk", 200))
      local seen, total = sent_contacts(sb)
      assert.equals(CONTACTS, total)
      for k, n in pairs(seen) do
        assert.equals(1, n, k)
      end
      for _, wf in ipairs(wfs) do
        local kinds = {}
        for i, row in ipairs(recipe.ledger_of(sb, wf)) do
          kinds[i] = row.kind
        end
        assert.equals(1, count(kinds, "reserve"))
      end
      local _, rows = read_csv(out)
      assert.equals(CONTACTS, #rows)
      assert.equals(3, s.completed)
      assert.equals(START - s.credits_charged, balance(sb))
      recipe.remove(home)
      recipe.remove(dir)
    end)
  end)
end)
