-- One export of a lead list by the client, in this process, then one line: what was read, how
-- fast, and the process's peak resident memory (VmHWM, read from /proc/self/status at the end).
-- bench/export runs it once per process for each mode and list size.
-- Run: cleanlist bench/export.lua MODE LIST_ID LEADS [FILE]   (CLEANLIST_BASE_URL and
--      CLEANLIST_API_KEY set, e.g. by cleanlist --sandbox)
--   MODE csv     client:export_csv{list_id =, to = FILE}: the signed CSV download streamed to FILE
--        json    client:iter_export_json{list_id =, limit = 500}: GET /export/json page by page
--        leads   client:iter_leads(list_id, {limit = 500}): GET /lead-lists/{id}/leads pages
--        idle    the client and one call (GET /lead-lists/{id}): the floor the others add to
-- Prints: MODE LEADS ROWS SECONDS ROWS_PER_S PEAK_RSS_KIB BYTES DOWNLOAD_SECONDS; the last two
-- for csv only (else "-"): the file's size and the part of SECONDS after the signed link came
-- back (before it, the sandbox builds the file). Exits 1 when the rows read are not LEADS (or
-- the export failed).
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"

local mode, list_id, want, file = arg[1], arg[2], tonumber(arg[3] or ""), arg[4]
if not (mode and list_id and want) or (mode == "csv" and not file) then
  io.stderr:write("usage: cleanlist bench/export.lua csv|json|leads|idle LIST_ID LEADS [FILE]\n")
  os.exit(2)
end

local function peak_rss_kib()
  local f = io.open("/proc/self/status", "r")
  if not f then return -1 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmHWM:%s*(%d+) kB")) or -1
end

local client = cleanlist.new { rate_limit = false, max_retries = 0 }

local rows, bytes, err, t_link
local t0 = core.monotonic()
if mode == "csv" then
  -- export_csv{to =} gets the link, then calls client:download: note when that starts
  local download = client.download
  client.download = function(self, ...)
    t_link = core.monotonic()
    return download(self, ...)
  end
  local res
  res, err = client:export_csv { list_id = list_id, to = file }
  if res then
    rows, bytes = res.row_count, res.bytes
    if res.bytes ~= res.file_size_bytes then
      err = ("downloaded %d bytes of %d"):format(res.bytes, res.file_size_bytes)
    end
  end
elseif mode == "json" or mode == "leads" then
  local it = mode == "json" and client:iter_export_json { list_id = list_id, limit = 500 }
    or client:iter_leads(list_id, { limit = 500 })
  local with_email = 0
  for lead in it do
    if type(lead.email) == "string" then with_email = with_email + 1 end
  end
  rows, err = it.count, it.err
  if not err and with_email == 0 then err = "no lead had an email" end
elseif mode == "idle" then
  local list
  list, err = client:get_list(list_id)
  rows = list and list.lead_count
else
  io.stderr:write("unknown mode " .. mode .. "\n")
  os.exit(2)
end
local t_end = core.monotonic()
local seconds = t_end - t0
local peak = peak_rss_kib()
client:close()

if err then
  io.stderr:write(("export %s failed: %s\n"):format(mode, tostring(err)))
  os.exit(1)
end
print(
  ("%s %d %d %.3f %.0f %d %s %s"):format(
    mode,
    want,
    rows,
    seconds,
    mode == "idle" and 0 or rows / seconds,
    peak,
    bytes and tostring(bytes) or "-",
    t_link and ("%.3f"):format(t_end - t_link) or "-"
  )
)
if rows ~= want then
  io.stderr:write(("export %s read %d rows, the list has %d\n"):format(mode, rows, want))
  os.exit(1)
end
