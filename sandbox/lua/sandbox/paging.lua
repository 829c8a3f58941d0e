--- Offset paging for the endpoints whose cursor is an opaque offset ("50"): GET /lead-lists,
-- GET /lead-lists/{list_id}/leads and GET /export/json.
local errors = require "sandbox.errors"
local json = require "sandbox.json"

local M = {}

local null = json.null
local format, tonumber = string.format, tonumber

--- The offset a cursor stands for: 0 when absent, nil when malformed.
function M.offset(cursor)
  if cursor == nil then return 0 end
  if not cursor:match("^%d+$") or #cursor > 9 then return nil end
  return tonumber(cursor)
end

--- The cursor of the page after the one at offset (limit items) of total, or json.null when
-- that page is the last.
function M.next_cursor(offset, limit, total)
  if offset + limit < total then return format("%d", offset + limit) end
  return null
end

--- 400 validation_error for a malformed cursor: status, body. `cause` (optional) replaces the
-- default cause.
function M.bad_cursor(rid, cause)
  return errors.build("validation_error", rid, {
    problem = "The cursor is malformed.",
    cause = cause or "A cursor must be passed back exactly as a previous response returned it.",
    fix = "Pass the cursor from the previous page unchanged, or omit it to start at the top.",
  })
end

return M
