--- Search (API.md §6.2; the public docs give only paths and scopes, so bodies are open:
-- filters pass through as given). Search is free; its `task_id` names the rows of the page
-- returned, for enrich_by_task, add_leads_to_list, sync_to_crm and credits_estimate.
local endpoint = require "cleanlist.endpoint"
local pager = require "cleanlist.pager"

local define, call = endpoint.define, endpoint.call

---@class cleanlist.Client
local M = {}

local function paged(max)
  return {
    open = true,
    filters = { "object" },
    limit = { "integer", min = 1, max = max },
    cursor = { "string", nullable = true },
  }
end

local PEOPLE_FILTERS = define { "GET", "/search/people/filters" }
local COMPANY_FILTERS = define { "GET", "/search/companies/filters" }
-- Searches are reads sent as POST: safe to repeat (retried like GETs).
local PEOPLE = define { "POST", "/search/people", safe = true, body = paged(100) }
local COMPANIES = define { "POST", "/search/companies", safe = true, body = paged(100) }
local SIMILAR = define {
  "POST",
  "/search/companies/similar",
  safe = true,
  body = {
    open = true,
    domain = { "string", min_len = 1, max_len = 253 },
    company_id = { "string", min_len = 1 },
    limit = { "integer", min = 1, max = 50 },
  },
  check = function(t, errs)
    if t.domain == nil and t.company_id == nil then
      require("cleanlist.validate").add(errs, { "body" }, "missing", "needs a domain or a company_id")
    elseif t.domain ~= nil and t.company_id ~= nil then
      require("cleanlist.validate").add(
        errs,
        { "body" },
        "conflict",
        "names the seed company twice (domain and company_id): pass one"
      )
    end
  end,
}

--- GET /search/people/filters: the filter vocabulary of people search. Free; people:read.
---@return {filters: table[]}|nil
---@return cleanlist.Error|nil
function M:search_people_filters()
  return call(self, PEOPLE_FILTERS)
end

--- POST /search/people: a page of people matching the filters (job_titles, seniorities,
-- departments, industries, company_sizes, locations, countries, company_domains, keywords,
-- ...), with `cursor` for the next page and `task_id` for the rows returned. Free; people:read.
---@param body? {limit?: integer, cursor?: string, filters?: table, [string]: any}
---@return {people: table[], total: integer, cursor: string?, task_id: string?}|nil
---@return cleanlist.Error|nil
function M:search_people(body)
  return call(self, PEOPLE, body)
end

--- GET /search/companies/filters: the filter vocabulary of company search. Free.
---@return {filters: table[]}|nil
---@return cleanlist.Error|nil
function M:search_companies_filters()
  return call(self, COMPANY_FILTERS)
end

--- POST /search/companies: a page of companies matching the filters. Free; companies:read.
---@param body? {limit?: integer, cursor?: string, [string]: any}
---@return {companies: table[], total: integer, cursor: string?, task_id: string?}|nil
---@return cleanlist.Error|nil
function M:search_companies(body)
  return call(self, COMPANIES, body)
end

--- POST /search/companies/similar: companies like one given by domain or company_id. Free.
---@param body {domain?: string, company_id?: string, limit?: integer}
---@return {companies: table[], seed_company: table?, task_id: string?}|nil
---@return cleanlist.Error|nil
function M:similar_companies(body)
  return call(self, SIMILAR, body)
end

-- An iterator over every row of a search, page after page (`max` caps the rows).
local function iter_search(self, def, field, body)
  return pager.over(body, field, function(b)
    return call(self, def, b)
  end)
end

--- Every person a search matches, fetched page by page as the loop consumes them (see
-- cleanlist.pager): `for p in client:iter_search_people{ job_titles = {"VP Sales"} } do`.
-- `limit` is the page size; `max` stops after that many rows.
---@param body? table
---@return cleanlist.Pager
function M:iter_search_people(body)
  return iter_search(self, PEOPLE, "people", body)
end

--- Every company a search matches, page by page (see iter_search_people).
---@param body? table
---@return cleanlist.Pager
function M:iter_search_companies(body)
  return iter_search(self, COMPANIES, "companies", body)
end

return M
