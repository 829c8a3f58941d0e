-- The recipe toolkit's pure helpers that the CSV recipes share: which columns of a header row
-- hold known fields, and which --out files get JSON lines.
local recipe = require "cleanlist.recipe"

describe("recipe.header_columns", function()
  local ALIASES = { email = { "email", "workemail" }, company_domain = { "domain", "website" } }

  it("matches headers without regard to case, spaces or punctuation; the first column wins", function()
    local cols = recipe.header_columns({ "Name", " Work E-mail ", "Website", "EMAIL", "" }, ALIASES)
    assert.same({ email = 2, company_domain = 3 }, cols)
  end)

  it("gives nothing for a header row without a known field", function()
    assert.same({}, recipe.header_columns({ "id", "notes", "" }, ALIASES))
  end)
end)

describe("recipe.jsonl_path", function()
  it("writes JSON lines to .jsonl, .ndjson and .json files, CSV to .csv, else as --json says", function()
    for _, path in ipairs { "out.jsonl", "OUT.NDJSON", "x/y.json" } do
      assert.is_true(recipe.jsonl_path(path, {}), path)
    end
    assert.is_false(recipe.jsonl_path("out.csv", { json = true }))
    assert.is_false(recipe.jsonl_path("out.txt", {}))
    assert.is_true(recipe.jsonl_path("out.txt", { json = true }))
    assert.is_true(recipe.jsonl_path("out", { json = true }))
  end)
end)
