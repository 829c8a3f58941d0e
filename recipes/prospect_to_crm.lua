-- prospect_to_crm: search people by filters, enrich them, wait, and sync them to a CRM.
-- Run: cleanlist run prospect_to_crm --title "VP Sales" --country US --max-credits 100
local recipe = require "cleanlist.recipe"

local FILTERS = {
  -- option name -> search_people field
  title = "job_titles",
  seniority = "seniorities",
  department = "departments",
  industry = "industries",
  country = "countries",
  location = "locations",
  company_size = "company_sizes",
  domain = "company_domains",
}

-- The search_people query of the options: the filters given, one page of --limit.
local function query_of(o)
  local query = { limit = math.floor(o.limit), keywords = o.keywords }
  for opt, field in pairs(FILTERS) do
    query[field] = o[opt]
  end
  return query
end

-- What a run keeps of a search page: its cohort, the total and how many people came back.
local function keep_page(page)
  local people = page.people or {}
  return { task_id = page.task_id, total = page.total, returned = #people }
end

-- 1. Search (free): the page found and its cohort, recorded so a resumed run enriches the
-- same people.
local function search(r)
  local query = query_of(r.opts)
  local found = r:check(r:once("search", function()
    return r.client:search_people(query)
  end, { keep = keep_page }))
  r:say("found %d people matching; taking %d (cohort %s)", found.total or 0, found.returned, tostring(found.task_id))
  r:emit { step = "search", total = found.total, returned = found.returned, task_id = found.task_id }
  return found
end

-- Under --dry-run: the enrichment's quote, and nothing spent.
local function quote(r, found, enrich, enrich_body)
  local est = r:check(r:quote("enrichment", enrich, enrich_body))
  r:say("dry run: nothing was spent (the CRM sync is quoted once the enrichment is done)")
  return {
    _order = { "found", "taking", "estimated_cost", "quote_id" },
    found = found.total,
    taking = found.returned,
    estimated_cost = est.estimated_cost,
    quote_id = est.quote_id,
    dry_run = true,
  }
end

-- 2. Enrich by task (paid, quoted first, once).
local function enrich_task(r, enrich, enrich_body)
  local run = r:check(r:paid("enrich", enrich, enrich_body, {
    keep = function(res)
      return {
        workflow_id = res.workflow_id,
        credits_reserved = res.credits_reserved,
        estimated_cost = res.estimate and res.estimate.estimated_cost,
      }
    end,
  }))
  r:say("enrichment %s: %s credits reserved", run.workflow_id, tostring(run.credits_reserved))
  r:emit { step = "enrich", workflow_id = run.workflow_id, credits_reserved = run.credits_reserved }
  return run
end

-- 3. Wait (free polls), with progress.
local function wait(r, run)
  local done = r:check(r:wait(run.workflow_id, "enriching", { timeout = r.opts.timeout }))
  r:say("enrichment %s: %s", run.workflow_id, tostring(done.status))
  r:emit {
    step = "enriched",
    status = done.status,
    credits_charged = done.credits_charged,
    credits_refunded = done.credits_refunded,
    lead_list_id = done.lead_list_id,
  }
  return done
end

-- The summary of the enrichment; sync adds the CRM's counts to it.
local function summary_of(found, run, done)
  local summary = done.summary ~= nil and type(done.summary) == "table" and done.summary or {}
  return {
    _order = {
      "found",
      "enriched",
      "status",
      "emails_found",
      "phones_found",
      "credits_reserved",
      "credits_charged",
      "credits_refunded",
      "crm",
      "created",
      "updated",
      "skipped",
      "failed",
      "sync_credits",
    },
    found = found.total,
    enriched = done.completed or done.processed,
    status = done.status,
    emails_found = summary.emails_found,
    phones_found = summary.phones_found,
    credits_reserved = run.credits_reserved,
    credits_charged = done.credits_charged,
    credits_refunded = done.credits_refunded,
  }
end

-- 4. Sync the enriched list to the CRM (paid, quoted within what is left, once).
local function sync(r, found, run, done, out)
  local o = r.opts
  local spent = tonumber(done.credits_charged) or tonumber(run.credits_reserved) or 0
  local left = o.max_credits and math.max(0, o.max_credits - spent) or nil
  local source = done.lead_list_id ~= nil and type(done.lead_list_id) == "string" and { list_id = done.lead_list_id }
    or { task_id = found.task_id }
  local sync_body = { provider = o.crm, sub_action = o.sub_action, list_id = source.list_id, task_id = source.task_id }
  local synced = r:check(r:paid(
    "sync",
    function(b)
      return r.client:sync_to_crm(b)
    end,
    sync_body,
    {
      max_credits = left,
      keep = function(res)
        return {
          created = res.created,
          updated = res.updated,
          skipped = res.skipped,
          failed = res.failed,
          credits_charged = res.credits_charged,
        }
      end,
    }
  ))
  r:emit {
    step = "sync",
    crm = o.crm,
    created = synced.created,
    updated = synced.updated,
    skipped = synced.skipped,
    failed = synced.failed,
    credits_charged = synced.credits_charged,
  }
  out.crm, out.created, out.updated = o.crm, synced.created, synced.updated
  out.skipped, out.failed, out.sync_credits = synced.skipped, synced.failed, synced.credits_charged
end

return recipe.main {
  name = "prospect_to_crm",
  purpose = "search people by filters, enrich them, wait, and sync them to a CRM.",
  description = [[
Searches people (one page of --limit), enriches that page by its task_id with the data
points asked for (a quote first, within --max-credits), waits for the run with progress,
then syncs the enriched list to the CRM (quoted again, within what is left of the budget),
and prints a summary. Killed or interrupted, the same command resumes: the search, the
enrichment and the sync each go out once, and are never paid twice.]],
  paid = true,
  options = {
    { "--title TEXT", "a job title to search for", many = true },
    { "--seniority LEVEL", "a seniority (vp, director, c_suite, ...)", many = true },
    { "--department NAME", "a department (Sales, Engineering, ...)", many = true },
    { "--industry NAME", "an industry (Computer Software, Banking, ...)", many = true },
    { "--country CODE", "a country (US, GB, ...)", many = true },
    { "--location TEXT", "a location", many = true },
    { "--company-size RANGE", "a company size (51-200, ...)", many = true },
    { "--domain DOMAIN", "a company domain", many = true },
    { "--keywords TEXT", "free-text keywords" },
    { "--limit N", "how many people to take from the search (1-100)", number = true, default = 25 },
    { "--data-points LIST", "what to find: Email, Phone, LinkedIn", many = true },
    { "--crm PROVIDER", "the CRM to sync to (hubspot, salesforce, pipedrive, ...)", default = "hubspot" },
    { "--sub-action WHAT", "what to create in the CRM (contacts, companies, deals)", default = "contacts" },
    { "--no-sync", "enrich only; do not sync to the CRM (run again without it to sync)", resume = false },
    recipe.timeout_option("the enrichment"),
  },
  examples = {
    "cleanlist run prospect_to_crm --title 'VP Sales' --country US --dry-run",
    "cleanlist run prospect_to_crm --title 'VP Sales,Head of Sales' --industry 'Computer Software' \\",
    "    --data-points Email,Phone --crm hubspot --max-credits 400",
    "cleanlist --sandbox --time-scale 600 run prospect_to_crm --title 'VP Sales'",
  },
  run = function(r)
    local o = r.opts
    local found = search(r)
    if found.returned == 0 then return { _order = { "found" }, found = found.total or 0 } end

    local enrich_body = { task_id = found.task_id, data_points = o.data_points or { "Email" } }
    local enrich = function(b)
      return r.client:enrich_by_task(b)
    end
    if o.dry_run then return quote(r, found, enrich, enrich_body) end

    local run = enrich_task(r, enrich, enrich_body)
    local done = wait(r, run)
    local out = summary_of(found, run, done)
    local ended = r:run_end("enrichment " .. run.workflow_id, done)
    if ended then -- failed or cancelled: nothing goes to the CRM
      ended.message = ended.message .. (o.no_sync and "" or " Nothing was synced to the CRM.")
      r:fail(ended)
    end
    if o.no_sync then return out end
    sync(r, found, run, done, out)
    return out
  end,
}
