-- luacheck: std +busted
-- The synthetic world, pinned: a digest of every company and every person (all generated
-- fields and the hidden truth) for two seeds, the same on Lua 5.4 and LuaJIT. A change to the
-- source tables (sandbox.world_data) or to the order of the build's draws
-- (sandbox.world_build) changes it; update the pins only when the world is meant to change.
require("spec.helpers.sandbox").use_modules()

local world = require "sandbox.world"

local format = string.format

-- A 31-bit polynomial hash, exact on Lua 5.4 integers and LuaJIT doubles.
local function hash(h, s)
  for i = 1, #s do
    h = (h * 31 + s:byte(i)) % 2147483647
  end
  return h
end

local function digest(w)
  local h = 7
  for _, c in ipairs(w.companies) do
    h = hash(
      h,
      table.concat({
        c.id,
        c.name,
        c.domain,
        c.industry,
        c.industries[2],
        format("%d", c.employee_count),
        c.size,
        c.revenue_range,
        c.hq_location,
        c.funding_stage,
        format("%d", c.total_funding_usd or -1),
        table.concat(c.tech_stack, ","),
        c.slug,
        format("%d", c.founded_year),
        c.ticker or "",
        c.description,
        c.email_pattern,
        tostring(c.catch_all),
      }, "|")
    )
  end
  for _, p in ipairs(w.people) do
    local t = p.truth
    h = hash(
      h,
      table.concat({
        p.id,
        p.first_name,
        p.last_name,
        p.title,
        p.seniority,
        p.department,
        format("%d", p.company),
        p.location,
        p.slug,
        t.email,
        t.email_status,
        tostring(t.email_found),
        t.phone,
        tostring(t.phone_found),
        t.provider,
      }, "|")
    )
  end
  return h
end

describe("sandbox world (pinned)", function()
  it("builds the pinned world of seed 0", function()
    assert.are.equal(1993653578, digest(world.build(0)))
  end)

  it("builds the pinned world of seed 7", function()
    assert.are.equal(1151397713, digest(world.build(7)))
  end)

  it("keeps its vocabularies in their order", function()
    assert.are.same(
      { "1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+" },
      world.SIZES
    )
    assert.are.equal(26, #world.INDUSTRIES)
    assert.are.equal("Computer Software", world.INDUSTRIES[1])
    assert.are.equal("Executive", world.DEPARTMENTS[1])
    assert.are.equal(13, #world.DEPARTMENTS)
    assert.are.equal(40, #world.LOCATIONS)
    assert.are.equal(83, #world.TECH)
    assert.are.equal("AWS", world.TECH[1])
  end)
end)
