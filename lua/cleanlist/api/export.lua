--- Sync and export (API.md §6.6): push leads to a CRM or a sequencer (paid, a quote is
-- required: the client gets it), export a list as CSV (a pre-signed link the client can
-- download for you, streamed) or as JSON pages.
local endpoint = require "cleanlist.endpoint"
local errors = require "cleanlist.errors"
local pager = require "cleanlist.pager"
local validate = require "cleanlist.validate"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

local str = { "string", nullable = true }

local function one_source(t, errs)
  if (t.list_id == nil) == (t.task_id == nil) then
    validate.add(errs, { "body" }, "value_error", "needs exactly one of list_id or task_id")
  end
end

local function sync_fields(extra)
  local f = {
    open = true,
    provider = { "string", required = true, min_len = 1 },
    list_id = str,
    task_id = str,
    entity_ids = { "array", items = "string", nullable = true },
    quote_id = str,
  }
  for k, v in pairs(extra) do
    f[k] = v
  end
  return f
end

local CRM = define {
  "POST",
  "/sync/crm",
  body = sync_fields { sub_action = str },
  check = one_source,
  paid = {
    required = true,
    estimate = function(b)
      return {
        tool = "sync_to_crm",
        provider = b.provider,
        sub_action = b.sub_action,
        list_id = b.list_id,
        task_id = b.task_id,
        entity_ids = b.entity_ids,
      }
    end,
  },
}

local SEQUENCER = define {
  "POST",
  "/sync/sequencer",
  body = sync_fields { campaign_id = str },
  check = one_source,
  paid = {
    required = true,
    estimate = function(b)
      return {
        tool = "sync_to_sequencer",
        provider = b.provider,
        list_id = b.list_id,
        task_id = b.task_id,
        entity_ids = b.entity_ids,
        extra = b.campaign_id and { campaign_id = b.campaign_id } or nil,
      }
    end,
  },
}

local CSV = define {
  "POST",
  "/export/csv/signed-url",
  body = {
    list_id = { "string", required = true, min_len = 1 },
    columns = { "array", items = "string", nullable = true },
    include_smart_agents = { "boolean" },
  },
}

local JSON = define {
  "GET",
  "/export/json",
  query = {
    list_id = { "string", required = true, min_len = 1 },
    limit = { "integer", min = 1, max = 500 },
    cursor = { "string" },
    columns = { "array", items = "string" },
  },
}

--- POST /sync/crm: pushes a list's leads (list_id) or a cohort (task_id, entity_ids) to a CRM
-- (provider hubspot, salesforce, ...; sub_action contacts, companies, deals or a composite
-- such as contacts+companies). Synchronous. Paid: the client gets the quote; max_credits,
-- dry_run. Scope sync:write.
---@param body {provider: string, list_id?: string, task_id?: string, entity_ids?: string[], sub_action?: string, quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return {sync_id: string, status: string, created: integer, updated: integer, skipped: integer, failed: integer, records: table[]}|nil
---@return cleanlist.Error|nil
function M:sync_to_crm(body)
  return call(self, CRM, body)
end

--- POST /sync/sequencer: pushes leads to a sequencer (smartlead, instantly, lemlist, ...),
-- optionally into campaign_id. Paid like sync_to_crm. Scope sync:write.
---@param body {provider: string, list_id?: string, task_id?: string, entity_ids?: string[], campaign_id?: string, quote_id?: string, max_credits?: number, dry_run?: boolean}
---@return table|nil
---@return cleanlist.Error|nil
function M:sync_to_sequencer(body)
  return call(self, SEQUENCER, body)
end

--- Downloads a URL (a pre-signed link: sent without Authorization) and streams it to `to`: a
-- file path (written to PATH.part, then renamed) or a function(bytes). Returns {bytes =,
-- path =} or nil, err. The body is never held whole in memory: it is handed on in pieces of at
-- most 272 KiB, and the transfer waits while `to` takes them.
---@param url string
---@param to string|fun(bytes: string): any
---@return {bytes: integer, path: string?}|nil
---@return cleanlist.Error|nil
function M:download(url, to)
  if type(url) ~= "string" or not url:find("^https?://") then
    return nil, errors.new { kind = "invalid_request", message = "download needs an absolute URL" }
  end
  local file, sink, tmp
  if type(to) == "string" then
    tmp = to .. ".part"
    local ferr
    file, ferr = io.open(tmp, "wb")
    if not file then
      return nil, errors.new { kind = "invalid_request", message = "cannot write " .. to .. ": " .. tostring(ferr) }
    end
    sink = function(bytes)
      local ok, werr = file:write(bytes)
      if not ok then return { kind = "transport", message = "cannot write " .. to .. ": " .. tostring(werr) } end
    end
  elseif type(to) == "function" then
    sink = to
  else
    error(errors.new { kind = "invalid_request", message = "download: `to` must be a path or a function" }, 2)
  end
  local bytes = 0
  local res, err = self:request("GET", url, {
    sign = false,
    on_chunk = function(b)
      bytes = bytes + #b
      return sink(b)
    end,
  })
  if file then
    file:close()
    if res then
      os.rename(tmp, to)
    else
      os.remove(tmp)
    end
  end
  if not res then return nil, err end
  return { bytes = bytes, path = type(to) == "string" and to or nil, status = res.status }
end

--- POST /export/csv/signed-url: a signed link (24 h) to the list as CSV. With `to` (a path or
-- a function), the client also downloads it, streamed (see client:download), and adds
-- `bytes` and `path` to the result. Free; scope export:read.
---@param body {list_id: string, columns?: string[], include_smart_agents?: boolean, to?: string|fun(bytes: string): any}
---@return {download_url: string, expires_at: string, row_count: integer, file_size_bytes: integer, bytes?: integer, path?: string}|nil
---@return cleanlist.Error|nil
function M:export_csv(body)
  local to
  if type(body) == "table" and body.to ~= nil then
    to = body.to
    local copy = {}
    for k, v in pairs(body) do
      if k ~= "to" then copy[k] = v end
    end
    body = copy
  end
  local res, err = call(self, CSV, body)
  if not res or to == nil then return res, err end
  local got, derr = self:download(res.download_url, to)
  if not got then
    derr.export = res -- the link still works for 24 h
    return nil, derr
  end
  res.bytes, res.path = got.bytes, got.path
  return res
end

--- GET /export/json: one page of a list's leads projected to `columns`. Free; export:read.
---@param query {list_id: string, limit?: integer, cursor?: string, columns?: string[]}
---@return {leads: table[], total: integer, cursor: string?}|nil
---@return cleanlist.Error|nil
function M:export_json(query)
  return call(self, JSON, query)
end

--- Every lead of a list as exported JSON, page by page (`limit` = page size up to 500, `max`
-- = stop after N).
---@param query {list_id: string, limit?: integer, columns?: string[], max?: integer}
---@return cleanlist.Pager
function M:iter_export_json(query)
  return pager.over(query, "leads", function(q)
    return call(self, JSON, q)
  end)
end

return M
