-- Processes that use one key share one limiter through a file (rate_limit.share; the default
-- for the real API): two processes against the sandbox's real window meet no 429, and one
-- killed mid-run leaves nothing stuck for the next.
local sandbox = require "spec.helpers.sandbox"
local run = require "spec.helpers.run"
local poll = require "spec.helpers.poll"

local SCRIPT = [[
local cleanlist = require "cleanlist"
local c = cleanlist.new { max_retries = 0, rate_limit = { share = %s } }
local ok, limited = 0, 0
for _ = 1, %d do
  local res, err = c:credits_balance()
  if res then ok = ok + 1 elseif err.kind == "rate_limited" then limited = limited + 1 end
end
print(("ok=%%d limited=%%d"):format(ok, limited))
]]

describe("one key's limiter shared by processes", function()
  local sb =
    sandbox.suite { args = { "--time-scale", "60", "--seed", "7" }, rate_limit = true, reset = true, clear = true }
  local dir, scripts, remove_scripts

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(run.execute("mkdir -p " .. run.quote(dir)))
    scripts, remove_scripts = run.scripts()
  end)
  after_each(function()
    remove_scripts()
    run.execute("rm -rf " .. run.quote(dir))
  end)

  -- Starts the script in the background; returns the file its output goes to and its pid.
  local function start(share, calls)
    local path = scripts(SCRIPT:format(tostring(share), calls))
    local out = dir .. "/out-" .. tostring(math.random(1e9))
    local cmd = (
      "env CLEANLIST_BASE_URL=%s CLEANLIST_API_KEY=%s CLEANLIST_TIME_SCALE=60 "
      .. "XDG_RUNTIME_DIR=%s %s %s >%s 2>&1 & echo $!"
    ):format(
      run.quote(sb.base_url),
      run.quote(sb.key),
      run.quote(dir),
      run.quote(run.bin()),
      run.quote(path),
      run.quote(out)
    )
    return out, tonumber((run.capture(cmd)))
  end

  local function result(out)
    for _ = 1, 400 do
      local text = run.read_file(out) or ""
      local ok, limited = text:match("ok=(%d+) limited=(%d+)")
      if ok then return tonumber(ok), tonumber(limited), text end
      run.execute("sleep 0.05")
    end
    error("no result in " .. out .. ": " .. tostring(run.read_file(out)))
  end

  it("keeps two processes on one key under the window: no 429 in 90 calls", function()
    local a = start(true, 45)
    local b = start(true, 45)
    local ok_a, lim_a = result(a)
    local ok_b, lim_b = result(b)
    assert.equals(0, lim_a + lim_b)
    assert.equals(90, ok_a + ok_b)
    local statuses = {}
    for _, s in ipairs(require("spec.helpers.wire").statuses(sb)) do
      statuses[s] = true
    end
    assert.is_nil(statuses[429])
  end)

  it("meets 429s when each process limits itself alone (the file is what shares)", function()
    local a = start(false, 45)
    local b = start(false, 45)
    local _, lim_a = result(a)
    local _, lim_b = result(b)
    assert.is_true(lim_a + lim_b > 0)
  end)

  it("leaves nothing stuck when a process dies mid-run", function()
    local _, pid = start(true, 200)
    poll.wait_until(function()
      return #sb:requests() >= 5
    end, 30, "the process's first five calls")
    assert(run.execute("kill -9 " .. pid))
    local b = start(true, 10)
    local ok_b, lim_b = result(b)
    assert.equals(10, ok_b)
    assert.equals(0, lim_b)
  end)
end)

describe("a key's and an organisation's files reserved together", function()
  local core = require "cleanlist.core"
  local dir

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(run.execute("mkdir -p " .. run.quote(dir) .. " && chmod 700 " .. run.quote(dir)))
  end)
  after_each(function()
    run.execute("rm -rf " .. run.quote(dir))
  end)

  -- (waits include the moment spent taking the files' locks: near, not equal)
  it("start at the organisation's slot when it is the later, and both record that start", function()
    local key = assert(core.shared_bucket(dir .. "/key", 3, 60, 1, 0))
    local org = assert(core.shared_bucket(dir .. "/org", 2, 60, 1, 0))
    assert.near(0, org:acquire(100), 1e-3) -- the organisation's next slot: 130
    assert.near(30, key:acquire_with(org, 100), 1e-3)
    -- the key's bucket counted the start at 130 (its next paced slot 150), not at its own 100
    assert.near(50, key:peek(100), 1e-3)
    assert.near(60, org:peek(100), 1e-3) -- two starts in the organisation's window until 160
  end)

  it("start at the key's slot when it is the later, and both record that start", function()
    local key = assert(core.shared_bucket(dir .. "/key", 2, 60, 1, 0))
    local org = assert(core.shared_bucket(dir .. "/org", 3, 60, 1, 0))
    assert.near(0, key:acquire(100), 1e-3) -- the key's next slot: 130
    assert.near(30, key:acquire_with(org, 100), 1e-3)
    assert.near(50, org:peek(100), 1e-3) -- the organisation's next paced slot: 130 + 20
  end)
end)
