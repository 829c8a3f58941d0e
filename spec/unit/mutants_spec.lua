-- The mutant catalogue of `make mutate` (tools/mutants.lua) applies to the tree as it is: each
-- mutant is well formed, its id unique, its find text occurs exactly once in its file, and the
-- specs it names exist (or are among the few being written now).

local CATALOGUE = "tools/mutants.lua"

-- Spec files a mutant may name before they exist (the runner skips them, saying so).
local PENDING = {
  ["spec/sandbox/terminal_spec.lua"] = true,
}

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function occurrences(text, find)
  local n, at = 0, 1
  while true do
    local s, e = text:find(find, at, true)
    if not s then return n end
    n, at = n + 1, e + 1
  end
end

describe("the mutant catalogue", function()
  local mutants = dofile(CATALOGUE)

  it("has at least 40 mutants, each with its fields and a unique id", function()
    assert.is_true(#mutants >= 40, "only " .. #mutants .. " mutants")
    local seen = {}
    for i, m in ipairs(mutants) do
      local where = "mutant " .. i .. " (" .. tostring(m.id) .. ")"
      for _, field in ipairs { "id", "file", "find", "replace", "bug" } do
        assert.equal("string", type(m[field]), where .. ": " .. field)
        assert.is_true(#m[field] > 0, where .. ": empty " .. field)
      end
      assert.is_truthy(m.id:find("^[%w%-]+$"), where .. ": an id is letters, digits and dashes")
      assert.is_nil(seen[m.id], where .. ": id used twice")
      seen[m.id] = true
      assert.is_false(m.bug:find("\n") ~= nil, where .. ": bug is one line")
      assert.not_equal(m.find, m.replace, where .. ": replace is find")
      assert.equal("table", type(m.specs), where .. ": specs")
      assert.is_true(#m.specs > 0, where .. ": no specs")
    end
  end)

  it("finds each mutant's text exactly once in its file", function()
    for _, m in ipairs(mutants) do
      local text = read(m.file)
      assert.is_truthy(text, m.id .. ": no file " .. m.file)
      assert.equal(1, occurrences(text, m.find), m.id .. ": find occurrences in " .. m.file)
    end
  end)

  it("names specs that exist, ctest, or the few being written", function()
    for _, m in ipairs(mutants) do
      for _, spec in ipairs(m.specs) do
        local ok = spec == "ctest" or spec:find("^ctest:") or PENDING[spec] or read(spec) ~= nil
        assert.is_truthy(ok, m.id .. ": no spec " .. spec)
      end
    end
  end)
end)
