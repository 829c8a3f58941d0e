-- smart_agent_column: run a smart agent (a preset or your prompt) over a list and write the new column out.
-- Run: cleanlist run smart_agent_column --list NAME --agent title_normalizer --column Title --out title.csv
local agents_api = require "cleanlist.api.agents"
local csv = require "cleanlist.csv"
local json = require "cleanlist.json"
local recipe = require "cleanlist.recipe"

-- Credits per succeeded row by agent type, used when the run's final status does not carry
-- what it charged.
local RATES = require("cleanlist.api.agents").AGENT_RATES

local PREVIEW = 10 -- rows shown to a person when there is no --out

local function usage(r, fmt, ...)
  r:fail {
    exit_status = recipe.EXIT_USAGE,
    message = ("smart_agent_column: " .. fmt):format(...)
      .. "\nrun `cleanlist run smart_agent_column --help` for its options",
  }
end

local function str(v)
  return type(v) == "string" and v ~= "" and v or nil
end

-- The leads of the list whose ids are in `wanted` (a set), by lead_id: name and email. Free.
local function leads_of(r, list_id, wanted)
  local out = {}
  local it = r.client:iter_leads(list_id, { limit = 100 })
  for lead in it do
    if wanted[lead.lead_id] then
      local name = str(lead.full_name)
      if not name then
        local parts = {}
        for _, k in ipairs { "first_name", "last_name" } do
          if str(lead[k]) then parts[#parts + 1] = lead[k] end
        end
        name = parts[1] and table.concat(parts, " ") or nil
      end
      out[lead.lead_id] = { name = name, email = str(lead.email) }
    end
  end
  if it.err then r:fail(it.err) end
  return out
end

local function plain(v)
  if v == nil or v == json.null then return nil end
  if type(v) == "table" then return json.encode(v) end
  return tostring(v)
end

-- A row as a JSON record (missing values as null).
local function record(row, column)
  return {
    lead_id = row.lead_id,
    name = row.name or json.null,
    email = row.email or json.null,
    column = column,
    value = row.value == nil and json.null or row.value,
    error = row.error or json.null,
  }
end

-- The rows written out: { lead_id, name, email, value, error }.
local function write_rows(r, path, column, rows)
  local f, err = io.open(path, "wb")
  if not f then r:fail { message = ("cannot write %s: %s"):format(path, tostring(err)) } end
  if recipe.jsonl_path(path, r.opts) then
    for _, row in ipairs(rows) do
      f:write(json.encode(record(row, column)), "\n")
    end
  else
    f:write(csv.row { "lead_id", "name", "email", column, "error" })
    for _, row in ipairs(rows) do
      f:write(csv.row { row.lead_id, row.name or "", row.email or "", plain(row.value) or "", row.error or "" })
    end
  end
  f:close()
end

local function one_line(s, max)
  s = s:gsub("%s+", " ")
  if #s > max then s = s:sub(1, max - 3) .. "..." end
  return s
end

-- The agent the options ask for (a preset --agent, or custom_ai with --prompt), the options
-- checked against each other.
local function agent_of(r)
  local o = r.opts
  if not o.column or o.column == "" then usage(r, "needs --column NAME (the column to fill)") end
  local agent = o.agent or (o.prompt and "custom_ai")
  if not agent then usage(r, "needs --prompt TEXT (your own agent) or --agent TYPE (a preset)") end
  if agent == "custom_ai" and (not o.prompt or o.prompt:match("^%s*$")) then
    usage(r, "--agent custom_ai needs --prompt TEXT")
  end
  if agent ~= "custom_ai" and o.prompt then
    usage(r, "--prompt goes with --agent custom_ai; the preset %s takes no prompt", agent)
  end
  if o.max_rows and o.scope == "all" then usage(r, "--max-rows goes with --scope subset") end
  if o.max_rows and (o.max_rows < 1 or o.max_rows > 10000 or o.max_rows ~= math.floor(o.max_rows)) then
    usage(r, "--max-rows takes a whole number from 1 to 10000")
  end
  return agent
end

-- The list that --list-id or --list names (free), said and emitted.
local function list_of(r)
  local list = r:find_list()
  r:say("list '%s' (%s): %s leads", tostring(list.name), list.list_id, tostring(list.lead_count))
  r:emit { step = "list", list_id = list.list_id, list = list.name, lead_count = list.lead_count }
  return list
end

-- The POST body of the run: the agent over the list, filling the column.
local function body_of(r, list, agent)
  local o = r.opts
  return {
    list_id = list.list_id,
    column_name = o.column,
    agent_type = agent,
    prompt = agent == "custom_ai" and o.prompt or nil,
    lead_scope = o.scope,
    max_rows = o.max_rows and math.floor(o.max_rows) or nil,
    overwrite = o.overwrite or nil,
  }
end

-- The summary of the run; each step adds its part.
local function summary_of(list, agent, column)
  return {
    _order = {
      "list",
      "list_id",
      "agent",
      "column",
      "run_id",
      "status",
      "rows",
      "succeeded",
      "failed",
      "estimated_cost",
      "credits_charged",
      "quote_id",
      "dry_run",
      "out",
      "out_rows",
    },
    list = list.name,
    list_id = list.list_id,
    agent = agent,
    column = column,
  }
end

-- Under --dry-run: the quote of the run, added to the summary `out`, which is returned.
local function quote(r, agent, run_agent, body, out)
  local est = r:check(r:quote("smart agent", run_agent, body))
  local rows = type(est.estimate) == "table" and est.estimate.row_count or nil
  r:say("dry run: %s would run on %s leads; nothing was spent", agent, tostring(rows))
  out.rows, out.estimated_cost, out.quote_id, out.dry_run = rows, est.estimated_cost, est.quote_id, true
  return out
end

-- Starts the run (paid, quoted first within --max-credits, once). Returns its id.
local function start(r, agent, run_agent, body, out)
  local run = r:check(r:paid("run", run_agent, body, {
    keep = function(res)
      return {
        smart_agent_task_id = res.smart_agent_task_id,
        estimated_cost = res.estimated_cost,
      }
    end,
  }))
  local id = run.smart_agent_task_id
  r:say("smart agent %s (%s) filling '%s': about %s credits", id, agent, r.opts.column, tostring(run.estimated_cost))
  r:emit {
    step = "run",
    smart_agent_task_id = id,
    agent_type = agent,
    column = r.opts.column,
    estimated_cost = run.estimated_cost,
  }
  out.estimated_cost = run.estimated_cost
  return id
end

-- Waits for the run (free polls), with progress; its outcome goes into the summary `out`.
-- Returns the run's result rows.
local function wait_for(r, id, agent, out)
  local done = r:check(r:wait(id, agent, { timeout = r.opts.timeout, kind = "smart_agent" }))
  local results = type(done.results) == "table" and done.results or {}
  local charged = type(done.credits_charged) == "number" and done.credits_charged or nil
  if not charged and RATES[agent] and type(done.succeeded) == "number" then
    charged = math.ceil(RATES[agent] * done.succeeded - 1e-9)
  end
  r:say(
    "smart agent %s: %s, %s succeeded, %s failed",
    id,
    tostring(done.status),
    tostring(done.succeeded),
    tostring(done.failed)
  )
  r:emit {
    step = "done",
    smart_agent_task_id = id,
    status = done.status,
    total = done.total,
    succeeded = done.succeeded,
    failed = done.failed,
    credits_charged = charged,
  }
  out.run_id, out.status, out.rows = id, done.status, done.total or #results
  out.succeeded, out.failed = done.succeeded, done.failed
  out.credits_charged = charged
  return results, r:run_end("smart agent " .. id, done, "succeeded")
end

-- The column, joined with the leads' names and emails (free): { lead_id, name, email, value,
-- error } a row.
local function rows_of(r, list_id, results)
  local wanted = {}
  for _, row in ipairs(results) do
    wanted[row.lead_id] = true
  end
  local who = leads_of(r, list_id, wanted)
  local rows = {}
  for i, row in ipairs(results) do
    local lead = who[row.lead_id] or {}
    rows[i] = {
      lead_id = row.lead_id,
      name = lead.name,
      email = lead.email,
      value = row.value ~= json.null and row.value or nil,
      error = str(row.error),
    }
  end
  return rows
end

-- The rows: to --out; else as {"row": ...} lines under --json; else the first ones for a person.
local function show(r, rows, out)
  local o = r.opts
  if o.out then
    write_rows(r, o.out, o.column, rows)
    r:say("wrote %d rows to %s", #rows, o.out)
    r:emit { step = "out", path = o.out, rows = #rows }
    out.out, out.out_rows = o.out, #rows
  elseif o.json then
    for _, row in ipairs(rows) do
      r:emit { row = record(row, o.column) }
    end
  else
    for i = 1, math.min(#rows, PREVIEW) do
      local row = rows[i]
      r:say(
        "  %s: %s",
        row.name or row.email or row.lead_id,
        row.error and ("(failed: " .. row.error .. ")") or one_line(plain(row.value) or "", 90)
      )
    end
    if #rows > PREVIEW then r:say("  ... and %d more (--out FILE writes them all)", #rows - PREVIEW) end
  end
end

return recipe.main {
  name = "smart_agent_column",
  purpose = "run a smart agent (a preset or your prompt) over a list and write the new column out.",
  description = [[
Runs a smart agent over the leads of a list (--list-id ID, or --list NAME): your --prompt
(agent type custom_ai), or a preset --agent (cold_intro_email, title_normalizer,
company_intel, pain_point_hypothesis), filling the column --column for the first --max-rows
leads (--scope subset, the default; the API takes 100 when not told) or every lead (--scope
all). The run is quoted first and goes out within --max-credits; it is waited on with
progress, then the new column is written to --out FILE: CSV (lead_id, name, email, the
column, error), or JSON lines for a FILE ending in .jsonl (or, under --json, not in .csv).
Without --out, --json puts the rows on stdout as {"row": ...} lines and a person sees the
first rows.
The summary gives the rows, how many succeeded and failed, and the credits charged (a run
bills the rows that succeed). Killed or interrupted, the same command resumes on the same
run: it is sent once and never paid twice.]],
  paid = true,
  options = {
    recipe.list_options("to run on"),
    { "--prompt TEXT", "your instruction for each lead (agent type custom_ai)" },
    {
      "--agent TYPE",
      "the agent type: " .. table.concat(agents_api.AGENT_TYPES, ", ") .. " (default custom_ai with --prompt)",
      choices = agents_api.AGENT_TYPES,
    },
    { "--column NAME", "the column to fill (1-100 characters)" },
    {
      "--scope SCOPE",
      "subset (the first --max-rows leads) or all (the whole list)",
      choices = { "subset", "all" },
      default = "subset",
    },
    { "--max-rows N", "how many leads a subset run takes (1-10000; the API's default is 100)", number = true },
    { "--overwrite", "replace the values an earlier run wrote in that column (else kept)" },
    { "--out FILE", "where to write the column (CSV; JSON lines for .jsonl, or under --json)", resume = false },
    recipe.timeout_option("the run"),
  },
  examples = {
    "cleanlist run smart_agent_column --list 'Example: Sales leaders in Software (US)' \\",
    "    --agent title_normalizer --column 'Title (clean)' --dry-run",
    "cleanlist run smart_agent_column --list-id list_250eb634 --column 'Why now' \\",
    "    --prompt 'Why would this company buy now?' --max-rows 50 --max-credits 60 --out why.csv",
    "cleanlist --sandbox --time-scale 600 run smart_agent_column \\",
    "    --list 'Example: Engineering leaders in Fintech' \\",
    "    --agent company_intel --column Intel --json",
  },
  run = function(r)
    local agent = agent_of(r)

    -- 1. The list (free).
    local list = list_of(r)

    local body = body_of(r, list, agent)
    local run_agent = function(b)
      return r.client:run_smart_agent(b)
    end
    local out = summary_of(list, agent, r.opts.column)
    if r.opts.dry_run then return quote(r, agent, run_agent, body, out) end

    -- 2. The run (paid, quoted first within --max-credits, once).
    local id = start(r, agent, run_agent, body, out)

    -- 3. Wait, with progress.
    local results, ended = wait_for(r, id, agent, out)

    -- 4. The column, joined with the leads' names and emails, written out or shown (a run
    -- that failed: the rows it did, then the failure).
    show(r, rows_of(r, list.list_id, results), out)
    if ended then
      ended.message = ("%s The %s rows it did are in the column."):format(ended.message, tostring(out.succeeded))
      r:fail(ended)
    end
    return out
  end,
}
