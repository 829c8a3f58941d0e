--- Shared steps of the paid-endpoint sandbox specs (credits, enrichment, smart agents, sync,
-- CSV import, usage): a thin layer over spec.helpers.sandbox.
--
--   local paid = require "spec.helpers.paid"
--   local sb, p = paid.suite()   -- in a describe block: one sandbox for it (paid.ARGS)
--   (or: local sb = sandbox.start { args = paid.ARGS }; local p = paid.new(sb))
--   p:post(path, body [, key]) / p:get(path [, key])  --> status, decoded body, headers
--   p:new_list(name, n)       --> list_id holding n leads from people search (n <= 1000)
--   p:search(n, filters)      --> task_id, person ids (one page, n <= 100)
--   p:estimate(body)          --> status, body
--   p:quote(body)             --> quote_id (asserts a 200)
--   p:advance(ms)             --> moves the sandbox clock forward
--   p:credits()               --> balance, ledger
--   p:set_credits(n)
--   p:status(id)              --> status, body of GET /enrichment/status/{id}
--   p:settle(id)              --> the terminal status body (advances the clock as needed)
--   paid.code(body)           --> the error code of an MCP envelope body
local sandbox = require "spec.helpers.sandbox"

local M = {}

--- Flags every paid spec starts its sandbox with (rate limits would get in the way).
M.ARGS = { "--rate-limit", "off", "--seed", "7" }

M.TERMINAL = { completed = true, completed_with_errors = true, failed = true, cancelled = true }

local P = {}
P.__index = P

function M.new(sb)
  return setmetatable({ sb = sb }, P)
end

--- sandbox.suite with paid.ARGS (after `extra_args`, if any) for the enclosing describe block;
-- returns the sandbox and its paid.new helper.
function M.suite(extra_args)
  local args = {}
  for _, a in ipairs(extra_args or {}) do
    args[#args + 1] = a
  end
  for _, a in ipairs(M.ARGS) do
    args[#args + 1] = a
  end
  local sb = sandbox.suite { args = args }
  return sb, M.new(sb)
end

function P:post(path, body, key)
  return self.sb:api("POST", path, { body = body or {}, key = key })
end

function P:get(path, key)
  return self.sb:api("GET", path, { key = key })
end

function P:delete(path, body, key)
  return self.sb:api("DELETE", path, { body = body, key = key })
end

--- One page of people search: task_id, array of person ids.
function P:search(n, filters)
  local body = { limit = n }
  for k, v in pairs(filters or {}) do
    body[k] = v
  end
  local status, res = self:post("/search/people", body)
  assert(status == 200, "search answered " .. tostring(status))
  local ids = {}
  for i, row in ipairs(res.people) do
    ids[i] = row.person_id
  end
  return res.task_id, ids, res
end

--- A new list named `name` holding n leads from people search.
function P:new_list(name, n)
  local status, list = self:post("/lead-lists", { name = name })
  assert(status == 201 or status == 200, "create list answered " .. tostring(status))
  local left, cursor = n or 0, nil
  while left > 0 do
    local body = { limit = math.min(left, 100), cursor = cursor }
    local st, res = self:post("/search/people", body)
    assert(st == 200, "search answered " .. tostring(st))
    assert(res.task_id, "search returned no task_id")
    local s2, added = self:post("/lead-lists/" .. list.list_id .. "/leads", { task_id = res.task_id })
    assert(s2 == 200, "add leads answered " .. tostring(s2))
    left = left - added.added
    cursor = res.cursor
    assert(cursor ~= nil and cursor ~= sandbox.null or left <= 0, "search ran out of people")
  end
  return list.list_id
end

function P:estimate(body)
  return self:post("/credits/estimate", body)
end

function P:quote(body)
  local status, res = self:estimate(body)
  assert(status == 200, "estimate answered " .. tostring(status) .. ": " .. require("cjson").encode(res))
  return res.quote_id, res
end

function P:advance(ms)
  local res, status = self.sb:control("POST", "/clock", { advance_ms = ms })
  assert(status == 200, "clock answered " .. tostring(status))
  return res
end

function P:credits()
  local res = self.sb:control("GET", "/credits")
  return res.credits, res.ledger
end

function P:set_credits(n)
  local _, status = self.sb:control("POST", "/credits", { credits = n })
  assert(status == 200)
end

function P:status(id)
  return self:get("/enrichment/status/" .. id)
end

--- Advances the clock in steps until workflow `id` is terminal; returns the status body.
function P:settle(id, step_ms, max_steps)
  for _ = 1, max_steps or 20 do
    local status, body = self:status(id)
    assert(status == 200, "status answered " .. tostring(status))
    if M.TERMINAL[body.status] then return body end
    self:advance(step_ms or 600000)
  end
  error("workflow " .. id .. " did not settle")
end

--- The error code of an MCP envelope body, or nil.
function M.code(body)
  return type(body) == "table" and type(body.error) == "table" and body.error.code or nil
end

return M
