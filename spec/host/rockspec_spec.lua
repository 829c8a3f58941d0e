-- The rockspec builds and installs a working module tree (luarocks make, no registry).
local run = require "spec.helpers.run"

describe("rockspec", function()
  it("installs cleanlist with luarocks make --deps-mode=none", function()
    if (os.getenv("CLEANLIST_ENGINE") or "lua5.4") ~= "lua5.4" then
      pending("the rock is checked once, under Lua 5.4")
      return
    end
    local tree = os.tmpname()
    os.remove(tree)
    local r = run.sh("luarocks --lua-version 5.4 --tree " .. tree
      .. " make --deps-mode=none rockspec/cleanlist-scm-1.rockspec >/dev/null 2>&1; rm -rf build.luarocks; "
      .. "LUA_PATH='" .. tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua;;' "
      .. "LUA_CPATH='" .. tree .. "/lib/lua/5.4/?.so;;' "
      .. "lua5.4 -e 'local c = require(\"cleanlist\"); print(c.VERSION, type(c.new), type(c.gather))'")
    os.execute("rm -rf " .. tree)
    assert.equals(0, r.code, r.stderr)
    assert.matches("^%d+%.%d+%.%d+\tfunction\tfunction\n$", r.stdout)
  end)
end)
