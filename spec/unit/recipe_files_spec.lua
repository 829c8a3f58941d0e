-- The files of the CSV recipes (cleanlist.recipe.files): the input read whole, the --out file
-- next to it, records by known headers, the mapping said for a person, rows as CSV or JSON
-- lines.
local files = require "cleanlist.recipe.files"
local json = require "cleanlist.json"

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

describe("recipe.files", function()
  it("reads a file whole, or says why it cannot", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("a,b\r\n1,2\r\n")
    f:close()
    assert.equal("a,b\r\n1,2\r\n", files.read(path))
    os.remove(path)
    local text, err = files.read(path)
    assert.is_nil(text)
    assert.matches("^cannot read " .. path:gsub("%p", "%%%0") .. ": ", err)
  end)

  it("puts the results next to the input unless --out says where, and never over it", function()
    assert.equal("dir/contacts", files.stem("dir/contacts.CSV"))
    assert.equal("dir/contacts-enriched.csv", files.out_path("dir/contacts.csv", nil, "-enriched.csv"))
    assert.equal("out.jsonl", files.out_path("dir/contacts.csv", "out.jsonl", "-enriched.csv"))
    local path, err = files.out_path("in.csv", "in.csv", "-enriched.csv")
    assert.is_nil(path)
    assert.equal("--out in.csv would overwrite the input", err)
  end)

  it("reads records by the columns the header names, trimmed, the empty values left out", function()
    local aliases = { email = { "email", "workemail" }, company_name = { "company" } }
    local header, mapping, records =
      files.records("Name, Work Email ,Company\r\nAda, ada@x.io ,\r\n,,Acme\r\n", aliases)
    assert.same({ "Name", " Work Email ", "Company" }, header)
    assert.same({ email = 2, company_name = 3 }, mapping)
    assert.same({ { email = "ada@x.io" }, { company_name = "Acme" } }, records)
    assert.is_nil((files.records("", aliases)))
  end)

  it("says a mapping by field, with the header's names or the columns' own", function()
    assert.equal(
      "company_name=Company, email=Work Email",
      files.mapping_text({ email = 2, company_name = 3 }, { "Name", " Work Email ", "Company" })
    )
    assert.equal("email=E-mail", files.mapping_text { email = "E-mail" })
  end)

  it("writes rows as CSV with a header row, or as JSON lines with null for what a row lacks", function()
    local path = os.tmpname()
    local rows = { { a = "x,y", b = 2 }, { b = 3 } }
    assert.is_true(files.write_rows(path, { "a", "b" }, rows, false))
    assert.equal('a,b\r\n"x,y",2\r\n,3\r\n', slurp(path))
    assert.is_true(files.write_rows(path, { "a", "b" }, rows, true))
    local lines = {}
    for line in slurp(path):gmatch "[^\n]+" do
      lines[#lines + 1] = json.decode(line)
    end
    assert.same({ { a = "x,y", b = 2 }, { a = json.null, b = 3 } }, lines)
    os.remove(path)
    local ok, err = files.write_rows("/nonexistent/dir/out.csv", { "a" }, rows, false)
    assert.is_nil(ok)
    assert.matches("^cannot write /nonexistent/dir/out.csv: ", err)
  end)

  it("writes a JSON line with the named fields first, in order, then the others by name", function()
    local line = files.json_line({ zeta = 1, email = "a@b.c", alpha = true, name = "Ann" }, { "name", "email", "nope" })
    assert.equal('{"name":"Ann","email":"a@b.c","alpha":true,"zeta":1}\n', line)
  end)
end)
