-- The C modules return every failure in one shape: nil and {kind=, message=, cause=, sent=}
-- (core/lcl_error.h), the fields the client makes a cleanlist.Error of. Wrong argument types
-- raise instead.
local core = require "cleanlist.core"
local curl = require "cleanlist.curl"

local function assert_failure(kind, pattern, value, err)
  assert.is_nil(value)
  assert.equals("table", type(err))
  assert.equals(kind, err.kind)
  assert.matches(pattern, err.message)
  assert.equals("number", type(err.cause))
  assert.equals("boolean", type(err.sent))
end

describe("a failure of the C modules", function()
  it("is nil and an error table for a key, a base URL, a store URL and a shared file", function()
    assert_failure("config", "clapi_", core.credential("not-a-key"))
    assert_failure("config", "invalid base URL", core.check_base_url("ftp://example.com"))
    assert_failure("config", ".", core.redis_url("http://example.com"))
    assert_failure(
      "config",
      "shared rate%-limit file",
      core.shared_bucket("/nonexistent-dir-of-the-spec/bucket", 3, 60, 1, 0)
    )
  end)

  it("is nil and an error table when the transport refuses a request, nothing sent", function()
    local t = assert(curl.transport {})
    local r, err = t:start { method = "GET", url = "http://example.com/" }
    assert_failure("config", ".", r, err)
    assert.is_false(err.sent)
    t:close()
  end)

  it("is nil and an error table from the Redis store, and the reason a store is down is one too", function()
    local ok, redis = pcall(require, "cleanlist.redis")
    if not ok then
      pending("this build has no Redis store (libhiredis-dev)")
      return
    end
    assert_failure("config", ".", redis.store("redis://h/x", 0.2))
    -- nothing listens on port 1 of loopback: the store is made, down now, and says why
    local store, reachable, why = redis.store("redis://127.0.0.1:1/0", 0.2)
    assert.truthy(store)
    assert.is_false(reachable)
    assert.equals("table", type(why))
    assert.equals("string", type(why.kind))
    assert.matches("refused", why.message)
    store:close()
  end)

  it("raises for arguments of the wrong type", function()
    assert.has_error(function()
      core.check_base_url({})
    end)
    assert.has_error(function()
      core.retry_decide { kind = "no_such_kind" }
    end)
    assert.has_error(function()
      curl.transport("not a table")
    end)
  end)
end)
