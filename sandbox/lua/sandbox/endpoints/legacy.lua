--- The legacy Public API (API.md §3.3, §6.8), under the same prefixes as the MCP API:
--   GET  /auth/validate-key                       {"valid":true,"user_id","organization_id"}
--   POST /enrich/bulk                             1–250 contacts → {"workflow_id":
--                                                 "public_bulk_<uuid>","status":"processing",
--                                                 "message":"Bulk enrichment started",
--                                                 "task_ids":[...],"total_contacts":N}
--   GET  /enrich/status?workflow_id=|task_id=     the aggregate / one contact
--   GET  /webhooks/deliveries?workflow_id=        the delivery log
--   (GET /credits/balance is shared with the MCP API: endpoints/workspace.lua)
-- Errors are FastAPI's {"detail": ...}: 401 "Not authenticated" (missing, malformed, unknown
-- or revoked key), 403 when the organisation's plan lacks API access, 404 for unknown ids, 402
-- "Insufficient credits", 400 with the documented strings, 422 with `loc` arrays; the rate
-- limiter answers 429 {"detail":"Rate limit exceeded"} for routes marked `legacy = true`.
-- Legacy routes need a valid credential but no scope. Workflows are visible to every user of
-- the organisation that submitted them.
local auth = require "sandbox.auth"
local errors = require "sandbox.errors"
local http = require "sandbox.http"
local json = require "sandbox.json"
local legacy = require "sandbox.legacy"
local ledger = require "sandbox.ledger"
local validate = require "sandbox.validate"
local webhooks = require "sandbox.webhooks"

local M = {}

local null = json.null

M.CONTACT_RULE = "Each contact must include linkedin_url OR first_name + last_name + "
  .. "(company_domain or company_name)."
M.NO_CONTACTS = "At least one contact is required."
M.TOO_MANY = "Bulk enrichment supports up to 250 contacts per request."
M.EXACTLY_ONE = "Provide exactly one of workflow_id or task_id."
M.NOT_AUTHENTICATED = "Not authenticated"
M.NO_API_ACCESS = "Your plan does not include API access."

local function detail(status, text)
  return status, { detail = text }
end

--- Route authentication: the shared key/session check, with FastAPI-shaped failures.
function M.authenticate(state, req, rid)
  local key, status = auth.authenticate(state, req, rid)
  if key then return key end
  if status == 403 then return nil, 403, { detail = M.NO_API_ACCESS } end
  return nil, 401, { detail = M.NOT_AUTHENTICATED }
end

function M.validate_key(ctx)
  return 200, { valid = true, user_id = ctx.user.id, organization_id = ctx.org.id }
end

local CONTACT_FIELDS = {
  "first_name",
  "last_name",
  "company_domain",
  "company_name",
  "linkedin_url",
  "email",
  "title",
  "job_title",
  "company",
  "domain",
  "full_name",
}

local TYPE_ALIASES = { ["phone-only"] = "phone_only" }

-- One contact of POST /enrich/bulk at index i: its normalised fields, or nil after adding
-- its errors to errs.
local function parse_contact(c, i, errs)
  local loc = { "body", "contacts", i - 1 }
  if type(c) ~= "table" or c == null or (validate.is_list(c) and next(c) ~= nil) then
    errs[#errs + 1] = validate.error(
      loc,
      "model_attributes_type",
      "Input should be a valid dictionary or object to extract fields from",
      c
    )
    return nil
  end
  local bad = false
  for _, name in ipairs(CONTACT_FIELDS) do
    local v = c[name]
    if v ~= nil and v ~= null and type(v) ~= "string" then
      errs[#errs + 1] =
        validate.error({ "body", "contacts", i - 1, name }, "string_type", "Input should be a valid string", v)
      bad = true
    end
  end
  if bad then return nil end
  local f = legacy.contact_fields(c)
  if not legacy.contact_ok(f) then
    errs[#errs + 1] = validate.error(loc, "value_error", M.CONTACT_RULE, c)
    return nil
  end
  return f
end

-- The enrichment_type of the body ("partial" when absent), adding its errors to errs.
local function parse_type(body, errs)
  local et = body.enrichment_type
  if et == nil or et == null then return "partial" end
  if type(et) ~= "string" then
    errs[#errs + 1] = validate.error({ "body", "enrichment_type" }, "string_type", "Input should be a valid string", et)
    return et
  end
  et = TYPE_ALIASES[et] or et
  if not legacy.MAX_COST[et] then
    errs[#errs + 1] = validate.error(
      { "body", "enrichment_type" },
      "enum",
      "Input should be 'none', 'partial', 'phone_only', 'full' or 'prospecting_only'",
      body.enrichment_type
    )
    errs[#errs].ctx = { expected = "'none', 'partial', 'phone_only', 'full' or " .. "'prospecting_only'" }
  end
  return et
end

-- The webhook_url of the body (nil when absent or null), adding its errors to errs.
local function parse_webhook(body, errs)
  local url = body.webhook_url
  if url == null or url == nil then return nil end
  if type(url) ~= "string" then
    errs[#errs + 1] = validate.error({ "body", "webhook_url" }, "string_type", "Input should be a valid string", url)
  else
    local ok, typ, msg = webhooks.check_url(url)
    if not ok then errs[#errs + 1] = validate.error({ "body", "webhook_url" }, typ, msg, url) end
  end
  return url
end

-- Validates the body of POST /enrich/bulk (a JSON object): contacts (normalised),
-- enrichment_type, webhook_url; or nil, status, body.
local function parse_bulk(body)
  local contacts = body.contacts
  if contacts == nil then
    return nil, validate.response({ validate.error({ "body", "contacts" }, "missing", "Field required", body) })
  end
  if not validate.is_list(contacts) then
    return nil,
      validate.response({
        validate.error({ "body", "contacts" }, "list_type", "Input should be a valid list", contacts),
      })
  end
  local errs, out = {}, {}
  for i, c in ipairs(contacts) do
    out[i] = parse_contact(c, i, errs)
  end
  local et = parse_type(body, errs)
  local url = parse_webhook(body, errs)
  if errs[1] then return nil, validate.response(errs) end
  if #contacts == 0 then return nil, detail(400, M.NO_CONTACTS) end
  if #contacts > legacy.MAX_CONTACTS then return nil, detail(400, M.TOO_MANY) end
  return { contacts = out, enrichment_type = et, webhook_url = url }
end

function M.bulk(ctx)
  local p, status, body = parse_bulk(ctx.body)
  if not p then return status, body end
  local state = ctx.state
  if legacy.max_cost(p.enrichment_type, #p.contacts) > ledger.available(state) then
    return detail(402, "Insufficient credits")
  end
  local wf = legacy.submit(state, ctx, p.contacts, p.enrichment_type, p.webhook_url)
  if not wf then return detail(402, "Insufficient credits") end
  legacy.pump(ctx.app) -- asks for the timer's ticks: the workflow completes unobserved
  local ids = json.array()
  for i, c in ipairs(wf.contacts) do
    ids[i] = c.task_id
  end
  return 200,
    {
      workflow_id = wf.workflow_id,
      status = "processing",
      message = "Bulk enrichment started",
      task_ids = ids,
      total_contacts = #ids,
    }
end

local function query_value(q, name)
  local v = validate.query_string(q, name)
  if v == nil or v:match("^%s*$") then return nil end
  return v
end

-- 200 and body_of(state, wf) for the caller's workflow workflow_id, or 404.
local function workflow_reply(ctx, workflow_id, body_of)
  local wf = legacy.workflow(ctx.app, ctx, workflow_id)
  if not wf then return detail(404, "Workflow not found") end
  return 200, body_of(ctx.state, wf)
end

function M.status(ctx)
  local q = http.parse_query(ctx.req.query)
  local workflow_id, task_id = query_value(q, "workflow_id"), query_value(q, "task_id")
  if (workflow_id == nil) == (task_id == nil) then return detail(400, M.EXACTLY_ONE) end
  if workflow_id then return workflow_reply(ctx, workflow_id, legacy.status_body) end
  local wf, i = legacy.task(ctx.app, ctx, task_id)
  if not wf then return detail(404, "Task not found") end
  return 200, legacy.task_body(ctx.state, wf, i)
end

function M.deliveries(ctx)
  local q = http.parse_query(ctx.req.query)
  local workflow_id = validate.query_string(q, "workflow_id")
  if workflow_id == nil then
    return validate.response({ validate.error({ "query", "workflow_id" }, "missing", "Field required", null) })
  end
  return workflow_reply(ctx, workflow_id, webhooks.deliveries_body)
end

-- Control endpoints (no auth, outside the API path):
--   POST   /__sandbox/tick                 runs the legacy API's background progress now (as
--                                          the timer's ticks do); reports what is pending
--   POST   /__sandbox/webhook-sink         a loopback webhook receiver for tests: records the
--                                          delivery, answers 200 (or fail_status while
--                                          fail_next > 0)
--   GET    /__sandbox/webhook-sink         {"received":[{seq,time_ms,method,headers,body,
--                                          answered}],"count","fail_next","fail_status"}
--   DELETE /__sandbox/webhook-sink         forgets what it received and its settings
--   POST   /__sandbox/webhook-sink/config  {"fail_next":N,"fail_status":S,"timeout_ms":T}: fail
--                                          the next N deliveries with S; T = how long every
--                                          delivery waits for its receiver (default 10000)
local function sink_config(app, req, rid)
  local body = json.decode(req.body)
  if type(body) ~= "table" then
    return errors.build("validation_error", rid, { problem = "The body must be a JSON object." })
  end
  local out, msg = webhooks.sink_config(app, body)
  if not out then return errors.build("validation_error", rid, { problem = msg }) end
  return 200, out
end

--- Registers the control endpoints above on an app's control router (sandbox.control).
function M.register_control(router)
  local function add(method, path, handler)
    router:add(method, path, { handler = handler })
  end
  add("POST", "/tick", function(app)
    return 200, webhooks.tick_info(app)
  end)
  add("POST", "/webhook-sink", webhooks.sink_receive)
  add("GET", "/webhook-sink", webhooks.sink_list)
  add("DELETE", "/webhook-sink", webhooks.sink_clear)
  add("POST", "/webhook-sink/config", sink_config)
end

function M.register(router, app)
  local function add(method, template, handler, body)
    router:add(method, template, { legacy = true, authenticate = M.authenticate, body = body, handler = handler })
  end
  add("GET", "/auth/validate-key", M.validate_key)
  add("POST", "/enrich/bulk", M.bulk, validate.object({}, { open = true }))
  add("GET", "/enrich/status", M.status)
  add("GET", "/webhooks/deliveries", M.deliveries)
  if app then app.pump = legacy.pump end
end

return M
