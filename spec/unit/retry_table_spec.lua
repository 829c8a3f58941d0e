-- README's "Retries" table against the core: the kinds each row names and what it says of
-- them are those of the retry column of core/cl_errors.def (core.kinds), and
-- core.retry_decide decides every row as it is written.
local core = require "cleanlist.core"
local run = require "spec.helpers.run"

-- The rows of the first table under "### Retries": { what, repeatable, other }.
local function readme_rows()
  local readme = assert(run.read_file("README.md"))
  local section = assert(readme:match("\n### Retries\n(.-)\n##"), "README has no Retries section")
  local rows = {}
  for line in section:gmatch("[^\n]+") do
    if line:sub(1, 1) ~= "|" then
      if #rows > 0 then break end
    elseif not line:find("^|%-") then
      local cells = {}
      for cell in line:gmatch("|%s*([^|]-)%s*%f[|]") do
        cells[#cells + 1] = cell
      end
      rows[#rows + 1] = cells
    end
  end
  table.remove(rows, 1) -- the head
  return rows
end

-- "retried", "retried (unless `retryable: false`)", "`ambiguous = true`" or "returned".
local function outcome(cell)
  if cell:find("^retried") then return { retry = true, ambiguous = false } end
  if cell == "`ambiguous = true`" then return { retry = false, ambiguous = true } end
  assert.equals("returned", cell)
  return { retry = false, ambiguous = false }
end

-- The kinds a row names: its backquoted words that are kinds, before the colon.
local function kinds_of(what)
  local named = {}
  for word in (what:match("^(.-):") or what):gmatch("`([%w_]+)`") do
    if core.kinds[word] then named[#named + 1] = word end
  end
  return named
end

-- The decision for a request of the column (col 2: a GET, or a POST with an idempotency key;
-- col 3: any other POST).
local function decide(kind, col, sent, retryable, keyed)
  local retry, ambiguous = core.retry_decide {
    kind = kind,
    safe = col == 2 and not keyed,
    idempotent_key = col == 2 and keyed,
    sent = sent,
    retryable = retryable,
    attempt = 1,
    max_retries = 2,
  }
  return { retry = retry, ambiguous = ambiguous }
end

-- What a kind's retry word says of the two columns, sent or not.
local COLUMNS = {
  any = function()
    return "retried", "retried"
  end,
  repeatable = function()
    return "retried", "ambiguous"
  end,
  unsent = function(sent)
    return "retried", sent and "ambiguous" or "retried"
  end,
  never = function()
    return "returned", "returned"
  end,
}

local function word(cell)
  return cell:match("^retried") or (cell == "`ambiguous = true`" and "ambiguous") or cell
end

describe("README's Retries table", function()
  local rows = readme_rows()

  it("has a row for each way a failure is retried, and one for every other kind", function()
    assert.is_true(#rows >= 6, "rows: " .. #rows)
    local covered = {}
    for _, row in ipairs(rows) do
      assert.equals(3, #row, table.concat(row, " | "))
      for _, k in ipairs(kinds_of(row[1])) do
        covered[k] = true
      end
    end
    for name, k in pairs(core.kinds) do
      if k.retry ~= "never" then assert.is_true(covered[name], name .. " has no row") end
    end
  end)

  it("says of each kind it names what core.kinds says", function()
    for _, row in ipairs(rows) do
      local sent = not row[1]:find("nothing was sent", 1, true)
      for _, name in ipairs(kinds_of(row[1])) do
        local retry = core.kinds[name].retry
        local a, b = COLUMNS[retry](sent)
        local others = row[1]:find("^any other kind")
        assert.same({ a, b }, { word(row[2]), word(row[3]) }, name .. " (" .. retry .. ")")
        assert.is_true(not others or retry == "never", name .. " is an example of no retry")
      end
    end
  end)

  it("is what core.retry_decide decides, row by row", function()
    local named = {}
    for _, row in ipairs(rows) do
      for _, k in ipairs(kinds_of(row[1])) do
        if not row[1]:find("^any other kind") then named[k] = true end
      end
    end
    for _, row in ipairs(rows) do
      local what = row[1]
      local kinds = {}
      if what:find("^any other kind") or what:find("^any kind") then
        for name in pairs(core.kinds) do
          if what:find("^any kind") or not named[name] then kinds[#kinds + 1] = name end
        end
      else
        kinds = kinds_of(what)
      end
      local retryable = what:find("`retryable: true`", 1, true) and true or nil
      local sents = what:find("nothing was sent", 1, true) and { false }
        or what:find("after sending", 1, true) and { true }
        or { true, false }
      for _, name in ipairs(kinds) do
        for _, sent in ipairs(sents) do
          for col = 2, 3 do
            local tag = ("%s, sent %s, column %d: %s"):format(name, tostring(sent), col, row[col])
            assert.same(outcome(row[col]), decide(name, col, sent, retryable), tag)
            if col == 2 then assert.same(outcome(row[col]), decide(name, col, sent, retryable, true), tag) end
            if row[col]:find("unless `retryable: false`", 1, true) then
              assert.is_false(decide(name, col, sent, false).retry, tag)
            end
          end
        end
      end
    end
  end)
end)
