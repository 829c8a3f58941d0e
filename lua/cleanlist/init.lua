--- cleanlist: the Lua SDK for the Cleanlist B2B enrichment API.
--   local cleanlist = require "cleanlist"
--   local client = cleanlist.new { api_key = os.getenv("CLEANLIST_API_KEY") }
--   local me = cleanlist.check(client:whoami())
-- Failures are returned as `nil, err` (a cleanlist.Error); cleanlist.check raises them.
local core = require "cleanlist.core"
local client = require "cleanlist.client"
local errors = require "cleanlist.errors"

local M = {
  _VERSION = "cleanlist " .. core.VERSION,
  VERSION = core.VERSION,
  DEFAULT_BASE_URL = core.DEFAULT_BASE_URL,
  USER_AGENT = client.USER_AGENT,
  Error = errors.Error,
  is_error = errors.is_error,
  null = require("cleanlist.json").null,
}

--- Creates a client. See README for the options.
---@type fun(opts?: {api_key?: string, base_url?: string, timeout?: number, connect_timeout?: number, max_retries?: integer, max_retry_wait?: number, rate_limit?: table|false, organization_id?: string, time_scale?: number, on_wait?: fun(info: table), trace?: fun(line: string), ca_file?: string, max_body_bytes?: number, max_download_bytes?: number}): cleanlist.Client
M.new = client.new

--- The default of every client's on_wait hook (the cleanlist executable prints the waits on
-- stderr); nil in a library.
---@type fun(info: {reason: string, seconds: number, what: string, message: string})|nil
M.on_wait = nil

local scheduler = require "cleanlist.scheduler"
local ngx_transport = require "cleanlist.transport.ngx"

--- Runs an array of functions concurrently (API calls inside them overlap on the clients'
-- multi handles; under nginx each runs in a light thread) and returns their results in
-- order: results[i] = {ret1, ret2, ..., n = }.
---@param fns function[]
---@param opts? {concurrency?: integer}
---@return table[]
function M.gather(fns, opts)
  if ngx_transport.usable() then return ngx_transport.gather(fns, opts) end
  return scheduler.gather(fns, opts)
end

--- Returns res when err is nil; raises err otherwise (level 2: the caller's line).
---@generic T
---@param res T|nil
---@param err cleanlist.Error|nil
---@return T
function M.check(res, err)
  if err ~= nil then error(err, 2) end
  if res == nil then error(errors.new { kind = "api", message = "no result and no error" }, 2) end
  return res
end

return M
