-- The lead-list, CSV and export methods of the client over real libcurl against a sandbox
-- (--seed 7): create_list, list_lists, get_list, update_list, delete_list, list_leads_in_list,
-- add_leads_to_list, remove_leads_from_list, csv_import (file, csv text, csv_content_base64),
-- export_csv (to a path and to a function), download, export_json, and the iterators
-- iter_lists, iter_leads and iter_export_json over a list of 1,000 leads. Each method gets a
-- success with values of the sandbox's seeded world (README "The synthetic world": Vera's
-- three example lists, Rowan's private scratchpad) and its documented errors; refused calls
-- send nothing; idempotency keys are read from the sandbox's request log.
local cjson = require "cjson"
local cleanlist = require "cleanlist"
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local wire = require "spec.helpers.wire"
local api = require "spec.helpers.api"
local b64, parse_csv = api.b64, api.parse_csv

local ARGS = { "--seed", "7" }
local PREFIX = wire.PREFIX
local calls, bodies, refused, api_error = wire.calls, wire.bodies, wire.refused, wire.api_error
local SALES = "Example: Sales leaders in Software (US)" -- 25 leads, the first 15 enriched
local FINTECH = "Example: Engineering leaders in Fintech" -- 40 leads
local DNC = "Do Not Contact" -- 3 leads, protected
local SCRATCH = "Rowan's scratchpad" -- 5 leads, private to Rowan
local HEADER =
  { "lead_id", "first_name", "last_name", "email", "title", "company", "domain", "linkedin_url", "phone", "location" }
local null = cleanlist.null

-- The lists a client sees, by name.
local function lists_by_name(c)
  local page = assert(c:list_lists { limit = 100 })
  local by = {}
  for _, l in ipairs(page.lists) do
    by[l.name] = l
  end
  return by, page
end

local function ids_of(rows, field)
  local t = {}
  for i, r in ipairs(rows) do
    t[i] = r[field]
  end
  return t
end

local function range(n, fmt)
  local t = {}
  for i = 1, n do
    t[i] = (fmt or "lead_%d"):format(i)
  end
  return t
end

-- The lines libcurl's trace gave for the request whose request line starts with `start`:
-- from that line to the blank line that ends its headers.
local function traced_request(lines, start)
  for i, l in ipairs(lines) do
    if l:sub(1, #start) == start then
      local out = { l }
      for j = i + 1, #lines do
        if lines[j]:match("^%s*$") then break end
        out[#out + 1] = lines[j]
      end
      return out
    end
  end
  return nil
end

local function has_authorization(request_lines)
  for _, l in ipairs(request_lines) do
    if l:lower():find("^authorization:") then return true end
  end
  return false
end

-- A scripted 500 in the API's envelope.
local BOOM = {
  status = 500,
  body = '{"error":{"code":"internal_error","problem":"boom",'
    .. '"retryable":false,"request_id":"req_00000000000000aa"}}',
}

local MAPPING, CSV = api.CSV_MAPPING, api.CSV

local rows_csv, ROWS_MAPPING = api.rows_csv, api.ROWS_MAPPING

local function write_temp(text)
  local path = os.tmpname()
  sandbox.write_file(path, text)
  return path
end

describe("lead-list methods", function()
  local sb = sandbox.suite { args = ARGS, reset = true, clear = true }

  local function client(opts)
    return clients.new(sb, opts)
  end

  -- A people-search page of n managers: its task_id and person ids.
  local function cohort(c, n)
    local page = assert(c:search_people { seniorities = { "manager" }, limit = n })
    return page.task_id, ids_of(page.people, "person_id")
  end

  describe("list_lists", function()
    it("shows Vera the three seeded lists with their lead counts, and Rowan his private one too", function()
      local by, page = lists_by_name(client())
      assert.equals(3, page.total)
      assert.equals(3, #page.lists)
      assert.equals(null, page.cursor)
      assert.equals(25, by[SALES].lead_count)
      assert.equals(40, by[FINTECH].lead_count)
      assert.equals(3, by[DNC].lead_count)
      for _, name in ipairs { SALES, FINTECH, DNC } do
        assert.equals("organization", by[name].visibility)
        assert.equals("Vera Okafor", by[name].owner_name)
        assert.matches("^list_%x+$", by[name].list_id)
      end
      assert.is_nil(by[SCRATCH])
      local rowan, rpage = lists_by_name(client { api_key = sb.readonly_key })
      assert.equals(4, rpage.total)
      assert.equals(5, rowan[SCRATCH].lead_count)
      assert.equals("private", rowan[SCRATCH].visibility)
      local log = sb:requests()
      assert.equals(PREFIX .. "/lead-lists", log[1].path)
      assert.equals("limit=100", log[1].query)
    end)

    it("pages by cursor and filters by folder", function()
      local c = client()
      assert(c:create_list { name = "Filed", folder_id = "folder_7e1a02" })
      local first = assert(c:list_lists { limit = 2 })
      assert.equals(4, first.total)
      assert.equals(2, #first.lists)
      assert.equals("2", first.cursor)
      local second = assert(c:list_lists { limit = 2, cursor = first.cursor })
      assert.equals(2, #second.lists)
      assert.equals(null, second.cursor)
      local filed = assert(c:list_lists { folder_id = "folder_7e1a02" })
      assert.equals(1, filed.total)
      assert.equals("Filed", filed.lists[1].name)
    end)

    it("returns the API's 400 for a malformed cursor and refuses a bad limit or field unsent", function()
      local c = client()
      local res, err = c:list_lists { cursor = "abc" }
      api_error(res, err, "invalid_request", 400, "validation_error")
      refused(sb, { "query", "limit" }, "greater_than_equal", function()
        return c:list_lists { limit = 0 }
      end)
      refused(sb, { "query", "limit" }, "less_than_equal", function()
        return c:list_lists { limit = 101 }
      end)
      refused(sb, { "query", "sort" }, "extra_forbidden", function()
        return c:list_lists { sort = "name" }
      end)
    end)
  end)

  describe("create_list", function()
    it("creates a private list, and returns the same one (reused = true) for its name in any case", function()
      local c = client()
      local a = assert(c:create_list { name = "Q3 Leads", description = "first", folder_id = "folder_7e1a01" })
      assert.is_false(a.reused)
      assert.matches("^list_%x+$", a.list_id)
      assert.equals("Q3 Leads", a.name)
      assert.equals("first", a.description)
      assert.equals("folder_7e1a01", a.folder_id)
      assert.equals(0, a.lead_count)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", a.created_at)
      local again = assert(c:create_list { name = "q3 LEADS" })
      assert.is_true(again.reused)
      assert.equals(a.list_id, again.list_id)
      local other = assert(c:create_list { name = "Q3 Leads List" })
      assert.is_false(other.reused)
      assert.are_not.equal(a.list_id, other.list_id)
      -- a teammate's list of the same name is never reused; Vera's own example list is
      assert.is_false(assert(c:create_list { name = SCRATCH }).reused)
      assert.is_true(assert(c:create_list { name = SALES }).reused)
      assert.same({ name = "q3 LEADS" }, bodies(sb, "POST", "/lead-lists")[2])
      local _, rowan = lists_by_name(client { api_key = sb.readonly_key })
      assert.equals(4, rowan.total) -- Vera's new lists are private to her
    end)

    it("answers a folder Vera does not own with 404 and the read-only key with 403", function()
      local res, err = client():create_list { name = "Filed", folder_id = "folder_7e1a03" }
      api_error(res, err, "not_found", 404, "not_found")
      res, err = client({ api_key = sb.readonly_key }):create_list { name = "x" }
      api_error(res, err, "permission", 403, "insufficient_scope")
      assert.same({ "lists:write" }, err.details.required_scopes)
    end)

    it("refuses a missing or oversized name and unknown fields, sending nothing", function()
      local c = client()
      refused(sb, { "body", "name" }, "missing", function()
        return c:create_list {}
      end)
      refused(sb, { "body", "name" }, "string_too_short", function()
        return c:create_list { name = "" }
      end)
      refused(sb, { "body", "name" }, "string_too_long", function()
        return c:create_list { name = string.rep("x", 201) }
      end)
      refused(sb, { "body", "color" }, "extra_forbidden", function()
        return c:create_list { name = "x", color = "red" }
      end)
      refused(sb, { "body", "name" }, "string_type", function()
        return c:create_list { name = 7 }
      end)
    end)
  end)

  describe("get_list", function()
    it("reads the seeded lists' live counts", function()
      local c = client()
      local by = lists_by_name(c)
      local fin = assert(c:get_list(by[FINTECH].list_id))
      assert.equals(FINTECH, fin.name)
      assert.equals(40, fin.lead_count)
      assert.equals(0, fin.enriched_count)
      assert.is_false(fin.reused)
      local sales = assert(c:get_list(by[SALES].list_id))
      assert.equals(25, sales.lead_count)
      assert.equals(12, sales.enriched_count) -- seed 7: 12 of the first 15 were found
      assert.equals("GET /lead-lists/" .. by[FINTECH].list_id, calls(sb)[2])
    end)

    it("answers an unknown list and another user's private list alike: 404 not_found", function()
      local c = client()
      local res, err = c:get_list("list_nope")
      api_error(res, err, "not_found", 404, "not_found")
      assert.matches("^req_%x+$", err.request_id)
      local scratch = lists_by_name(client { api_key = sb.readonly_key })[SCRATCH]
      res, err = c:get_list(scratch.list_id)
      api_error(res, err, "not_found", 404, "not_found")
      refused(sb, { "path", "list_id" }, "missing", function()
        return c:get_list("")
      end)
    end)
  end)

  describe("update_list", function()
    it("changes only the fields given; null clears the description and unfiles", function()
      local c = client()
      local l = assert(c:create_list { name = "Patch me", description = "old", folder_id = "folder_7e1a01" })
      local res = assert(c:update_list(l.list_id, { name = "Patched" }))
      assert.equals("Patched", res.name)
      assert.equals("old", res.description)
      assert.equals("folder_7e1a01", res.folder_id)
      res = assert(c:update_list(l.list_id, { description = null, folder_id = null }))
      assert.equals(null, res.description)
      assert.equals(null, res.folder_id)
      assert.equals("Patched", res.name)
      -- the JSON nulls went on the wire (cjson decodes the logged body's nulls as sandbox.null)
      assert.same(
        { description = sandbox.null, folder_id = sandbox.null },
        bodies(sb, "PATCH", "/lead-lists/" .. l.list_id)[2]
      )
      assert.equals("Patched", assert(c:get_list(l.list_id)).name)
    end)

    it("answers Do Not Contact with 403 list_protected (kind permission) and others' lists with 404", function()
      local c = client()
      local by = lists_by_name(c)
      local res, err = c:update_list(by[DNC].list_id, { description = "x" })
      api_error(res, err, "permission", 403, "list_protected")
      res, err = c:update_list("list_nope", { name = "x" })
      api_error(res, err, "not_found", 404, "not_found")
      local scratch = lists_by_name(client { api_key = sb.readonly_key })[SCRATCH]
      res, err = c:update_list(scratch.list_id, { name = "mine now" })
      api_error(res, err, "not_found", 404, "not_found")
      assert.equals(3, assert(c:get_list(by[DNC].list_id)).lead_count)
    end)

    it("refuses an empty change, a null name and unknown fields, sending nothing", function()
      local c = client()
      local id = assert(c:create_list { name = "Patch errors" }).list_id
      refused(sb, { "body" }, "missing", function()
        return c:update_list(id, {})
      end)
      refused(sb, { "body", "name" }, "null", function()
        return c:update_list(id, { name = null })
      end)
      refused(sb, { "body", "visibility" }, "extra_forbidden", function()
        return c:update_list(id, { visibility = "organization" })
      end)
      refused(sb, { "path", "list_id" }, "missing", function()
        return c:update_list(nil, { name = "x" })
      end)
    end)
  end)

  describe("delete_list", function()
    it("deletes a list (its leads survive); reading or deleting it again is 404", function()
      local c = client()
      local l = assert(c:create_list { name = "Doomed" })
      local task = cohort(c, 3)
      assert.equals(3, assert(c:add_leads_to_list(l.list_id, { task_id = task })).added)
      local lead_ids = ids_of(assert(c:list_leads_in_list(l.list_id)).leads, "lead_id")
      local res = assert(c:delete_list(l.list_id))
      assert.equals(l.list_id, res.list_id)
      assert.is_true(res.deleted)
      assert.equals("List deleted.", res.message)
      assert.equals("DELETE /lead-lists/" .. l.list_id, calls(sb)[5])
      assert.equals("", sb:requests()[5].body) -- no body on a DELETE without one
      local _, err = c:get_list(l.list_id)
      assert.equals("not_found", err.kind)
      _, err = c:delete_list(l.list_id)
      api_error(nil, err, "not_found", 404, "not_found")
      local survivors = assert(c:create_list { name = "Survivors" })
      assert.equals(3, assert(c:add_leads_to_list(survivors.list_id, { lead_ids = lead_ids })).added)
    end)

    it("answers Do Not Contact with 403 list_protected and Rowan's list with 404", function()
      local c = client()
      local by = lists_by_name(c)
      local res, err = c:delete_list(by[DNC].list_id)
      api_error(res, err, "permission", 403, "list_protected")
      local scratch = lists_by_name(client { api_key = sb.readonly_key })[SCRATCH]
      res, err = c:delete_list(scratch.list_id)
      api_error(res, err, "not_found", 404, "not_found")
      res, err = client({ api_key = sb.readonly_key }):delete_list(scratch.list_id)
      api_error(res, err, "permission", 403, "insufficient_scope")
      assert.equals(3, lists_by_name(c)[DNC].lead_count)
      refused(sb, { "path", "list_id" }, "missing", function()
        return c:delete_list()
      end)
    end)
  end)

  describe("list_leads_in_list", function()
    it("pages the 40 Fintech leads by offset cursor, with a cohort per page", function()
      local c = client()
      local id = lists_by_name(c)[FINTECH].list_id
      local first = assert(c:list_leads_in_list(id, { limit = 15 }))
      assert.equals(40, first.total)
      assert.equals(15, #first.leads)
      assert.equals("15", first.cursor)
      assert.matches("^cl%-task_%x+$", first.task_id)
      for _, lead in ipairs(first.leads) do
        assert.matches("^lead_%x+$", lead.lead_id)
        assert.equals(lead.first_name .. " " .. lead.last_name, lead.full_name)
        assert.equals(null, lead.email) -- never enriched
      end
      -- seed 7's Fintech list, in its order
      assert.same({ "Ngozi Owusu", "Ava Reed" }, { first.leads[1].full_name, first.leads[15].full_name })
      local last = assert(c:list_leads_in_list(id, { limit = 15, cursor = "30" }))
      assert.equals("Felix Nielsen", last.leads[10].full_name)
      assert.equals(10, #last.leads)
      assert.equals(null, last.cursor)
      assert.are_not.equal(first.task_id, last.task_id)
      local log = sb:requests()
      assert.equals("limit=15", log[2].query)
      assert.equals("cursor=30&limit=15", log[3].query)
      -- a page's cohort adds exactly that page's leads elsewhere
      local copy = assert(c:create_list { name = "From a page" })
      local added = assert(c:add_leads_to_list(copy.list_id, { task_id = first.task_id }))
      assert.equals(15, added.added)
      assert.equals(0, added.created)
    end)

    it("answers a malformed cursor with 400, an unknown list with 404, and refuses limit 501 unsent", function()
      local c = client()
      local id = lists_by_name(c)[FINTECH].list_id
      local res, err = c:list_leads_in_list(id, { cursor = "-1" })
      api_error(res, err, "invalid_request", 400, "validation_error")
      res, err = c:list_leads_in_list("list_missing")
      api_error(res, err, "not_found", 404, "not_found")
      refused(sb, { "query", "limit" }, "less_than_equal", function()
        return c:list_leads_in_list(id, { limit = 501 })
      end)
    end)
  end)

  describe("add_leads_to_list", function()
    it("adds a search cohort (creating the leads), a subset again as duplicates, and leads by id", function()
      local c = client()
      local l = assert(c:create_list { name = "Cohort" })
      local task, people = cohort(c, 10)
      local res = assert(c:add_leads_to_list(l.list_id, { task_id = task }))
      assert.equals(l.list_id, res.list_id)
      assert.equals(10, res.added)
      assert.equals(0, res.skipped_duplicates)
      -- under seed 7 one of these managers (Jun Huang) is a lead already, in Rowan's scratchpad
      assert.equals(9, res.created)
      assert.equals(0, res.credits_charged)
      res = assert(c:add_leads_to_list(l.list_id, { task_id = task, entity_ids = { people[1], people[2] } }))
      assert.equals(0, res.added)
      assert.equals(2, res.skipped_duplicates)
      assert.equals(10, assert(c:get_list(l.list_id)).lead_count)
      local lead_ids = ids_of(assert(c:list_leads_in_list(l.list_id, { limit = 2 })).leads, "lead_id")
      local other = assert(c:create_list { name = "By id" })
      res = assert(c:add_leads_to_list(other.list_id, { lead_ids = { lead_ids[1], lead_ids[2], lead_ids[1] } }))
      assert.equals(2, res.added)
      assert.equals(1, res.skipped_duplicates)
      assert.equals(null, res.created)
    end)

    it("answers unknown leads and cohorts with 404 not_found and a company cohort with 400", function()
      local c = client()
      local l = assert(c:create_list { name = "Errors" })
      local res, err = c:add_leads_to_list(l.list_id, { lead_ids = { "lead_nope" } })
      api_error(res, err, "not_found", 404, "not_found")
      assert.same({ "lead_nope" }, err.details.unknown_lead_ids)
      res, err = c:add_leads_to_list(l.list_id, { task_id = "cl-task_0000dead" })
      api_error(res, err, "not_found", 404, "not_found")
      assert.equals("not_found", err.details.reason)
      local companies = assert(c:search_companies { limit = 2 })
      res, err = c:add_leads_to_list(l.list_id, { task_id = companies.task_id })
      api_error(res, err, "invalid_request", 400, "validation_error")
      res, err = c:add_leads_to_list("list_missing", { task_id = companies.task_id })
      api_error(res, err, "not_found", 404, "not_found")
      assert.equals(0, assert(c:get_list(l.list_id)).lead_count)
    end)

    it("refuses both modes, neither, ids with entity_ids, and over 1,000 ids, sending nothing", function()
      local c = client()
      local id = assert(c:create_list { name = "Bad adds" }).list_id
      local task = cohort(c, 3)
      refused(sb, { "body" }, "value_error", function()
        return c:add_leads_to_list(id, { task_id = task, lead_ids = { "lead_1" } })
      end)
      refused(sb, { "body" }, "value_error", function()
        return c:add_leads_to_list(id, {})
      end)
      refused(sb, { "body", "entity_ids" }, "extra_forbidden", function()
        return c:add_leads_to_list(id, { lead_ids = { "lead_1" }, entity_ids = { "1" } })
      end)
      refused(sb, { "body", "lead_ids" }, "too_long", function()
        return c:add_leads_to_list(id, { lead_ids = range(1001) })
      end)
      refused(sb, { "body", "lead_ids" }, "too_short", function()
        return c:add_leads_to_list(id, { lead_ids = {} })
      end)
      refused(sb, { "body", "idempotency_key" }, "string_too_long", function()
        return c:add_leads_to_list(id, { task_id = task, idempotency_key = string.rep("k", 129) })
      end)
    end)

    it("mints an idempotency_key when none is given; a repeat with the same key adds once", function()
      local c = client()
      local l = assert(c:create_list { name = "Idempotent" })
      local task = cohort(c, 4)
      sb:clear()
      local minted = assert(c:add_leads_to_list(l.list_id, { task_id = task }))
      assert.equals(4, minted.added)
      local key = bodies(sb, "POST", "/lead-lists/" .. l.list_id .. "/leads")[1].idempotency_key
      assert.matches("^idem_" .. string.rep("%x", 32) .. "$", key)
      assert(c:add_leads_to_list(l.list_id, { task_id = task }))
      local second = bodies(sb, "POST", "/lead-lists/" .. l.list_id .. "/leads")[2].idempotency_key
      assert.are_not.equal(key, second) -- a new call, a new key
      -- a replay of the first add: its answer again (added 4), nothing added again
      local other = assert(c:create_list { name = "Idempotent 2" })
      local task2 = cohort(c, 4)
      local first = assert(c:add_leads_to_list(other.list_id, { task_id = task2, idempotency_key = "save-1" }))
      local again = assert(c:add_leads_to_list(other.list_id, { task_id = task2, idempotency_key = "save-1" }))
      assert.equals(4, first.added)
      assert.same(first, again)
      assert.equals(4, assert(c:get_list(other.list_id)).lead_count)
      local sent = bodies(sb, "POST", "/lead-lists/" .. other.list_id .. "/leads")
      assert.equals(2, #sent)
      assert.equals("save-1", sent[1].idempotency_key)
      assert.equals("save-1", sent[2].idempotency_key)
    end)

    it("re-sends the minted key when it retries, so the add happens once", function()
      local l = assert(client():create_list { name = "Retried" })
      local task = cohort(client(), 3)
      sb:clear()
      sb:control("POST", "/script", {
        responses = {
          {
            status = 503,
            body = '{"error":{"code":'
              .. '"service_unavailable","problem":"down","retryable":true,"request_id":"req_0000000000000001"}}',
          },
        },
      })
      local c = client { max_retries = 1, sleep = function() end }
      local res = assert(c:add_leads_to_list(l.list_id, { task_id = task }))
      assert.equals(3, res.added)
      local log = sb:requests()
      assert.equals(2, #log)
      assert.equals(503, log[1].status)
      assert.equals(200, log[2].status)
      local k1, k2 = cjson.decode(log[1].body).idempotency_key, cjson.decode(log[2].body).idempotency_key
      assert.matches("^idem_%x+$", k1)
      assert.equals(k1, k2)
      assert.equals(3, assert(c:get_list(l.list_id)).lead_count)
    end)
  end)

  describe("remove_leads_from_list", function()
    it("removes memberships, counting only the leads it removed", function()
      local c = client()
      local l = assert(c:create_list { name = "Removal" })
      assert(c:add_leads_to_list(l.list_id, { task_id = (cohort(c, 5)) }))
      local leads = assert(c:list_leads_in_list(l.list_id)).leads
      local res = assert(
        c:remove_leads_from_list(
          l.list_id,
          { lead_ids = { leads[1].lead_id, leads[2].lead_id, "lead_unknown", leads[1].lead_id } }
        )
      )
      assert.equals(l.list_id, res.list_id)
      assert.equals(2, res.removed)
      local page = assert(c:list_leads_in_list(l.list_id))
      assert.equals(3, page.total)
      assert.equals(leads[3].lead_id, page.leads[1].lead_id)
      assert.equals(0, assert(c:remove_leads_from_list(l.list_id, { lead_ids = { leads[1].lead_id } })).removed)
      local sent = bodies(sb, "DELETE", "/lead-lists/" .. l.list_id .. "/leads")
      assert.equals(4, #sent[1].lead_ids)
    end)

    it("answers an unknown list with 404 and the read-only key with 403", function()
      local res, err = client():remove_leads_from_list("list_missing", { lead_ids = { "lead_1" } })
      api_error(res, err, "not_found", 404, "not_found")
      local by = lists_by_name(client())
      res, err =
        client({ api_key = sb.readonly_key }):remove_leads_from_list(by[SALES].list_id, { lead_ids = { "lead_1" } })
      api_error(res, err, "permission", 403, "insufficient_scope")
    end)

    it("refuses 0 or 101 ids and a missing lead_ids, sending nothing", function()
      local c = client()
      local id = lists_by_name(c)[FINTECH].list_id
      refused(sb, { "body", "lead_ids" }, "too_long", function()
        return c:remove_leads_from_list(id, { lead_ids = range(101) })
      end)
      refused(sb, { "body", "lead_ids" }, "too_short", function()
        return c:remove_leads_from_list(id, { lead_ids = {} })
      end)
      refused(sb, { "body", "lead_ids" }, "missing", function()
        return c:remove_leads_from_list(id, {})
      end)
      refused(sb, { "body", "lead_ids", 1 }, "string_type", function()
        return c:remove_leads_from_list(id, { lead_ids = { "lead_1", 2 } })
      end)
      assert.equals(40, assert(c:get_list(id)).lead_count)
    end)
  end)

  describe("csv_import", function()
    it("imports a file: counts, skip reasons and sample rows; free; the bytes sent are the file's", function()
      local c = client()
      local l = assert(c:create_list { name = "CSV from a file" })
      local path = write_temp(CSV)
      sb:clear()
      local res =
        assert(c:csv_import(l.list_id, { file = path, column_mapping = MAPPING, dispatch_enrichment = false }))
      os.remove(path)
      assert.equals(l.list_id, res.list_id)
      assert.equals(7, res.rows_parsed)
      assert.equals(4, res.rows_imported)
      assert.equals(3, res.rows_skipped)
      assert.same({ duplicate_email = 1, missing_required = 1, duplicate_linkedin = 1 }, res.skip_reasons)
      assert.same({ 4, 5, 7 }, res.sample_skip_rows)
      assert.equals(null, res.workflow_id)
      assert.is_false(res.idempotency_replayed)
      local sent = bodies(sb, "POST", "/lead-lists/" .. l.list_id .. "/csv-import")
      assert.equals(1, #sent)
      assert.equals(b64(CSV), sent[1].csv_content_base64)
      assert.same(MAPPING, sent[1].column_mapping)
      assert.is_false(sent[1].dispatch_enrichment)
      assert.matches("^idem_" .. string.rep("%x", 32) .. "$", sent[1].idempotency_key)
      assert.is_nil(sent[1].file)
      assert.equals(4, assert(c:get_list(l.list_id)).lead_count)
      assert.equals(5000, assert(c:credits_balance()).credits)
      local names = {}
      for _, lead in ipairs(assert(c:list_leads_in_list(l.list_id)).leads) do
        names[lead.full_name] = lead
      end
      assert.equals("US Navy, Inc.", names["Grace Hopper"].company)
      local quoted = names['Quoted "Q" Name']
      assert.same(
        { 'Quoted "Q"', "Name", "Quotes Ltd", "q@quoted.example" },
        { quoted.first_name, quoted.last_name, quoted.company, quoted.email }
      )
    end)

    it("imports the same rows from csv text and from csv_content_base64; a repeated key replays", function()
      local c = client()
      local a = assert(c:create_list { name = "CSV text" })
      local b = assert(c:create_list { name = "CSV base64" })
      local from_text = assert(
        c:csv_import(
          a.list_id,
          { csv = CSV, column_mapping = MAPPING, dispatch_enrichment = false, idempotency_key = "csv-text-1" }
        )
      )
      local from_b64 = assert(
        c:csv_import(
          b.list_id,
          { csv_content_base64 = b64(CSV), column_mapping = MAPPING, dispatch_enrichment = false }
        )
      )
      for _, res in ipairs { from_text, from_b64 } do
        assert.equals(7, res.rows_parsed)
        assert.equals(4, res.rows_imported)
        assert.is_false(res.idempotency_replayed)
      end
      local sent = bodies(sb, "POST", "/lead-lists/" .. b.list_id .. "/csv-import")[1]
      assert.equals(b64(CSV), sent.csv_content_base64)
      assert.matches("^idem_%x+$", sent.idempotency_key) -- minted here too
      local replay = assert(
        c:csv_import(
          a.list_id,
          { csv = CSV, column_mapping = MAPPING, dispatch_enrichment = false, idempotency_key = "csv-text-1" }
        )
      )
      assert.is_true(replay.idempotency_replayed)
      assert.equals(from_text.rows_imported, replay.rows_imported)
      assert.equals(4, assert(c:get_list(a.list_id)).lead_count) -- not imported twice
    end)

    it("dispatches an enrichment of the imported rows, reserving 1 credit a row (partial)", function()
      local c = client()
      local l = assert(c:create_list { name = "CSV dispatch" })
      local res = assert(
        c:csv_import(l.list_id, { csv = rows_csv(1, 3), column_mapping = ROWS_MAPPING, enrichment_type = "partial" })
      )
      assert.equals(3, res.rows_imported)
      assert.matches("^bulk%-enrich%-%x+$", res.workflow_id)
      assert.equals(PREFIX .. "/enrichment/status/" .. res.workflow_id, res.enrichment_status_url)
      assert.equals(4997, assert(c:credits_balance()).credits)
    end)

    it("answers an unknown list with 404, the read-only key with 403, and a switched-off import with 503", function()
      local c = client()
      local res, err = c:csv_import("list_nope", { csv = CSV, column_mapping = MAPPING, dispatch_enrichment = false })
      api_error(res, err, "not_found", 404, "not_found")
      local id = lists_by_name(c)[FINTECH].list_id
      res, err = client({ api_key = sb.readonly_key }):csv_import(
        id,
        { csv = CSV, column_mapping = MAPPING, dispatch_enrichment = false }
      )
      api_error(res, err, "permission", 403, "insufficient_scope")
      sb:control("POST", "/switches", { csv_import = false })
      res, err = c:csv_import(id, { csv = CSV, column_mapping = MAPPING, dispatch_enrichment = false })
      api_error(res, err, "server", 503, "csv_import_disabled")
      assert.is_true(err.retryable)
      assert.equals(60, err.retry_after)
      assert.equals(40, assert(c:get_list(id)).lead_count)
    end)

    it(
      "refuses over 150 KB, a mapping to a header the file lacks, and a dispatch without a type, " .. "sending nothing",
      function()
        local c = client()
        local id = assert(c:create_list { name = "CSV refusals" }).list_id
        local big = { "Email" }
        while #table.concat(big, "\n") <= 150 * 1024 do
          big[#big + 1] = ("p%d@big.example"):format(#big)
        end
        big = table.concat(big, "\n")
        local err = refused(sb, { "body", "csv" }, "too_large", function()
          return c:csv_import(id, { csv = big, column_mapping = { email = "Email" }, dispatch_enrichment = false })
        end)
        assert.matches("150 KB", err.message)
        refused(sb, { "body", "csv_content_base64" }, "too_large", function()
          return c:csv_import(
            id,
            { csv_content_base64 = b64(big), column_mapping = { email = "Email" }, dispatch_enrichment = false }
          )
        end)
        local path = write_temp(big)
        refused(sb, { "body", "file" }, "too_large", function()
          return c:csv_import(id, { file = path, column_mapping = { email = "Email" }, dispatch_enrichment = false })
        end)
        os.remove(path)
        refused(sb, { "body", "column_mapping", "email" }, "missing_column", function()
          return c:csv_import(id, { csv = CSV, column_mapping = { email = "E-mail" }, dispatch_enrichment = false })
        end)
        refused(sb, { "body", "column_mapping", "email" }, "missing_column", function()
          return c:csv_import(
            id,
            { csv_content_base64 = b64(CSV), column_mapping = { email = "E-mail" }, dispatch_enrichment = false }
          )
        end)
        refused(sb, { "body", "column_mapping", "favourite_colour" }, "enum", function()
          return c:csv_import(
            id,
            { csv = CSV, column_mapping = { favourite_colour = "Notes" }, dispatch_enrichment = false }
          )
        end)
        refused(sb, { "body", "column_mapping" }, "too_short", function()
          return c:csv_import(id, { csv = CSV, column_mapping = {}, dispatch_enrichment = false })
        end)
        refused(sb, { "body", "enrichment_type" }, "missing", function()
          return c:csv_import(id, { csv = CSV, column_mapping = MAPPING })
        end)
        refused(sb, { "body", "enrichment_type" }, "enum", function()
          return c:csv_import(id, { csv = CSV, column_mapping = MAPPING, enrichment_type = "gold" })
        end)
        refused(sb, { "body", "file" }, "file_error", function()
          return c:csv_import(
            id,
            { file = "/nonexistent/x.csv", column_mapping = MAPPING, dispatch_enrichment = false }
          )
        end)
        refused(sb, { "body", "csv_content_base64" }, "value_error", function()
          return c:csv_import(
            id,
            { csv_content_base64 = "%%%not base64%%%", column_mapping = MAPPING, dispatch_enrichment = false }
          )
        end)
        refused(sb, { "body", "csv_content_base64" }, "missing", function()
          return c:csv_import(id, { column_mapping = MAPPING, dispatch_enrichment = false })
        end)
        refused(sb, { "body", "delimiter" }, "extra_forbidden", function()
          return c:csv_import(id, { csv = CSV, column_mapping = MAPPING, dispatch_enrichment = false, delimiter = ";" })
        end)
      end
    )

    -- The sandbox finds a mapped header "exact after trimming, else case-insensitive"
    -- (sandbox/lua/sandbox/endpoints/csv_import.lua, header_index); the client's own check of
    -- the header must not refuse what the server takes.
    it("takes a mapped header in another case or with spaces around it, as the server does", function()
      local c = client()
      local id = assert(c:create_list { name = "CSV header matching" }).list_id
      local mapping = { email = "Email", first_name = "First" }
      for i, csv in ipairs { "email,first\r\na@x.io,A\r\n", " Email ,First\r\nb@x.io,B\r\n" } do
        local res, err = c:csv_import(id, { csv = csv, column_mapping = mapping, dispatch_enrichment = false })
        assert.is_nil(err, err and tostring(err))
        assert.equals(1, res.rows_imported)
        assert.equals(i, assert(c:get_list(id)).lead_count)
      end
    end)
  end)

  describe("iter_lists", function()
    it("reads every list Vera sees, a page per request, and stops at max", function()
      local c = client()
      for i = 1, 4 do
        assert(c:create_list { name = "Paged " .. i })
      end
      sb:clear()
      local it = c:iter_lists { limit = 2 }
      local seen, names = {}, {}
      for l in it do
        assert.is_nil(seen[l.list_id], "list " .. l.list_id .. " twice")
        seen[l.list_id] = true
        names[#names + 1] = l.name
      end
      assert.is_nil(it.err)
      assert.equals(7, it.count)
      assert.equals(4, it.pages)
      assert.equals(7, it.page.total)
      local want = { SALES, FINTECH, DNC, "Paged 1", "Paged 2", "Paged 3", "Paged 4" }
      table.sort(want)
      table.sort(names)
      assert.same(want, names)
      local queries = {}
      for i, r in ipairs(sb:requests()) do
        queries[i] = r.query
      end
      assert.same({ "limit=2", "cursor=2&limit=2", "cursor=4&limit=2", "cursor=6&limit=2" }, queries)
      sb:clear()
      local some = assert(c:iter_lists({ limit = 2, max = 3 }):all())
      assert.equals(3, #some)
      assert.equals(2, #sb:requests())
    end)

    it("ends on a failed page with it.err set, never silently", function()
      local c = client()
      local it = c:iter_lists { limit = 2 }
      local n = 0
      for _ in it do
        n = n + 1
        if n == 2 then sb:control("POST", "/script", { responses = { BOOM } }) end
      end
      assert.equals(2, n)
      assert.equals("server", it.err.kind)
      assert.equals(500, it.err.status)
      assert.equals(2, #sb:requests())
      local bad = c:iter_lists { limit = 0 }
      assert.is_nil(bad())
      assert.equals("invalid_request", bad.err.kind)
      assert.equals(2, #sb:requests()) -- nothing more sent
    end)

    -- list_lists refuses a misspelt query field; its iterator (and iter_leads, iter_export_json)
    -- rebuilds the query from the fields it knows, so a typo is dropped without a word.
    it("refuses a misspelt option as the page methods do, sending nothing", function()
      local c = client()
      local fintech = lists_by_name(c)[FINTECH].list_id
      sb:clear()
      for _, it in ipairs {
        c:iter_lists { limt = 1 },
        c:iter_leads(fintech, { limt = 1 }),
        c:iter_export_json { list_id = fintech, limt = 1 },
      } do
        assert.is_nil(it(), "the iterator ran with the misspelt option dropped")
        assert.equals("invalid_request", it.err.kind)
      end
      assert.same({}, calls(sb))
    end)
  end)
end)

describe("export and download methods", function()
  local sb = sandbox.suite { args = ARGS, reset = true, clear = true }

  local function client(opts)
    return clients.new(sb, opts)
  end

  local function list_id(name)
    return lists_by_name(clients.new(sb, { api_key = sb.readonly_key }))[name].list_id
  end

  describe("export_csv", function()
    it(
      "streams the Fintech list's CSV to a file: the default header and 40 rows, with no "
        .. "Authorization on the download",
      function()
        local lines = {}
        local c = client {
          trace = function(l)
            lines[#lines + 1] = l
          end,
        }
        local id = list_id(FINTECH)
        sb:clear()
        local path = os.tmpname()
        local res = assert(c:export_csv { list_id = id, to = path })
        assert.equals(id, res.list_id)
        assert.equals(40, res.row_count)
        assert.equals(path, res.path)
        local text = assert(sandbox.read_file(path))
        os.remove(path)
        assert.is_nil(sandbox.read_file(path .. ".part"))
        assert.equals(res.file_size_bytes, res.bytes)
        assert.equals(#text, res.bytes)
        local rows = parse_csv(text)
        assert.same(HEADER, rows[1])
        assert.equals(41, #rows)
        local seen = {}
        for i = 2, #rows do
          assert.equals(10, #rows[i])
          assert.matches("^lead_%x+$", rows[i][1])
          seen[rows[i][1]] = true
        end
        -- the signed link is not an API path: the log holds only the request for it
        assert.same({ "POST /export/csv/signed-url" }, calls(sb))
        assert.same({ list_id = id }, bodies(sb, "POST", "/export/csv/signed-url")[1])
        local path_part = res.download_url:match("^https?://[^/]+(/__files/exports/[%w_]+%.csv)%?exp=%d+&sig=%x+$")
        assert.truthy(path_part, res.download_url)
        local post = assert(traced_request(lines, "> POST " .. PREFIX .. "/export/csv/signed-url"))
        assert.is_true(has_authorization(post))
        local get = assert(traced_request(lines, "> GET " .. path_part), "the download is not in the trace")
        assert.is_false(has_authorization(get), table.concat(get, "\n"))
        -- the same leads as the API lists
        for _, lead in ipairs(assert(c:list_leads_in_list(id, { limit = 100 })).leads) do
          assert.is_true(seen[lead.lead_id], lead.lead_id)
        end
      end
    )

    it("streams to a function: the chunks are the CSV, header and 40 rows, no path", function()
      local chunks = {}
      local res = assert(client():export_csv {
        list_id = list_id(FINTECH),
        columns = { "email", "lead_id" },
        to = function(bytes)
          chunks[#chunks + 1] = bytes
        end,
      })
      assert.is_nil(res.path)
      local text = table.concat(chunks)
      assert.equals(res.bytes, #text)
      assert.equals(res.file_size_bytes, #text)
      local rows = parse_csv(text)
      assert.same({ "email", "lead_id" }, rows[1])
      assert.equals(41, #rows)
      assert.equals("", rows[2][1]) -- not enriched
      assert.same(
        { list_id = list_id(FINTECH), columns = { "email", "lead_id" } },
        bodies(sb, "POST", "/export/csv/signed-url")[1]
      ) -- `to` is the client's, never sent
    end)

    it("sends the download without Authorization (a link under the API path, so the log shows it)", function()
      local csv = "lead_id,email\r\nlead_1,a@x.io\r\nlead_2,b@x.io\r\n"
      local url = sb.base_url .. "/files/exp_1.csv?exp=1&sig=ab"
      sb:control("POST", "/script", {
        responses = {
          {
            status = 200,
            headers = { ["Content-Type"] = "application/json" },
            body = cjson.encode {
              list_id = "list_1",
              download_url = url,
              expires_at = "2100-01-01T00:00:00+00:00",
              row_count = 2,
              file_size_bytes = #csv,
            },
          },
          { status = 200, headers = { ["Content-Type"] = "text/csv" }, body = csv },
        },
      })
      local path = os.tmpname()
      local res = assert(client():export_csv { list_id = "list_1", to = path })
      assert.equals(csv, sandbox.read_file(path))
      os.remove(path)
      assert.equals(#csv, res.bytes)
      local log = sb:requests()
      assert.equals(2, #log)
      assert.matches("^Bearer clapi_", log[1].headers.authorization)
      assert.equals("GET", log[2].method)
      assert.equals(PREFIX .. "/files/exp_1.csv", log[2].path)
      assert.equals("exp=1&sig=ab", log[2].query)
      assert.is_nil(log[2].headers.authorization)
      assert.equals(log[1].headers["user-agent"], log[2].headers["user-agent"])
    end)

    it("answers Rowan's private list with 404, an unknown column with 422, the read-only key with 403", function()
      local c = client()
      local fintech = list_id(FINTECH)
      local res, err = c:export_csv { list_id = list_id(SCRATCH), to = function() end }
      api_error(res, err, "not_found", 404, "not_found")
      res, err = c:export_csv { list_id = list_id(FINTECH), columns = { "email", "shoe_size" } }
      api_error(res, err, "invalid_request", 422)
      assert.same({ "body", "columns", 1 }, err.detail[1].loc)
      res, err = client({ api_key = sb.readonly_key }):export_csv { list_id = list_id(FINTECH) }
      api_error(res, err, "permission", 403, "insufficient_scope")
      refused(sb, { "body", "list_id" }, "missing", function()
        return c:export_csv { to = function() end }
      end)
      refused(sb, { "body", "format" }, "extra_forbidden", function()
        return c:export_csv { list_id = fintech, format = "xlsx" }
      end)
    end)

    it("keeps the link on a failed download (err.export), and leaves no file behind", function()
      local c = client()
      local res, err = c:export_csv {
        list_id = list_id(DNC),
        to = function()
          return { kind = "transport", message = "disk full" }
        end,
      }
      assert.is_nil(res)
      assert.equals("transport", err.kind)
      assert.equals("disk full", err.message)
      assert.equals(3, err.export.row_count)
      local chunks = {}
      assert(c:download(err.export.download_url, function(b)
        chunks[#chunks + 1] = b
      end))
      assert.equals(4, #parse_csv(table.concat(chunks)))
      res, err = c:export_csv { list_id = list_id(DNC), to = "/nonexistent_dir/out.csv" }
      assert.is_nil(res)
      assert.equals("invalid_request", err.kind)
      assert.equals(list_id(DNC), err.export.list_id) -- the link it made, for a retry
      assert.equals(3, err.export.row_count)
    end)
  end)

  describe("download", function()
    it("fetches a signed link to a path or a function, the same bytes either way", function()
      local c = client()
      local link = assert(c:export_csv { list_id = list_id(SALES) })
      assert.equals(25, link.row_count)
      local path = os.tmpname()
      local got = assert(c:download(link.download_url, path))
      assert.equals(path, got.path)
      assert.equals(link.file_size_bytes, got.bytes)
      local text = sandbox.read_file(path)
      os.remove(path)
      local chunks = {}
      got = assert(c:download(link.download_url, function(b)
        chunks[#chunks + 1] = b
      end))
      assert.is_nil(got.path)
      assert.equals(text, table.concat(chunks))
      local rows = parse_csv(text)
      assert.same(HEADER, rows[1])
      assert.equals(26, #rows)
      local emails = 0
      for i = 2, #rows do
        if rows[i][4] ~= "" then emails = emails + 1 end
      end
      assert.equals(12, emails) -- seed 7: 12 of the first 15 were found
    end)

    it("answers a tampered link with 403 and an expired one with 410, handing the sink nothing", function()
      local c = client()
      local link = assert(c:export_csv { list_id = list_id(FINTECH) })
      local tampered = link.download_url:gsub("sig=(%x)", function(x)
        return "sig=" .. (x == "0" and "1" or "0")
      end)
      local chunks = {}
      local res, err = c:download(tampered, function(b)
        chunks[#chunks + 1] = b
      end)
      api_error(res, err, "permission", 403, "export_link_invalid")
      sb:control("POST", "/clock", { advance_ms = 86400 * 1000 + 60000 })
      res, err = c:download(link.download_url, function(b)
        chunks[#chunks + 1] = b
      end)
      api_error(res, err, "api", 410, "export_link_expired")
      assert.same({}, chunks)
      local path = os.tmpname()
      os.remove(path)
      res, err = c:download(link.download_url, path)
      api_error(res, err, "api", 410, "export_link_expired")
      assert.is_nil(sandbox.read_file(path))
      assert.is_nil(sandbox.read_file(path .. ".part"))
      res, err = c:download("ftp://127.0.0.1/x.csv", function() end)
      assert.is_nil(res)
      assert.equals("invalid_request", err.kind)
    end)
  end)

  describe("export_json", function()
    it("pages the Fintech list projected to the chosen columns", function()
      local c = client()
      local id = list_id(FINTECH)
      local res = assert(c:export_json { list_id = id, limit = 15, columns = { "email", "title" } })
      assert.equals(40, res.total)
      assert.equals(id, res.list_id)
      assert.equals(15, #res.leads)
      assert.equals("15", res.cursor)
      local titles = {}
      for i, lead in ipairs(res.leads) do
        titles[i] = lead.title
        local keys = {}
        for k in pairs(lead) do
          keys[#keys + 1] = k
        end
        table.sort(keys)
        assert.same({ "email", "title" }, keys)
        assert.equals(null, lead.email)
      end
      local H, V, D = "Head of Platform Engineering", "VP Engineering", "Director of Engineering"
      assert.same({ H, V, D, D, V, H, H, V, V, H, V, V, D, V, D }, titles) -- seed 7's Fintech list

      local log = sb:requests()
      assert.equals("columns=email&columns=title&limit=15&list_id=" .. id, log[#log].query)
      local last = assert(c:export_json { list_id = id, cursor = "30" })
      assert.equals(10, #last.leads)
      assert.equals(null, last.cursor)
      -- the default columns
      assert.same({ "Sophia Walker", "Vector Trust", "vectortrust.com" }, {
        last.leads[1].first_name .. " " .. last.leads[1].last_name,
        last.leads[1].company,
        last.leads[1].domain,
      })
    end)

    it("answers a malformed cursor with 400, Rowan's list with 404, and refuses bad queries unsent", function()
      local c = client()
      local fintech = list_id(FINTECH)
      local res, err = c:export_json { list_id = fintech, cursor = "page2" }
      api_error(res, err, "invalid_request", 400, "validation_error")
      res, err = c:export_json { list_id = list_id(SCRATCH) }
      api_error(res, err, "not_found", 404, "not_found")
      res, err = c:export_json { list_id = list_id(FINTECH), columns = { "email", "nope" } }
      api_error(res, err, "invalid_request", 422)
      refused(sb, { "query", "list_id" }, "missing", function()
        return c:export_json { limit = 10 }
      end)
      refused(sb, { "query", "limit" }, "less_than_equal", function()
        return c:export_json { list_id = fintech, limit = 501 }
      end)
    end)
  end)
end)

describe("iterators over a list of 1,000 leads", function()
  local sb = sandbox.suite { args = ARGS, clear = true }
  local list_id

  local function client(opts)
    return clients.new(sb, opts)
  end

  -- Two imports of 500 generated rows (no enrichment): 1,000 leads p1..p1000@big.example.
  setup(function()
    local c = clients.new(sb)
    list_id = assert(c:create_list { name = "A thousand leads" }).list_id
    for _, first in ipairs { 1, 501 } do
      local res = assert(
        c:csv_import(
          list_id,
          { csv = rows_csv(first, 500), column_mapping = ROWS_MAPPING, dispatch_enrichment = false }
        )
      )
      assert(res.rows_imported == 500, "imported " .. tostring(res.rows_imported))
    end
  end)

  -- The cursors the logged requests sent (nil for none), in order.
  local function cursors(log)
    local out = {}
    for i, r in ipairs(log) do
      out[i] = (r.query or ""):match("cursor=([^&]+)") or "-"
    end
    return out
  end

  local TEN = { "-", "100", "200", "300", "400", "500", "600", "700", "800", "900" }

  it("iter_leads reads 1,000 distinct leads in 10 page requests of 100", function()
    assert.equals(1000, assert(client():get_list(list_id)).lead_count)
    sb:clear()
    local it = client():iter_leads(list_id, { limit = 100 })
    local seen, n = {}, 0
    for lead in it do
      assert.is_nil(seen[lead.lead_id], "lead " .. lead.lead_id .. " twice")
      seen[lead.lead_id] = true
      n = n + 1
    end
    assert.is_nil(it.err)
    assert.equals(1000, n)
    assert.equals(1000, it.count)
    assert.equals(10, it.pages)
    assert.equals(1000, it.page.total)
    assert.matches("^cl%-task_%x+$", it.page.task_id) -- the last page's cohort
    local log = sb:requests()
    assert.equals(10, #log)
    assert.same(TEN, cursors(log))
    for _, r in ipairs(log) do
      assert.equals(PREFIX .. "/lead-lists/" .. list_id .. "/leads", r.path)
      assert.matches("limit=100", r.query)
    end
  end)

  it("iter_leads stops at max, fetching only the pages it needs", function()
    local it = client():iter_leads(list_id, { limit = 100, max = 250 })
    local n = 0
    for _ in it do
      n = n + 1
    end
    assert.equals(250, n)
    assert.is_nil(it.err)
    assert.equals(3, it.pages)
    assert.same({ "-", "100", "200" }, cursors(sb:requests()))
    sb:clear()
    assert.equals(100, #assert(client():iter_leads(list_id, { limit = 100, max = 100 }):all()))
    assert.equals(1, #sb:requests())
  end)

  it("iter_export_json reads the 1,000 leads projected, in 10 page requests", function()
    local it = client():iter_export_json { list_id = list_id, limit = 100, columns = { "lead_id", "email" } }
    local emails, ids, n = {}, {}, 0
    for lead in it do
      n = n + 1
      assert.matches("^lead_%x+$", lead.lead_id)
      assert.is_nil(ids[lead.lead_id], lead.lead_id .. " twice")
      ids[lead.lead_id] = true
      assert.is_nil(lead.first_name)
      local k = tonumber(lead.email:match("^p(%d+)@big%.example$"))
      assert.truthy(k, lead.email)
      assert.is_nil(emails[k], lead.email .. " twice")
      emails[k] = true
    end
    assert.is_nil(it.err)
    assert.equals(1000, n)
    for k = 1, 1000 do
      assert.is_true(emails[k], "p" .. k .. " missing")
    end
    assert.equals(10, it.pages)
    local log = sb:requests()
    assert.same(TEN, cursors(log))
    assert.matches("^columns=lead_id&columns=email&", log[1].query)
    sb:clear()
    local some = assert(client():iter_export_json({ list_id = list_id, limit = 500, max = 600 }):all())
    assert.equals(600, #some)
    assert.same({ "-", "500" }, cursors(sb:requests()))
  end)

  it("ends iter_leads on a failed page (scripted 500) with it.err set, after the leads it got", function()
    local it = client():iter_leads(list_id, { limit = 100 })
    local n = 0
    for _ in it do
      n = n + 1
      if n == 200 then sb:control("POST", "/script", { responses = { BOOM } }) end -- page 3 fails
    end
    assert.equals(200, n)
    assert.equals(200, it.count)
    assert.equals(2, it.pages)
    assert.equals("server", it.err.kind)
    assert.equals(500, it.err.status)
    assert.equals("internal_error", it.err.code)
    assert.is_nil(it.err.stale_cursor)
    assert.is_nil(it())
    assert.same({ "-", "100", "200" }, cursors(sb:requests()))
  end)

  it("ends on a cursor the server refuses with err.stale_cursor, and all() gives nil, err", function()
    sb:control("POST", "/script", {
      responses = {
        {
          status = 200,
          body = cjson.encode {
            leads = { { lead_id = "lead_x" } },
            total = 1000,
            cursor = "garbage",
          },
        },
      },
    })
    local it = client():iter_leads(list_id, { limit = 100 })
    local leads, err = it:all()
    assert.is_nil(leads)
    assert.equals(it.err, err)
    assert.equals("invalid_request", err.kind)
    assert.equals(400, err.status)
    assert.is_true(err.stale_cursor)
    assert.matches("cursor of page 2", err.message)
    assert.same({ "-", "garbage" }, cursors(sb:requests()))
  end)

  it("ends iter_export_json at once on an unknown list (404) and on a bad limit (nothing sent)", function()
    local it = client():iter_export_json { list_id = "list_nope", limit = 100 }
    assert.is_nil(it())
    assert.equals("not_found", it.err.kind)
    assert.equals(1, #sb:requests())
    sb:clear()
    local bad = client():iter_leads(list_id, { limit = 1000 })
    assert.is_nil(bad())
    assert.equals("invalid_request", bad.err.kind)
    assert.same({}, calls(sb))
  end)
end)
