--- The project's client pointed at a sandbox of spec.helpers.sandbox, for the functional specs.
--
--   local client = require "spec.helpers.client"
--   client.new(sb, { timeout = 0.5 }):whoami()
local cleanlist = require "cleanlist"

local M = {}

--- A client with the sandbox's full-access key and base URL, no client-side rate limiting and
-- no retries; opts add to or override these options.
function M.new(sb, opts)
  local o = { api_key = sb.key, base_url = sb.base_url, rate_limit = false, max_retries = 0 }
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
  return cleanlist.new(o)
end

--- A maker of clients (as new) that run on a sandbox started with `--time-scale scale`: their
-- waits and announced delays are scaled to match.
function M.scaled(scale)
  return function(sb, opts)
    local o = { time_scale = scale }
    for k, v in pairs(opts or {}) do
      o[k] = v
    end
    return M.new(sb, o)
  end
end

return M
