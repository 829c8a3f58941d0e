-- The sandbox under abuse: a burst of connections opened and left silent neither locks
-- well-behaved clients out while it lasts nor outlives the idle timeout (10 s).
local poll = require "spec.helpers.poll"
local sandbox = require "spec.helpers.sandbox"
local run = require "spec.helpers.run"

local HELD = 1500 -- more than the 1,020 that filled the connection table before

describe("the sandbox under a burst of silent connections", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" } }

  it("keeps answering while they are held, and closes them after the idle timeout", function()
    local out = os.tmpname()
    local pid = tonumber(
      (
        run.capture(
          "python3 spec/helpers/hold_connections.py "
            .. sb.port
            .. " "
            .. HELD
            .. " >"
            .. run.quote(out)
            .. " 2>&1 & echo $!"
        )
      )
    )
    local ok, err = pcall(function()
      local held = poll.wait_until(function()
        return tonumber((run.read_file(out) or ""):match("HELD (%d+)"))
      end, 10, "the silent connections to be opened")
      assert.equals(HELD, held)
      -- meanwhile a client is served at once
      local t0 = os.time()
      local status, body = sb:api("GET", "/whoami")
      assert.equals(200, status)
      assert.equals("Vera Okafor", body.user_name)
      assert.is_true(os.time() - t0 <= 2)
      -- and the silent ones are closed by the server within the idle timeout (10 s) and a bit
      poll.wait_until(function()
        local closed = tonumber(((run.read_file(out) or ""):match("CLOSED (%d+)%s*$")))
        return closed == HELD, closed
      end, 20, "the server to close all " .. HELD .. " silent connections")
      status = sb:api("GET", "/whoami")
      assert.equals(200, status)
    end)
    run.execute("kill " .. tostring(pid) .. " 2>/dev/null")
    os.remove(out)
    assert(ok, err)
  end)
end)
