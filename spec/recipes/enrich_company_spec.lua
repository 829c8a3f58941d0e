-- The recipe `cleanlist run enrich_company`, spawned as a user runs it against a sandbox
-- (--seed 7, --time-scale 600): company records checked against the values the sandbox's
-- world gives for those companies (read first with the real client from search_companies),
-- the ledger (1 credit per found company; a not-found one charged and refunded), a dry run,
-- a refused overspend, a 503 in the middle survived, a SIGKILL in the middle of a list
-- resumed with each company charged once, and a lost answer that a re-run does not resend.
-- The runs that must be caught mid-way use a client clock slower than the sandbox's
-- (CLEANLIST_TIME_SCALE 5 or 1): its rate limiter then paces the calls.
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local count, balance, summary_of = recipe.count, recipe.balance, recipe.summary_of
local tmp_path, lines_of, decode_lines = recipe.tmp_path, recipe.lines_of, recipe.json_lines
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local run = require "spec.helpers.run"
local api = require "spec.helpers.api"

local START = 5000 -- the organisation's credits after a reset
local REF = "enrichment/company" -- the ledger's ref for company enrichment
local CSV_HEADER = {
  "query",
  "found",
  "company_id",
  "name",
  "domain",
  "industry",
  "industries",
  "employee_count",
  "employee_count_range",
  "revenue_range",
  "funding_stage",
  "total_funding_usd",
  "founded_year",
  "hq_city",
  "hq_state",
  "hq_country",
  "linkedin_url",
  "ticker",
  "tech_stack",
}

-- The company-enrichment rows of the ledger by kind: charges, refunds.
local function ledger(sb)
  local charges, refunds = 0, 0
  for _, row in ipairs(recipe.ledger_of(sb, REF)) do
    if row.kind == "charge" then charges = charges + 1 end
    if row.kind == "refund" then refunds = refunds + 1 end
  end
  return charges, refunds
end

-- The domains (or names) sent to POST /enrichment/company, in order.
local function sent(sb)
  local out = {}
  for i, b in ipairs(wire.bodies(sb, "POST", "/enrichment/company")) do
    out[i] = b.domain or b.company_name
  end
  return out
end

-- `rec` is the record the sandbox gives for `company` (a search_companies row).
local function same_company(company, rec)
  assert.is_true(rec.found)
  for _, k in ipairs {
    "company_id",
    "name",
    "domain",
    "industry",
    "employee_count",
    "employee_count_range",
    "revenue_range",
    "hq_country",
    "funding_stage",
    "founded_year",
  } do
    assert.equals(company[k], rec[k], k .. " of " .. company.domain)
  end
  assert.same(company.industries, rec.industries)
  assert.same(company.tech_stack, rec.tech_stack)
end

local function args_of(companies, first, last, ...)
  local out = {}
  for i = first, last do
    out[#out + 1] = companies[i].domain
  end
  for _, a in ipairs { ... } do
    out[#out + 1] = a
  end
  return out
end

describe("recipe enrich_company", function()
  local sb = sandbox.suite {
    args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" },
    reset = true,
    clear = true,
  }
  local companies -- 12 companies of the seeded world, as search_companies gives them

  setup(function()
    local page = assert(clients.new(sb):search_companies { industries = { "Financial Services" }, limit = 12 })
    companies = page.companies
    assert(#companies == 12, "the seeded world has fewer companies in Financial Services")
  end)

  it("writes the sandbox's records, reports a not-found one, and is charged 1 per company found", function()
    local out = tmp_path(".jsonl")
    local r = recipe.run(
      sb,
      "enrich_company",
      args_of(companies, 1, 3, "nowhere-to-be-found.invalid", companies[4].name, "--out", out, "--json"),
      { scale = 600 }
    )
    assert.equals(0, r.code, r.stderr)
    local recs = decode_lines(assert(run.read_file(out)))
    assert.equals(5, #recs)
    for i = 1, 3 do
      assert.equals(companies[i].domain, recs[i].query)
      same_company(companies[i], recs[i])
    end
    assert.equals("nowhere-to-be-found.invalid", recs[4].query)
    assert.is_false(recs[4].found)
    assert.matches("No company matches nowhere%-to%-be%-found%.invalid", recs[4].error)
    assert.equals(companies[4].name, recs[5].query) -- looked up by name
    same_company(companies[4], recs[5])
    local s, lines = summary_of(r)
    assert.equals(5, s.asked)
    assert.equals(4, s.found)
    assert.equals(1, s.not_found)
    assert.equals(4, s.credits_charged)
    assert.equals(out, s.out)
    assert.equals(6, #lines) -- a line per company, then the summary
    assert.equals(companies[2].name, lines[2].name)
    -- the ledger: a charge per call, the not-found one refunded
    local charges, refunds = ledger(sb)
    assert.equals(5, charges)
    assert.equals(1, refunds)
    assert.equals(START - 4, balance(sb))
    -- the calls: one each, a domain as domain and a name as company_name; no quote exists
    local bodies = wire.bodies(sb, "POST", "/enrichment/company")
    assert.equals(5, #bodies)
    assert.same({ domain = companies[1].domain }, bodies[1])
    assert.same({ company_name = companies[4].name }, bodies[5])
    assert.equals(0, count(wire.calls(sb), "POST /credits/estimate"))
    -- a finished run leaves no state behind
    assert.equals("", (run.capture("ls " .. recipe.env(sb).XDG_STATE_HOME .. "/cleanlist")))
    os.remove(out)
  end)

  it("writes CSV on stdout with the summary on stderr, and reads --file (blank, # and repeats skipped)", function()
    local list = tmp_path(".txt")
    sandbox.write_file(list, table.concat({
      "# companies",
      companies[5].domain,
      "",
      "  " .. companies[6].domain .. "  ",
      companies[5].domain,
      "nowhere.invalid",
    }, "\n") .. "\n")
    local r = recipe.run(sb, "enrich_company", { "--file", list, "--format", "csv" }, { scale = 600 })
    assert.equals(0, r.code, r.stderr)
    local rows = api.parse_csv(r.stdout)
    assert.same(CSV_HEADER, rows[1])
    assert.equals(4, #rows)
    for i, c in ipairs { companies[5], companies[6] } do
      local row = rows[i + 1]
      assert.equals(c.domain, row[1])
      assert.equals("true", row[2])
      assert.equals(c.company_id, row[3])
      assert.equals(c.name, row[4])
      assert.equals(c.industry, row[6])
      assert.equals(table.concat(c.industries, "; "), row[7])
      assert.equals(("%d"):format(c.employee_count), row[8])
      assert.equals(c.hq_country, row[16])
    end
    assert.same({ "nowhere.invalid", "false" }, { rows[4][1], rows[4][2] })
    assert.equals("", rows[4][4])
    assert.matches("1 duplicate value%(s%) skipped", r.stderr)
    assert.matches("nowhere%.invalid: not found", r.stderr)
    assert.matches("asked: +3\nfound: +2\nnot found: +1\ncredits charged: +2\n", r.stderr)
    assert.same({ companies[5].domain, companies[6].domain, "nowhere.invalid" }, sent(sb))
    assert.equals(START - 2, balance(sb))
    os.remove(list)
  end)

  it("prints the cost on --dry-run (count x 1 credit and the balance) and spends nothing", function()
    local r = recipe.run(sb, "enrich_company", args_of(companies, 1, 7, "--dry-run", "--json"), { scale = 600 })
    assert.equals(0, r.code, r.stderr)
    local s, lines = summary_of(r)
    assert.is_true(s.dry_run)
    assert.equals(7, s.estimated_cost)
    assert.equals(7, lines[1].quote.estimated_cost)
    assert.equals(1, lines[1].quote.price)
    assert.equals(START, lines[1].quote.available_credits)
    assert.is_true(lines[1].quote.sufficient)
    assert.matches("7 companies x 1 credit = 7 credits estimated of 5000 available", r.stderr)
    assert.equals(START, balance(sb))
    assert.equals(0, #recipe.ledger_of(sb, REF))
    assert.equals(0, count(wire.calls(sb), "POST /enrichment/company"))
  end)

  it("refuses to spend over --max-credits before the first call: exit 18, nothing sent, no state", function()
    local home = recipe.state_home()
    local r =
      recipe.run(sb, "enrich_company", args_of(companies, 1, 7, "--max-credits", "6"), { scale = 600, home = home })
    assert.equals(18, r.code)
    assert.matches(
      "the estimate is 7 credits %(7 companies x 1%), more than max_credits = 6; nothing was sent",
      r.stderr
    )
    assert.matches("kind: spend_cap", r.stderr)
    assert.equals(START, balance(sb))
    assert.equals(0, count(wire.calls(sb), "POST /enrichment/company"))
    assert.equals("", (run.capture("ls " .. home .. "/cleanlist")))
    -- within the budget it goes ahead
    r = recipe.run(
      sb,
      "enrich_company",
      args_of(companies, 1, 7, "--max-credits", "7", "--json"),
      { scale = 600, home = home }
    )
    assert.equals(0, r.code, r.stderr)
    assert.equals(START - 7, balance(sb))
    recipe.remove(home)
  end)

  it("refuses bad arguments and a short balance before sending anything", function()
    local r = recipe.run(sb, "enrich_company", {}, { scale = 600 })
    assert.equals(2, r.code)
    assert.matches("no domain or name given", r.stderr)
    r = recipe.run(sb, "enrich_company", { "a.com", "--format", "xml" }, { scale = 600 })
    assert.equals(2, r.code)
    sb:control("POST", "/credits", { credits = 2 })
    r = recipe.run(sb, "enrich_company", args_of(companies, 1, 3), { scale = 600 })
    assert.equals(12, r.code)
    assert.matches("3 companies to look up cost 3 credits and the organisation has 2", r.stderr)
    assert.equals(0, count(wire.calls(sb), "POST /enrichment/company"))
  end)

  it("says in --help that a lost answer is not resent (exit 19, --resend-unknown)", function()
    local r = recipe.run(sb, "enrich_company", { "--help" })
    assert.equals(0, r.code)
    assert.matches("exit status 19", r.stdout)
    assert.matches("%-%-resend%-unknown", r.stdout)
    assert.matches("%-%-max%-credits N", r.stdout)
  end)

  it("survives a 503 in the middle of the list: the call is retried and charged once", function()
    local out = tmp_path(".jsonl")
    -- the client's clock at 5: its rate limiter paces the calls (0.4 s apart after a burst)
    local bg = recipe.spawn(sb, "enrich_company", args_of(companies, 1, 10, "--out", out, "--json"), { scale = 5 })
    assert.is_true((sandbox.poll(200, 0.05, function()
      return #lines_of(run.read_file(out)) >= 1
    end)), "no record written")
    sb:control("POST", "/script", { responses = { { fault = "503" } } })
    local r = bg:wait()
    assert.equals(0, r.code, r.stderr)
    assert.equals(1, count(wire.statuses(sb), 503))
    assert.equals(11, count(wire.calls(sb), "POST /enrichment/company")) -- one sent twice
    local recs = decode_lines(run.read_file(out))
    assert.equals(10, #recs)
    for i, rec in ipairs(recs) do
      same_company(companies[i], rec)
    end
    assert.equals(10, (ledger(sb)))
    assert.equals(START - 10, balance(sb))
    assert.equals(10, summary_of(r).credits_charged)
    os.remove(out)
  end)

  it("killed with SIGKILL mid-list, resumes where it was and charges each company once", function()
    local home, out = recipe.state_home(), tmp_path(".jsonl")
    local args = args_of(companies, 1, 7, "nowhere.invalid", "--out", out)
    -- the client's clock at 1: after a burst of 5 requests, 2 s between calls
    local bg = recipe.spawn(sb, "enrich_company", args, { home = home })
    assert.is_true((sandbox.poll(200, 0.05, function()
      return #lines_of(run.read_file(out)) >= 1
        and (run.read_file(bg.err) or ""):find("rate limit: waiting", 1, true) ~= nil
    end)), "the run never waited for the rate limiter")
    bg:kill("KILL")
    assert.equals(137, bg:wait().code)
    local before = lines_of(run.read_file(out))
    assert.truthy(#before >= 1 and #before < 8, #before .. " records before the kill")
    local charged_before = (ledger(sb))
    assert.equals(#before, charged_before)
    -- the same command again
    local r = recipe.run(sb, "enrich_company", args, { home = home })
    assert.equals(0, r.code, r.stderr)
    assert.matches("resuming the run of", r.stdout .. r.stderr)
    assert.matches(("%d of 8 companies done by an earlier run"):format(#before), r.stdout)
    local recs = decode_lines(run.read_file(out))
    assert.equals(8, #recs) -- rewritten whole, in order
    for i = 1, 7 do
      same_company(companies[i], recs[i])
    end
    assert.is_false(recs[8].found)
    -- each company went out once across the two runs, and was charged once
    local want = args_of(companies, 1, 7, "nowhere.invalid")
    assert.same(want, sent(sb))
    local charges, refunds = ledger(sb)
    assert.equals(8, charges)
    assert.equals(1, refunds)
    assert.equals(START - 7, balance(sb))
    assert.matches("credits charged: +7\n", r.stdout)
    assert.equals("", (run.capture("ls " .. home .. "/cleanlist")))
    recipe.remove(home)
    os.remove(out)
  end)

  it("does not resend a call whose answer was lost: the re-run stops with exit 19", function()
    local home, out = recipe.state_home(), tmp_path(".jsonl")
    local args = args_of(companies, 1, 10, "--out", out)
    local bg = recipe.spawn(sb, "enrich_company", args, { scale = 5, home = home })
    assert.is_true((sandbox.poll(200, 0.05, function()
      return #lines_of(run.read_file(out)) >= 1
    end)), "no record written")
    -- the next call runs (and is charged) but its answer is cut off half-way
    sb:control("POST", "/script", { responses = { { fault = "partial" } } })
    local first = bg:wait()
    assert.equals(4, first.code, first.stderr) -- kind transport
    assert.matches("the outcome is unknown", first.stderr)
    assert.matches("run the same command again", first.stderr)
    local lost = sent(sb)[#sent(sb)]
    local charged = (ledger(sb))
    assert.equals(#sent(sb), charged) -- the lost one was charged too
    sb:clear()
    local r = recipe.run(sb, "enrich_company", args, { scale = 5, home = home })
    assert.equals(19, r.code, r.stderr)
    assert.matches("an earlier run sent company:" .. lost:gsub("%p", "%%%0") .. " at", r.stderr)
    assert.matches("%-%-resend%-unknown", r.stderr)
    assert.equals(0, count(wire.calls(sb), "POST /enrichment/company"))
    assert.equals(charged, (ledger(sb)))
    recipe.remove(home)
    os.remove(out)
  end)
end)
