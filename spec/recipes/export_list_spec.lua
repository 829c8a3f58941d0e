-- The recipe `cleanlist run export_list`, spawned as a user runs it against a sandbox
-- (--seed 7, --time-scale 600): a list of 1,000 leads (two CSV imports, as
-- spec/functional/api_lists_spec.lua builds it) and the seeded "Example: Engineering leaders
-- in Fintech" (40 leads) exported to JSON lines and to CSV. Every lead id of the list (read
-- with the real client) appears once in the output; the columns are the ones asked for; the
-- JSON pages of 500 are fetched one by one (counted in the request log) and written as they
-- arrive (the file holds the first page while the second is held back); a 503 on a page is
-- survived; a failed page leaves no file behind.
local cjson = require "cjson"
local sandbox = require "spec.helpers.sandbox"
local recipe = require "spec.helpers.recipe"
local count, summary_of = recipe.count, recipe.summary_of
local tmp_path, lines_of, decode_lines = recipe.tmp_path, recipe.lines_of, recipe.json_lines
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local run = require "spec.helpers.run"
local api = require "spec.helpers.api"

local PREFIX = wire.PREFIX
local BIG = "A thousand leads for export_list"
local FINTECH = "Example: Engineering leaders in Fintech" -- 40 leads
local HEADER =
  { "lead_id", "first_name", "last_name", "email", "title", "company", "domain", "linkedin_url", "phone", "location" }

local rows_csv, ROWS_MAPPING = api.rows_csv, api.ROWS_MAPPING

-- Every lead id of a list, by the real client.
local function lead_ids(sb, list_id)
  local ids = {}
  local it = clients.new(sb):iter_leads(list_id, { limit = 100 })
  for lead in it do
    ids[#ids + 1] = lead.lead_id
  end
  assert.is_nil(it.err)
  return ids
end

-- Each id of `want` appears exactly once in `got`, and nothing else does.
local function same_ids_once(want, got)
  local seen = {}
  for _, id in ipairs(got) do
    assert.is_nil(seen[id], id .. " twice")
    seen[id] = true
  end
  for _, id in ipairs(want) do
    assert.is_true(seen[id], id .. " missing")
  end
  assert.equals(#want, #got)
end

-- The GET /export/json requests of the log: their cursors ("-" for none) and limits.
local function export_pages(sb)
  local cursors, limits = {}, {}
  for _, r in ipairs(sb:requests()) do
    if r.method == "GET" and r.path == PREFIX .. "/export/json" then
      cursors[#cursors + 1] = (r.query or ""):match("cursor=([^&]+)") or "-"
      limits[#limits + 1] = (r.query or ""):match("limit=(%d+)")
    end
  end
  return cursors, limits
end

-- Scripts `items` for the request that the last run made as its `index`-th, letting the ones
-- before it through untouched (a stall of 0 ms runs the handler and answers at once).
local function script_at(sb, index, items)
  local responses = {}
  if index > 1 then responses[1] = { fault = "stall", ms = 0, times = index - 1 } end
  for _, it in ipairs(items) do
    responses[#responses + 1] = it
  end
  sb:control("POST", "/script", { responses = responses })
end

local function index_of(calls, call, nth)
  local n = 0
  for i, c in ipairs(calls) do
    if c == call then
      n = n + 1
      if n == nth then return i end
    end
  end
  error("no " .. call .. " #" .. nth)
end

describe("recipe export_list", function()
  local sb = sandbox.suite { args = { "--time-scale", "600", "--seed", "7", "--rate-limit", "off" }, clear = true }
  local big, fintech, big_ids, fintech_ids

  setup(function()
    local c = clients.new(sb)
    big = assert(c:create_list { name = BIG }).list_id
    for _, first in ipairs { 1, 501 } do
      local res = assert(
        c:csv_import(big, { csv = rows_csv(first, 500), column_mapping = ROWS_MAPPING, dispatch_enrichment = false })
      )
      assert(res.rows_imported == 500, "imported " .. tostring(res.rows_imported))
    end
    fintech = wire.list_named(c, FINTECH)
    big_ids, fintech_ids = lead_ids(sb, big), lead_ids(sb, fintech)
    assert(#big_ids == 1000 and #fintech_ids == 40)
  end)

  it("streams 1,000 leads to JSON lines in two pages of 500, each lead once", function()
    local out = tmp_path(".jsonl")
    sb:clear()
    local r = recipe.run(
      sb,
      "export_list",
      { "--list", BIG, "--format", "jsonl", "--out", out, "--json" },
      { scale = 600 }
    )
    assert.equals(0, r.code, r.stderr)
    local text = assert(run.read_file(out))
    local leads = decode_lines(text)
    local ids = {}
    for i, l in ipairs(leads) do
      ids[i] = l.lead_id
      assert.equals(("p%d@big.example"):format(i), l.email) -- in the list's order
    end
    same_ids_once(big_ids, ids)
    -- the default columns, nothing else
    local keys = {}
    for k in pairs(leads[1]) do
      keys[#keys + 1] = k
    end
    table.sort(keys)
    local want = {}
    for i, c in ipairs(HEADER) do
      want[i] = c
    end
    table.sort(want)
    assert.same(want, keys)
    -- constant memory: the list came in pages of 500, one request after the other
    local cursors, limits = export_pages(sb)
    assert.same({ "-", "500" }, cursors)
    assert.same({ "500", "500" }, limits)
    assert.equals(1, count(wire.calls(sb), "GET /lead-lists")) -- the name resolved in one page
    local s = summary_of(r)
    assert.equals(1000, s.leads)
    assert.equals(2, s.pages)
    assert.equals(#text, s.bytes)
    assert.equals(out, s.path)
    assert.equals(big, s.list_id)
    assert.equals(BIG, s.list)
    assert.is_nil(run.read_file(out .. ".part"))
    os.remove(out)
  end)

  it("writes each page as it arrives: the first 500 leads are in the file while page 2 is held", function()
    local out = tmp_path(".jsonl")
    local args = { "--list-id", big, "--format", "jsonl", "--out", out }
    local first = recipe.run(sb, "export_list", args, { scale = 600 })
    assert.equals(0, first.code, first.stderr)
    local page2 = index_of(wire.calls(sb), "GET /export/json", 2)
    sb:clear()
    script_at(sb, page2, { { fault = "stall", ms = 3000 } })
    os.remove(out)
    local bg = recipe.spawn(sb, "export_list", args, { scale = 600 })
    local ok = sandbox.poll(100, 0.05, function()
      local t = run.read_file(out .. ".part")
      return t ~= nil and #lines_of(t) == 500
    end)
    assert.is_true(ok, "the first page never reached the file on its own")
    assert.is_nil(run.read_file(out)) -- not complete yet: still under its .part name
    local r = bg:wait()
    assert.equals(0, r.code, r.stderr)
    assert.equals(1000, #lines_of(assert(run.read_file(out))))
    assert.matches("leads: +1000\npages: +2\n", r.stdout)
    os.remove(out)
  end)

  it("streams the list to CSV: the header, and every lead id once", function()
    local out = tmp_path(".csv")
    local r = recipe.run(sb, "export_list", { "--list-id", big, "--out", out, "--json" }, { scale = 600 })
    assert.equals(0, r.code, r.stderr)
    local text = assert(run.read_file(out))
    local rows = api.parse_csv(text)
    assert.same(HEADER, rows[1])
    local ids = {}
    for i = 2, #rows do
      ids[#ids + 1] = rows[i][1]
    end
    same_ids_once(big_ids, ids)
    assert.equals("p1000@big.example", rows[1001][4])
    assert.same(
      { "GET /lead-lists/" .. big, "POST /export/csv/signed-url" },
      (function()
        local out_calls = {}
        for _, c in ipairs(wire.calls(sb)) do
          if c ~= "GET /whoami" then out_calls[#out_calls + 1] = c end
        end
        return out_calls
      end)()
    )
    local s = summary_of(r)
    assert.equals(1000, s.leads)
    assert.equals(#text, s.bytes)
    assert.equals(out, s.path)
    assert.equals("csv", s.format)
    os.remove(out)
  end)

  it("exports the columns asked for, in their order, in both formats", function()
    local cols = { "lead_id", "email", "company", "title" }
    -- what the API gives for them, by the real client
    local want = assert(clients.new(sb):iter_export_json { list_id = fintech, limit = 100, columns = cols }:all())
    assert.equals(40, #want)
    local csv_out, json_out = tmp_path(".csv"), tmp_path(".jsonl")
    local r = recipe.run(
      sb,
      "export_list",
      { "--list", FINTECH, "--columns", "lead_id,email,company,title", "--out", csv_out },
      { scale = 600 }
    )
    assert.equals(0, r.code, r.stderr)
    local rows = api.parse_csv(assert(run.read_file(csv_out)))
    assert.same(cols, rows[1])
    assert.equals(41, #rows)
    for i, lead in ipairs(want) do
      assert.equals(lead.lead_id, rows[i + 1][1])
      assert.equals(lead.company, rows[i + 1][3])
      assert.equals(lead.title, rows[i + 1][4])
    end
    r = recipe.run(sb, "export_list", {
      "--list-id",
      fintech,
      "--format",
      "jsonl",
      "--columns",
      "lead_id",
      "--columns",
      "email,company,title",
      "--out",
      json_out,
    }, { scale = 600 })
    assert.equals(0, r.code, r.stderr)
    local lines = lines_of(assert(run.read_file(json_out)))
    assert.equals(40, #lines)
    local ids = {}
    for i, line in ipairs(lines) do
      -- the keys in the order asked for
      local a, b, c, d =
        line:find('"lead_id"', 1, true),
        line:find('"email"', 1, true),
        line:find('"company"', 1, true),
        line:find('"title"', 1, true)
      assert.truthy(a < b and b < c and c < d, line)
      local lead = cjson.decode(line)
      assert.equals(want[i].lead_id, lead.lead_id)
      assert.equals(want[i].company, lead.company)
      assert.equals(want[i].title, lead.title)
      assert.is_nil(lead.first_name)
      ids[i] = lead.lead_id
    end
    same_ids_once(fintech_ids, ids)
    os.remove(csv_out)
    os.remove(json_out)
  end)

  it("names the CSV after the list, and writes JSON lines to stdout with the summary on stderr", function()
    local dir = recipe.state_home()
    local root = (run.capture("pwd")):gsub("%s+$", "")
    local bin = run.bin()
    if bin:sub(1, 1) ~= "/" then bin = root .. "/" .. bin end
    local env = recipe.env(sb, { scale = 600, env = { CLEANLIST_RECIPES = root .. "/recipes" } })
    local parts, set = {}, {} -- env takes -u before the assignments
    for k, v in pairs(env) do
      if v == false then
        parts[#parts + 1] = "-u " .. k
      else
        set[#set + 1] = k .. "=" .. run.quote(v)
      end
    end
    for _, a in ipairs(set) do
      parts[#parts + 1] = a
    end
    local r = run.sh(
      "cd "
        .. run.quote(dir)
        .. " && env "
        .. table.concat(parts, " ")
        .. " "
        .. run.quote(bin)
        .. " run export_list --list "
        .. run.quote(FINTECH)
    )
    assert.equals(0, r.code, r.stderr)
    local text = assert(run.read_file(dir .. "/example-engineering-leaders-in-fintech.csv"))
    assert.equals(41, #api.parse_csv(text))
    assert.matches("path: +example%-engineering%-leaders%-in%-fintech%.csv\n", r.stdout)
    assert.matches("leads: +40\n", r.stdout)
    recipe.remove(dir)

    r = recipe.run(sb, "export_list", { "--list-id", fintech, "--format", "jsonl" }, { scale = 600 })
    assert.equals(0, r.code, r.stderr)
    local ids = {}
    for i, lead in ipairs(decode_lines(r.stdout)) do
      ids[i] = lead.lead_id
    end
    same_ids_once(fintech_ids, ids)
    assert.matches("leads: +40\n", r.stderr)
    assert.matches("pages: +1\n", r.stderr)
  end)

  it("survives a 503 on the second page", function()
    local out = tmp_path(".jsonl")
    local args = { "--list-id", big, "--format", "jsonl", "--out", out, "--json" }
    assert.equals(0, recipe.run(sb, "export_list", args, { scale = 600 }).code)
    local page2 = index_of(wire.calls(sb), "GET /export/json", 2)
    sb:clear()
    script_at(sb, page2, { { fault = "503" } })
    local r = recipe.run(sb, "export_list", args, { scale = 600 })
    assert.equals(0, r.code, r.stderr)
    assert.equals(1, count(wire.statuses(sb), 503))
    local cursors = export_pages(sb)
    assert.same({ "-", "500", "500" }, cursors) -- page 2 asked again
    local ids = {}
    for i, l in ipairs(decode_lines(assert(run.read_file(out)))) do
      ids[i] = l.lead_id
    end
    same_ids_once(big_ids, ids)
    assert.equals(1000, summary_of(r).leads)
    os.remove(out)
  end)

  it("ends on a page that keeps failing with its kind's status and leaves no file", function()
    local out = tmp_path(".jsonl")
    local args = { "--list-id", big, "--format", "jsonl", "--out", out }
    assert.equals(0, recipe.run(sb, "export_list", args, { scale = 600 }).code)
    os.remove(out)
    local page2 = index_of(wire.calls(sb), "GET /export/json", 2)
    sb:clear()
    script_at(sb, page2, { { fault = "500", times = 3 } })
    local r = recipe.run(sb, "export_list", args, { scale = 600 })
    assert.equals(14, r.code, r.stderr)
    assert.matches("kind: server", r.stderr)
    assert.is_nil(run.read_file(out))
    assert.is_nil(run.read_file(out .. ".part"))
  end)

  it("refuses an unknown list name (exit 9) and bad arguments (exit 2), exporting nothing", function()
    local r = recipe.run(sb, "export_list", { "--list", "No such list" }, { scale = 600 })
    assert.equals(9, r.code)
    assert.matches('no list called "No such list"', r.stderr)
    r = recipe.run(sb, "export_list", {}, { scale = 600 })
    assert.equals(2, r.code)
    assert.matches("give one of %-%-list%-id ID or %-%-list NAME", r.stderr)
    r = recipe.run(sb, "export_list", { "--list-id", big, "--format", "xml" }, { scale = 600 })
    assert.equals(2, r.code)
    assert.matches("%-%-format takes one of csv, jsonl, not 'xml'", r.stderr)
    r = recipe.run(sb, "export_list", { "--list-id", big, "--format", "jsonl", "--json" }, { scale = 600 })
    assert.equals(2, r.code)
    for _, c in ipairs(wire.calls(sb)) do
      assert.is_nil(c:find("export", 1, true), c)
    end
  end)
end)
