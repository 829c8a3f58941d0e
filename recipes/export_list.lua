-- export_list: a whole lead list streamed to CSV or JSON lines, in constant memory.
-- Run: cleanlist run export_list --list "Example: Engineering leaders in Fintech"
local recipe = require "cleanlist.recipe"
local errors = require "cleanlist.errors"
local files = require "cleanlist.recipe.files"

local PAGE = 500 -- leads per GET /export/json page (the API's maximum)

-- The API's default export columns, in the order JSON lines put them (other keys follow by
-- name, e.g. smart-agent columns).
local DEFAULT_COLUMNS =
  { "lead_id", "first_name", "last_name", "email", "title", "company", "domain", "linkedin_url", "phone", "location" }

-- A file name from a list name: "Example: Fintech leaders" -> example-fintech-leaders.csv.
local function file_name(name, list_id)
  local slug = tostring(name or ""):lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  if slug == "" then slug = list_id end
  return slug .. ".csv"
end

local function usage(message)
  return errors.new { kind = "invalid_request", exit_status = recipe.EXIT_USAGE, message = message }
end

return recipe.main {
  name = "export_list",
  purpose = "a whole lead list streamed to CSV or JSON lines, in constant memory.",
  description = [[
Exports every lead of a list (--list-id ID, or --list NAME looked up among the lists the key
can see). CSV: the API snapshots the list behind a signed link and the file is downloaded in
a stream (written to FILE.part, renamed when complete). JSON lines: GET /export/json in pages
of 500, each lead written as its page arrives; one page is held at a time. --columns picks
and orders the columns (default: lead_id, first_name, last_name, email, title, company,
domain, linkedin_url, phone, location, then any smart-agent columns). Free: exports cost no
credits.]],
  options = {
    recipe.list_options("to export"),
    { "--format FORMAT", "csv or jsonl", choices = { "csv", "jsonl" }, default = "csv" },
    {
      "--out FILE",
      "where to write (- for stdout; default: jsonl to stdout, csv to a file "
        .. "named after the list in the current directory)",
    },
    { "--columns LIST", "the columns to export, in order", many = true },
  },
  examples = {
    "cleanlist run export_list --list 'Example: Engineering leaders in Fintech'",
    "cleanlist run export_list --list-id list_770414c9 --format jsonl > leads.jsonl",
    "cleanlist run export_list --list-id list_770414c9 --columns lead_id,email,company --out -",
  },
  run = function(r)
    local client, o = r.client, r.opts
    local to_stdout = o.out == "-" or (o.out == nil and o.format == "jsonl")
    if to_stdout and o.json then
      r:fail(usage("--json writes its JSON lines on stdout: give --out FILE for the export"))
    end
    -- Text for a person (r:say) and the summary go to stderr while the export owns stdout.
    r.stdout_busy = to_stdout
    local tell = function(...)
      r:say(...)
    end

    local list = r:find_list()
    local list_id, name = list.list_id, list.name
    local path = not to_stdout and (o.out or file_name(name, list_id)) or nil
    local summary = {
      _order = { "list", "list_id", "format", "leads", "pages", "bytes", "path" },
      list = name,
      list_id = list_id,
      format = o.format,
      path = path or "-",
    }

    if o.format == "csv" then
      local to = path or function(bytes)
        io.stdout:write(bytes)
      end
      local res = r:check(client:export_csv { list_id = list_id, columns = o.columns, to = to })
      io.stdout:flush()
      summary.leads, summary.bytes = res.row_count, res.bytes
      return summary
    end

    -- JSON lines: page by page, each lead written as its page arrives.
    local out, tmp = io.stdout, nil
    if path then
      tmp = path .. ".part"
      local f, ferr = io.open(tmp, "wb")
      if not f then r:fail(usage("cannot write " .. path .. ": " .. tostring(ferr))) end
      out = f
    end
    local order = o.columns or DEFAULT_COLUMNS
    local leads = client:iter_export_json { list_id = list_id, limit = PAGE, columns = o.columns }
    local bytes = 0
    for lead in leads do
      local line = files.json_line(lead, order)
      out:write(line)
      bytes = bytes + #line
      -- the end of a full page: out with it before the next one is fetched
      if leads.count % PAGE == 0 then out:flush() end
    end
    out:flush()
    if tmp then
      out:close()
      if leads.err then
        os.remove(tmp)
      else
        os.rename(tmp, path)
      end
    end
    if leads.err then r:fail(leads.err) end
    local total = leads.page and tonumber(leads.page.total)
    if total and total ~= leads.count then
      tell("the list had %d leads when the export began and %d were written: it changed meanwhile", total, leads.count)
    end
    summary.leads, summary.pages, summary.bytes = leads.count, leads.pages, bytes
    return summary
  end,
}
