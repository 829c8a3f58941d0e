-- `make install` as the README gives it, staged with DESTDIR: the module for the engine, the
-- executable, the man page, the recipes and the docs land under PREFIX; the staged module
-- loads in the plain interpreter and calls the API; `make uninstall` takes every file away.
local run = require "spec.helpers.run"
local sandbox = require "spec.helpers.sandbox"

local q = run.quote

describe("make install", function()
  if not run.main_pass() then
    it("is checked once, in the Lua 5.4 pass", function()
      pending("make install is checked from the Lua 5.4 pass")
    end)
    return
  end

  local work, sb
  local script, remove_scripts = run.scripts()
  teardown(remove_scripts)
  setup(function()
    work = os.tmpname()
    os.remove(work)
    sb = sandbox.start()
  end)
  teardown(function()
    if sb then sb:stop() end
    os.execute("rm -rf " .. q(work))
  end)

  it("installs under DESTDIR + PREFIX, runs from there, and uninstalls every file", function()
    local root, prefix = work .. "/root", "/opt/cl"
    local args = " LUA=lua5.4 BUILD=" .. q(work .. "/build") .. " PREFIX=" .. prefix .. " DESTDIR=" .. q(root)
    local r = run.sh("make --no-print-directory install" .. args, 300)
    assert.equals(0, r.code, r.stdout .. r.stderr)
    local base = root .. prefix
    for _, f in ipairs {
      "/bin/cleanlist",
      "/share/lua/5.4/cleanlist/init.lua",
      "/share/lua/5.4/cleanlist/api/enrichment.lua",
      "/lib/lua/5.4/cleanlist/core.so",
      "/lib/lua/5.4/cleanlist/curl.so",
      "/share/man/man1/cleanlist.1.gz",
      "/share/cleanlist/recipes/prospect_to_crm.lua",
      "/share/doc/cleanlist/LICENSE",
      "/share/doc/cleanlist/README.md",
    } do
      assert.is_not_nil(run.read_file(base .. f), "missing " .. prefix .. f)
    end
    -- the man page is the one in docs/, compressed
    local man = run.sh("gzip -dc " .. q(base .. "/share/man/man1/cleanlist.1.gz"))
    assert.equals(run.read_file("docs/cleanlist.1"), man.stdout)
    -- the staged module, from the plain interpreter, outside the source tree
    local p = run.sh(
      "cd / && LUA_PATH="
        .. q(base .. "/share/lua/5.4/?.lua;" .. base .. "/share/lua/5.4/?/init.lua;;")
        .. " LUA_CPATH="
        .. q(base .. "/lib/lua/5.4/?.so;;")
        .. " lua5.4 "
        .. q(
          script(
            "local c = require('cleanlist').new{api_key = arg[1], base_url = arg[2],"
              .. " rate_limit = false}; print(assert(c:credits_balance()).credits,"
              .. " package.searchpath('cleanlist.curl', package.cpath))"
          )
        )
        .. " "
        .. q(sandbox.KEY)
        .. " "
        .. q(sb.base_url)
    )
    assert.equals(0, p.code, p.stderr)
    assert.equals("5000\t" .. base .. "/lib/lua/5.4/cleanlist/curl.so\n", p.stdout)
    -- the staged executable runs an installed recipe by its path
    local h = run.sh(
      q(base .. "/bin/cleanlist") .. " --sandbox run " .. q(base .. "/share/cleanlist/recipes/whoami.lua") .. " --json"
    )
    assert.equals(0, h.code, h.stderr)
    assert.matches('"organization":"Sandbox Labs"', h.stdout, 1, true)

    local u = run.sh("make --no-print-directory uninstall" .. args)
    assert.equals(0, u.code, u.stdout .. u.stderr)
    local left = run.sh("find " .. q(root) .. " -type f")
    assert.equals("", left.stdout)
  end)
end)
