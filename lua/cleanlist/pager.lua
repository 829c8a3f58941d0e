--- cleanlist.pager: lazy iteration over a cursor-paged endpoint.
--
--   local leads = client:iter_leads(list_id, { limit = 500 })   -- limit: the page size
--   for lead in leads do print(lead.email) end
--   if leads.err then print("stopped early: " .. tostring(leads.err)) end
--
-- Pages are fetched only as they are consumed and only the current one is held, so memory
-- stays flat on a long list. `max = N` stops after N items. After the loop, `err` is the
-- error of the page that failed (nil when the whole list was read); a cursor the server no
-- longer accepts is said so (err.stale_cursor = true). `page` is the last page read (its
-- `task_id`, `total`, envelope fields), `pages` and `count` say how far it got.
-- `it:all()` collects the rest into an array (returns nil, err on a failed page).
local json = require "cleanlist.json"

local M = {}
local Pager = {}
Pager.__index = Pager

--- fetch(cursor) -> page | nil, err; `field` names the array of items in a page.
function M.new(fetch, field, max)
  return setmetatable({
    fetch = fetch,
    field = field,
    max = max,
    pages = 0,
    count = 0,
    index = 0,
    items = nil,
    cursor = nil,
    done = false,
  }, Pager)
end

--- A pager over `fetch(query)` where each page's query is the caller's `query` as given
-- (so a misspelt field is refused as the page method refuses it) without `max`, and with the
-- cursor of the page before (a caller's own `cursor` starts the walk there).
---@param query table?
---@param field string
---@param fetch fun(q: table): table|nil, cleanlist.Error|nil
function M.over(query, field, fetch)
  query = query or {}
  local p = M.new(function(cursor)
    local q = {}
    for k, v in pairs(query) do
      if k ~= "max" then q[k] = v end
    end
    q.cursor = cursor
    return fetch(q)
  end, field, query.max)
  p.cursor = query.cursor
  return p
end

function Pager:_next_page()
  local page, err = self.fetch(self.cursor)
  if not page then
    if self.cursor and (err.status == 400 or err.status == 422) then
      err.stale_cursor = true
      err.message = "the cursor of page "
        .. (self.pages + 1)
        .. " was refused ("
        .. tostring(err.message)
        .. "); start the iteration again"
    end
    self.err, self.done = err, true
    return false
  end
  self.pages = self.pages + 1
  self.items, self.index = page[self.field] or {}, 0
  page[self.field] = nil
  self.page = page
  local cursor = page.cursor
  if cursor == nil or cursor == json.null or cursor == "" then
    self.cursor, self.last = nil, true
  else
    self.cursor = cursor
  end
  return true
end

--- The next item, or nil at the end (or on an error: see `err`).
function Pager:next()
  if self.done or (self.max and self.count >= self.max) then return nil end
  while not self.items or self.index >= #self.items do
    if self.last or (self.items and not self.cursor) then
      self.done = true
      return nil
    end
    if not self:_next_page() then return nil end
  end
  self.index = self.index + 1
  self.count = self.count + 1
  return self.items[self.index]
end

Pager.__call = Pager.next

--- Every remaining item in an array, or nil and the error of the page that failed.
function Pager:all()
  local out = {}
  for item in self.next, self do
    out[#out + 1] = item
  end
  if self.err then return nil, self.err end
  return out
end

return M
