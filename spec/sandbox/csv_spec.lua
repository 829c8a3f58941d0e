-- luacheck: std +busted
-- POST /lead-lists/{list_id}/csv-import: base64 CSV (BOM, CRLF, RFC 4180 quoting), column
-- mapping, skip reasons and sample rows, 413 / missing_column / 422 / 503, enrichment dispatch
-- with its reservation, the optional quote, and idempotent replay.
local sandbox = require "spec.helpers.sandbox"
local paid = require "spec.helpers.paid"
local api = require "spec.helpers.api"

local code, null, b64 = paid.code, sandbox.null, api.b64

local MAPPING, CSV = api.CSV_MAPPING, api.CSV

describe("CSV import", function()
  local sb, p = paid.suite()
  local list_id

  setup(function()
    local _, list = p:post("/lead-lists", { name = "CSV spec list" })
    list_id = list.list_id
  end)

  local function import(body, l, key)
    return p:post("/lead-lists/" .. (l or list_id) .. "/csv-import", body, key)
  end

  it("imports rows without enrichment: counts, skip reasons and sample rows", function()
    local before = p:credits()
    local status, body = import { csv_content_base64 = b64(CSV), column_mapping = MAPPING, dispatch_enrichment = false }
    assert.equals(201, status)
    assert.equals(list_id, body.list_id)
    assert.equals(7, body.rows_parsed)
    assert.equals(4, body.rows_imported)
    assert.equals(3, body.rows_skipped)
    assert.same({ duplicate_email = 1, missing_required = 1, duplicate_linkedin = 1 }, body.skip_reasons)
    assert.same({ 4, 5, 7 }, body.sample_skip_rows)
    assert.equals(null, body.workflow_id)
    assert.equals(null, body.enrichment_status_url)
    assert.is_false(body.idempotency_replayed)
    assert.equals(before, (p:credits())) -- importing is free
    local _, page = p:get("/lead-lists/" .. list_id .. "/leads")
    assert.equals(4, page.total)
    local names = {}
    for _, l in ipairs(page.leads) do
      names[l.full_name] = l
    end
    local quoted = names['Quoted "Q" Name']
    assert.same(
      { 'Quoted "Q"', "Name", "Quotes Ltd", "q@quoted.example" },
      { quoted.first_name, quoted.last_name, quoted.company, quoted.email }
    )
    assert.equals("US Navy, Inc.", names["Grace Hopper"].company)
    assert.equals("ada@analytical.io", names["Ada Lovelace"].email)
  end)

  it("dispatches a bulk enrichment over the imported rows", function()
    local _, list = p:post("/lead-lists", { name = "CSV spec dispatch" })
    local before = p:credits()
    local status, body =
      import({ csv_content_base64 = b64(CSV), column_mapping = MAPPING, enrichment_type = "full" }, list.list_id)
    assert.equals(201, status)
    assert.matches("^bulk%-enrich%-", body.workflow_id)
    assert.equals("/api/v1/public/enrichment/status/" .. body.workflow_id, body.enrichment_status_url)
    assert.equals(before - 4 * 11, (p:credits()))
    local s = p:settle(body.workflow_id)
    assert.equals(4, s.total)
    assert.equals(44, s.credits_charged + s.credits_refunded)
    assert.equals(list.list_id, s.lead_list_id)
  end)

  it("verifies an optional quote bound to list, type and imported row count", function()
    local _, list = p:post("/lead-lists", { name = "CSV spec quoted" })
    local q = p:quote { tool = "bulk_import_csv", list_id = list.list_id, enrichment_type = "partial", row_count = 3 }
    local status, body = import(
      { csv_content_base64 = b64(CSV), column_mapping = MAPPING, enrichment_type = "partial", quote_id = q },
      list.list_id
    )
    assert.equals(400, status)
    assert.equals("spend_cap_exceeded", code(body))
    q = p:quote { tool = "bulk_import_csv", list_id = list.list_id, enrichment_type = "partial", row_count = 4 }
    status, body = import(
      { csv_content_base64 = b64(CSV), column_mapping = MAPPING, enrichment_type = "full", quote_id = q },
      list.list_id
    )
    assert.equals(400, status)
    assert.equals("quote_mismatch", code(body))
    status = import(
      { csv_content_base64 = b64(CSV), column_mapping = MAPPING, enrichment_type = "partial", quote_id = q },
      list.list_id
    )
    assert.equals(201, status)
  end)

  it("replays an idempotent repeat without a second insert or charge", function()
    local _, list = p:post("/lead-lists", { name = "CSV spec idempotent" })
    local body = {
      csv_content_base64 = b64(CSV),
      column_mapping = MAPPING,
      enrichment_type = "partial",
      idempotency_key = "csv-import-7a3c",
    }
    local s1, first = import(body, list.list_id)
    assert.equals(201, s1)
    local balance = p:credits()
    local s2, second = import(body, list.list_id)
    assert.equals(201, s2)
    assert.is_true(second.idempotency_replayed)
    assert.equals(first.workflow_id, second.workflow_id)
    assert.equals(first.rows_imported, second.rows_imported)
    assert.equals(balance, (p:credits()))
    local _, detail = p:get("/lead-lists/" .. list.list_id)
    assert.equals(4, detail.lead_count)
    -- the same key aimed at another list: the first import wins
    local _, other = p:post("/lead-lists", { name = "CSV spec idempotent other" })
    local s3, third = import(body, other.list_id)
    assert.equals(201, s3)
    assert.is_true(third.idempotency_replayed)
    assert.equals(list.list_id, third.list_id)
    local _, other_detail = p:get("/lead-lists/" .. other.list_id)
    assert.equals(0, other_detail.lead_count)
    -- after 24 hours of sandbox time the key is forgotten
    p:advance(24 * 3600 * 1000 + 1000)
    local s4, fourth = import(body, other.list_id)
    assert.equals(201, s4)
    assert.is_false(fourth.idempotency_replayed)
  end)

  it("answers 400 missing_column with the header in details", function()
    local mapping = { email = "E-mail", first_name = "First Name" }
    local status, body = import { csv_content_base64 = b64(CSV), column_mapping = mapping, dispatch_enrichment = false }
    assert.equals(400, status)
    assert.equals("missing_column", code(body))
    assert.same({ "E-mail" }, body.error.details.missing_headers)
  end)

  it("answers 413 above 150 KB", function()
    local rows = { "First Name,Last Name,Email,Company,LinkedIn" }
    local n = 0
    while #table.concat(rows, "\n") <= 150 * 1024 do
      n = n + 1
      rows[#rows + 1] = string.format("F%d,L%d,p%d@big.example,Big Co,", n, n, n)
    end
    local status, body = import {
      csv_content_base64 = b64(table.concat(rows, "\n")),
      column_mapping = MAPPING,
      dispatch_enrichment = false,
    }
    assert.equals(413, status)
    assert.equals("payload_too_large", code(body))
  end)

  it("skips rows past the row cap as row_cap_exceeded", function()
    local _, list = p:post("/lead-lists", { name = "CSV spec cap" })
    local rows = { "First Name,Last Name,Email,Company,LinkedIn" }
    for i = 1, 605 do
      rows[#rows + 1] = string.format("F%d,L%d,r%d@cap.example,Cap,", i, i, i)
    end
    local status, body = import(
      { csv_content_base64 = b64(table.concat(rows, "\n")), column_mapping = MAPPING, dispatch_enrichment = false },
      list.list_id
    )
    assert.equals(201, status)
    assert.equals(605, body.rows_parsed)
    assert.equals(600, body.rows_imported)
    assert.same({ row_cap_exceeded = 5 }, body.skip_reasons)
    assert.same({ 602, 603, 604, 605, 606 }, body.sample_skip_rows)
  end)

  it("answers 422 for a bad mapping or body and 400 for bad base64 or CSV", function()
    local status, body = import { csv_content_base64 = b64(CSV), column_mapping = {}, dispatch_enrichment = false }
    assert.equals(422, status)
    assert.same({ "body", "column_mapping" }, body.detail[1].loc)
    status, body = import {
      csv_content_base64 = b64(CSV),
      column_mapping = { favourite_colour = "Notes" },
      dispatch_enrichment = false,
    }
    assert.equals(422, status)
    assert.equals("literal_error", body.detail[1].type)
    status, body = import { csv_content_base64 = b64(CSV), column_mapping = MAPPING }
    assert.equals(422, status)
    assert.same({ "body", "enrichment_type" }, body.detail[1].loc)
    status, body = import { column_mapping = MAPPING, dispatch_enrichment = false }
    assert.equals(422, status)
    assert.same({ "body", "csv_content_base64" }, body.detail[1].loc)
    status, body =
      import { csv_content_base64 = "%%%not base64%%%", column_mapping = MAPPING, dispatch_enrichment = false }
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
    status, body = import {
      csv_content_base64 = b64('Email\n"unterminated\n'),
      column_mapping = { email = "Email" },
      dispatch_enrichment = false,
    }
    assert.equals(400, status)
    assert.equals("validation_error", code(body))
  end)

  it("answers 404 for an unknown list, 403 without lists:write, 503 when switched off", function()
    local status, body =
      import({ csv_content_base64 = b64(CSV), column_mapping = MAPPING, dispatch_enrichment = false }, "list_nope")
    assert.equals(404, status)
    assert.equals("not_found", code(body))
    status, body = import(
      { csv_content_base64 = b64(CSV), column_mapping = MAPPING, dispatch_enrichment = false },
      nil,
      sb.readonly_key
    )
    assert.equals(403, status)
    assert.equals("insufficient_scope", code(body))
    sb:control("POST", "/switches", { csv_import = false })
    local headers
    status, body, headers =
      import { csv_content_base64 = b64(CSV), column_mapping = MAPPING, dispatch_enrichment = false }
    sb:control("POST", "/switches", { csv_import = true })
    assert.equals(503, status)
    assert.equals("csv_import_disabled", code(body))
    assert.is_true(body.error.retryable)
    assert.equals("60", headers["retry-after"])
  end)

  it("answers 400 insufficient_credits when the dispatch cannot be paid", function()
    local _, list = p:post("/lead-lists", { name = "CSV spec broke" })
    local before = p:credits()
    p:set_credits(5)
    local status, body =
      import({ csv_content_base64 = b64(CSV), column_mapping = MAPPING, enrichment_type = "phone_only" }, list.list_id)
    p:set_credits(before)
    assert.equals(400, status)
    assert.equals("insufficient_credits", code(body))
    assert.equals(40, body.error.estimated_cost_credits)
    local _, detail = p:get("/lead-lists/" .. list.list_id)
    assert.equals(0, detail.lead_count) -- nothing was inserted
  end)
end)
