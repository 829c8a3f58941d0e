-- legacy_bulk: enrich a CSV of contacts with the legacy enrich/bulk API, in jobs of 250, and merge the results.
-- Run: cleanlist run legacy_bulk contacts.csv --type partial --max-credits 600 --out enriched.csv
local legacy_api = require "cleanlist.api.legacy"
local recipe = require "cleanlist.recipe"
local files = require "cleanlist.recipe.files"
local legacy_csv = require "cleanlist.recipe.legacy_csv"

local TYPES = { "none", "partial", "phone_only", "full", "prospecting_only" }

local function usage(r, fmt, ...)
  r:fail {
    exit_status = recipe.EXIT_USAGE,
    message = ("legacy_bulk: " .. fmt):format(...) .. "\nrun `cleanlist run legacy_bulk --help` for its options",
  }
end

-- The contacts of the file, in order: { row = data row number, contact = {field = value} },
-- its text and the columns used (cleanlist.recipe.legacy_csv: the headers it knows).
local function read_contacts(r, path)
  local text, rerr = files.read(path)
  if not text then usage(r, "%s", rerr) end
  local rows, mapped = legacy_csv.contacts(text, path)
  if not rows then usage(r, "%s", mapped) end
  return rows, text, mapped
end

-- The indices (1-based) of the contacts a validation error names, or nil when it names
-- anything else.
local function bad_contacts(err)
  if type(err) ~= "table" or err.kind ~= "invalid_request" or type(err.detail) ~= "table" then return nil end
  local out = {}
  for _, d in ipairs(err.detail) do
    local loc = type(d) == "table" and d.loc
    if type(loc) ~= "table" or loc[1] ~= "body" or loc[2] ~= "contacts" or type(loc[3]) ~= "number" then return nil end
    out[#out + 1] = { index = math.floor(loc[3]) + 1, msg = d.msg }
  end
  return out[1] and out or nil
end

local function add(a, b)
  if type(b) ~= "number" then return a end
  return (a or 0) + b
end

-- The POST /enrich/bulk body of some contacts.
local function bulk_body(r, contacts)
  local list = {}
  for i, c in ipairs(contacts) do
    list[i] = c.contact
  end
  return { contacts = list, enrichment_type = r.opts.type, webhook_url = r.opts.webhook }
end

-- The price of some contacts (the client's dry run), said and emitted; nil and the refusal.
local function quote(r, label, contacts, max_credits)
  return r:quote(label, function(b)
    return r.client:legacy_enrich_bulk(b)
  end, bulk_body(r, contacts), max_credits)
end

-- The contacts to send, the rows skipped and the price. A fresh run prices them (a dry run,
-- which also checks each contact as the client does: the rows it refuses are skipped and the
-- rest priced again); a resumed run takes the rows its plan recorded (and no price).
local function contacts_to_send(r, rows)
  local valid, skipped = {}, {}
  local plan = r.state.plan
  if plan then
    local skip = {}
    for _, n in ipairs(plan.skipped) do
      skip[n] = true
    end
    for _, c in ipairs(rows) do
      if skip[c.row] then
        skipped[#skipped + 1] = c.row
      else
        valid[#valid + 1] = c
      end
    end
    return valid, skipped, nil
  end
  for i, c in ipairs(rows) do
    valid[i] = c
  end
  while #valid > 0 do
    local est, err = quote(r, "legacy bulk", valid)
    if est then
      table.sort(skipped)
      return valid, skipped, est
    end
    local bad = bad_contacts(err)
    if not bad then r:fail(err) end
    local drop = {}
    for _, b in ipairs(bad) do
      local c = valid[b.index]
      if c and not drop[b.index] then
        drop[b.index] = true
        skipped[#skipped + 1] = c.row
        r:note("row %d skipped: %s", c.row, tostring(b.msg))
      end
    end
    local keep = {}
    for i, c in ipairs(valid) do
      if not drop[i] then keep[#keep + 1] = c end
    end
    valid = keep
  end
  table.sort(skipped)
  return valid, skipped, nil
end

-- The jobs: chunks of LEGACY_BATCH contacts in file order.
local function chunks_of(valid)
  local batch, chunks = legacy_api.LEGACY_BATCH, {}
  for j = 1, math.floor((#valid + batch - 1) / batch) do
    local chunk = {}
    for i = (j - 1) * batch + 1, math.min(j * batch, #valid) do
      chunk[#chunk + 1] = valid[i]
    end
    chunks[j] = chunk
  end
  return chunks
end

-- What the state records of job j when it was dispatched: {workflow_id, task_ids, contacts,
-- price}, else nil.
local function recorded(r, j)
  local call = (r.state.calls or {})["chunk:" .. j]
  return call and call.done and call.result or nil
end

-- The plan in the state file: the file's digest, the rows skipped and the price of a contact.
-- A resumed run prices what it has left to send, within what is left of the budget.
local function record_plan(r, chunks, skipped, est, digest, contacts)
  local o, plan = r.opts, r.state.plan
  if not plan then
    r.state.plan = { input = digest, skipped = skipped, per_contact = est.estimated_cost / contacts }
    r:save()
    return
  end
  local pending, spent = {}, 0
  for j, chunk in ipairs(chunks) do
    local rec = recorded(r, j)
    if rec then
      spent = spent + (rec.price or 0)
    else
      for _, c in ipairs(chunk) do
        pending[#pending + 1] = c
      end
    end
  end
  if #pending > 0 then
    est = r:check(
      quote(r, "legacy bulk (the contacts left)", pending, o.max_credits and math.max(0, o.max_credits - spent) or nil)
    )
  end
  plan.per_contact = est and est.estimated_cost / #pending or plan.per_contact
end

-- Dispatches each job once, its id recorded as it goes out. Returns the jobs as recorded.
local function dispatch(r, chunks)
  local wfs, per_contact = {}, r.state.plan.per_contact
  for j, chunk in ipairs(chunks) do
    local earlier = recorded(r, j) ~= nil
    local job = r:check(r:once("chunk:" .. j, function()
      return r.client:legacy_enrich_bulk(bulk_body(r, chunk))
    end, {
      paid = true,
      keep = function(res)
        return {
          workflow_id = res.workflow_id,
          task_ids = res.task_ids,
          contacts = res.total_contacts or #chunk,
          price = per_contact and per_contact * #chunk or nil,
        }
      end,
    }))
    wfs[j] = job
    r:say(
      "job %d/%d: %s, %d contacts (rows %d-%d)%s",
      j,
      #chunks,
      tostring(job.workflow_id),
      job.contacts,
      chunk[1].row,
      chunk[#chunk].row,
      earlier and ", dispatched earlier" or ""
    )
    r:emit {
      step = "dispatch",
      job = j,
      workflow_id = job.workflow_id,
      contacts = job.contacts,
      first_row = chunk[1].row,
      last_row = chunk[#chunk].row,
      earlier = earlier,
    }
  end
  return wfs
end

-- The counters of a finished job added to the summary.
local function count_job(out, st)
  local summary = type(st.summary) == "table" and st.summary or {}
  if st.status == "completed" then out.completed = out.completed + 1 end
  out.successful = add(out.successful, summary.successful)
  out.failed = add(out.failed, summary.failed)
  out.emails_found = add(out.emails_found, summary.emails_found)
  out.phones_found = add(out.phones_found, summary.phones_found)
  out.credits_reserved = add(out.credits_reserved, st.credits_reserved)
  out.credits_charged = add(out.credits_charged, st.credits_charged)
  out.credits_refunded = add(out.credits_refunded, st.credits_refunded)
  return summary
end

local RESULTS_IN = "\nthe results (those jobs' contacts not enriched) are in %s"

-- Waits for every job (free polls), with progress, and merges the results in file order.
local function wait_and_merge(r, wfs, chunks, out)
  local merged, jobs = {}, #chunks
  out.completed = 0
  for j, job in ipairs(wfs) do
    local st =
      r:check(r:wait(job.workflow_id, ("job %d/%d"):format(j, jobs), { timeout = r.opts.timeout, kind = "legacy" }))
    local summary = count_job(out, st)
    local ended = r:run_end(("job %d/%d %s"):format(j, jobs, job.workflow_id), st)
    if ended then out._ended = (out._ended and (out._ended .. "\n") or "") .. ended.message end
    r:emit {
      step = "job",
      job = j,
      workflow_id = job.workflow_id,
      status = st.status,
      summary = summary,
      credits_charged = st.credits_charged,
      credits_refunded = st.credits_refunded,
    }
    local row_of = {}
    for i, id in ipairs(job.task_ids or {}) do
      row_of[id] = chunks[j][i] and chunks[j][i].row
    end
    local results = type(st.results) == "table" and st.results or {}
    if #results < job.contacts then
      r:note("job %d/%d returned %d of its %d results", j, jobs, #results, job.contacts)
    end
    for i, item in ipairs(results) do
      merged[#merged + 1] = legacy_csv.result_row(row_of[item.task_id] or (chunks[j][i] and chunks[j][i].row), item)
    end
  end
  r:say(
    "%d of %d jobs completed: %s emails and %s phones found, %s failed; %s credits charged",
    out.completed,
    jobs,
    tostring(out.emails_found),
    tostring(out.phones_found),
    tostring(out.failed),
    tostring(out.credits_charged)
  )
  return merged
end

-- What each job's webhook deliveries say (free): "N of M delivered".
local function webhook_report(r, wfs)
  local delivered = 0
  for j, job in ipairs(wfs) do
    local d = r:check(r.client:legacy_webhook_deliveries { workflow_id = job.workflow_id })
    local attempts = type(d.deliveries) == "table" and #d.deliveries or 0
    if d.status == "delivered" then delivered = delivered + 1 end
    r:say(
      "job %d/%d: webhook %s after %d attempt%s",
      j,
      #wfs,
      tostring(d.status),
      attempts,
      attempts == 1 and "" or "s"
    )
    r:emit { step = "webhook", job = j, workflow_id = job.workflow_id, status = d.status, attempts = attempts }
  end
  return ("%d of %d delivered"):format(delivered, #wfs)
end

return recipe.main {
  name = "legacy_bulk",
  purpose = "enrich a CSV of contacts with the legacy enrich/bulk API, in jobs of 250, and merge the results.",
  description = [[
Reads contacts from FILE.csv (columns found by their header, any case and spacing:
first_name / first, last_name / last, email, company_domain / domain / website,
company_name / company, linkedin_url / linkedin, title), sends them to the legacy
POST /enrich/bulk in jobs of 250 (the API's cap), waits for every job with progress, and
writes the merged results to --out (CSV, or JSON lines for a FILE ending in .jsonl or, under
--json, not in .csv): one row per contact with its row number in the file, its status,
email, phone and company. A contact needs a linkedin_url, or a first and last name and a
company domain or name: other rows are skipped (and counted). With --webhook URL each job
also posts its results there when it ends; the recipe then reads the webhook deliveries of
every job.
The legacy API has no quotes: the client prices the contacts (the most each can cost at
--type), --dry-run prints that price and the balance, and --max-credits refuses beforehand.
Each job's id is recorded as it is dispatched: killed or interrupted, the same command
resumes, waits on the recorded jobs and never sends a recorded job again (a job sent whose
answer was lost stops the run, exit 19: see --resend-unknown).]],
  paid = true,
  operands = { name = "FILE.csv", min = 1 },
  options = {
    {
      "--type TIER",
      "none (free), partial (email: 1 credit), phone_only (10), full (11) or prospecting_only (1)",
      choices = TYPES,
      default = "partial",
    },
    { "--webhook URL", "a URL each job posts its results to when it ends" },
    {
      "--out FILE",
      "where to write the merged results (default: FILE-enriched.csv, or .jsonl under --json)",
      resume = false,
    },
    recipe.timeout_option("a job"),
  },
  examples = {
    "cleanlist run legacy_bulk contacts.csv --dry-run",
    "cleanlist run legacy_bulk contacts.csv --type full --max-credits 6600 --out enriched.csv",
    "cleanlist run legacy_bulk contacts.csv --webhook https://hooks.example.com/cleanlist --json",
    "cleanlist --sandbox --time-scale 600 run legacy_bulk contacts.csv",
  },
  run = function(r)
    local o = r.opts
    local path = r.args[1]
    if #r.args > 1 then usage(r, "takes one FILE.csv, not %d", #r.args) end
    local rows, text, mapped = read_contacts(r, path)
    local out_path, oerr = files.out_path(path, o.out, o.json and "-enriched.jsonl" or "-enriched.csv")
    if not out_path then usage(r, "%s", oerr) end
    r:say("%s: %d rows; columns %s", path, #rows, mapped)
    local digest = recipe.digest(text)
    if r.state.plan and r.state.plan.input ~= digest then
      usage(
        r,
        "%s changed since the earlier run of this command recorded its jobs: run it "
          .. "with --fresh to start over (the jobs already sent are not cancelled)",
        path
      )
    end

    -- 1. The contacts to send, priced (a resumed run takes the rows its plan recorded).
    local valid, skipped, est = contacts_to_send(r, rows)
    local chunks = chunks_of(valid)
    local out = {
      _order = {
        "file",
        "contacts",
        "skipped",
        "jobs",
        "estimated_cost",
        "available_credits",
        "dry_run",
        "completed",
        "successful",
        "failed",
        "emails_found",
        "phones_found",
        "credits_reserved",
        "credits_charged",
        "credits_refunded",
        "webhook",
        "out",
        "out_rows",
      },
      file = path,
      contacts = #valid,
      skipped = #skipped,
      jobs = #chunks,
    }
    if #valid == 0 then
      r:say("no contact to send")
      return out
    end
    if o.dry_run then
      out.estimated_cost, out.available_credits, out.dry_run = est.estimated_cost, est.available_credits, true
      r:say("dry run: %d contacts in %d jobs; nothing was sent or spent", #valid, #chunks)
      return out
    end
    record_plan(r, chunks, skipped, est, digest, #valid)

    -- 2. Dispatch each job of 250 once, its id recorded as it goes out.
    local wfs = dispatch(r, chunks)

    -- 3. Wait for every job, with progress; merge the results in file order.
    local merged = wait_and_merge(r, wfs, chunks, out)

    -- 4. With --webhook: what each job's deliveries say.
    if o.webhook then out.webhook = webhook_report(r, wfs) end

    -- 5. The merged results.
    local ok, werr = legacy_csv.write(out_path, merged, recipe.jsonl_path(out_path, o))
    if not ok then r:fail { message = werr } end
    r:say("wrote %d rows to %s", #merged, out_path)
    r:emit { step = "out", path = out_path, rows = #merged }
    out.out, out.out_rows = out_path, #merged
    if out._ended then r:fail(recipe.run_ended(out._ended .. RESULTS_IN:format(out_path))) end -- once written
    return out
  end,
}
