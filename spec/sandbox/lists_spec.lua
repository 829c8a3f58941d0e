-- luacheck: std +busted
-- Lead lists over HTTP (API.md §6.3): create (idempotent on name), list, get, update, delete,
-- the page of leads with its cohort, add leads (Mode A / Mode B, idempotency_key), remove
-- leads; ownership and privacy between the two users of the sandbox organisation (the
-- full-access key is Vera Okafor's, the read-only key Rowan Reed's); cohort expiry on the
-- sandbox clock. The state is reset before every test.
local sandbox = require "spec.helpers.sandbox"

local null = sandbox.null
local locs = require("spec.helpers.api").locs

local function range(n, fmt)
  local t = {}
  for i = 1, n do
    t[i] = string.format(fmt or "id_%d", i)
  end
  return t
end

describe("sandbox lead lists", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off" }, reset = true }

  local function api(method, path, body, key)
    return sb:api(method, path, { body = body, key = key })
  end

  local function lists_of(key)
    local status, body = api("GET", "/lead-lists?limit=100", nil, key)
    assert.equal(200, status)
    local by_name = {}
    for _, l in ipairs(body.lists) do
      by_name[l.name] = l
    end
    return body, by_name
  end

  local function create(name)
    local status, body = api("POST", "/lead-lists", { name = name })
    assert.equal(201, status)
    return body.list_id
  end

  local function search_cohort(n)
    local status, body = api("POST", "/search/people", { seniorities = { "manager" }, limit = n })
    assert.equal(200, status)
    local ids = {}
    for i, p in ipairs(body.people) do
      ids[i] = p.person_id
    end
    return body.task_id, ids
  end

  describe("seeded lists and privacy", function()
    it("shows org-visible example lists to both users and private ones to the owner only", function()
      local vera, vn = lists_of()
      local rowan, rn = lists_of(sb.readonly_key)
      assert.equal(3, vera.total)
      assert.equal(4, rowan.total)
      local sales = vn["Example: Sales leaders in Software (US)"]
      assert.equal(25, sales.lead_count)
      assert.equal("organization", sales.visibility)
      assert.equal("Vera Okafor", sales.owner_name)
      assert.is_nil(vn["Rowan's scratchpad"])
      local scratch = rn["Rowan's scratchpad"]
      assert.equal("private", scratch.visibility)
      local status, body = api("GET", "/lead-lists/" .. scratch.list_id)
      assert.equal(404, status)
      assert.equal("not_found", body.error.code)
      status = api("GET", "/lead-lists/" .. scratch.list_id .. "/leads")
      assert.equal(404, status)
      status, body = api("GET", "/lead-lists/" .. sales.list_id, nil, sb.readonly_key)
      assert.equal(200, status)
      assert.equal(25, body.lead_count)
      assert.equal(13, body.enriched_count) -- the built-in seed finds 13 of the first 15
    end)

    it("keeps a new list private to its creator", function()
      local id = create("Vera only")
      local status = api("GET", "/lead-lists/" .. id, nil, sb.readonly_key)
      assert.equal(404, status)
      local _, rn = lists_of(sb.readonly_key)
      assert.is_nil(rn["Vera only"])
    end)
  end)

  describe("POST /lead-lists", function()
    it("creates (201), then reuses on the exact name case-insensitively (200)", function()
      local status, a =
        api("POST", "/lead-lists", { name = "Q3 Leads", description = "first", folder_id = "folder_7e1a01" })
      assert.equal(201, status)
      assert.is_false(a.reused)
      assert.equal("first", a.description)
      assert.equal("folder_7e1a01", a.folder_id)
      assert.equal(0, a.lead_count)
      assert.truthy(a.created_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))
      local b
      status, b = api("POST", "/lead-lists", { name = "q3 LEADS" })
      assert.equal(200, status)
      assert.is_true(b.reused)
      assert.equal(a.list_id, b.list_id)
      status, b = api("POST", "/lead-lists", { name = "Q3 Leads List" })
      assert.equal(201, status)
      assert.are_not.equal(a.list_id, b.list_id)
    end)

    it("never reuses a teammate's org-visible list", function()
      local status, body = api("POST", "/lead-lists", { name = "Example: Sales leaders in Software (US)" })
      assert.equal(200, status) -- Vera owns it
      assert.is_true(body.reused)
      status, body = api("POST", "/lead-lists", { name = "Rowan's scratchpad" })
      assert.equal(201, status) -- Rowan's list is not Vera's
      assert.is_false(body.reused)
    end)

    it("answers 422 for bad names and unknown keys, 404 for a folder not owned", function()
      local status, body = api("POST", "/lead-lists", { name = "" })
      assert.equal(422, status)
      assert.same({ "body.name:string_too_short" }, locs(body))
      status, body = api("POST", "/lead-lists", { name = string.rep("x", 201) })
      assert.equal(422, status)
      assert.same({ "body.name:string_too_long" }, locs(body))
      status = api("POST", "/lead-lists", { name = string.rep("é", 200) })
      assert.equal(201, status) -- 200 characters (400 bytes)
      status, body = api("POST", "/lead-lists", { description = "no name", color = "red" })
      assert.equal(422, status)
      assert.same({ "body.name:missing", "body.color:extra_forbidden" }, locs(body))
      status, body = api("POST", "/lead-lists", { name = "Filed", folder_id = "folder_nope" })
      assert.equal(404, status)
      assert.equal("not_found", body.error.code)
      status = api("POST", "/lead-lists", { name = "Filed", folder_id = "folder_7e1a03" })
      assert.equal(404, status) -- Rowan's folder
    end)

    it("needs lists:write (403) and credentials (401)", function()
      local status, body = api("POST", "/lead-lists", { name = "x" }, sb.readonly_key)
      assert.equal(403, status)
      assert.equal("insufficient_scope", body.error.code)
      assert.same({ "lists:write" }, body.error.details.required_scopes)
      status = api("POST", "/lead-lists", { name = "x" }, false)
      assert.equal(401, status)
    end)
  end)

  describe("GET /lead-lists", function()
    it("pages by cursor over every accessible list with no duplicates", function()
      for i = 1, 4 do
        create("Paged " .. i)
      end
      local seen, n, cursor, pages = {}, 0, nil, 0
      local total
      repeat
        local status, body = api("GET", "/lead-lists?limit=2" .. (cursor and ("&cursor=" .. cursor) or ""))
        assert.equal(200, status)
        total = body.total
        for _, l in ipairs(body.lists) do
          assert.is_nil(seen[l.list_id])
          seen[l.list_id] = true
          n = n + 1
        end
        cursor = body.cursor ~= null and body.cursor or nil
        pages = pages + 1
      until not cursor or pages > 10
      assert.equal(7, total)
      assert.equal(7, n)
      assert.equal(4, pages)
    end)

    it("filters by folder and validates limit and cursor", function()
      api("POST", "/lead-lists", { name = "In folder", folder_id = "folder_7e1a02" })
      local status, body = api("GET", "/lead-lists?folder_id=folder_7e1a02")
      assert.equal(200, status)
      assert.equal(1, body.total)
      assert.equal("In folder", body.lists[1].name)
      status, body = api("GET", "/lead-lists?limit=0")
      assert.equal(422, status)
      assert.same({ "query.limit:greater_than_equal" }, locs(body))
      status, body = api("GET", "/lead-lists?limit=101")
      assert.equal(422, status)
      assert.same({ "query.limit:less_than_equal" }, locs(body))
      status, body = api("GET", "/lead-lists?limit=ten")
      assert.equal(422, status)
      assert.same({ "query.limit:int_parsing" }, locs(body))
      status, body = api("GET", "/lead-lists?cursor=abc")
      assert.equal(400, status)
      assert.equal("validation_error", body.error.code)
    end)
  end)

  describe("PATCH /lead-lists/{list_id}", function()
    it("changes only the keys present; null description clears it", function()
      local id = select(
        2,
        api("POST", "/lead-lists", { name = "Patch me", description = "old", folder_id = "folder_7e1a01" })
      ).list_id
      local status, body = api("PATCH", "/lead-lists/" .. id, { name = "Patched" })
      assert.equal(200, status)
      assert.equal("Patched", body.name)
      assert.equal("old", body.description)
      assert.equal("folder_7e1a01", body.folder_id)
      status, body = api("PATCH", "/lead-lists/" .. id, { description = null, folder_id = null })
      assert.equal(200, status)
      assert.equal(null, body.description)
      assert.equal(null, body.folder_id)
      assert.equal("Patched", body.name)
      status = api("PATCH", "/lead-lists/" .. id, { name = "Patched" })
      assert.equal(200, status) -- renaming to the current name is a no-op
    end)

    it("answers 422 for null name, empty body and unknown keys", function()
      local id = create("Patch errors")
      local status, body = api("PATCH", "/lead-lists/" .. id, { name = null })
      assert.equal(422, status)
      assert.same({ "body.name:string_type" }, locs(body))
      status, body = api("PATCH", "/lead-lists/" .. id, {})
      assert.equal(422, status)
      assert.equal("value_error", body.detail[1].type)
      status, body = api("PATCH", "/lead-lists/" .. id, { visibility = "organization" })
      assert.equal(422, status)
      assert.same({ "body.visibility:extra_forbidden" }, locs(body))
    end)

    it("is owner-only (404), refuses protected lists (403) and foreign folders", function()
      local _, rn = lists_of(sb.readonly_key)
      local status = api("PATCH", "/lead-lists/" .. rn["Rowan's scratchpad"].list_id, { name = "mine now" })
      assert.equal(404, status)
      local body
      status, body = api("PATCH", "/lead-lists/" .. rn["Do Not Contact"].list_id, { description = "x" })
      assert.equal(403, status)
      assert.equal("list_protected", body.error.code)
      local id = create("Folder move")
      status = api("PATCH", "/lead-lists/" .. id, { folder_id = "folder_7e1a03" })
      assert.equal(404, status)
      status = api("PATCH", "/lead-lists/" .. id, { name = "x" }, sb.readonly_key)
      assert.equal(403, status)
    end)
  end)

  describe("DELETE /lead-lists/{list_id}", function()
    it("deletes the list and memberships but not the leads; again is 404", function()
      local id = create("Doomed")
      local task = search_cohort(3)
      api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task })
      local _, page = api("GET", "/lead-lists/" .. id .. "/leads")
      local lead_ids = {}
      for i, l in ipairs(page.leads) do
        lead_ids[i] = l.lead_id
      end
      local status, body = api("DELETE", "/lead-lists/" .. id)
      assert.equal(200, status)
      assert.is_true(body.deleted)
      assert.equal(id, body.list_id)
      assert.equal("List deleted.", body.message)
      status = api("DELETE", "/lead-lists/" .. id)
      assert.equal(404, status)
      status = api("GET", "/lead-lists/" .. id)
      assert.equal(404, status)
      local other = create("Survivors")
      status, body = api("POST", "/lead-lists/" .. other .. "/leads", { lead_ids = lead_ids })
      assert.equal(200, status)
      assert.equal(3, body.added)
    end)

    it("is owner-only (404) and refuses protected lists (403 list_protected)", function()
      local _, rn = lists_of(sb.readonly_key)
      local status = api("DELETE", "/lead-lists/" .. rn["Rowan's scratchpad"].list_id)
      assert.equal(404, status)
      local body
      status, body = api("DELETE", "/lead-lists/" .. rn["Do Not Contact"].list_id)
      assert.equal(403, status)
      assert.equal("list_protected", body.error.code)
      status = api("DELETE", "/lead-lists/" .. rn["Do Not Contact"].list_id, nil, sb.readonly_key)
      assert.equal(403, status)
      assert.equal("insufficient_scope", select(2, api("DELETE", "/lead-lists/x", nil, sb.readonly_key)).error.code)
    end)
  end)

  describe("GET /lead-lists/{list_id}/leads", function()
    it("pages a whole list by cursor, each page with its own cohort", function()
      local _, vn = lists_of()
      local list = vn["Example: Engineering leaders in Fintech"]
      local seen, n, cursor, pages, tasks = {}, 0, nil, 0, {}
      repeat
        local status, body =
          api("GET", "/lead-lists/" .. list.list_id .. "/leads?limit=15" .. (cursor and ("&cursor=" .. cursor) or ""))
        assert.equal(200, status)
        assert.equal(40, body.total)
        for _, l in ipairs(body.leads) do
          assert.is_nil(seen[l.lead_id])
          seen[l.lead_id] = true
          n = n + 1
          assert.equal(l.first_name .. " " .. l.last_name, l.full_name)
          assert.equal(null, l.email)
        end
        assert.truthy(body.task_id:match("^cl%-task_"))
        assert.is_nil(tasks[body.task_id])
        tasks[body.task_id] = true
        cursor = body.cursor ~= null and body.cursor or nil
        pages = pages + 1
      until not cursor or pages > 5
      assert.equal(40, n)
      assert.equal(3, pages)
    end)

    it("shows enrichment results and an empty list's hint", function()
      local _, vn = lists_of()
      local _, body =
        api("GET", "/lead-lists/" .. vn["Example: Sales leaders in Software (US)"].list_id .. "/leads?limit=15")
      local providers, unfound = {}, {}
      for _, l in ipairs(body.leads) do
        if l.email ~= null or l.phone ~= null then
          providers[#providers + 1] = l.provider
        else
          unfound[#unfound + 1] = l.provider
        end
      end
      -- a lead where nothing was found names no provider
      assert.same({ null, null }, unfound)
      -- the seeded enrichment of the first 15: 13 found, each by the provider that found it
      assert.same({
        "datagma",
        "hunter",
        "hunter",
        "wiza",
        "leadmagic",
        "leadmagic",
        "datagma",
        "wiza",
        "leadmagic",
        "hunter",
        "leadmagic",
        "prospeo",
        "hunter",
      }, providers)
      local id = create("Empty")
      local status
      status, body = api("GET", "/lead-lists/" .. id .. "/leads")
      assert.equal(200, status)
      assert.equal(0, body.total)
      assert.equal(null, body.task_id)
      assert.equal(
        "This list is empty. Add leads with POST /lead-lists/" .. id .. "/leads or import a CSV.",
        body.usage
      )
    end)

    it("validates limit (422) and cursor (400), 404 for a missing list", function()
      local id = create("Limits")
      local status, body = api("GET", "/lead-lists/" .. id .. "/leads?limit=501")
      assert.equal(422, status)
      assert.same({ "query.limit:less_than_equal" }, locs(body))
      status = api("GET", "/lead-lists/" .. id .. "/leads?limit=0")
      assert.equal(422, status)
      status = api("GET", "/lead-lists/" .. id .. "/leads?cursor=-1")
      assert.equal(400, status)
      status = api("GET", "/lead-lists/list_missing/leads")
      assert.equal(404, status)
    end)
  end)

  describe("POST /lead-lists/{list_id}/leads", function()
    it("materialises a search cohort (Mode B), skipping duplicates on a re-add", function()
      local id = create("Cohort")
      local task, ids = search_cohort(10)
      local status, body = api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task })
      assert.equal(200, status)
      assert.equal(id, body.list_id)
      assert.equal(10, body.added)
      assert.equal(0, body.skipped_duplicates)
      assert.equal(10, body.created)
      assert.equal(0, body.credits_charged)
      status, body = api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task, entity_ids = { ids[1], ids[2] } })
      assert.equal(200, status)
      assert.equal(0, body.added)
      assert.equal(2, body.skipped_duplicates)
      assert.equal(0, body.created) -- the leads exist already
      local other = create("Subset")
      status, body = api("POST", "/lead-lists/" .. other .. "/leads", { task_id = task, entity_ids = { ids[3] } })
      assert.equal(200, status)
      assert.equal(1, body.added)
      assert.equal(0, body.created)
      status, body = api("GET", "/lead-lists/" .. id)
      assert.equal(200, status)
      assert.equal(10, body.lead_count)
    end)

    it("adds a list page's cohort and existing leads by id (Mode A)", function()
      local _, vn = lists_of()
      local _, page =
        api("GET", "/lead-lists/" .. vn["Example: Engineering leaders in Fintech"].list_id .. "/leads?limit=5")
      local id = create("From a page")
      local status, body = api("POST", "/lead-lists/" .. id .. "/leads", { task_id = page.task_id })
      assert.equal(200, status)
      assert.equal(5, body.added)
      assert.equal(0, body.created)
      local other = create("By id")
      status, body = api(
        "POST",
        "/lead-lists/" .. other .. "/leads",
        { lead_ids = { page.leads[1].lead_id, page.leads[2].lead_id, page.leads[1].lead_id } }
      )
      assert.equal(200, status)
      assert.equal(2, body.added)
      assert.equal(1, body.skipped_duplicates)
      assert.equal(null, body.created)
    end)

    it("replays the first response for a repeated idempotency_key", function()
      local id = create("Idempotent")
      local task = search_cohort(4)
      local status, first, _, raw1 =
        api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task, idempotency_key = "save-1" })
      assert.equal(200, status)
      assert.equal(4, first.added)
      local again, headers, raw2
      status, again, headers, raw2 =
        api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task, idempotency_key = "save-1" })
      assert.equal(200, status)
      assert.equal(raw1, raw2)
      assert.equal("true", headers["idempotent-replayed"])
      assert.equal(4, again.added)
      local _, detail = api("GET", "/lead-lists/" .. id)
      assert.equal(4, detail.lead_count)
      status, again = api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task, idempotency_key = "save-2" })
      assert.equal(200, status)
      assert.equal(0, again.added)
      assert.equal(4, again.skipped_duplicates)
      status, again =
        api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task, idempotency_key = string.rep("k", 129) })
      assert.equal(422, status)
      assert.same({ "body.idempotency_key:string_too_long" }, locs(again))
    end)

    it("answers 422 for both modes, neither, oversize arrays and foreign entity ids", function()
      local id = create("Bad adds")
      local task = search_cohort(3)
      local path = "/lead-lists/" .. id .. "/leads"
      local status, body = api("POST", path, { task_id = task, lead_ids = { "x" } })
      assert.equal(422, status)
      assert.same({ "body:value_error" }, locs(body))
      status, body = api("POST", path, { idempotency_key = "k" })
      assert.equal(422, status)
      assert.same({ "body:value_error" }, locs(body))
      status, body = api("POST", path, { lead_ids = {} })
      assert.equal(422, status)
      assert.same({ "body.lead_ids:too_short" }, locs(body))
      status, body = api("POST", path, { lead_ids = range(1001) })
      assert.equal(422, status)
      assert.same({ "body.lead_ids:too_long" }, locs(body))
      status, body = api("POST", path, { task_id = task, entity_ids = range(2001) })
      assert.equal(422, status)
      assert.same({ "body.entity_ids:too_long" }, locs(body))
      status, body = api("POST", path, { task_id = task, entity_ids = { "1", "2" } })
      assert.equal(422, status)
      assert.same({ "body.entity_ids.0:value_error", "body.entity_ids.1:value_error" }, locs(body))
      status, body = api("POST", path, { lead_ids = { "lead_x" }, entity_ids = { "1" } })
      assert.equal(422, status)
      assert.same({ "body.entity_ids:extra_forbidden" }, locs(body))
    end)

    it("answers 404 for unknown leads, handles and lists, 400 for a company cohort", function()
      local id = create("Errors")
      local path = "/lead-lists/" .. id .. "/leads"
      local status, body = api("POST", path, { lead_ids = { "lead_nope" } })
      assert.equal(404, status)
      assert.same({ "lead_nope" }, body.error.details.unknown_lead_ids)
      status, body = api("POST", path, { task_id = "cl-task_0000dead" })
      assert.equal(404, status)
      assert.equal("not_found", body.error.details.reason)
      local _, companies = api("POST", "/search/companies", { limit = 2 })
      status, body = api("POST", path, { task_id = companies.task_id })
      assert.equal(400, status)
      assert.equal("validation_error", body.error.code)
      status = api("POST", "/lead-lists/list_missing/leads", { task_id = companies.task_id })
      assert.equal(404, status)
      status, body = api("POST", path, { lead_ids = { "x" } }, sb.readonly_key)
      assert.equal(403, status)
      assert.equal("insufficient_scope", body.error.code)
    end)

    it("expires a cohort after one hour of sandbox time", function()
      local id = create("Expiry")
      local task = search_cohort(2)
      local _, status = sb:control("POST", "/clock", { advance_ms = 3600 * 1000 - 5000 })
      assert.equal(200, status)
      local body
      status, body = api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task, entity_ids = {} })
      assert.equal(200, status) -- still alive (an empty subset adds nothing)
      assert.equal(0, body.added)
      sb:control("POST", "/clock", { advance_ms = 10000 })
      status, body = api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task })
      assert.equal(404, status)
      assert.equal("not_found", body.error.code)
      assert.equal("expired", body.error.details.reason)
      assert.truthy(body.error.fix:find("Re-run", 1, true))
    end)
  end)

  describe("DELETE /lead-lists/{list_id}/leads", function()
    it("removes memberships, ignoring unknown ids", function()
      local id = create("Removal")
      local task = search_cohort(5)
      api("POST", "/lead-lists/" .. id .. "/leads", { task_id = task })
      local _, page = api("GET", "/lead-lists/" .. id .. "/leads")
      local status, body = api(
        "DELETE",
        "/lead-lists/" .. id .. "/leads",
        { lead_ids = { page.leads[1].lead_id, page.leads[2].lead_id, "lead_unknown", page.leads[1].lead_id } }
      )
      assert.equal(200, status)
      assert.equal(id, body.list_id)
      assert.equal(2, body.removed)
      _, body = api("GET", "/lead-lists/" .. id .. "/leads")
      assert.equal(3, body.total)
      assert.equal(page.leads[3].lead_id, body.leads[1].lead_id)
    end)

    it("answers 422 for 0 or more than 100 ids and 404 for a missing list", function()
      local id = create("Removal errors")
      local status, body = api("DELETE", "/lead-lists/" .. id .. "/leads", { lead_ids = {} })
      assert.equal(422, status)
      assert.same({ "body.lead_ids:too_short" }, locs(body))
      status, body = api("DELETE", "/lead-lists/" .. id .. "/leads", { lead_ids = range(101) })
      assert.equal(422, status)
      assert.same({ "body.lead_ids:too_long" }, locs(body))
      status = api("DELETE", "/lead-lists/list_missing/leads", { lead_ids = { "a" } })
      assert.equal(404, status)
      status, body = api("DELETE", "/lead-lists/" .. id .. "/leads", { lead_ids = { "a" } }, sb.readonly_key)
      assert.equal(403, status)
      assert.equal("insufficient_scope", body.error.code)
    end)
  end)
end)

-- The cohort module itself (sandbox/lua/sandbox/cohorts.lua), on a state with its own clock.
describe("sandbox cohorts (module)", function()
  sandbox.use_modules()
  local state_mod = require "sandbox.state"
  local cohorts = require "sandbox.cohorts"
  local now = 1751404800000
  local st = state_mod.new {
    api_key = "clapi_a",
    readonly_key = "clapi_b",
    seed = 3,
    now_ms = function()
      return now
    end,
  }

  it("is org-scoped, expires after an hour, then is forgotten", function()
    local c = cohorts.create(st, "org_a", "person", { "1", "2", 3 }, "search_people")
    assert.truthy(c.task_id:match("^cl%-task_%x+$"))
    assert.same({ "1", "2", "3" }, { c.entity_ids[1], c.entity_ids[2], c.entity_ids[3] })
    assert.equal("person", c.ref)
    assert.equal(c, (cohorts.get(st, c.task_id, "org_a")))
    assert.same({ nil, "not_found" }, { cohorts.get(st, c.task_id, "org_b") })
    assert.same({ nil, "not_found" }, { cohorts.get(st, "cl-task_nope", "org_a") })
    assert.is_true(cohorts.subset(c, { "2" }))
    assert.same({ nil, { "9" } }, { cohorts.subset(c, { "1", "9" }) })
    now = now + cohorts.TTL_MS - 1
    assert.equal(c, (cohorts.get(st, c.task_id, "org_a")))
    now = now + 1
    assert.same({ nil, "expired" }, { cohorts.get(st, c.task_id, "org_a") })
    local status, body = cohorts.error("expired", "req_1", c.task_id)
    assert.equal(404, status)
    assert.equal("expired", body.error.details.reason)
    now = now + cohorts.KEEP_MS + 1
    for _ = 1, 256 do -- creations trigger the pruning
      cohorts.create(st, "org_a", "company", { "company_1" }, "search_companies")
    end
    assert.same({ nil, "not_found" }, { cohorts.get(st, c.task_id, "org_a") })
    local page = cohorts.create(st, "org_a", "person", { "lead_1" }, "list_page", { list_id = "list_1" })
    assert.equal("lead", page.ref)
    assert.equal("list_1", page.list_id)
  end)

  it("keeps at most CAP cohorts, dropping the oldest", function()
    local cap = cohorts.CAP
    cohorts.CAP = 100
    local first = cohorts.create(st, "org_a", "person", { "1" }, "search_people")
    for _ = 1, 300 do
      now = now + 1
      cohorts.create(st, "org_a", "person", { "1" }, "search_people")
    end
    cohorts.CAP = cap
    local n = 0
    for _ in pairs(st.data.cohorts.by_id) do
      n = n + 1
    end
    assert.is_true(n <= 100 + 256, "kept " .. n)
    assert.same({ nil, "not_found" }, { cohorts.get(st, first.task_id, "org_a") })
  end)
end)
