--- Names folded to plain text, for the world's slugs, domains and addresses and for matching
-- what callers send against them.
--
--   local text = require "sandbox.world_text"
--   text.fold("Zoë O'Brien")            -- "zoeobrien": lowercase ASCII letters and digits
--   text.fold_text("Zoë O'Brien")       -- "zoe o'brien": lowercase, accents folded
--   text.local_part("flast", "Zoë", "O'Brien") -- "zobrien": an email pattern's local part
local data = require "sandbox.world_data"

local M = {}

local lower, gsub = string.lower, string.gsub
local ASCII = data.ASCII

local function ascii_char(c)
  return ASCII[c] or ""
end

local fold_memo, fold_size = {}, 0

--- s folded to lowercase ASCII letters and digits (accents dropped, others removed).
function M.fold(s)
  local f = fold_memo[s]
  if f then return f end
  f = gsub(lower(gsub(s, "[\195-\197][\128-\191]", ascii_char)), "[^%w]", "")
  if fold_size < 4096 then
    fold_memo[s], fold_size = f, fold_size + 1
  end
  return f
end

local function ascii_or_same(c)
  return ASCII[c] or c
end

--- s lowercased with accents folded, other characters kept (for matching names).
function M.fold_text(s)
  return lower((gsub(s, "[\195-\197][\128-\191]", ascii_or_same)))
end

--- The local part of an address of email `pattern` (data.EMAIL_PATTERNS) for a name.
function M.local_part(pattern, first, last)
  local f, l = M.fold(first), M.fold(last)
  if pattern == "first.last" then
    return f .. "." .. l
  elseif pattern == "first" then
    return f
  elseif pattern == "flast" then
    return f:sub(1, 1) .. l
  elseif pattern == "firstlast" then
    return f .. l
  elseif pattern == "first_last" then
    return f .. "_" .. l
  end
  return f .. l:sub(1, 1)
end

return M
