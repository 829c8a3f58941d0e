-- The transport seam of docs/transport.md, seen from a transport written in Lua: what a
-- request carries, how it gets the Authorization header, and the optional check, sleep and
-- gather a transport may bring. Also the pieces the nginx transport is built on that run
-- outside nginx: the choice of transport, rate_limit.shm's checks, the phase table, the
-- bucket kept as bytes, and errors that concatenate.
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"
local ngx_transport = require "cleanlist.transport.ngx"

local KEY = "clapi_seam_spec_key_000000000000000001"

-- A transport as docs/transport.md describes it: answers from a queue, recording each request
-- with the header lines it would put on the wire.
local function lua_transport(answers, extra)
  local t = { requests = {}, wire = {} }
  function t:request(req)
    local lines = { req.method .. " " .. req.url }
    for _, h in ipairs(req.headers) do
      lines[#lines + 1] = h
    end
    if req.credential then lines[#lines + 1] = req.credential:authorization_header() end
    self.wire[#self.wire + 1] = table.concat(lines, "\n")
    self.requests[#self.requests + 1] = req
    local a = table.remove(answers, 1)
    if a.kind then return nil, a end
    return { status = a.status, headers = a.headers or {}, body = a.body or "", reused = false }
  end
  function t:close()
    self.closed = true
  end
  for k, v in pairs(extra or {}) do
    t[k] = v
  end
  return t
end

local function client(t, opts)
  local o = {
    api_key = KEY,
    transport = t,
    rate_limit = false,
    random = function()
      return 0.5
    end,
  }
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
  return cleanlist.new(o)
end

describe("the transport seam", function()
  it("hands a request its method, URL, headers, body, timeouts and the credential", function()
    local t = lua_transport { { status = 200, body = '{"list_id":"list_1","name":"A"}' } }
    local c = client(t, { timeout = 7, connect_timeout = 3 })
    local res = assert(c:request("POST", "/lead-lists", { body = { name = "A" } }))
    assert.equals("list_1", res.list_id)
    local req = t.requests[1]
    assert.same(
      { "POST", "https://api.cleanlist.ai/api/v1/public/lead-lists", '{"name":"A"}', 7, 3 },
      { req.method, req.url, req.body, req.timeout, req.connect_timeout }
    )
    assert.equals(
      "POST https://api.cleanlist.ai/api/v1/public/lead-lists\n"
        .. "Accept: application/json\nContent-Type: application/json\n"
        .. "Authorization: Bearer "
        .. KEY,
      t.wire[1]
    )
    -- the credential itself never prints the key
    assert.is_nil(tostring(req.credential):find(KEY, 1, true))
    -- masked: the prefix, an ellipsis and the last four characters, nothing more
    assert.equals("clapi_\226\128\1660001", req.credential:mask())
    assert.equals("cleanlist.Credential(clapi_\226\128\1660001)", tostring(req.credential))
    assert.equals("Authorization: [REDACTED]", req.credential:redact(req.credential:authorization_header()))
  end)

  it("sends no credential on a pre-signed link (sign = false)", function()
    local t = lua_transport { { status = 200, body = "{}" } }
    assert(client(t):request("GET", "https://files.cleanlist.ai/x.csv", { sign = false }))
    assert.is_nil(t.requests[1].credential)
    assert.is_nil(t.wire[1]:find("Authorization", 1, true))
  end)

  it("waits with the transport's sleep when it has one", function()
    local slept = {}
    local t = lua_transport({ { status = 503, body = "{}" }, { status = 200, body = '{"credits":9}' } }, {
      sleep = function(s)
        slept[#slept + 1] = s
      end,
    })
    local res = assert(client(t, { backoff_base = 0.25 }):credits_balance())
    assert.equals(9, res.credits)
    assert.equals(1, #slept)
    assert.near(0.25, slept[1], 0.25)
  end)

  it("returns the transport's check failure before any wait or request", function()
    local t = lua_transport({}, {
      check = function()
        return { kind = "config", message = "not here" }
      end,
    })
    local res, err = client(t, { rate_limit = { per_key = 1, window = 60 } }):whoami()
    assert.is_nil(res)
    assert.same({ "config", "not here" }, { err.kind, err.message })
    assert.equals(0, #t.requests)
  end)

  it("runs client:gather through the transport's gather when it has one", function()
    local seen
    local t = lua_transport({}, {
      gather = function(self, fns, opts)
        seen = { self = self, n = #fns, concurrency = opts.concurrency }
        return { { n = 1, "ran" } }
      end,
    })
    local c = client(t)
    local r = c:gather({ function() end }, { concurrency = 3 })
    assert.equals("ran", r[1][1])
    assert.same({ t, 1, 3 }, { seen.self, seen.n, seen.concurrency })
  end)
end)

describe("choosing a transport", function()
  it("is libcurl outside nginx, and refuses ngx there", function()
    local c = cleanlist.new { api_key = KEY, rate_limit = false }
    assert.is_function(c.transport.poll)
    assert.is_false(ngx_transport.in_nginx())
    local ok, err = pcall(cleanlist.new, { api_key = KEY, transport = "ngx" })
    assert.is_false(ok)
    assert.equals("config", err.kind)
    assert.matches("runs only inside nginx", err.message)
  end)

  it("refuses an unknown transport name and a misplaced shared dict", function()
    local ok, err = pcall(cleanlist.new, { api_key = KEY, transport = "socket" })
    assert.is_false(ok)
    assert.matches('transport is "curl", "ngx" or a transport object', err.message)
    ok, err = pcall(cleanlist.new, { api_key = KEY, rate_limit = { shm = "cleanlist" } })
    assert.is_false(ok)
    assert.matches("rate_limit.shm works only inside nginx", err.message)
    ok, err = pcall(cleanlist.new, { api_key = KEY, rate_limit = { shm = 1 } })
    assert.is_false(ok)
    assert.matches("rate_limit.shm names a lua_shared_dict", err.message)
  end)
end)

describe("nginx phases", function()
  local saved
  before_each(function()
    saved = rawget(_G, "ngx")
  end)
  after_each(function()
    rawset(_G, "ngx", saved)
  end)

  local function in_phase(phase)
    rawset(_G, "ngx", {
      get_phase = function()
        return phase
      end,
      socket = {},
    })
    -- the module reads the global when it is loaded: load a fresh copy
    package.loaded["cleanlist.transport.ngx"] = nil
    local m = require "cleanlist.transport.ngx"
    package.loaded["cleanlist.transport.ngx"] = ngx_transport
    return m
  end

  it("allows calls where cosockets work", function()
    for _, phase in ipairs { "rewrite", "access", "content", "timer", "ssl_cert" } do
      assert.is_nil(in_phase(phase).check(), phase)
    end
  end)

  it("refuses them, naming the phase and the way out, where they do not", function()
    for _, phase in ipairs { "init", "init_worker", "set", "header_filter", "body_filter", "log", "balancer" } do
      local err = in_phase(phase).check()
      assert.equals("config", err.kind)
      assert.is_false(err.sent)
      assert.matches("nginx's " .. phase .. " phase", err.message, 1, true)
      assert.matches('transport = "curl"', err.message, 1, true)
    end
  end)
end)

describe("a bucket kept as bytes (core.bucket_state)", function()
  local LIMITS = { 3, 60, 2, 0.02 } -- limit, window, burst, margin

  it("gives the waits of a bucket kept in memory, step for step", function()
    local mem = core.bucket(LIMITS[1], LIMITS[2], LIMITS[3], LIMITS[4])
    local state, w
    local steps = {
      { "acquire", 0 },
      { "acquire", 0.1 },
      { "acquire", 0.2 },
      { "peek", 1 },
      { "acquire", 30 },
      { "penalize", 31, 10 },
      { "acquire", 32 },
      { "acquire", 61.3 },
    }
    local waits = {}
    for i, s in ipairs(steps) do
      local op, now, arg = s[1], s[2], s[3]
      w, state = core.bucket_state(state, op, now, LIMITS[1], LIMITS[2], LIMITS[3], LIMITS[4], arg)
      -- (a peek changes nothing: the written-out waits below pin it)
      local expected = op == "penalize" and (mem:penalize(now, arg) or 0) or op == "acquire" and mem:acquire(now)
      if expected then assert.near(expected, w, 1e-9, "step " .. i) end
      waits[i] = math.floor(w * 1000 + 0.5) / 1000
    end
    -- written out: the window is 61.2 s with the margin, a paced start every 20.4 s after a
    -- burst of 2; a start waits for the one 3 places before it to be a window old
    assert.same({ 0, 0, 20.2, 60.2, 31.2, 0, 29.3, 20.3 }, waits)
  end)

  it("starts afresh from nothing, from bytes of other limits and from garbage", function()
    local _, state = core.bucket_state(nil, "acquire", 0, 3, 60, 1, 0)
    local w = core.bucket_state(state, "acquire", 0, 3, 60, 1, 0)
    assert.equals(20, w)
    assert.equals(0, (core.bucket_state(state, "acquire", 0, 4, 60, 1, 0)))
    assert.equals(0, (core.bucket_state("garbage", "acquire", 0, 3, 60, 1, 0)))
    assert.has_error(function()
      core.bucket_state(nil, "take", 0, 3, 60, 1, 0)
    end)
  end)
end)

describe("errors in string code", function()
  it("concatenate as their message on either side", function()
    local err = require("cleanlist.errors").new { kind = "auth", message = "the key was revoked", status = 401 }
    assert.equals("whoami: cleanlist: auth error (HTTP 401): the key was revoked", "whoami: " .. err)
    assert.equals("cleanlist: auth error (HTTP 401): the key was revoked!", err .. "!")
  end)
end)
