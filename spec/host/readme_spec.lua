-- Every Lua block of the README runs as it is under `cleanlist --sandbox --time-scale 600`.
local run = require "spec.helpers.run"

local function lua_blocks(text)
  local blocks = {}
  for code in text:gmatch("\n```lua\n(.-)\n```") do blocks[#blocks + 1] = code end
  return blocks
end

describe("README", function()
  local blocks = lua_blocks(assert(run.read_file("README.md")))

  it("has the tour's examples", function()
    assert.truthy(#blocks >= 8)
  end)

  for i, code in ipairs(blocks) do
    local first = code:match("^%-%- ([^\n]+)") or code:match("^([^\n]+)")
    it("block " .. i .. " runs under cleanlist --sandbox (" .. first .. ")", function()
      local path = run.script(code)
      local r = run.host({ "--sandbox", "--time-scale", "600", path })
      os.remove(path)
      assert.equals(0, r.code, r.stderr .. r.stdout)
      assert.is_nil(r.stderr:find("traceback", 1, true), r.stderr)
      assert.is_nil((r.stdout .. r.stderr):find("clapi_sandbox_full_access", 1, true))
    end)
  end
end)
