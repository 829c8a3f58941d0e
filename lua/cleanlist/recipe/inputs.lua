--- cleanlist.recipe.inputs: what a recipe reads besides its options: the columns of a CSV
-- header row, and the list that --list-id ID or --list NAME names. Run holds the methods of
-- the run `r`.
local errors = require "cleanlist.errors"
local trim = require("cleanlist.csv").trim
local cli = require "cleanlist.recipe.cli"

local type, ipairs, pairs = type, ipairs, pairs
local concat = table.concat

local M = {}
local Run = {}
M.Run = Run

--- The columns of a CSV header row that hold known fields: {field = column index}, the first
-- column whose name matches one of the field's aliases. `aliases` is {field = {alias, ...}},
-- the aliases in lower case without spaces or punctuation ("Work Email" matches "workemail").
function M.header_columns(header, aliases)
  local by_alias = {}
  for field, names in pairs(aliases) do
    for _, n in ipairs(names) do
      by_alias[n] = field
    end
  end
  local columns = {}
  for i, h in ipairs(header) do
    local field = by_alias[(trim(h):lower():gsub("[^%w]", ""))]
    if field and not columns[field] then columns[field] = i end
  end
  return columns
end

--- The list that --list-id ID or --list NAME names (one of them is required): the list as
-- the API gives it (list_id, name, lead_count, ...). Ends the run when no list or several
-- have that name. Free: one GET /lead-lists/{id}, or the pages of GET /lead-lists.
function Run:find_list()
  local o = self.opts
  if (o.list_id == nil) == (o.list == nil) then
    self:fail(errors.new {
      kind = "invalid_request",
      exit_status = cli.EXIT_USAGE,
      message = "give one of --list-id ID or --list NAME",
    })
  end
  if o.list_id then return self:check(self.client:get_list(o.list_id)) end
  local exact, folded = {}, {}
  local lists = self.client:iter_lists { limit = 100 }
  for l in lists do
    if l.name == o.list then exact[#exact + 1] = l end
    if type(l.name) == "string" and l.name:lower() == o.list:lower() then folded[#folded + 1] = l end
  end
  if lists.err then self:fail(lists.err) end
  local hits = #exact > 0 and exact or folded
  if #hits == 0 then
    self:fail(errors.new {
      kind = "not_found",
      code = "not_found",
      message = ("no list called %q among the %d lists this key can see"):format(o.list, lists.count),
      fix = "give --list-id ID, or check the name (cleanlist -e 'for l in "
        .. 'require("cleanlist").new():iter_lists() do print(l.list_id, l.name) end\')',
    })
  elseif #hits > 1 then
    local ids = {}
    for i, l in ipairs(hits) do
      ids[i] = l.list_id
    end
    self:fail(errors.new {
      kind = "invalid_request",
      code = "ambiguous_list",
      exit_status = cli.EXIT_USAGE,
      message = ("%d lists are called %q (%s): give --list-id"):format(#hits, o.list, concat(ids, ", ")),
    })
  end
  return hits[1]
end

return M
