-- luacheck: std +busted
-- The sandbox as a process: it never shows a key, prints one LISTENING line, stops on end of
-- stdin and on signals (but not when stdin is /dev/null), and handles its flags.
local poll = require "spec.helpers.poll"
local sandbox = require "spec.helpers.sandbox"
local run = require "spec.helpers.run"

describe("sandbox secrets", function()
  local KEY = "clapi_spec_custom_full_key_9f8e7d6c"

  it("never show the key in bodies, the request log, stdout or stderr", function()
    local sb = sandbox.start { quiet = false, args = { "--api-key", KEY, "--seed", "3" } }
    local texts = {}
    local ok, err = pcall(function()
      assert.are.equal(KEY, sb.key)
      local status, _, _, raw = sb:api("GET", "/whoami")
      assert.are.equal(200, status)
      texts[#texts + 1] = raw
      -- the built-in full-access key is replaced, not added
      assert.are.equal(401, (sb:api("GET", "/whoami", { key = sandbox.KEY })))
      for _, path in ipairs { "/credits/balance", "/nope", "/whoami?key=x" } do
        texts[#texts + 1] = select(4, sb:api("GET", path))
      end
      texts[#texts + 1] =
        select(4, sb:api("GET", "/whoami", { key = false, headers = { Authorization = "Token " .. KEY } }))
      texts[#texts + 1] = select(4, sb:api("GET", "/whoami", { key = KEY .. "x" }))
      sb:control("POST", "/script", { responses = { { raise = "leak " .. KEY } } })
      texts[#texts + 1] = select(4, sb:api("GET", "/whoami"))
      local log = sb:requests()
      assert.are.equal(8, #log)
      local _, log_text = sb:http("GET", sb.root .. "/__sandbox/requests")
      texts[#texts + 1] = log_text
      assert.are.equal("Bearer clapi_\226\128\166" .. KEY:sub(-4), log[1].headers.authorization)
    end)
    sb:stop()
    assert(ok, err)
    texts[#texts + 1] = sb.stdout
    texts[#texts + 1] = sb.stderr
    assert.is_truthy(sb.stderr:match("GET /api/v1/public/whoami"), "no request log on stderr")
    assert.is_truthy(sb.stderr:match("internal error"), "no error log on stderr")
    for i, t in ipairs(texts) do
      assert.is_nil(t:find("spec_custom_full_key", 1, true), "key leaked in text " .. i)
      assert.is_nil(t:find(sandbox.KEY, 1, true), "built-in key leaked in text " .. i)
    end
    assert.is_truthy(sb.stdout:match("^LISTENING http://127%.0%.0%.1:%d+/api/v1/public\n$"))
  end)
end)

describe("sandbox process", function()
  local bin = sandbox.binary()

  local function run_cmd(args)
    local r = run.sh(run.quote(bin) .. " " .. args)
    return r.code, r.stdout, r.stderr
  end

  it("exits 0 when its stdin closes", function()
    local sb = sandbox.start()
    assert.is_true(sb:alive())
    local pid = sb.pid
    assert.are.equal(0, sb:stop())
    assert.is_false(sb.killed_by_watchdog)
    local _, rc = sandbox.run("kill -0 " .. pid .. " 2>/dev/null")
    assert.are_not.equal(0, rc)
  end)

  it("exits 0 on SIGTERM and on SIGINT", function()
    for _, sig in ipairs { "TERM", "INT" } do
      local sb = sandbox.start()
      assert.are.equal(200, (select(2, sb:control("GET", "/health"))))
      assert.is_true(sb:signal(sig))
      -- exited (a zombie until its parent reaps it counts as exited), with status 0
      assert.is_true(sb:wait_exit(5), "still running after SIG" .. sig)
      assert.is_false(sb:alive())
      assert.are.equal(0, sb:stop())
    end
  end)

  it("keeps serving when stdin is /dev/null, until a signal", function()
    local sb = sandbox.start { stdin = "/dev/null" }
    -- its main thread waits for a signal alone: in pselect on no descriptor (nfds 0, no sets),
    -- past the point where it would have read the end of stdin
    poll.wait_until(function()
      local line = sandbox.read_file("/proc/" .. sb.pid .. "/syscall") or ""
      return line:match("^%d+ 0x0 0x0 0x0 0x0 ") ~= nil, line
    end, 5, "the sandbox's main thread to wait on no descriptor")
    assert.is_true(sb:alive())
    local body, status = sb:control("GET", "/health")
    assert.are.equal(200, status)
    assert.is_true(body.ok)
    assert.are.equal(0, sb:stop())
    assert.is_false(sb:alive())
  end)

  it("documents every flag and the built-in keys in --help (exit 0)", function()
    local rc, out, err = run_cmd("sandbox --help")
    assert.are.equal(0, rc)
    assert.are.equal("", err)
    for _, flag in ipairs { "--port", "--bind", "--api-key", "--seed", "--quiet", "--help" } do
      assert.is_truthy(out:find(flag, 1, true), "--help does not mention " .. flag)
    end
    assert.is_truthy(out:find("clapi_sandbox_full_access_", 1, true))
    assert.is_truthy(out:find("clapi_sandbox_read_only_", 1, true))
    assert.is_nil(out:find(sandbox.KEY, 1, true))
    assert.is_nil(out:find(sandbox.READONLY_KEY, 1, true))
  end)

  it("exits 2 with a message and the usage on a bad flag", function()
    for _, args in ipairs {
      "sandbox --frobnicate",
      "sandbox --port",
      "sandbox --port 70000",
      "sandbox --bind 0.0.0.0",
      "sandbox --api-key notakey",
      "sandbox --seed -1",
    } do
      local rc, out, err = run_cmd(args)
      assert.are.equal(2, rc, args)
      assert.are.equal("", out, args)
      assert.is_truthy(err:match("^cleanlist sandbox: "), args)
      assert.is_truthy(err:find("usage: cleanlist sandbox", 1, true), args)
    end
  end)

  it("does not echo a stray key given as an argument", function()
    local rc, _, err = run_cmd("sandbox " .. sandbox.quote(sandbox.KEY))
    assert.are.equal(2, rc)
    assert.is_nil(err:find(sandbox.KEY, 1, true))
  end)
end)
