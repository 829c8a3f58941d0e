-- The client's CSV (cleanlist.csv): records read from written-out text (no final newline,
-- CRLF, doubled quotes, a byte order mark, line breaks inside quotes) and rows written so
-- that they read back the same.
local csv = require "cleanlist.csv"

local function records(text)
  local out = {}
  csv.each_record(text, function(fields)
    out[#out + 1] = fields
  end)
  return out
end

describe("cleanlist.csv", function()
  it("reads the last record of a file without a final newline", function()
    assert.same(
      { { "name", "email" }, { "Ada", "ada@acme.io" }, { "Bob", "bob@acme.io" } },
      records("name,email\nAda,ada@acme.io\nBob,bob@acme.io")
    )
    local header, rows = csv.shape("name,email\r\nAda,ada@acme.io\r\nBob,bob@acme.io")
    assert.same({ "name", "email" }, header)
    assert.equal(2, rows)
    assert.same({ { "a", "" } }, records("a,"))
  end)

  it("reads CRLF and LF line ends alike and skips blank lines", function()
    assert.same({ { "a", "b" }, { "1", "2" }, { "3", "4" } }, records("a,b\r\n1,2\r\n\r\n3,4\r\n"))
    assert.same({ { "a", "b" }, { "1", "2" } }, records("a,b\n1,2\n"))
  end)

  it("reads a doubled quote inside a quoted field as one quote", function()
    local got = records('name,title\n"Bob ""The Closer"" Smith","VP, Sales"\n')
    assert.same({ { "name", "title" }, { 'Bob "The Closer" Smith', "VP, Sales" } }, got)
    assert.same({ { '"' } }, records('""""'))
  end)

  it("keeps line breaks inside a quoted field", function()
    assert.same({ { "note", "n" }, { "line one\r\nline two", "2" } }, records('note,n\r\n"line one\r\nline two",2\r\n'))
  end)

  it("skips a UTF-8 byte order mark before the header", function()
    local header, rows = csv.shape("\239\187\191email,name\r\nada@acme.io,Ada\r\n")
    assert.same({ "email", "name" }, header)
    assert.equal(1, rows)
  end)

  it("writes a row CRLF-terminated, quoting only the values that need it", function()
    assert.equal("Ada,42,,ada@acme.io\r\n", csv.row { "Ada", 42, "", "ada@acme.io" })
    assert.equal('"VP, Sales"\r\n', csv.row { "VP, Sales" })
    assert.equal('"Bob ""The Closer"" Smith"\r\n', csv.row { 'Bob "The Closer" Smith' })
    assert.equal('"5\'10"""\r\n', csv.row { "5'10\"" })
    assert.equal('"a\nb","c\rd"\r\n', csv.row { "a\nb", "c\rd" })
  end)

  it("reads back what it writes", function()
    local rows = {
      { "name", "title", "note" },
      { 'Bob "The Closer" Smith', "VP, Sales", "line one\nline two" },
      { "Ada", "", '"' },
      { "", "x,y", "CR\r\nLF" },
    }
    local text = {}
    for i, row in ipairs(rows) do
      text[i] = csv.row(row)
    end
    assert.same(rows, records(table.concat(text)))
  end)
end)
