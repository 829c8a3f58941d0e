-- The cleanlist executable: script semantics, options, errors, the built-in sandbox.
local run = require "spec.helpers.run"

local SECRET = "clapi_host_spec_secret_7777777777"

local function abs(path)
  return path:sub(1, 1) == "/" and path or (os.getenv("PWD") .. "/" .. path)
end

describe("cleanlist executable", function()
  local script, remove_scripts = run.scripts()
  teardown(remove_scripts)

  it("prints its version", function()
    local r = run.host { "--version" }
    assert.equals(0, r.code)
    assert.matches("^cleanlist %d+%.%d+%.%d+", r.stdout)
  end)

  it("documents itself in --help", function()
    local r = run.host { "--help" }
    assert.equals(0, r.code)
    assert.matches("CLEANLIST_API_KEY", r.stdout)
    assert.matches("%-%-sandbox", r.stdout)
  end)

  it("refuses an unknown option with status 2", function()
    local r = run.host { "--bogus" }
    assert.equals(2, r.code)
    assert.matches("unknown option", r.stderr)
  end)

  it("runs -e code with the module preloaded", function()
    local r = run.host { "-e", "print(require('cleanlist').VERSION)" }
    assert.equals(0, r.code)
    assert.matches("^%d+%.%d+%.%d+\n$", r.stdout)
  end)

  it("sets arg like the lua interpreter and passes ... to the script", function()
    local p = script("print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)")
    local r = run.host { p, "a", "b c" }
    assert.equals(0, r.code)
    assert.equals(p .. "\ta\tb c\t2\t2\ta\tb c\n", r.stdout)
  end)

  it("works from any directory (the Lua sources are built in)", function()
    local r = run.sh("cd / && " .. run.quote(abs(run.bin())) .. " -e \"print(require('cleanlist.client').USER_AGENT)\"")
    assert.equals(0, r.code)
    assert.matches("^cleanlist%-lua/%d", r.stdout)
  end)

  it("says so when the script file is missing", function()
    local r = run.host { "/nonexistent/script.lua" }
    assert.equals(1, r.code)
    assert.matches("cannot open /nonexistent/script.lua", r.stderr)
  end)

  it("prints a traceback and exits 1 on an uncaught error", function()
    local p = script("local function inner() error('boom in script') end\ninner()\n")
    local r = run.host { p }
    assert.equals(1, r.code)
    assert.matches("boom in script", r.stderr)
    assert.matches("stack traceback", r.stderr)
    assert.matches("inner", r.stderr)
  end)

  it("prints a cleanlist.Error raised by check readably", function()
    local p = script([[
      local cleanlist = require "cleanlist"
      local c = cleanlist.new { base_url = "http://127.0.0.1:1/api/v1/public", max_retries = 0 }
      cleanlist.check(c:whoami())
    ]])
    local r = run.host({ p }, { CLEANLIST_API_KEY = SECRET })
    assert.equals(1, r.code)
    assert.matches("cleanlist: transport error", r.stderr)
    assert.is_nil(r.stderr:find(SECRET, 1, true))
    assert.is_nil(r.stdout:find(SECRET, 1, true))
  end)

  it("names CLEANLIST_API_KEY when no key is set", function()
    local r = run.host({ "-e", "require('cleanlist').new()" }, { CLEANLIST_API_KEY = false })
    assert.equals(1, r.code)
    assert.matches("CLEANLIST_API_KEY", r.stderr)
  end)

  it("refuses a malformed CLEANLIST_BASE_URL before sending anything", function()
    local r = run.host(
      { "-e", "require('cleanlist').new()" },
      { CLEANLIST_API_KEY = SECRET, CLEANLIST_BASE_URL = "http://api.cleanlist.ai/api/v1/public" }
    )
    assert.equals(1, r.code)
    assert.matches("plain http", r.stderr)
    assert.is_nil(r.stderr:find(SECRET, 1, true))
  end)

  it("reads Lua from standard input when given no script", function()
    local r = run.sh("echo 'print(1 + 1)' | " .. run.quote(run.bin()))
    assert.equals(0, r.code)
    assert.equals("2\n", r.stdout)
  end)

  it("gives an interactive prompt on a terminal that prints values", function()
    local r =
      run.sh("printf 'x = 20 + 1\\nx * 2\\nerror(\"oops\")\\n' | script -qec " .. run.quote(run.bin()) .. " /dev/null")
    assert.equals(0, r.code)
    assert.matches("> x %* 2\r?\n42\r?\n", r.stdout)
    assert.matches("cleanlist: .*oops", r.stdout)
  end)

  it("allows no core dump (it would hold the key) unless CLEANLIST_CORE_DUMPS=1", function()
    local probe = "print((io.popen('ulimit -c'):read('*a'):gsub('%s+$', '')))"
    local r = run.host({ "-e", probe }, { CLEANLIST_CORE_DUMPS = false })
    assert.equals(0, r.code, r.stderr)
    assert.equals("0\n", r.stdout)
    r = run.sh("ulimit -c 1000 2>/dev/null; " .. run.quote(run.bin()) .. " -e " .. run.quote(probe))
    assert.equals("0\n", r.stdout)
    r = run.sh(
      "ulimit -c 1000 2>/dev/null || exit 77; CLEANLIST_CORE_DUMPS=1 "
        .. run.quote(run.bin())
        .. " -e "
        .. run.quote(probe)
    )
    if r.code ~= 77 then assert.equals("1000\n", r.stdout) end -- (77: this shell may not raise it)
  end)

  it("runs a script against the built-in sandbox with --sandbox", function()
    local r = run.host({ "--sandbox", "recipes/whoami.lua" }, { CLEANLIST_API_KEY = false })
    assert.equals(0, r.code, r.stderr)
    assert.matches("tier: +pro\n", r.stdout)
    assert.matches("scopes: +people:read, .*credits:read", r.stdout)
    assert.matches("credits: +5000\n", r.stdout)
    assert.is_nil(r.stdout:find("clapi_sandbox", 1, true))
    assert.equals("", r.stderr)
  end)

  it("points the client at the sandbox even when a real key is set", function()
    local r = run.host({ "--sandbox", "-e", "print(os.getenv('CLEANLIST_BASE_URL'))" }, { CLEANLIST_API_KEY = SECRET })
    assert.equals(0, r.code)
    assert.matches("^http://127%.0%.0%.1:%d+/api/v1/public\n$", r.stdout)
  end)
end)
