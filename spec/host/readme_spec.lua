-- Every Lua block of the README and of docs/*.md runs as it is under `cleanlist --sandbox
-- --time-scale 600`; every line of a ```sh block that starts with `cleanlist --sandbox` runs
-- as it is written (the executable under test in place of `cleanlist`) and exits 0.
local run = require "spec.helpers.run"

local function blocks(text, lang)
  local out = {}
  for code in text:gmatch("\n```" .. lang .. "\n(.-)\n```") do
    out[#out + 1] = code
  end
  return out
end

local function split_words(line)
  -- the commands use plain words and single- or double-quoted strings
  local words, rest = {}, line
  while true do
    rest = rest:gsub("^%s+", "")
    if rest == "" then break end
    local q, word, after = rest:match("^(['\"])(.-)%1(.*)$")
    if q then
      words[#words + 1], rest = word, after
    else
      word, after = rest:match("^(%S+)(.*)$")
      words[#words + 1], rest = word, after
    end
  end
  return words
end

local DOCS = { "README.md", "docs/scripting.md" }

for _, doc in ipairs(DOCS) do
  describe(doc, function()
    local text = assert(run.read_file(doc))
    local lua = blocks(text, "lua")

    if doc == "README.md" then it("has the tour's examples", function()
      assert.truthy(#lua >= 8)
    end) end

    for i, code in ipairs(lua) do
      local first = code:match("^%-%- ([^\n]+)") or code:match("^([^\n]+)")
      it("Lua block " .. i .. " runs under cleanlist --sandbox (" .. first .. ")", function()
        local path = run.script(code)
        local home = os.tmpname()
        os.remove(home)
        local r = run.host({ "--sandbox", "--time-scale", "600", path }, { XDG_STATE_HOME = home })
        os.remove(path)
        os.execute("rm -rf " .. run.quote(home))
        assert.equals(0, r.code, r.stderr .. r.stdout)
        assert.is_nil(r.stderr:find("traceback", 1, true), r.stderr)
        assert.is_nil((r.stdout .. r.stderr):find("clapi_sandbox_full_access", 1, true))
      end)
    end

    for _, code in ipairs(blocks(text, "sh")) do
      for line in code:gmatch("[^\n]+") do
        if line:find("^cleanlist %-%-sandbox ") then
          it("runs `" .. line .. "`", function()
            local words = split_words(line)
            table.remove(words, 1)
            local home = os.tmpname()
            os.remove(home)
            local r = run.host(words, { XDG_STATE_HOME = home })
            os.execute("rm -rf " .. run.quote(home))
            assert.equals(0, r.code, r.stderr .. r.stdout)
            assert.is_nil(r.stderr:find("traceback", 1, true), r.stderr)
          end)
        end
      end
    end
  end)
end
