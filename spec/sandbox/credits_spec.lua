-- luacheck: std +busted
-- POST /credits/estimate and the credits ledger: quote format and signature, binding, expiry,
-- single use, spend cap, insufficient credits, reservation and settlement arithmetic.
local paid = require "spec.helpers.paid"

local code = paid.code

describe("credits: estimate, quotes and the ledger", function()
  local sb, p = paid.suite()
  local list_id, small_list

  setup(function()
    list_id = p:new_list("Credits spec list", 12)
    small_list = p:new_list("Credits spec small list", 3)
  end)

  describe("POST /credits/estimate", function()
    it("prices enrich_list from the list and signs a qte_v1 quote", function()
      local balance = p:credits()
      local scale = sb:control("GET", "/clock").time_scale
      sb:control("POST", "/clock", { time_scale = 1e-9 }) -- held: the quote is issued at its reading
      local now_ms = sb:control("GET", "/clock").now_ms
      local status, body = p:estimate { tool = "enrich_list", list_id = list_id, scope = "full" }
      sb:control("POST", "/clock", { time_scale = scale })
      assert.equals(200, status)
      assert.equals("enrich_list", body.tool)
      assert.equals(12, body.row_count)
      assert.equals(12 * 11, body.estimated_cost)
      assert.equals(balance, body.available_credits)
      assert.is_true(body.sufficient)
      local issued, sig = body.quote_id:match("^qte_v1_(%d+)_(%x+)$")
      assert.equals(math.floor(now_ms / 1000), tonumber(issued))
      assert.equals(64, #sig)
      assert.equals(tonumber(issued) + 300, body.expires_at)
      assert.matches("^%x+$", body.filter_hash)
      local keys = 0
      for _ in pairs(body) do
        keys = keys + 1
      end
      assert.equals(8, keys) -- EstimateCostResponse is closed
    end)

    it("derives row_count from the list, ignoring the caller's", function()
      local _, body = p:estimate { tool = "enrich_list", list_id = list_id, row_count = 1 }
      assert.equals(12, body.row_count)
      assert.equals(12, body.estimated_cost) -- partial by default
    end)

    it("accepts both phone-only spellings and the legacy include_phone", function()
      local _, a = p:estimate { tool = "enrich_list", list_id = list_id, scope = "phone-only" }
      local _, b = p:estimate { tool = "enrich_list", list_id = list_id, scope = "phone_only" }
      local _, c = p:estimate { tool = "enrich_list", list_id = list_id, include_phone = true }
      assert.equals(120, a.estimated_cost)
      assert.equals(120, b.estimated_cost)
      assert.equals(120, c.estimated_cost)
      local _, d = p:estimate { tool = "enrich_person", enrichment_type = "full" }
      assert.equals(1, d.row_count)
      assert.equals(11, d.estimated_cost)
      assert.equals("none", d.filter_hash)
    end)

    it("prices cohort tools from the cohort and a subset of it", function()
      local task_id, ids = p:search(5)
      local _, all =
        p:estimate { tool = "add_person_enrichments", task_id = task_id, data_points = { "Phone", "Email" } }
      assert.equals(5, all.row_count)
      assert.equals(55, all.estimated_cost)
      local _, some = p:estimate {
        tool = "add_person_enrichments",
        task_id = task_id,
        data_points = { "Email" },
        entity_ids = { ids[2], ids[4] },
      }
      assert.equals(2, some.row_count)
      assert.equals(2, some.estimated_cost)
      assert.are_not.equal(all.filter_hash, some.filter_hash)
      local status, bad = p:estimate {
        tool = "add_person_enrichments",
        task_id = task_id,
        data_points = { "Email" },
        entity_ids = { "999999999" },
      }
      assert.equals(400, status)
      assert.equals("validation_error", code(bad))
      status, bad = p:estimate { tool = "add_company_enrichments", task_id = task_id, data_points = { "Industry" } }
      assert.equals(400, status)
      assert.equals("validation_error", code(bad))
    end)

    it("prices company cohorts at one credit per ten companies", function()
      local status, res = p:post("/search/companies", { limit = 25 })
      assert.equals(200, status)
      local _, body = p:estimate {
        tool = "add_company_enrichments",
        task_id = res.task_id,
        data_points = { "Industry", "TechStack" },
      }
      assert.equals(25, body.row_count)
      assert.equals(3, body.estimated_cost)
    end)

    it("prices smart agents per row by agent type", function()
      local _, a = p:estimate {
        tool = "run_smart_agent",
        list_id = list_id,
        agent_type = "cold_intro_email",
        extra = { column_name = "Intro", max_rows = 5 },
      }
      assert.equals(5, a.row_count)
      assert.equals(15, a.estimated_cost)
      local _, b = p:estimate {
        tool = "run_smart_agent",
        list_id = list_id,
        agent_type = "title_normalizer",
        column_name = "Title",
      }
      assert.equals(12, b.row_count)
      assert.equals(6, b.estimated_cost) -- 0.5 per row
    end)

    it("prices syncs and CSV imports", function()
      local _, crm = p:estimate {
        tool = "sync_to_crm",
        list_id = list_id,
        provider = "hubspot",
        sub_action = "contacts+companies",
      }
      assert.equals(24, crm.estimated_cost)
      local _, csv =
        p:estimate { tool = "bulk_import_csv", list_id = list_id, enrichment_type = "phone_only", row_count = 7 }
      assert.equals(7, csv.row_count)
      assert.equals(70, csv.estimated_cost)
      local status, body = p:estimate { tool = "sync_to_crm", list_id = list_id, provider = "myspace" }
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
    end)

    it("still answers 200 with sufficient false when the balance is short", function()
      local before = p:credits()
      p:set_credits(10)
      local status, body = p:estimate { tool = "enrich_list", list_id = list_id, scope = "full" }
      p:set_credits(before)
      assert.equals(200, status)
      assert.equals(10, body.available_credits)
      assert.is_false(body.sufficient)
    end)

    it("refuses unknown tools and extra keys outside the tool's set with 400", function()
      local status, body = p:estimate { tool = "enrich_universe" }
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
      assert.equals("tool", body.error.details.field)
      status, body = p:estimate { tool = "enrich_list", list_id = list_id, extra = { priority = "high" } }
      assert.equals(400, status)
      assert.equals("validation_error", code(body))
      assert.same({ "priority" }, body.error.details.unknown_keys)
    end)

    it("answers 422 for schema violations and 404 for an unknown list", function()
      local status, body = p:estimate { list_id = list_id }
      assert.equals(422, status)
      assert.same({ "body", "tool" }, body.detail[1].loc)
      status, body = p:estimate { tool = "enrich_list", list_id = list_id, colour = "blue" }
      assert.equals(422, status)
      assert.equals("extra_forbidden", body.detail[1].type)
      status, body = p:estimate { tool = "enrich_list", list_id = "list_doesnotexist" }
      assert.equals(404, status)
      assert.equals("not_found", code(body))
    end)

    it("needs the credits:read scope", function()
      local status, body = p:post("/credits/estimate", { tool = "enrich_person" }, sb.readonly_key)
      assert.equals(403, status)
      assert.equals("insufficient_scope", code(body))
    end)
  end)

  describe("quotes at execution", function()
    local function bulk(q, scope, l)
      return p:post("/enrichment/bulk", { list_id = l or small_list, scope = scope or "partial", quote_id = q })
    end

    it("are single-use: a second run with the same quote is a 409 quote_used", function()
      local q = p:quote { tool = "enrich_list", list_id = small_list }
      local status = bulk(q)
      assert.equals(200, status)
      local s2, body = bulk(q)
      assert.equals(409, s2)
      assert.equals("quote_used", code(body))
    end)

    it("are bound to the request: another scope or list is quote_mismatch", function()
      local q = p:quote { tool = "enrich_list", list_id = small_list, scope = "partial" }
      local status, body = bulk(q, "full")
      assert.equals(400, status)
      assert.equals("quote_mismatch", code(body))
      assert.equals("scope", body.error.details.field)
      status, body = bulk(q, "partial", list_id)
      assert.equals(400, status)
      assert.equals("quote_mismatch", code(body))
      assert.equals("list_id", body.error.details.field)
      -- a refused quote is not consumed
      assert.equals(200, (bulk(q, "partial")))
    end)

    it("refuse a quote of another tool", function()
      local q = p:quote { tool = "enrich_person" }
      local status, body = bulk(q)
      assert.equals(400, status)
      assert.equals("quote_mismatch", code(body))
      assert.equals("tool", body.error.details.field)
    end)

    it("detect tampering with the signature or the issue time", function()
      local q = p:quote { tool = "enrich_list", list_id = small_list }
      local last = q:sub(-1)
      local flipped = q:sub(1, -2) .. (last == "0" and "1" or "0")
      local status, body = bulk(flipped)
      assert.equals(400, status)
      assert.equals("quote_invalid", code(body))
      local issued = q:match("^qte_v1_(%d+)_")
      local moved = q:gsub("^qte_v1_%d+_", "qte_v1_" .. (tonumber(issued) + 60) .. "_")
      status, body = bulk(moved)
      assert.equals(400, status)
      assert.equals("quote_invalid", code(body))
      status, body = bulk("quote_bulk99")
      assert.equals(400, status)
      assert.equals("quote_invalid", code(body))
      assert.equals(200, (bulk(q))) -- the genuine quote still works
    end)

    it("expire after five minutes of sandbox time", function()
      local q = p:quote { tool = "enrich_list", list_id = small_list }
      p:advance(301000)
      local status, body = bulk(q)
      assert.equals(400, status)
      assert.equals("quote_expired", code(body))
    end)

    it("cap the spend: a list that grew since the estimate is spend_cap_exceeded", function()
      local l = p:new_list("Credits spec growing list", 2)
      local q = p:quote { tool = "enrich_list", list_id = l }
      local task_id = p:search(3, { seniorities = { "entry" } })
      assert.equals(200, (p:post("/lead-lists/" .. l .. "/leads", { task_id = task_id })))
      local status, body = bulk(q, "partial", l)
      assert.equals(400, status)
      assert.equals("spend_cap_exceeded", code(body))
      assert.equals(2, body.error.details.quoted_cost)
      assert.equals(5, body.error.details.recomputed_cost)
    end)

    it("answer 400 insufficient_credits with the credit fields when the balance is short", function()
      local before = p:credits()
      local q = p:quote { tool = "enrich_list", list_id = list_id, scope = "full" }
      p:set_credits(40)
      local status, body = bulk(q, "full", list_id)
      assert.equals(400, status)
      assert.equals("insufficient_credits", code(body))
      assert.equals(132, body.error.estimated_cost_credits)
      assert.equals(40, body.error.available_credits)
      assert.equals(92, body.error.shortfall_credits)
      assert.equals(40, (p:credits())) -- nothing reserved
      p:set_credits(before)
      assert.equals(200, (bulk(q, "full", list_id))) -- the quote was not consumed
    end)

    it("require a quote on /enrichment/bulk (422 without quote_id)", function()
      local status, body = p:post("/enrichment/bulk", { list_id = small_list })
      assert.equals(422, status)
      assert.same({ "body", "quote_id" }, body.detail[1].loc)
    end)
  end)

  describe("the ledger", function()
    it("reserves up front and settles: charged + refunded = reserved", function()
      local l = p:new_list("Credits spec ledger list", 8)
      p:advance(3600000) -- earlier runs settle (their refunds land) before the balance is set
      assert.equals(200, (p:get("/credits/balance")))
      p:set_credits(5000)
      local q = p:quote { tool = "enrich_list", list_id = l, scope = "full" }
      local status, run = p:post("/enrichment/bulk", { list_id = l, scope = "full", quote_id = q })
      assert.equals(200, status)
      assert.equals(88, run.credits_reserved)
      local balance, ledger = p:credits()
      assert.equals(5000 - 88, balance)
      local reserve = ledger[#ledger]
      assert.equals(-88, reserve.delta)
      assert.equals("reserve", reserve.kind)
      assert.equals(run.workflow_id, reserve.ref)
      local s = p:settle(run.workflow_id)
      assert.equals("completed", s.status)
      assert.equals(88, s.credits_charged + s.credits_refunded)
      -- seed 7: 6 emails and 3 phones found among the 8 leads
      assert.same({ emails_found = 6, phones_found = 3 }, s.summary)
      assert.same({ 36, 52 }, { s.credits_charged, s.credits_refunded })
      assert.equals("not_applicable", s.refund_status)
      balance, ledger = p:credits()
      assert.equals(5000 - s.credits_charged, balance)
      local settle
      for _, row in ipairs(ledger) do
        if row.ref == run.workflow_id and row.kind == "refund" then settle = row end
      end
      assert.equals(s.credits_refunded, settle and settle.delta or 0)
      -- each row's balance is the one before it moved by its delta
      for i = 2, #ledger do
        assert.equals(ledger[i - 1].balance + ledger[i].delta, ledger[i].balance)
      end
    end)

    it("keeps /credits/balance in step with the ledger", function()
      local _, body = p:get("/credits/balance")
      assert.equals((p:credits()), body.credits)
    end)
  end)
end)
