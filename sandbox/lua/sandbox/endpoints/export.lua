--- Export (API.md §6.6): POST /export/csv/signed-url and GET /export/json (export:read), and
-- the signed CSV download itself, served by the sandbox outside the API path:
--
--   GET /__files/exports/<export_id>.csv?exp=<epoch seconds>&sig=<64 hex>
--
-- No Authorization header is needed there: sig = HMAC-SHA256(secret, "<export_id>\n<exp>")
-- (OpenSSL via sandbox.native; the secret derives from the seed, so links survive a restart
-- with --state). Answers: 200 text/csv (Content-Disposition attachment); a missing, malformed
-- or altered exp/sig -> 403 `export_link_invalid`; a valid link past exp (sandbox clock) ->
-- 410 `export_link_expired`; a valid link whose file is gone (reset, or evicted: the newest
-- 20 exports are kept) -> 404 `not_found`; other methods -> 405. Error bodies are MCP
-- envelopes.
--
-- The CSV is generated when the URL is signed (a snapshot: row_count and file_size_bytes are
-- exact): RFC 4180 (CRLF line ends, fields with a comma, quote, CR or LF are quoted, quotes
-- doubled), UTF-8 without BOM, a header row. Columns: `columns` (ordered; unknown names ->
-- 422) or the default lead_id, first_name, last_name, email, title, company, domain,
-- linkedin_url, phone, location (sandbox.leads.COLUMNS lists every name, with the aliases
-- company_domain = domain, company_name = company, job_title = title). include_smart_agents
-- (default true) appends the smart-agent columns: the keys of `lead.smart_agents` over the
-- list's leads, in first-seen order, that are not already selected; `columns` may also name
-- such a column. Values that are not strings are written as JSON (numbers, booleans, tables).
--
-- GET /export/json?list_id=...&limit=1..500(100)&cursor=...&columns=a&columns=b
--   200 ExportJsonResponse: leads projected to the columns (default: the CSV default columns
--   plus the smart-agent columns; a missing value is null), total, cursor (opaque offset;
--   malformed -> 400 validation_error), envelope. `columns` may be repeated or
--   comma-separated (or named `columns[]`, but not in strict mode, where FastAPI would ignore
--   that name: sandbox.switches). Missing list_id / bad limit / unknown column -> 422; inaccessible list ->
--   404.
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local leads = require "sandbox.leads"
local lists = require "sandbox.lists"
local paging = require "sandbox.paging"
local state_mod = require "sandbox.state"
local switches = require "sandbox.switches"
local util = require "sandbox.util"
local validate = require "sandbox.validate"

local M = {}

local null = json.null
local format, floor, concat = string.format, math.floor, table.concat

M.FILES_PREFIX = "/__files/exports/"
M.TTL_S = 24 * 3600
M.KEEP = 20 -- exports kept (newest first); older files are evicted

state_mod.register("exports", function()
  return { files = {}, order = json.array(), seq = 0 }
end)

M.SIGNED_URL_SCHEMA = validate.object {
  list_id = { type = "string", required = true },
  columns = { type = "array", nullable = true, items = { type = "string" }, max_items = 200 },
  include_smart_agents = { type = "boolean" },
}

local function native()
  return require "sandbox.native"
end

local function secret(state)
  return "cleanlist-sandbox-export-v1|" .. tostring(state.config.seed or 0)
end

local function sign(state, id, exp)
  return native().hmac_sha256_hex(secret(state), id .. "\n" .. exp)
end

local function iso_offset(s)
  return os.date("!%Y-%m-%dT%H:%M:%S+00:00", s)
end

local function not_found(ctx, list_id)
  return errors.build("not_found", ctx.request_id, {
    problem = "Lead list " .. http.scrub(tostring(list_id)):sub(1, 100) .. " was not found.",
    cause = "No list with this id is accessible to your credential.",
    fix = "List the lists you can access with GET /lead-lists.",
  })
end

-- The smart-agent column names of a list's leads, in first-seen order. Each JSON page needs
-- them, so they are kept per list until its lead array or any lead's smart-agent values
-- change (a list of 100,000 leads is not walked again for each of its pages).
local smart_cache = setmetatable({}, { __mode = "k" })

local function smart_columns(state, list)
  local c = smart_cache[list]
  if c and c.ids == list.leads and c.n == #list.leads and c.writes == leads.smart_writes then return c.columns end
  local seen, out = {}, {}
  local by_id = state.data.leads.by_id
  for _, id in ipairs(list.leads) do
    local lead = by_id[id]
    local sa = lead and lead.smart_agents
    if sa then
      for _, k in ipairs(util.sorted_keys(sa)) do
        if not seen[k] then
          seen[k] = true
          out[#out + 1] = k
        end
      end
    end
  end
  smart_cache[list] = { ids = list.leads, n = #list.leads, writes = leads.smart_writes, columns = out }
  return out
end

-- The final column list, or nil and 422 errors. `loc` is where `columns` came from.
local function resolve_columns(state, list, columns, include_smart, loc)
  local smart = smart_columns(state, list)
  local smart_set = util.set_of(smart)
  local out, errs = {}, {}
  if columns then
    for i, c in ipairs(columns) do
      if leads.COLUMNS[c] or smart_set[c] then
        out[#out + 1] = c
      else
        local l = { loc[1], loc[2], i - 1 }
        errs[#errs + 1] = validate.error(
          l,
          "value_error",
          "Value error, unknown column '"
            .. c:sub(1, 100)
            .. "'; use one of "
            .. concat(leads.DEFAULT_COLUMNS, ", ")
            .. ", full_name, email_status, city, state, country, provider, enrichment_type, "
            .. "enriched_at, created_at, company_domain, company_name, job_title, or a "
            .. "smart-agent column",
          c
        )
      end
    end
  else
    for i, c in ipairs(leads.DEFAULT_COLUMNS) do
      out[i] = c
    end
  end
  if errs[1] then return nil, errs end
  if include_smart then
    local have = util.set_of(out)
    for _, k in ipairs(smart) do
      if not have[k] then out[#out + 1] = k end
    end
  end
  return out
end

local function text_of(v)
  local t = type(v)
  if v == nil or v == null then
    return ""
  elseif t == "string" then
    return v
  elseif t == "number" then
    if v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return format("%d", v) end
    return format("%.14g", v)
  elseif t == "boolean" then
    return v and "true" or "false"
  end
  return json.encode(v)
end

--- One RFC 4180 field.
function M.csv_field(v)
  local s = text_of(v)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- The CSV text and its data-row count for a list and columns.
function M.render_csv(state, list, columns)
  local lines = {}
  local head = {}
  for i, c in ipairs(columns) do
    head[i] = M.csv_field(c)
  end
  lines[1] = concat(head, ",")
  local by_id = state.data.leads.by_id
  local n = 0
  for _, id in ipairs(list.leads) do
    local lead = by_id[id]
    if lead then
      local row = {}
      for i, c in ipairs(columns) do
        row[i] = M.csv_field(leads.field(lead, c))
      end
      n = n + 1
      lines[n + 1] = concat(row, ",")
    end
  end
  return concat(lines, "\r\n") .. "\r\n", n
end

local function base_url(ctx)
  local host = ctx.req.headers.host
  if type(host) ~= "string" or not host:match("^[%w%.%-%[%]:]+$") then host = "127.0.0.1" end
  local cfg = ctx.app and ctx.app.config or {}
  local scheme = cfg.scheme or (cfg.tls and "https") or "http"
  return scheme .. "://" .. host
end

local function store(state, file)
  local a = state.data.exports
  util.keep_newest(a.files, a.order, file.id, file, M.KEEP)
end

function M.signed_url(ctx)
  local body = ctx.body
  local state = ctx.state
  local list = lists.get(state, body.list_id, ctx)
  if not list then return not_found(ctx, body.list_id) end
  local columns, errs = resolve_columns(
    state,
    list,
    body.columns ~= null and body.columns or nil,
    body.include_smart_agents ~= false,
    { "body", "columns" }
  )
  if not columns then return validate.response(errs) end
  local csv, rows = M.render_csv(state, list, columns)
  local a = state.data.exports
  a.seq = a.seq + 1
  local id = leads.mint(state, "exp_", a.seq, 53)
  local now_s = floor(state:now_ms() / 1000)
  local exp = now_s + M.TTL_S
  local exp_s = format("%d", exp)
  store(state, {
    id = id,
    list_id = list.list_id,
    name = list.name,
    org_id = ctx.org.id,
    csv = csv,
    rows = rows,
    created_s = now_s,
    exp = exp,
  })
  return 200,
    {
      list_id = list.list_id,
      download_url = format(
        "%s%s%s.csv?exp=%s&sig=%s",
        base_url(ctx),
        M.FILES_PREFIX,
        id,
        exp_s,
        sign(state, id, exp_s)
      ),
      expires_at = iso_offset(exp),
      row_count = rows,
      file_size_bytes = #csv,
    }
end

-- GET /export/json ------------------------------------------------------------------------

local function query_columns(q, strict)
  local raw = validate.query_list(q, "columns") or (not strict and validate.query_list(q, "columns[]"))
  if not raw then return nil end
  local out = {}
  for _, v in ipairs(raw) do
    for c in v:gmatch("[^,]+") do
      c = c:match("^%s*(.-)%s*$")
      if c ~= "" then out[#out + 1] = c end
    end
  end
  return out[1] and out or nil
end

function M.json(ctx)
  local q = http.parse_query(ctx.req.query)
  local errs = {}
  local list_id = validate.query_string(q, "list_id")
  if not list_id then errs[#errs + 1] = validate.error({ "query", "list_id" }, "missing", "Field required", null) end
  local limit, err = validate.query_int(q, "limit", 100, 1, 500)
  if err then errs[#errs + 1] = err end
  if errs[1] then return validate.response(errs) end
  local state = ctx.state
  local list = lists.get(state, list_id, ctx)
  if not list then return not_found(ctx, list_id) end
  local columns
  columns, errs =
    resolve_columns(state, list, query_columns(q, switches.get(state).strict), true, { "query", "columns" })
  if not columns then return validate.response(errs) end
  local cursor = validate.query_string(q, "cursor")
  local offset = paging.offset(cursor ~= "" and cursor or nil)
  if not offset then
    return paging.bad_cursor(
      ctx.request_id,
      "A cursor must be passed back exactly as a "
        .. "previous response returned it; the export does not rewind silently to the first page."
    )
  end
  local ids, by_id = list.leads, state.data.leads.by_id
  local total = #ids
  local rows = json.array()
  for i = offset + 1, math.min(offset + limit, total) do
    local lead = by_id[ids[i]]
    if lead then
      local row = {}
      for _, c in ipairs(columns) do
        local v = leads.field(lead, c)
        if v == nil then v = null end
        row[c] = v
      end
      rows[#rows + 1] = row
    end
  end
  local next_cursor = paging.next_cursor(offset, limit, total)
  return 200,
    http.envelope(
      { list_id = list.list_id, leads = rows, total = total, cursor = next_cursor },
      ctx.now_ms(),
      next_cursor ~= null
          and format("Showing %d of %d " .. "leads; pass cursor %q for the next page.", #rows, total, next_cursor)
        or nil,
      total == 0 and "The list is empty: nothing to export." or nil
    )
end

-- The signed download ------------------------------------------------------------------------

local function fail(code, rid, fields, headers)
  local status, body = errors.build(code, rid, fields)
  headers = headers or {}
  headers["Content-Type"] = "application/json"
  return status, json.encode(body), headers
end

--- Serves GET /__files/exports/<id>.csv (see the module comment): status, body, headers.
function M.serve_file(app, req)
  local rid = app:request_id()
  local id = req.path:sub(#M.FILES_PREFIX + 1):match("^([%w_]+)%.csv$")
  if not id or req.path:sub(1, #M.FILES_PREFIX) ~= M.FILES_PREFIX then
    return fail("not_found", rid, { problem = "There is no file at " .. http.scrub(req.path):sub(1, 200) .. "." })
  end
  if req.method ~= "GET" and req.method ~= "HEAD" then
    return fail("method_not_allowed", rid, {
      problem = http.scrub(req.method) .. " is not allowed on a download link.",
    }, { Allow = "GET, HEAD" })
  end
  local state = app.state
  local q = http.parse_query(req.query)
  local exp, sig = validate.query_string(q, "exp"), validate.query_string(q, "sig")
  if
    not exp
    or not sig
    or not exp:match("^%d+$")
    or #exp > 12
    or not sig:match("^%x+$")
    or not native().equal(sign(state, id, exp), sig:lower())
  then
    return fail("export_link_invalid", rid)
  end
  if floor(state:now_ms() / 1000) >= tonumber(exp) then
    return fail("export_link_expired", rid, {
      problem = "The download link expired at " .. iso_offset(tonumber(exp)) .. ".",
    })
  end
  local file = state.data.exports.files[id]
  if not file then
    return fail("not_found", rid, {
      problem = "The export file is no longer available.",
      cause = "The sandbox was reset, or the export was evicted (the newest " .. M.KEEP .. " are kept).",
      fix = "Request a new link with POST /export/csv/signed-url.",
    })
  end
  local filename = file.name:gsub("[^%w%-_ ]", ""):gsub("^%s*$", "export")
  return 200,
    req.method == "HEAD" and "" or file.csv,
    {
      ["Content-Type"] = "text/csv; charset=utf-8",
      ["Content-Disposition"] = format('attachment; filename="%s.csv"', filename),
      ["Cache-Control"] = "private, max-age=0",
      ["X-Request-Id"] = rid,
    }
end

function M.register(router)
  router:add(
    "POST",
    "/export/csv/signed-url",
    { scope = "export:read", body = M.SIGNED_URL_SCHEMA, handler = M.signed_url }
  )
  router:add("GET", "/export/json", { scope = "export:read", handler = M.json })
end

return M
