--- Small table and value helpers shared by the sandbox's modules. Pure Lua on sandbox.json only
-- (sandbox.native is loaded on first use by roll), so in-process specs can load any module that
-- uses it.
local json = require "sandbox.json"

local M = {}

local null = json.null
local floor, sort, tonumber, tostring = math.floor, table.sort, tonumber, tostring

--- { [v] = true } for every v of list.
function M.set_of(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

--- A sorted copy of list.
function M.sorted_copy(list)
  local t = {}
  for i, v in ipairs(list) do
    t[i] = v
  end
  sort(t)
  return t
end

--- The keys of t, sorted.
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  sort(keys)
  return keys
end

--- A copy of t without its json.null values.
function M.without_nulls(t)
  local r = {}
  for k, v in pairs(t) do
    if v ~= null then r[k] = v end
  end
  return r
end

--- v, or json.null when v is nil.
function M.or_null(v)
  if v == nil then return null end
  return v
end

--- True when v is given: not nil, not json.null and not "".
function M.present(v)
  return v ~= nil and v ~= null and v ~= ""
end

--- v when it is a non-empty string, else nil.
function M.nonempty(v)
  return type(v) == "string" and v ~= "" and v or nil
end

--- "YYYY-MM-DDTHH:MM:SSZ" for epoch milliseconds.
function M.iso(ms)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(ms / 1000))
end

--- M.iso(ms), or json.null when ms is nil (or false).
function M.iso_or_null(ms)
  if not ms then return null end
  return M.iso(ms)
end

local native

--- A number in [0, mod) from the string s, stable for the state's seed (synthetic outcomes):
-- the first 32 bits of SHA-256("<seed>|<s>").
function M.roll(state, s, mod)
  native = native or require "sandbox.native"
  return tonumber(native.sha256_hex(tostring(state.config.seed or 0) .. "|" .. s):sub(1, 8), 16) % mod
end

--- Drops the entries of store (key -> {time_ms, ...}) older than ttl_ms at now.
function M.prune_expired(store, now, ttl_ms)
  for k, e in pairs(store) do
    if e.time_ms + ttl_ms < now then store[k] = nil end
  end
end

--- Files rec under id in by_id and appends id to order, evicting the oldest beyond keep.
function M.keep_newest(by_id, order, id, rec, keep)
  by_id[id] = rec
  order[#order + 1] = id
  while #order > keep do
    by_id[table.remove(order, 1)] = nil
  end
end

return M
