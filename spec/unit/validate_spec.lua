-- cleanlist.validate: the rules every method's body or query is checked against before
-- sending, and the shape of the problems (the server's 422 entries: loc, msg, type).
local validate = require "cleanlist.validate"
local json = require "cleanlist.json"

local null = json.null

-- The problems as "loc.path:type" strings, in order.
local function locs(errs)
  local out = {}
  for i, e in ipairs(errs) do
    local parts = {}
    for j, p in ipairs(e.loc) do
      parts[j] = type(p) == "number" and ("%d"):format(p) or tostring(p)
    end
    out[i] = table.concat(parts, ".") .. ":" .. e.type
  end
  return out
end

local function check(t, schema, where)
  return locs(validate.check(t, schema, where or "body"))
end

describe("cleanlist.validate.check", function()
  it("passes a valid table and reports nothing", function()
    local schema = {
      name = { "string", required = true, min_len = 1, max_len = 5 },
      n = { "integer", min = 1, max = 3 },
      ok = { "boolean" },
      x = { "number" },
      any = { "any" },
    }
    assert.same({}, validate.check({ name = "abc", n = 2, ok = false, x = 0.5, any = {} }, schema, "body"))
    assert.same({}, validate.check({ name = "a" }, schema, "body"))
  end)

  it("names a missing required field and fields the schema lacks, each with a message", function()
    local errs = validate.check({ colour = "red", size = 1 }, { name = { "string", required = true } }, "body")
    assert.same({ "body.name:missing", "body.colour:extra_forbidden", "body.size:extra_forbidden" }, locs(errs))
    for _, e in ipairs(errs) do
      assert.is_string(e.msg)
    end
  end)

  it("lets unknown fields through an open schema", function()
    assert.same({}, check({ job_titles = { "VP" } }, { open = true, limit = { "integer" } }))
  end)

  it("checks types, integer-ness and finiteness", function()
    local schema = {
      s = { "string" },
      i = { "integer" },
      n = { "number" },
      b = { "boolean" },
      a = { "array" },
      o = { "object" },
    }
    assert.same({
      "body.a:array_type",
      "body.b:boolean_type",
      "body.i:integer_type",
      "body.n:number_type",
      "body.o:object_type",
      "body.s:string_type",
    }, check({ s = 1, i = 1.5, n = 1 / 0, b = "yes", a = { x = 1 }, o = { 1, 2 } }, schema))
    assert.same({ "body.i:integer_type" }, check({ i = 0 / 0 }, { i = { "integer" } }))
  end)

  it("checks bounds, lengths and enums with the server's type names", function()
    local schema = {
      limit = { "integer", min = 1, max = 100 },
      name = { "string", min_len = 1, max_len = 3 },
      kind = { "string", enum = { "tool", "key" } },
    }
    assert.same({ "query.limit:greater_than_equal" }, check({ limit = 0 }, schema, "query"))
    assert.same({ "query.limit:less_than_equal" }, check({ limit = 101 }, schema, "query"))
    assert.same({ "query.name:string_too_short" }, check({ name = "" }, schema, "query"))
    assert.same({ "query.name:string_too_long" }, check({ name = "abcd" }, schema, "query"))
    assert.same({ "query.kind:enum" }, check({ kind = "day" }, schema, "query"))
  end)

  it("checks array sizes and items, with 0-based item indexes in loc", function()
    local schema = { ids = { "array", items = "string", min_items = 1, max_items = 3 } }
    assert.same({ "body.ids:too_short" }, check({ ids = {} }, schema))
    assert.same({ "body.ids:too_long" }, check({ ids = { "a", "b", "c", "d" } }, schema))
    local errs = validate.check({ ids = { "a", 2, false } }, schema, "body")
    assert.same({ "body.ids.1:string_type", "body.ids.2:string_type" }, locs(errs))
    assert.equals(1, errs[1].loc[3])
    assert.same(
      { "body.n.1:greater_than_equal" },
      check({ n = { 1, 0 } }, { n = { "array", items = { "integer", min = 1 } } })
    )
  end)

  it("checks the values of an object by name", function()
    local schema = { mapping = { "object", values = "string" } }
    assert.same({}, check({ mapping = { email = "Email" } }, schema))
    assert.same({ "body.mapping.email:string_type" }, check({ mapping = { email = 3 } }, schema))
  end)

  it("takes null only where a rule allows it", function()
    local schema = { description = { "string", nullable = true }, name = { "string" } }
    assert.same({}, check({ description = null }, schema))
    assert.same({ "body.name:null" }, check({ name = null }, schema))
  end)

  it("refuses a list where named fields belong", function()
    assert.same({ "body:object_type" }, check({ "a", "b" }, { name = { "string" } }))
  end)

  it("appends to a given list and returns it; add records a cross-field problem", function()
    local errs = {}
    validate.add(errs, { "body" }, "value_error", "needs exactly one of a or b")
    local same = validate.check({ x = 1 }, {}, "body", errs)
    assert.equals(errs, same)
    assert.same({ "body:value_error", "body.x:extra_forbidden" }, locs(errs))
  end)
end)

describe("cleanlist.validate.summary", function()
  it("reads the first three problems as loc: msg and counts the rest", function()
    local errs = {}
    for i = 1, 5 do
      validate.add(errs, { "body", "f" .. i }, "missing", "is required")
    end
    assert.equals(
      "body.f1: is required; body.f2: is required; body.f3: is required; and 2 more",
      validate.summary(errs)
    )
    assert.equals(
      "query.limit: should be at most 100, not 500",
      validate.summary(validate.check({ limit = 500 }, { limit = { "integer", max = 100 } }, "query"))
    )
  end)
end)
