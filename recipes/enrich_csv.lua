-- enrich_csv: import a CSV of contacts into a lead list, enrich the list, and write it out as CSV.
-- Run: cleanlist run enrich_csv contacts.csv --type partial --max-credits 100
local csv = require "cleanlist.csv"
local lists_api = require "cleanlist.api.lists"
local recipe = require "cleanlist.recipe"
local files = require "cleanlist.recipe.files"

-- Headers recognised without --map: the header lowered, with everything but letters and digits
-- removed -> the field it is mapped to (the first such column of the file wins).
local ALIASES = {
  email = { "email", "emailaddress", "workemail", "businessemail" },
  first_name = { "firstname", "first", "givenname" },
  last_name = { "lastname", "last", "surname", "familyname" },
  full_name = { "fullname", "name", "contactname" },
  company_name = { "company", "companyname", "organization", "organisation", "account", "accountname", "employer" },
  company_domain = { "companydomain", "domain", "website", "companywebsite" },
  linkedin_url = { "linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl", "personlinkedinurl" },
  job_title = { "jobtitle", "title", "position" },
  phone = { "phone", "phonenumber" },
  mobile_phone = { "mobilephone", "mobile", "cellphone" },
  work_phone = { "workphone", "officephone" },
  city = { "city" },
  state = { "state", "region" },
  country = { "country" },
}

-- The default mapping {field = header} of a header row.
local function detect(header)
  local mapping = {}
  for field, i in pairs(recipe.header_columns(header, ALIASES)) do
    mapping[field] = csv.trim(header[i])
  end
  return mapping
end

-- The mapping with the --map FIELD=HEADER entries on top (FIELD= drops the field), or nil and
-- what is wrong with an entry.
local function apply_maps(mapping, maps, header)
  local known, present = {}, {}
  for _, f in ipairs(lists_api.CSV_FIELDS) do
    known[f] = true
  end
  for _, h in ipairs(header) do
    present[csv.trim(h):lower()] = true
  end
  for _, m in ipairs(maps or {}) do
    local field, col = m:match("^%s*([%w_]+)%s*=(.*)$")
    if not field then return nil, ("--map takes FIELD=HEADER, not '%s'"):format(m) end
    if not known[field] then
      return nil,
        ("--map: '%s' is not a field a column can be mapped to (%s)"):format(
          field,
          table.concat(lists_api.CSV_FIELDS, ", ")
        )
    end
    col = csv.trim(col)
    if col == "" then
      mapping[field] = nil
    elseif not present[col:lower()] then
      return nil,
        ("--map %s=%s: the file's header has no column '%s' (it has: %s)"):format(
          field,
          col,
          col,
          table.concat(header, ", ")
        )
    else
      mapping[field] = col
    end
  end
  return mapping
end

local function usage(r, fmt, ...)
  r:fail { exit_status = recipe.EXIT_USAGE, message = fmt:format(...) }
end

-- The file, read: its text, its column mapping (from the header and --map) and its rows
-- counted. Nothing is sent yet.
local function read_csv(r, path)
  local text, rerr = files.read(path)
  if not text then usage(r, "%s", rerr) end
  local header, rows_read = csv.shape(text)
  if #header == 0 then usage(r, "%s is empty: it needs a header row", path) end
  local mapping, merr = apply_maps(detect(header), r.opts.map, header)
  if not mapping then usage(r, "%s", merr) end
  if next(mapping) == nil then
    usage(
      r,
      "no column of %s is one the recipe knows (%s): map them with --map FIELD=HEADER",
      path,
      table.concat(header, ", ")
    )
  end
  return text, mapping, rows_read
end

-- The import (free, once): its idempotency key is made of the list, the mapping and the
-- file, so a run that lost its state and imports again is answered with the first import.
-- Returns what the import says (rows parsed, imported, skipped and why).
local function import(r, list, path, mapping, text, rows_read)
  local digest = recipe.digest(text)
  local key = "enrich_csv-"
    .. recipe.digest(list.list_id .. "\0" .. files.mapping_text(mapping) .. "\0" .. digest)
    .. digest
  local imported = r:check(r:once("import", function()
    return r.client:csv_import(
      list.list_id,
      { file = path, column_mapping = mapping, dispatch_enrichment = false, idempotency_key = key }
    )
  end, {
    keep = function(res)
      return {
        list_id = res.list_id,
        rows_parsed = res.rows_parsed,
        rows_imported = res.rows_imported,
        rows_skipped = res.rows_skipped,
        skip_reasons = res.skip_reasons,
        sample_skip_rows = res.sample_skip_rows,
        replayed = res.idempotency_replayed,
        idempotency_key = key,
      }
    end,
    idempotent = true,
  }))
  if imported.idempotency_key ~= key then
    r:note(
      "%s (or the list) changed since an earlier run of this command imported it: the "
        .. "list holds the rows imported then (--fresh imports the file again)",
      path
    )
  end
  local reasons = {}
  for k, v in pairs(imported.skip_reasons or {}) do
    reasons[#reasons + 1] = k .. " " .. tostring(v)
  end
  table.sort(reasons)
  r:say(
    "imported %d of %d rows into '%s' (%s)%s%s",
    imported.rows_imported or 0,
    imported.rows_parsed or rows_read,
    list.name,
    list.list_id,
    (imported.rows_skipped or 0) > 0 and ("; skipped %d: %s"):format(imported.rows_skipped, table.concat(reasons, ", "))
      or "",
    imported.replayed and " (replayed: imported by an earlier run)" or ""
  )
  r:emit {
    step = "import",
    list_id = list.list_id,
    list = list.name,
    rows_parsed = imported.rows_parsed,
    rows_imported = imported.rows_imported,
    rows_skipped = imported.rows_skipped,
    skip_reasons = imported.skip_reasons,
    sample_skip_rows = imported.sample_skip_rows,
    replayed = imported.replayed,
    idempotency_key = key,
  }
  return imported
end

-- The paid call of the enrichment (client:enrich_list) and its body.
local function enrich_list(r)
  return function(b)
    return r.client:enrich_list(b)
  end
end

local function enrich_body(r, list)
  return { list_id = list.list_id, scope = r.opts.type }
end

-- Enriches the list (paid, quoted first, once) and waits with progress; the outcome goes
-- into the summary `out`.
local function enrich(r, list, out)
  local run = r:check(r:paid("enrich", enrich_list(r), enrich_body(r, list), {
    keep = function(res)
      return {
        workflow_id = res.workflow_id,
        credits_reserved = res.credits_reserved,
        total_leads = res.total_leads,
      }
    end,
  }))
  r:say(
    "enrichment %s of %s leads: %s credits reserved",
    run.workflow_id,
    tostring(run.total_leads),
    tostring(run.credits_reserved)
  )
  r:emit {
    step = "enrich",
    workflow_id = run.workflow_id,
    total_leads = run.total_leads,
    credits_reserved = run.credits_reserved,
  }
  local done = r:check(r:wait(run.workflow_id, "enriching", { timeout = r.opts.timeout }))
  local summary = type(done.summary) == "table" and done.summary or {}
  r:say("enrichment %s: %s", run.workflow_id, tostring(done.status))
  r:emit {
    step = "enriched",
    status = done.status,
    completed = done.completed,
    failed = done.failed,
    emails_found = summary.emails_found,
    phones_found = summary.phones_found,
    credits_charged = done.credits_charged,
    credits_refunded = done.credits_refunded,
  }
  out.enriched, out.status = done.completed or done.processed, done.status
  out.emails_found, out.phones_found = summary.emails_found, summary.phones_found
  out.credits_reserved, out.credits_charged = run.credits_reserved, done.credits_charged
  out.credits_refunded = done.credits_refunded
  return r:run_end("enrichment " .. run.workflow_id, done)
end

-- The list named name: created, or the caller's list of that name (create_list returns it),
-- whose leads are then enriched and written out too.
local function open_list(r, name)
  local list = r:check(r.client:create_list { name = name })
  if list.reused and (list.lead_count or 0) > 0 and not r.resumed then
    r:note(
      "the list '%s' (%s) already has %d leads: they are enriched and written out too",
      list.name,
      list.list_id,
      list.lead_count
    )
  end
  return list
end

-- The summary of the file and the import; the later steps add theirs to it.
local function summary_of(path, list, rows_read, imported, leads)
  return {
    _order = {
      "file",
      "list",
      "list_id",
      "rows_read",
      "imported",
      "skipped",
      "skip_reasons",
      "list_leads",
      "estimated_cost",
      "quote_id",
      "dry_run",
      "enriched",
      "status",
      "emails_found",
      "phones_found",
      "credits_reserved",
      "credits_charged",
      "credits_refunded",
      "out",
      "out_rows",
    },
    file = path,
    list = list.name,
    list_id = list.list_id,
    rows_read = rows_read,
    imported = imported.rows_imported,
    skipped = imported.rows_skipped,
    skip_reasons = imported.skip_reasons,
    list_leads = leads,
  }
end

-- Under --dry-run: the quote for enriching the list (the rows were imported, free), added to
-- the summary `out`, which is returned; nothing is enriched.
local function quote(r, list, out)
  if out.list_leads == 0 then
    r:say("dry run: the list has no leads, so there is nothing to enrich")
    out.estimated_cost, out.dry_run = 0, true
    return out
  end
  local est = r:check(r:quote("enrichment", enrich_list(r), enrich_body(r, list)))
  r:say("dry run: the rows were imported (free); nothing was enriched or spent")
  out.estimated_cost, out.quote_id, out.dry_run = est.estimated_cost, est.quote_id, true
  return out
end

-- The list as CSV (free), streamed to out_path.
local function export(r, list, out_path, out)
  local res = r:check(r.client:export_csv { list_id = list.list_id, to = out_path })
  r:say("wrote %d rows to %s", res.row_count or 0, out_path)
  r:emit { step = "export", path = out_path, row_count = res.row_count, bytes = res.bytes }
  out.out, out.out_rows = out_path, res.row_count
end

return recipe.main {
  name = "enrich_csv",
  purpose = "import a CSV of contacts into a lead list, enrich the list, and write it out as CSV.",
  description = [[
Creates the lead list --list (or reuses the caller's list of that name: then its leads already
there are enriched and written out too), imports FILE.csv into it without enrichment (free),
gets a quote for enriching the whole list at --type and enriches it (within --max-credits),
waits with progress, and downloads the enriched list to --out; the summary gives the rows
read, imported and skipped (with the API's reasons), what was found, the credits and the
rows written.
Columns are mapped from the header row: Email, First Name, Last Name, Full Name / Name,
Company, Domain / Website, LinkedIn, Title, Phone, Mobile, City, State and Country (any case
and spacing) are recognised; --map FIELD=HEADER adds or overrides one (FIELD= drops it).
A row needs an email, a LinkedIn URL, or a name and a company; the API skips others.
--dry-run creates the list and imports the rows (both free, so the API can price the list as
it will be enriched), prints the quote, and enriches nothing: the same command without
--dry-run then goes on from there without importing again.
Killed or interrupted, the same command resumes: the import and the enrichment each go out
once, and are never paid twice (the import also carries an idempotency key made of the list,
the mapping and the file's contents, so importing the same file into the same list again
within 24 hours imports nothing twice).]],
  paid = true,
  operands = { name = "FILE.csv", min = 1 },
  options = {
    { "--list NAME", "the lead list to import into (default: the file's name without .csv)" },
    { "--map FIELD=HEADER", "map the column HEADER to FIELD (email, company_name, ...)", many = true },
    {
      "--type TIER",
      "partial (email: 1 credit a lead), phone_only (10) or full (11)",
      choices = { "partial", "phone_only", "full" },
      default = "partial",
    },
    { "--out FILE", "where to write the enriched list (default: FILE-enriched.csv)", resume = false },
    recipe.timeout_option("the enrichment"),
  },
  examples = {
    "cleanlist run enrich_csv contacts.csv --dry-run",
    "cleanlist run enrich_csv contacts.csv --type full --max-credits 600 --out enriched.csv",
    "cleanlist run enrich_csv export.csv --list 'Event leads' --map email='E-mail Address' \\",
    "    --map company_name=Organisation",
    "cleanlist --sandbox --time-scale 600 run enrich_csv contacts.csv",
  },
  run = function(r)
    local o = r.opts
    local path = r.args[1]
    if #r.args > 1 then usage(r, "takes one FILE.csv, not %d", #r.args) end

    -- 0. The file: its header decides the mapping; its rows are counted (nothing is sent yet).
    local text, mapping, rows_read = read_csv(r, path)
    local out_path, oerr = files.out_path(path, o.out, "-enriched.csv")
    if not out_path then usage(r, "%s", oerr) end
    r:say("%s: %d rows; columns %s", path, rows_read, files.mapping_text(mapping))

    -- 1. The list (free; create_list returns the caller's list of that name when there is one).
    local list = open_list(r, o.list or files.stem(path):match("([^/]+)$"))

    -- 2. The import (free, once).
    local imported = import(r, list, path, mapping, text, rows_read)
    local leads = r:check(r.client:get_list(list.list_id)).lead_count or 0
    local out = summary_of(path, list, rows_read, imported, leads)
    if o.dry_run then return quote(r, list, out) end

    -- 3. Enrich the list (paid, quoted first, once), and wait with progress.
    local ended -- the error a failed or cancelled run ends on, once the list is written
    if leads == 0 then
      r:say("the list has no leads: nothing to enrich")
      out.enriched = 0
    else
      ended = enrich(r, list, out)
    end

    -- 4. The list as CSV (free), streamed to --out.
    export(r, list, out_path, out)
    if ended then
      ended.message = ("%s %s holds the list as the run left it (%s leads enriched)."):format(
        ended.message,
        out_path,
        tostring(out.enriched)
      )
      r:fail(ended)
    end
    return out
  end,
}
