-- enrich_company: company records for domains or names, as JSON lines or CSV.
-- Run: cleanlist run enrich_company stripe.com "Acme Inc" --max-credits 10
local recipe = require "cleanlist.recipe"
local errors = require "cleanlist.errors"
local json = require "cleanlist.json"
local csv = require "cleanlist.csv"
local files = require "cleanlist.recipe.files"

local PRICE = 1 -- credits per company (README "Credits, quotes and costs"); refunded on a 404

-- The fields of a record in the order a person reads them (JSON lines: these first, then any
-- other field the API gives, by name; CSV: these columns).
local FIELDS = {
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
  "hq_location",
  "hq_city",
  "hq_state",
  "hq_country",
  "linkedin_url",
  "ticker",
  "tech_stack",
  "description",
}
-- The CSV columns: the FIELDS but the two long ones (hq_location repeats city, state and
-- country; description is free text).
local CSV_LEFT_OUT = { hq_location = true, description = true }
local CSV_COLUMNS = {}
for _, field in ipairs(FIELDS) do
  if not CSV_LEFT_OUT[field] then CSV_COLUMNS[#CSV_COLUMNS + 1] = field end
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The values to look up: the operands, then the lines of --file (- for stdin; blank lines and
-- lines starting with # skipped), each once, in order. Returns values, duplicates skipped.
local function gather_values(r)
  local values, seen, dups = {}, {}, 0
  local function add(v)
    v = trim(v)
    if v == "" or v:sub(1, 1) == "#" then return end
    if seen[v] then
      dups = dups + 1
      return
    end
    seen[v] = true
    values[#values + 1] = v
  end
  for _, a in ipairs(r.args) do
    add(a)
  end
  local file = r.opts.file
  if file then
    local f = file == "-" and io.stdin or io.open(file, "rb")
    if not f then r:fail(errors.new { kind = "invalid_request", message = "cannot read --file " .. file }) end
    for line in f:lines() do
      add(line)
    end
    if f ~= io.stdin then f:close() end
  end
  return values, dups
end

-- The request body for a value: a domain when it looks like one (a dot and no space), else a
-- company name.
local function body_for(value)
  if value:find(".", 1, true) and not value:find("%s") then return { domain = value } end
  return { company_name = value }
end

-- A record of the output: the company's fields with the value asked for and whether it was
-- found (a not-found one: query, found = false and the API's message).
local function record_of(value, res)
  local rec = { query = value, found = not res.not_found }
  if res.not_found then
    rec.error = res.message
  elseif type(res.company) == "table" then
    for k, v in pairs(res.company) do
      rec[k] = v
    end
  end
  return rec
end

-- One JSON object with the FIELDS first, then the other keys by name.
local function json_line(rec)
  return files.json_line(rec, FIELDS)
end

local function cell(v)
  if v == nil or v == json.null then return "" end
  if type(v) == "number" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return ("%d"):format(v) end
  if type(v) == "table" then
    local items = {}
    for i, x in ipairs(v) do
      items[i] = tostring(x)
    end
    return table.concat(items, "; ")
  end
  return tostring(v)
end

local function csv_line(rec)
  local row = {}
  for i, c in ipairs(CSV_COLUMNS) do
    row[i] = cell(rec[c])
  end
  return csv.row(row)
end

-- The price of a company and the balance: the client's dry run (1 credit, priced by the
-- client, when the key may not ask it). The whole command is checked against --max-credits
-- (count x price), the companies left against the balance. Under --dry-run the run ends
-- there with the estimate as its summary.
local function price(r, values, left)
  local o = r.opts
  local probe = body_for(values[1])
  probe.dry_run = true
  local est, eerr = r.client:enrich_company(probe)
  if not est and (o.dry_run or eerr.kind ~= "permission") then r:fail(eerr) end
  local each = est and est.estimated_cost or PRICE
  local total = #values * each
  local available = est and est.available_credits
  if o.max_credits and total > o.max_credits then
    r:fail(errors.new {
      kind = "spend_cap",
      code = "spend_cap",
      message = ("the estimate is %s credits (%d companies x %s), more than max_credits = %s; nothing was sent"):format(
        total,
        #values,
        each,
        o.max_credits
      ),
      estimated_cost_credits = total,
      max_credits = o.max_credits,
    })
  end
  if o.dry_run then
    r:say(
      "%d companies x %s credit = %s credits estimated%s (priced by the client; not-found companies are refunded)",
      #values,
      each,
      total,
      type(available) == "number" and (" of %s available"):format(available) or ""
    )
    local sufficient
    if type(available) == "number" then sufficient = available >= total end
    r:emit {
      quote = {
        step = "enrich_company",
        estimated_cost = total,
        price = each,
        companies = #values,
        available_credits = available,
        sufficient = sufficient,
      },
    }
    return each,
      {
        _order = { "asked", "estimated_cost", "available_credits" },
        asked = #values,
        estimated_cost = total,
        available_credits = available,
        dry_run = true,
      }
  end
  if type(available) == "number" and left * each > available then
    r:fail(errors.new {
      kind = "insufficient_credits",
      code = "insufficient_credits",
      message = ("%d companies to look up cost %s credits and the organisation has %s; " .. "nothing was sent"):format(
        left,
        left * each,
        available
      ),
      estimated_cost_credits = left * each,
      available_credits = available,
    })
  end
  return each
end

-- The company of a value, looked up once across runs (paid, 1 credit): the API's record, or
-- { not_found = true, message = } for a company the API does not know (404, refunded).
local function look_up(r, value)
  return r:check(r:once("company:" .. value, function()
    local res, cerr = r.client:enrich_company(body_for(value))
    if res then return res end
    if cerr.kind == "not_found" and cerr.status == 404 then
      return { not_found = true, message = cerr.problem or cerr.message, request_id = cerr.request_id }
    end
    return nil, cerr
  end, {
    paid = true,
    keep = function(res)
      if res.not_found then return res end
      return { company = res.company, credits_charged = res.credits_charged }
    end,
  }))
end

-- Where the records go: stdout, or --out FILE; CSV starts with its header row.
local function open_output(r, to_stdout)
  local o, out = r.opts, io.stdout
  if not to_stdout then
    local f, ferr = io.open(o.out, "wb")
    if not f then
      r:fail(errors.new { kind = "invalid_request", message = "cannot write " .. o.out .. ": " .. tostring(ferr) })
    end
    out = f
  end
  if o.format == "csv" then
    out:write(csv.row(CSV_COLUMNS))
    out:flush()
  end
  return out
end

return recipe.main {
  name = "enrich_company",
  purpose = "company records for domains or names, as JSON lines or CSV.",
  description = [[
Looks up each company given (operands, or one a line in --file; a value with a dot and no
space is a domain, anything else a company name) with one call of POST /enrichment/company
each, one after the other under the client's rate limit, and writes a record per value: the
company's fields (name, domain, industry, employee_count, revenue_range, hq_country, ...) with
`query` (the value asked for) and `found`. A company the API does not know (404) is written
with found = false and counted; it is not a failure, and its credit is refunded.

Each company costs 1 credit (priced by the client: the API has no quote for it); the whole
command is checked against --max-credits (count x 1) and the balance before the first call.
Every call is recorded in the state file: killed or interrupted, the same command resumes,
rewrites the output from the start and pays only for the companies not yet done. A call that
went out without a quote and whose answer was lost (a crash or a cut connection at that very
moment) is not sent again: the run stops with exit status 19 and names it; check the usage
report, then --resend-unknown sends it anyway (it may be paid twice).

Records go to stdout (the summary then goes to stderr) or to --out FILE; under --json the
records are the JSON lines on stdout, followed by the summary.]],
  paid = true,
  operands = { name = "[DOMAIN|NAME ...]" },
  options = {
    { "--file FILE", "read domains or names from FILE, one a line (- for stdin)" },
    { "--format FORMAT", "jsonl or csv", choices = { "jsonl", "csv" }, default = "jsonl", resume = false },
    { "--out FILE", "write the records to FILE instead of stdout", resume = false },
  },
  examples = {
    "cleanlist run enrich_company stripe.com notion.so --dry-run",
    "cleanlist run enrich_company --file domains.txt --format csv --out companies.csv \\",
    "    --max-credits 500",
    "cut -d, -f3 leads.csv | cleanlist run enrich_company --file - > companies.jsonl",
    "cleanlist --sandbox --time-scale 600 run enrich_company goldenfieldadvisory.com",
  },
  run = function(r)
    local o = r.opts
    local values, dups = gather_values(r)
    if #values == 0 then
      r:fail(errors.new {
        kind = "invalid_request",
        exit_status = recipe.EXIT_USAGE,
        message = "no domain or name given (operands or --file)",
      })
    end
    local to_stdout = not o.out or o.out == "-"
    if o.json and to_stdout and o.format == "csv" and not o.dry_run then
      r:fail(errors.new {
        kind = "invalid_request",
        exit_status = recipe.EXIT_USAGE,
        message = "--format csv with --json needs --out FILE (stdout carries the JSON lines)",
      })
    end
    -- Text for a person (r:say) and the summary go to stderr while the records own stdout.
    r.stdout_busy = to_stdout and not o.json and not o.dry_run
    if dups > 0 then r:say("%d duplicate value(s) skipped", dups) end

    -- 1. The companies left (a resumed run has done some), the price and the balance.
    local calls = r.state and r.state.calls or {}
    local left = 0
    for _, v in ipairs(values) do
      local c = calls["company:" .. v]
      if not (c and c.done) then left = left + 1 end
    end
    local each, estimate = price(r, values, left)
    if estimate then return estimate end
    if r.resumed then r:say("%d of %d companies done by an earlier run; %d to go", #values - left, #values, left) end

    -- 2. Each company, once, written out as it comes.
    local out = open_output(r, to_stdout)
    local line = o.format == "csv" and csv_line or json_line
    local found, missing, charged = 0, 0, 0
    for _, v in ipairs(values) do
      local res = look_up(r, v)
      local rec = record_of(v, res)
      if res.not_found then
        missing = missing + 1
        r:say("%s: not found", v)
      else
        found = found + 1
        charged = charged + (tonumber(res.credits_charged) or each)
      end
      out:write(line(rec))
      out:flush()
      if not to_stdout then r:emit { query = v, found = rec.found, name = rec.name, domain = rec.domain } end
    end
    if out ~= io.stdout then out:close() end

    return {
      _order = { "asked", "found", "not_found", "credits_charged", "out" },
      asked = #values,
      found = found,
      not_found = missing,
      credits_charged = charged,
      out = to_stdout and "-" or o.out,
    }
  end,
}
