-- The man page (docs/cleanlist.1, installed as cleanlist(1)) says what `cleanlist --help`
-- says: every flag, every environment variable, every exit status and the version.
local run = require "spec.helpers.run"

local function man_text()
  -- roff escapes a minus as \- and a backslash-e as \e; the words are what matters here
  return (assert(run.read_file("docs/cleanlist.1")):gsub("\\%-", "-"):gsub("\\e", "\\"))
end

local function help()
  local r = run.host { "--help" }
  assert.equals(0, r.code, r.stderr)
  return r.stdout
end

describe("the man page", function()
  it("names every flag of cleanlist --help", function()
    local man, seen = man_text(), 0
    for flag in help():gmatch("%-%-[%a][%w%-]*") do
      seen = seen + 1
      if flag ~= "--flag" then -- "--flag V": how flags are written
        assert.truthy(man:find(flag, 1, true), flag .. " is in --help but not in docs/cleanlist.1")
      end
    end
    assert.truthy(seen >= 20, "--help lists " .. seen .. " flags")
  end)

  it("names every environment variable and exit status of cleanlist --help", function()
    local text, man = help(), man_text()
    for var in text:gmatch("\n  (CLEANLIST_[%u_]+)") do
      assert.truthy(man:find(var, 1, true), var .. " is not in docs/cleanlist.1")
    end
    for status, what in text:gmatch("\n +(%d+)  ([^\n]+)") do
      local kind = what:match("^an error of kind (%S+)")
      if kind then
        assert.truthy(man:find(kind, 1, true), "the kind " .. kind .. " (exit " .. status .. ")")
      else
        assert.truthy(man:find("\n.B " .. status .. "\n", 1, true), "exit status " .. status)
      end
    end
  end)

  it("is of this version, and renders without a warning", function()
    local version = assert(run.read_file("CMakeLists.txt")):match("project%(cleanlist VERSION (%S+)")
    assert.matches(
      '^%.TH CLEANLIST 1 "[%d%-]+" "cleanlist ' .. version:gsub("%.", "%%.") .. '"',
      assert(run.read_file("docs/cleanlist.1"))
    )
    local r = run.sh("LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l docs/cleanlist.1 2>&1 >/dev/null")
    assert.equals("", r.stdout)
    assert.equals(0, r.code)
  end)
end)
