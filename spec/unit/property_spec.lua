-- Seeded property checks: malformed bodies and headers thrown at the client's error mapping
-- (every answer becomes a result table or a cleanlist.Error with a kind and a message, never a
-- crash, never the key). spec/sandbox/malformed_spec.lua throws the same bodies at the
-- sandbox's validators. The seed is fixed, so a failure repeats; CLEANLIST_PROPERTY_SEED picks
-- another.
local cleanlist = require "cleanlist"
local fake_client = require "spec.helpers.fake_client"

local SEED = tonumber(os.getenv("CLEANLIST_PROPERTY_SEED")) or 20261206

local malformed = require "spec.helpers.malformed"
local generator, body = malformed.generator, malformed.body

local function headers(g)
  local h = {}
  if g.int(0, 1) == 1 then
    h["retry-after"] = g.pick {
      "0",
      "-1",
      "1e308",
      "NaN",
      "abc",
      "Sun, 06 Nov 1994 08:49:47 GMT",
      "Sun, 99 Foo 1994 99:99:99 GMT",
      ("9"):rep(400),
      "",
      " 3 ",
    }
  end
  if g.int(0, 1) == 1 then h["content-type"] = g.pick { "application/json", "text/html", "" } end
  if g.int(0, 1) == 1 then h["x-request-id"] = g.bytes(g.int(0, 40)) end
  return h
end

-- No string anywhere in v holds the key.
local function holds_key(v, key, depth)
  depth = depth or 0
  if type(v) == "string" then return v:find(key, 1, true) ~= nil end
  if type(v) == "table" and depth < 20 then
    for k, item in pairs(v) do
      if holds_key(k, key, depth + 1) or holds_key(item, key, depth + 1) then return true end
    end
  end
  return false
end

describe("the client's error mapping, under 600 malformed answers", function()
  it("returns a result or an Error with a kind and a message, and never the key", function()
    local g = generator(SEED)
    local kinds = {}
    for i = 1, 600 do
      local c, fake, _, key = fake_client.new { max_retries = 0 }
      local status =
        g.pick { 200, 201, 204, 400, 401, 402, 403, 404, 409, 413, 422, 429, 500, 502, 503, 599, 0, 99, 302, 418 }
      fake:push { status = status, body = body(g, key), headers = headers(g) }
      local ok, res, err = pcall(c.request, c, g.pick { "GET", "POST" }, "/whoami")
      assert.is_true(ok, ("case %d (seed %d): the client raised %s"):format(i, SEED, tostring(res)))
      if res == nil then
        assert.is_true(cleanlist.is_error(err), ("case %d: not an Error"):format(i))
        assert.is_string(err.kind)
        assert.is_string(err.message)
        assert.is_string(tostring(err))
        kinds[err.kind] = true
        assert.is_false(holds_key(err, key), ("case %d: the key is in the error"):format(i))
        if err.retry_after ~= nil then
          assert.is_true(
            err.retry_after == err.retry_after and err.retry_after >= 0,
            ("case %d: retry_after %s"):format(i, tostring(err.retry_after))
          )
        end
      else
        assert.is_table(res)
      end
    end
    -- the cases reached the kinds they should
    for _, k in ipairs { "decode", "invalid_request", "auth", "rate_limited", "server", "api" } do
      assert.is_true(kinds[k] == true, "no case gave kind " .. k)
    end
  end)
end)
