-- luacheck: std +busted
-- CRM and sequencer sync (bodies defined by the sandbox; see endpoints/sync.lua): quote-gated,
-- synchronous per-record outcomes, billing per record written, spend cap, validation.
local sandbox = require "spec.helpers.sandbox"
local paid = require "spec.helpers.paid"

local code = paid.code

describe("sync", function()
  local sb, p = paid.suite()
  local list_id

  setup(function()
    list_id = p:new_list("Sync spec list", 8)
    -- give the leads emails first (the CRM matches contacts by email)
    local q = p:quote { tool = "enrich_list", list_id = list_id }
    local _, run = p:post("/enrichment/bulk", { list_id = list_id, quote_id = q })
    p:settle(run.workflow_id)
  end)

  local function crm(body)
    return p:post("/sync/crm", body)
  end

  it("syncs a list to HubSpot: created, then updated on a second sync", function()
    local q =
      p:quote { tool = "sync_to_crm", list_id = list_id, provider = "hubspot", sub_action = "contacts+companies" }
    local before = p:credits()
    local status, body =
      crm { provider = "hubspot", list_id = list_id, sub_action = "contacts+companies", quote_id = q }
    assert.equals(200, status)
    assert.matches("^sync_", body.sync_id)
    assert.equals("hubspot", body.provider)
    assert.equals("contacts+companies", body.sub_action)
    assert.equals(8, body.total)
    assert.equals(8, #body.records)
    assert.equals(body.total, body.created + body.updated + body.skipped + body.failed)
    assert.equals(2 * (body.created + body.updated), body.credits_charged)
    assert.equals(before - body.credits_charged, (p:credits()))
    local first = {}
    for _, r in ipairs(body.records) do
      first[r.lead_id] = r
      if r.status == "created" or r.status == "updated" then assert.matches("^hs_", r.external_id) end
    end
    q = p:quote { tool = "sync_to_crm", list_id = list_id, provider = "hubspot", sub_action = "contacts+companies" }
    local _, again = crm { provider = "hubspot", list_id = list_id, sub_action = "contacts+companies", quote_id = q }
    for _, r in ipairs(again.records) do
      if r.status ~= "failed" and first[r.lead_id].status == "created" then
        assert.equals("updated", r.status)
        assert.equals(first[r.lead_id].external_id, r.external_id)
      end
    end
  end)

  it("skips contacts without an email", function()
    local l = p:new_list("Sync spec unenriched", 30)
    local q = p:quote { tool = "sync_to_crm", list_id = l, provider = "salesforce", sub_action = "contacts" }
    local status, body = crm { provider = "salesforce", list_id = l, sub_action = "contacts", quote_id = q }
    assert.equals(200, status)
    local _, page = p:get("/lead-lists/" .. l .. "/leads")
    local emailless = {}
    for _, lead in ipairs(page.leads) do
      if lead.email == sandbox.null then emailless[lead.lead_id] = true end
    end
    local written = 0
    for _, r in ipairs(body.records) do
      if emailless[r.lead_id] then assert.is_true(r.status == "skipped" or r.status == "failed") end
      if r.status == "created" or r.status == "updated" then written = written + 1 end
    end
    assert.equals(written, body.credits_charged)
  end)

  it("binds the quote to provider and sub_action", function()
    local q = p:quote { tool = "sync_to_crm", list_id = list_id, provider = "hubspot" }
    local status, body =
      crm { provider = "hubspot", list_id = list_id, sub_action = "contacts+companies", quote_id = q }
    assert.equals(400, status)
    assert.equals("quote_mismatch", code(body))
    assert.equals("sub_action", body.error.details.field)
    status, body = crm { provider = "pipedrive", list_id = list_id, quote_id = q }
    assert.equals(400, status)
    assert.equals("quote_mismatch", code(body))
    assert.equals("provider", body.error.details.field)
  end)

  it("is spend_cap_exceeded when the list grew since the estimate", function()
    local l = p:new_list("Sync spec growing", 2)
    local q = p:quote { tool = "sync_to_crm", list_id = l, provider = "hubspot" }
    local task_id = p:search(2, { seniorities = { "manager" }, departments = { "Finance" } })
    local _, added = p:post("/lead-lists/" .. l .. "/leads", { task_id = task_id })
    assert.equals(2, added.added)
    local status, body = crm { provider = "hubspot", list_id = l, quote_id = q }
    assert.equals(400, status)
    assert.equals("spend_cap_exceeded", code(body))
  end)

  it("syncs a cohort to a sequencer campaign; repeats are skipped", function()
    local task_id = p:search(4)
    local q = p:quote {
      tool = "sync_to_sequencer",
      task_id = task_id,
      provider = "smartlead",
      extra = { campaign_id = "cmp_q3" },
    }
    local status, body =
      p:post("/sync/sequencer", { provider = "smartlead", task_id = task_id, campaign_id = "cmp_q3", quote_id = q })
    assert.equals(200, status)
    assert.equals("cmp_q3", body.campaign_id)
    assert.equals(4, body.total)
    assert.equals(body.created, body.credits_charged)
    local s2, list_sync = p:post("/sync/sequencer", {
      provider = "smartlead",
      list_id = list_id,
      campaign_id = "cmp_q3",
      quote_id = p:quote {
        tool = "sync_to_sequencer",
        list_id = list_id,
        provider = "smartlead",
        extra = { campaign_id = "cmp_q3" },
      },
    })
    assert.equals(200, s2)
    local s3, again = p:post("/sync/sequencer", {
      provider = "smartlead",
      list_id = list_id,
      campaign_id = "cmp_q3",
      quote_id = p:quote {
        tool = "sync_to_sequencer",
        list_id = list_id,
        provider = "smartlead",
        extra = { campaign_id = "cmp_q3" },
      },
    })
    assert.equals(200, s3)
    assert.equals(0, again.created)
    assert.equals(0, again.credits_charged)
    assert.equals(list_sync.total, again.skipped + again.failed)
  end)

  it("validates provider, source and body", function()
    local status, body = crm { provider = "hubspot", quote_id = "x" }
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
    status, body = crm { provider = "friendster", list_id = list_id, quote_id = "x" }
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
    status, body = crm { provider = "hubspot", list_id = list_id, sub_action = "tickets", quote_id = "x" }
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
    status = crm { provider = "hubspot", list_id = list_id }
    assert.equals(422, status)
    status, body = crm { provider = "hubspot", list_id = "list_nope", quote_id = "x" }
    assert.equals(404, status)
    assert.equals("not_found", code(body))
    status, body = crm { provider = "hubspot", list_id = list_id, quote_id = "x" }
    assert.equals(400, status)
    assert.equals("quote_invalid", code(body))
    status, body = p:post("/sync/sequencer", { provider = "hubspot", list_id = list_id, quote_id = "x" })
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
  end)

  it("needs sync:write and enough credits", function()
    local status, body =
      p:post("/sync/crm", { provider = "hubspot", list_id = list_id, quote_id = "x" }, sb.readonly_key)
    assert.equals(403, status)
    assert.equals("insufficient_scope", code(body))
    local q = p:quote { tool = "sync_to_crm", list_id = list_id, provider = "hubspot" }
    local before = p:credits()
    p:set_credits(2)
    status, body = crm { provider = "hubspot", list_id = list_id, quote_id = q }
    p:set_credits(before)
    assert.equals(400, status)
    assert.equals("insufficient_credits", code(body))
    assert.equals(6, body.error.shortfall_credits)
  end)
end)
