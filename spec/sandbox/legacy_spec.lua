-- luacheck: std +busted
-- The legacy Public API (API.md §3.3, §6.8; seeds errors-and-rate-limits-legacy.txt):
-- validate-key, enrich/bulk (1–250 contacts, 400/402/422 with the documented strings and loc
-- arrays), enrich/status (workflow aggregate and single task), webhooks/deliveries, the
-- FastAPI {"detail": ...} error shape, credits (reserve, pay for results), the DEFAULT list.
local sandbox = require "spec.helpers.sandbox"

local null = sandbox.null
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local RULE = "Each contact must include linkedin_url OR first_name + last_name + "
  .. "(company_domain or company_name)."

local function contact(i)
  return { first_name = "Ada" .. i, last_name = "Lovelace", company_domain = "example" .. i .. ".org" }
end

local function contacts(n)
  local t = {}
  for i = 1, n do
    t[i] = contact(i)
  end
  return t
end

describe("legacy API", function()
  local sb = sandbox.suite { reset = true }

  local function bulk(body, key)
    return sb:api("POST", "/enrich/bulk", { body = body, key = key })
  end

  local function status_of(query)
    return sb:api("GET", "/enrich/status?" .. query)
  end

  local function advance(ms)
    sb:control("POST", "/clock", { advance_ms = ms })
  end

  describe("GET /auth/validate-key", function()
    it("confirms a valid key with its user and organisation", function()
      local status, body = sb:api("GET", "/auth/validate-key")
      assert.equals(200, status)
      assert.same({ valid = true, user_id = "user_2sbxVeraOkafor", organization_id = "org_2sbxSandboxLabs" }, body)
      local _, ro = sb:api("GET", "/auth/validate-key", { key = sb.readonly_key })
      assert.equals("user_2sbxRowanReed", ro.user_id)
    end)

    it('answers 401 {"detail":"Not authenticated"} for missing, malformed or bad keys', function()
      local want = { detail = "Not authenticated" }
      local status, body = sb:api("GET", "/auth/validate-key", { key = false })
      assert.equals(401, status)
      assert.same(want, body)
      status, body = sb:api("GET", "/auth/validate-key", { key = "clapi_not_a_real_key_0000" })
      assert.equals(401, status)
      assert.same(want, body)
      status, body = sb:api("GET", "/auth/validate-key", { key = false, headers = { ["X-API-Key"] = sb.key } })
      assert.equals(401, status)
      assert.same(want, body)
    end)

    it("is served under /api/v2 too, and answers a wrong method FastAPI's way", function()
      assert.equals(200, (sb:http("GET", sb.root .. "/api/v2/auth/validate-key", { key = sb.key })))
      local status, body, headers = sb:api("POST", "/auth/validate-key", { body = {} })
      assert.equals(405, status)
      assert.same({ detail = "Method Not Allowed" }, body)
      assert.equals("GET", headers["allow"])
    end)
  end)

  describe("POST /enrich/bulk", function()
    it("starts a workflow: public_bulk_<uuid>, one task id per contact", function()
      local status, body = bulk { contacts = contacts(3) }
      assert.equals(200, status)
      assert.matches("^public_bulk_", body.workflow_id)
      assert.matches(UUID, body.workflow_id:sub(13))
      assert.equals("processing", body.status)
      assert.equals("Bulk enrichment started", body.message)
      assert.equals(3, body.total_contacts)
      assert.equals(3, #body.task_ids)
      for _, id in ipairs(body.task_ids) do
        assert.matches(UUID, id)
      end
      assert.are_not.equal(body.task_ids[1], body.task_ids[2])
    end)

    it("400 for no contacts and for more than 250", function()
      local status, body = bulk { contacts = {} }
      assert.equals(400, status)
      assert.same({ detail = "At least one contact is required." }, body)
      status, body = bulk { contacts = contacts(251) }
      assert.equals(400, status)
      assert.same({ detail = "Bulk enrichment supports up to 250 contacts per request." }, body)
      status = bulk { contacts = contacts(250), enrichment_type = "none" }
      assert.equals(200, status)
    end)

    it('422 with loc ["body","contacts",i] for a contact without the required fields', function()
      local list = contacts(9)
      list[8] = { first_name = "John" }
      list[3] = { first_name = "Jane", last_name = "Doe" }
      local status, body = bulk { contacts = list }
      assert.equals(422, status)
      assert.equals(2, #body.detail)
      assert.same({ "body", "contacts", 2 }, body.detail[1].loc)
      assert.same({ "body", "contacts", 7 }, body.detail[2].loc)
      assert.equals("value_error", body.detail[2].type)
      assert.equals(RULE, body.detail[2].msg)
      assert.same({ first_name = "John" }, body.detail[2].input)
      -- linkedin_url alone, or names + company name, are enough
      status = bulk {
        contacts = {
          { linkedin_url = "https://www.linkedin.com/in/jdoe" },
          { first_name = "A", last_name = "B", company_name = "C Corp" },
        },
      }
      assert.equals(200, status)
    end)

    it("422 for bad types, a missing contacts field, bad JSON and an unknown type", function()
      local status, body = bulk { contacts = { { linkedin_url = 5 } } }
      assert.equals(422, status)
      assert.same({ "body", "contacts", 0, "linkedin_url" }, body.detail[1].loc)
      status, body = bulk { enrichment_type = "partial" }
      assert.equals(422, status)
      assert.same({ "body", "contacts" }, body.detail[1].loc)
      assert.equals("missing", body.detail[1].type)
      status, body = bulk { contacts = "all of them" }
      assert.equals(422, status)
      assert.equals("list_type", body.detail[1].type)
      status, body =
        sb:api("POST", "/enrich/bulk", { body = '{"contacts": [', headers = { ["Content-Type"] = "application/json" } })
      assert.equals(422, status)
      assert.equals("json_invalid", body.detail[1].type)
      status, body = bulk { contacts = contacts(1), enrichment_type = "everything" }
      assert.equals(422, status)
      assert.same({ "body", "enrichment_type" }, body.detail[1].loc)
      assert.equals("enum", body.detail[1].type)
    end)

    it("accepts every enrichment type, phone-only spelling included", function()
      for _, t in ipairs { "none", "partial", "phone_only", "full", "prospecting_only", "phone-only" } do
        local status = bulk { contacts = contacts(1), enrichment_type = t }
        assert.equals(200, status, t)
      end
    end)

    it("refuses a webhook_url that is not loopback (422 on body.webhook_url)", function()
      for _, url in ipairs {
        "https://example.com/hook",
        "http://10.0.0.1/h",
        "http://127.0.0.1.nip.io/h",
        "http://user@127.0.0.1/h",
      } do
        local status, body = bulk { contacts = contacts(1), webhook_url = url }
        assert.equals(422, status, url)
        assert.same({ "body", "webhook_url" }, body.detail[1].loc)
        assert.equals(url, body.detail[1].input)
      end
      local status, body = bulk { contacts = contacts(1), webhook_url = "ftp://127.0.0.1/x" }
      assert.equals(422, status)
      assert.equals("url_scheme", body.detail[1].type)
      status, body = bulk { contacts = contacts(1), webhook_url = "not a url" }
      assert.equals(422, status)
      assert.equals("url_parsing", body.detail[1].type)
      for _, url in ipairs {
        "http://127.0.0.1:9/h",
        "http://localhost:9/h",
        "http://[::1]:9/h",
        "https://127.0.0.2/h",
      } do
        assert.equals(200, (bulk { contacts = contacts(1), webhook_url = url }), url)
      end
    end)

    it('402 {"detail":"Insufficient credits"} before processing; none costs nothing', function()
      sb:control("POST", "/credits", { credits = 21 })
      local status, body = bulk { contacts = contacts(2), enrichment_type = "full" }
      assert.equals(402, status)
      assert.same({ detail = "Insufficient credits" }, body)
      local ledger = sb:control("GET", "/credits")
      assert.equals(21, ledger.credits) -- nothing reserved
      assert.equals(200, (bulk { contacts = contacts(2), enrichment_type = "phone_only" }))
      sb:control("POST", "/credits", { credits = 0 })
      assert.equals(402, (bulk { contacts = contacts(1) }))
      assert.equals(200, (bulk { contacts = contacts(5), enrichment_type = "none" }))
    end)

    it("needs a credential (401 detail) but no scope; Theo's org lacks API access (403)", function()
      local status, body = bulk({ contacts = contacts(1) }, false)
      assert.equals(401, status)
      assert.same({ detail = "Not authenticated" }, body)
      assert.equals(200, (bulk({ contacts = contacts(1) }, sb.readonly_key)))
      local theo = sandbox.jwts().theo
      status, body = bulk({ contacts = contacts(1) }, theo)
      assert.equals(403, status)
      assert.same({ detail = "Your plan does not include API access." }, body)
    end)

    it("attaches the contacts to the caller's protected DEFAULT list", function()
      local _, a = bulk { contacts = contacts(2) }
      local _, b = bulk { contacts = { contact(7) } }
      local _, st = status_of("workflow_id=" .. a.workflow_id)
      local _, st2 = status_of("workflow_id=" .. b.workflow_id)
      assert.equals(st.lead_list_id, st2.lead_list_id)
      local status, list = sb:api("GET", "/lead-lists/" .. st.lead_list_id)
      assert.equals(200, status)
      assert.equals("DEFAULT", list.name)
      assert.equals(3, list.lead_count)
      status = sb:api("DELETE", "/lead-lists/" .. st.lead_list_id)
      assert.equals(403, status)
      -- Rowan's DEFAULT is his own
      local _, r = bulk({ contacts = contacts(1) }, sb.readonly_key)
      local _, rs = status_of("workflow_id=" .. r.workflow_id)
      assert.are_not.equal(st.lead_list_id, rs.lead_list_id)
    end)
  end)

  describe("GET /enrich/status", function()
    it("400 unless exactly one of workflow_id or task_id", function()
      local want = { detail = "Provide exactly one of workflow_id or task_id." }
      local status, body = status_of("")
      assert.equals(400, status)
      assert.same(want, body)
      status, body = status_of("workflow_id=a&task_id=b")
      assert.equals(400, status)
      assert.same(want, body)
    end)

    it("404 for unknown ids", function()
      local status, body = status_of("workflow_id=public_bulk_nope")
      assert.equals(404, status)
      assert.same({ detail = "Workflow not found" }, body)
      status, body = status_of("task_id=00000000-0000-4000-8000-000000000000")
      assert.equals(404, status)
      assert.same({ detail = "Task not found" }, body)
    end)

    it("reports progress over sandbox time and settles credits for results only", function()
      local before = sb:control("GET", "/credits").credits
      local _, wf = bulk { contacts = contacts(20), enrichment_type = "full" }
      assert.equals(before - 220, sb:control("GET", "/credits").credits) -- reserved up front
      local status, st = status_of("workflow_id=" .. wf.workflow_id)
      assert.equals(200, status)
      assert.equals("processing", st.status)
      assert.equals(0, st.processed)
      assert.equals(20, st.total_contacts)
      assert.equals(220, st.credits_reserved)
      assert.equals(null, st.credits_charged)
      assert.equals(null, st.completed_at)
      assert.equals(20, #st.results)
      assert.equals("pending", st.results[1].status)
      advance(3000) -- the first contacts are done (start after 1 s, 100-400 ms each)
      _, st = status_of("workflow_id=" .. wf.workflow_id)
      assert.is_true(st.processed > 0 and st.processed < 20, "processed " .. st.processed)
      assert.equals("processing", st.status)
      advance(60000)
      _, st = status_of("workflow_id=" .. wf.workflow_id)
      assert.equals("completed", st.status)
      assert.equals(20, st.processed)
      assert.equals(100, st.progress)
      local s = st.summary
      assert.equals(20, s.total)
      assert.equals(20, s.successful + s.failed)
      assert.equals(s.emails_found + 10 * s.phones_found, st.credits_charged)
      assert.equals(220, st.credits_charged + st.credits_refunded)
      assert.equals(before - st.credits_charged, sb:control("GET", "/credits").credits)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", st.completed_at)
      assert.equals("not_requested", st.webhook_status)
      local charged = 0
      for _, item in ipairs(st.results) do
        charged = charged + item.credits_charged
        if item.status == "failed" then
          assert.equals(0, item.credits_charged) -- failed enrichments cost 0
          assert.equals(null, item.primary_email)
        end
      end
      assert.equals(st.credits_charged, charged)
    end)

    it("returns one contact for a task_id", function()
      local started = sb:control("GET", "/clock").now_ms
      local _, wf = bulk { contacts = contacts(2), enrichment_type = "partial" }
      local status, t = status_of("task_id=" .. wf.task_ids[2])
      assert.equals(200, status)
      assert.equals(wf.task_ids[2], t.task_id)
      assert.equals(wf.workflow_id, t.workflow_id)
      assert.equals("pending", t.status)
      assert.equals("Ada2", t.prospect.first_name)
      assert.equals("example2.org", t.company.domain)
      local function iso(ms)
        return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(ms / 1000))
      end
      advance(5000)
      local ended = iso(sb:control("GET", "/clock").now_ms)
      _, t = status_of("task_id=" .. wf.task_ids[2])
      -- the built-in seed finds Ada2's email (1 credit for a partial run), no phone asked for
      assert.equals("completed", t.status)
      assert.equals("ada2.lovelace@example2.org", t.primary_email)
      assert.equals("valid", t.primary_email_status)
      assert.equals(1, t.credits_charged)
      assert.same({}, t.personal_phone_numbers)
      -- finished on the sandbox clock, within the 5 s it was moved on
      assert.is_true(t.completed_at >= iso(started) and t.completed_at <= ended, t.completed_at)
    end)

    it("keeps workflows to their organisation's users", function()
      local _, wf = bulk { contacts = contacts(1) }
      local status = status_of("workflow_id=" .. wf.workflow_id)
      assert.equals(200, status)
      status = sb:api("GET", "/enrich/status?workflow_id=" .. wf.workflow_id, { key = sb.readonly_key })
      assert.equals(200, status) -- same organisation
    end)

    it("is reproducible from the seed (same ids, same results)", function()
      local _, a = bulk { contacts = contacts(5), enrichment_type = "full" }
      advance(10000)
      local _, sa = status_of("workflow_id=" .. a.workflow_id)
      sb:control("POST", "/reset")
      local _, b = bulk { contacts = contacts(5), enrichment_type = "full" }
      advance(10000)
      local _, sb2 = status_of("workflow_id=" .. b.workflow_id)
      assert.equals(a.workflow_id, b.workflow_id)
      assert.same(sa.summary, sb2.summary)
      assert.equals(sa.credits_charged, sb2.credits_charged)
    end)
  end)

  describe("GET /webhooks/deliveries", function()
    it("422 without workflow_id, 404 for an unknown one", function()
      local status, body = sb:api("GET", "/webhooks/deliveries")
      assert.equals(422, status)
      assert.same({ "query", "workflow_id" }, body.detail[1].loc)
      assert.equals("missing", body.detail[1].type)
      status, body = sb:api("GET", "/webhooks/deliveries?workflow_id=public_bulk_x")
      assert.equals(404, status)
      assert.same({ detail = "Workflow not found" }, body)
    end)

    it("is empty for a workflow without a webhook", function()
      local _, wf = bulk { contacts = contacts(1) }
      advance(5000)
      local status, body = sb:api("GET", "/webhooks/deliveries?workflow_id=" .. wf.workflow_id)
      assert.equals(200, status)
      assert.equals(wf.workflow_id, body.workflow_id)
      assert.equals(0, #body.deliveries)
      assert.equals("not_requested", body.status)
    end)
  end)

  describe("rate limits", function()
    it('answer 429 {"detail":"Rate limit exceeded"} with Retry-After', function()
      sb:control("POST", "/rate-limit", { enabled = true, per_key = 2, per_org = 2 })
      local status, body, headers
      for _ = 1, 3 do
        status, body, headers = sb:api("GET", "/auth/validate-key")
      end
      assert.equals(429, status)
      assert.same({ detail = "Rate limit exceeded" }, body)
      assert.matches("^%d+$", headers["retry-after"])
    end)
  end)
end)
