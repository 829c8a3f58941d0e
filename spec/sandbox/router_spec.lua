-- The sandbox's router, in-process: static and templated routes, absolute routes, the 404 /
-- 405 decision and the Allow header, the guard and the body's validation before a handler,
-- and the control endpoints held by each app's own router.
local sandbox = require "spec.helpers.sandbox"

describe("sandbox router", function()
  sandbox.use_modules()
  local router = require "sandbox.router"
  local validate = require "sandbox.validate"

  local function ok()
    return 200, { ok = true }
  end

  it("finds static and templated routes, and the entry of a path other methods serve", function()
    local r = router.new()
    r:add("GET", "/lead-lists", { handler = ok })
    r:add("POST", "/lead-lists", { handler = ok })
    r:add("GET", "/lead-lists/{list_id}/leads", { handler = ok })
    local route, params, entry = r:find("GET", "/lead-lists/list_1/leads")
    assert.equal("/lead-lists/{list_id}/leads", route.template)
    assert.same({ list_id = "list_1" }, params)
    assert.equal(entry, (r:match("/lead-lists/list_2/leads")))
    route, params, entry = r:find("DELETE", "/lead-lists")
    assert.is_nil(route)
    assert.is_nil(params)
    assert.equal("GET, POST", router.allowed(entry))
    assert.is_nil(r:find("GET", "/lead-lists/list_1"))
    assert.is_nil(r:find("GET", "/nope"))
    assert.has_error(function()
      r:add("GET", "/lead-lists", { handler = ok })
    end)
  end)

  it("serves an absolute route only at its full path, the others only below a prefix", function()
    local r = router.new()
    r:add("GET", "/api/v1/api-keys", { absolute = true, handler = ok })
    r:add("GET", "/whoami", { handler = ok })
    assert.is_nil(r:find("GET", "/api/v1/api-keys"))
    assert.truthy(r:find("GET", "/api/v1/api-keys", true))
    assert.truthy(r:find("GET", "/whoami"))
    assert.is_nil(r:find("GET", "/whoami", true))
  end)

  it("answers a 405 with Allow: the envelope, or FastAPI's body on legacy routes", function()
    local r = router.new()
    r:add("POST", "/x", { handler = ok })
    r:add("GET", "/x", { handler = ok })
    r:add("POST", "/enrich/bulk", { legacy = true, handler = ok })
    local _, _, entry = r:find("PUT", "/x")
    local status, body, headers = router.method_not_allowed(entry, "req_1", "PUT is not allowed.")
    assert.equal(405, status)
    assert.equal("method_not_allowed", body.error.code)
    assert.equal("PUT is not allowed.", body.error.problem)
    assert.equal("req_1", body.error.request_id)
    assert.same({ Allow = "GET, POST" }, headers)
    _, _, entry = r:find("GET", "/enrich/bulk")
    status, body, headers = router.method_not_allowed(entry, "req_2", "ignored")
    assert.equal(405, status)
    assert.equal('{"detail":"Method Not Allowed"}', body)
    assert.same({ Allow = "POST" }, headers)
  end)

  describe("run", function()
    local SCHEMA = validate.object { name = { type = "string", required = true } }
    local function echo(ctx)
      return 201, ctx.body, { ["X-Seen"] = "1" }
    end

    local function call(route, text, extra)
      local ctx = { req = { body = text }, request_id = "req_1" }
      for k, v in pairs(extra or {}) do
        ctx[k] = v
      end
      return router.run(route, ctx)
    end

    it("validates the body first and hands the handler the decoded object", function()
      local route = router.new():add("POST", "/x", { body = SCHEMA, handler = echo })
      local status, body = call(route, '{"name":5}')
      assert.equal(422, status)
      assert.equal("string_type", body.detail[1].type)
      assert.same({ "body", "name" }, body.detail[1].loc)
      status, body = call(route, "{bad")
      assert.equal(422, status)
      assert.equal("json_invalid", body.detail[1].type)
      local headers
      status, body, headers = call(route, '{"name":"a"}')
      assert.equal(201, status)
      assert.same({ name = "a" }, body)
      assert.same({ ["X-Seen"] = "1" }, headers)
    end)

    it("checks the body against the schema's strict variant when the switch strict is on", function()
      local S = validate.object {
        list_id = { type = "string", strict = { required = true } },
        lead_list_id = { type = "string", lenient = true },
        scope = { type = "string", enum = { "a", "b_c", "b-c" }, lenient_values = { "b_c" } },
      }
      local route = router.new():add("POST", "/x", { body = S, handler = echo })
      local lenient = { state = { data = { switches = { strict = false } } } }
      local strict = { state = { data = { switches = { strict = true } } } }
      local text = '{"lead_list_id":"l","scope":"b_c"}'
      assert.equal(201, (call(route, text, lenient)))
      local status, body = call(route, text, strict)
      assert.equal(422, status)
      local got = {}
      for i, e in ipairs(body.detail) do
        got[i] = table.concat(e.loc, ".") .. ":" .. e.type
      end
      assert.same({ "body.list_id:missing", "body.lead_list_id:extra_forbidden", "body.scope:enum" }, got)
      assert.equal("Input should be 'a' or 'b-c'", body.detail[3].msg)
      assert.equal(201, (call(route, '{"list_id":"l","scope":"b-c"}', strict)))
    end)

    it("runs the guard before the body's validation", function()
      local route = router.new():add("POST", "/x", {
        body = SCHEMA,
        handler = echo,
        guard = function(ctx)
          if ctx.gated then return 403, { detail = "gated" } end
        end,
      })
      local status, body = call(route, "{bad", { gated = true })
      assert.equal(403, status)
      assert.same({ detail = "gated" }, body)
      assert.equal(422, (call(route, "{bad")))
    end)

    it("leaves the body alone on a route without a schema", function()
      local route = router.new():add("POST", "/x", {
        handler = function(ctx)
          return 200, { body = ctx.body == nil, raw = ctx.req.body }
        end,
      })
      local status, body = call(route, "{bad")
      assert.equal(200, status)
      assert.same({ body = true, raw = "{bad" }, body)
    end)

    it("checks a JSON object, then the schema a function picks from it", function()
      local A = validate.object { kind = { type = "string" }, n = { type = "integer" } }
      local route = router.new():add("POST", "/x", {
        handler = echo,
        body = function(v)
          if v.kind == "a" then return A end
          return nil, { validate.error({ "body" }, "value_error", "Value error, kind must be a", v) }
        end,
      })
      local status, body = call(route, "[1]")
      assert.equal(422, status)
      assert.equal("model_attributes_type", body.detail[1].type)
      status, body = call(route, '"text"')
      assert.equal(422, status)
      assert.equal("model_attributes_type", body.detail[1].type)
      status, body = call(route, '{"kind":"b"}')
      assert.equal(422, status)
      assert.equal("value_error", body.detail[1].type)
      status, body = call(route, '{"kind":"a","n":"x"}')
      assert.equal(422, status)
      assert.same({ "body", "n" }, body.detail[1].loc)
      status, body = call(route, '{"kind":"a","n":2}')
      assert.equal(201, status)
      assert.same({ kind = "a", n = 2 }, body)
    end)
  end)
end)

describe("sandbox control routes", function()
  sandbox.in_process()
  local json = require "sandbox.json"
  local new_app = require("sandbox").new

  local function app()
    return new_app {
      quiet = true,
      now_ms = function()
        return 1751404800000
      end,
      api_key = sandbox.KEY,
      readonly_key = sandbox.READONLY_KEY,
    }
  end

  local function get(a, method, path)
    local status, body, headers =
      a.handle { method = method, path = path, query = "", headers = {}, body = "", conn = 1 }
    return status, json.decode(body), headers
  end

  it("are held by each app, not shared between apps", function()
    local a, b = app(), app()
    assert.are_not.equal(a.control_router, b.control_router)
    a.control_router:add("GET", "/only-a", {
      handler = function(_, _, rid)
        return 200, { rid = rid }
      end,
    })
    local status, body, headers = get(a, "GET", "/__sandbox/only-a")
    assert.equal(200, status)
    assert.equal(headers["X-Request-Id"], body.rid)
    status, body = get(b, "GET", "/__sandbox/only-a")
    assert.equal(404, status)
    assert.equal("not_found", body.error.code)
  end)

  it("serve the endpoint modules' control routes, with the one 405 and its Allow", function()
    local a = app()
    local status, body = get(a, "GET", "/__sandbox/switches")
    assert.equal(200, status)
    assert.same({ strict_quotes = false, csv_import = true, strict = false }, body)
    local headers
    status, body, headers = get(a, "GET", "/__sandbox/webhook-sink/config")
    assert.equal(405, status)
    assert.equal("method_not_allowed", body.error.code)
    assert.equal("GET is not allowed on /__sandbox/webhook-sink/config.", body.error.problem)
    assert.equal("POST", headers.Allow)
    status, body, headers = get(a, "DELETE", "/__sandbox/lists")
    assert.equal(405, status)
    assert.equal("POST", headers.Allow)
    assert.equal("DELETE is not allowed on /__sandbox/lists.", body.error.problem)
    status, body, headers = get(a, "PUT", "/__sandbox/faults")
    assert.equal(405, status)
    assert.equal("DELETE, GET, POST", headers.Allow)
    assert.equal("method_not_allowed", body.error.code)
  end)
end)
