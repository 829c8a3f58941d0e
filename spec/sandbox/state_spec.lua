-- luacheck: std +busted
-- `cleanlist sandbox --state FILE`: the state survives a restart (credits, ledger, lead
-- lists), is saved within about a second of a change without waiting for the exit, is written
-- atomically, and a corrupt file stops the start with a clear message and is left untouched.
local sandbox = require "spec.helpers.sandbox"
local cjson = require "cjson"

local read_file, write_file = sandbox.read_file, sandbox.write_file

-- A path for a state file that does not exist yet.
local function fresh_path()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".state.json"
end

describe("sandbox --state", function()
  local path

  before_each(function()
    path = fresh_path()
  end)

  after_each(function()
    os.remove(path)
    os.remove(path .. ".tmp")
  end)

  it("restores credits, the ledger and lead lists after a restart", function()
    local sb = sandbox.start { args = { "--state", path } }
    local list_id
    local ok, err = pcall(function()
      assert.is_nil(read_file(path)) -- nothing to restore: starts fresh
      assert.are.equal(200, select(2, sb:control("POST", "/credits", { credits = 4321 })))
      local status, body = sb:api("POST", "/lead-lists", { body = { name = "Survivors" } })
      assert.are.equal(201, status)
      list_id = body.list_id
      assert.matches("^list_%x+$", list_id)
    end)
    assert.are.equal(0, sb:stop()) -- a clean exit saves
    assert(ok, err)
    local doc = cjson.decode((assert(read_file(path), "no state file after the exit")))
    assert.are.equal("cleanlist-sandbox-state", doc.format)
    assert.are.equal(4321, doc.data.credits)

    sb = sandbox.start { args = { "--state", path } }
    ok, err = pcall(function()
      local status, body = sb:api("GET", "/credits/balance")
      assert.are.equal(200, status)
      assert.are.equal(4321, body.credits)
      local ledger = sb:control("GET", "/credits").ledger
      assert.are.equal("set by /__sandbox/credits", ledger[#ledger].reason)
      status, body = sb:api("GET", "/lead-lists/" .. list_id)
      assert.are.equal(200, status)
      assert.are.same({ list_id, "Survivors", 0 }, { body.list_id, body.name, body.lead_count })
      -- ids keep counting from the restored state: a new list does not reuse the old id
      local s2, b2 = sb:api("POST", "/lead-lists", { body = { name = "Newcomers" } })
      assert.is_true(s2 == 200 or s2 == 201)
      assert.are_not.equal(list_id, b2.list_id or b2.id or (b2.list and b2.list.id))
    end)
    sb:stop()
    assert(ok, err)
  end)

  it("saves within about a second of a change, before any exit", function()
    local sb = sandbox.start { args = { "--state", path } }
    -- The saved balance once it is `want`, polling for up to 2 s; else the last one seen.
    local function saved(want)
      local _, got = sandbox.poll(40, 0.05, function()
        local text = read_file(path)
        local doc = text and cjson.decode(text)
        local credits = doc and doc.data.credits
        return credits == want, credits
      end)
      return got
    end
    local ok, err = pcall(function()
      sb:control("POST", "/credits", { credits = 777 })
      -- the first change after a quiet second is saved before the response
      assert.are.equal(777, cjson.decode(read_file(path)).data.credits)
      assert.is_nil(read_file(path .. ".tmp")) -- written aside, then renamed
      sb:control("POST", "/credits", { credits = 778 }) -- and again after the next change
      assert.are.equal(778, saved(778))
    end)
    sb:stop()
    assert(ok, err)
  end)

  it("refuses a corrupt file: exit 1, a clear message, the file untouched", function()
    for _, text in ipairs {
      '{"format":"cleanlist-sandbox-state","data":{"credits":',
      "[1,2]",
      '{"format":"something-else","version":1,"data":{}}',
      "",
    } do
      write_file(path, text)
      local out, rc = sandbox.cli("sandbox --port 0 --state " .. sandbox.quote(path))
      assert.are.equal(1, rc, text)
      assert.is_truthy(out:find("cleanlist sandbox: --state: " .. path, 1, true), out)
      assert.is_nil(out:find("LISTENING", 1, true))
      assert.are.equal(text, read_file(path))
    end
  end)

  it("restores what it saved, empty arrays and nulls included", function()
    local sb = sandbox.start { args = { "--state", path } }
    sb:control("POST", "/credits", { credits = 5 })
    sb:stop()
    local first_text = read_file(path)
    local first = cjson.decode(first_text).data
    sb = sandbox.start { args = { "--state", path } }
    sb:control("POST", "/credits", { credits = 5 }) -- a change of nothing but the ledger
    sb:stop()
    local second_text = read_file(path)
    local second = cjson.decode(second_text).data
    -- everything but the ledger (which gained a row) came back as it was
    first.ledger, second.ledger = nil, nil
    assert.are.same(first, second)
    -- cjson decodes [] and {} alike: the texts show whether empty arrays stayed arrays
    local empties = 0
    for member in first_text:gmatch('"[%w_]+":%[%]') do
      empties = empties + 1
      assert.is_truthy(second_text:find(member, 1, true), member .. " did not stay an array")
    end
    assert.is_true(empties > 0, "no empty array to check")
    for member in first_text:gmatch('"[%w_]+":{}') do
      assert.is_truthy(second_text:find(member, 1, true), member .. " did not stay an object")
    end
  end)
end)
