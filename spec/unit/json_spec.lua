-- cleanlist.json: lua-cjson with the client's conventions (null as cleanlist.null, integral
-- numbers as integers where the engine has them), over nested objects and arrays.
local json = require "cleanlist.json"
local cleanlist = require "cleanlist"

local math_type = math.type -- luacheck: ignore 143 (Lua 5.3+; nil on LuaJIT)

describe("cleanlist.json.decode", function()
  it("turns null into cleanlist.null at every depth", function()
    local v = assert(json.decode('{"a":null,"b":[1,null,{"c":null}],"d":{"e":[null]}}'))
    assert.equals(cleanlist.null, v.a)
    assert.equals(cleanlist.null, v.b[2])
    assert.equals(cleanlist.null, v.b[3].c)
    assert.equals(cleanlist.null, v.d.e[1])
    assert.equals(3, #v.b)
    assert.equals(cleanlist.null, json.decode("null"))
  end)

  it("gives integral numbers as integers and keeps the others as they are", function()
    local v = assert(
      json.decode('{"credits":4,"t":1796537781091,"share":0.25,"neg":-3,' .. '"big":1e300,"list":[7,{"deep":[8]}]}')
    )
    assert.equals(4, v.credits)
    assert.equals(0.25, v.share)
    assert.equals(1e300, v.big)
    assert.equals(8, v.list[2].deep[1])
    if math_type then
      assert.equals("integer", math_type(v.credits))
      assert.equals("1796537781091", tostring(v.t))
      assert.equals("integer", math_type(v.neg))
      assert.equals("integer", math_type(v.list[1]))
      assert.equals("integer", math_type(v.list[2].deep[1]))
      assert.equals("float", math_type(v.share))
      assert.equals("float", math_type(v.big)) -- out of the integers' range
    end
  end)

  it("round-trips cleanlist.null through encode", function()
    local text = assert(json.encode { a = cleanlist.null, b = { 1, 2 } })
    local back = assert(json.decode(text))
    assert.equals(cleanlist.null, back.a)
    assert.same({ 1, 2 }, back.b)
  end)

  it("returns nil and a message for a text that is not JSON", function()
    local v, err = json.decode("{nope")
    assert.is_nil(v)
    assert.matches("Expected", err)
  end)
end)
