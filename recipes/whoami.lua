-- whoami: who the API key belongs to, what it may do, and the credits left.
-- Run: cleanlist recipes/whoami.lua      (CLEANLIST_API_KEY set)
--      cleanlist --sandbox recipes/whoami.lua
local cleanlist = require "cleanlist"

local client = cleanlist.new()
local me = cleanlist.check(client:whoami())

print(("Identity:      %s (%s)"):format(tostring(me.user_name ~= cleanlist.null and me.user_name or "?"),
  tostring(me.user_email ~= cleanlist.null and me.user_email or "no email")))
print(("Organisation:  %s (%s)"):format(
  tostring(me.organization_name ~= cleanlist.null and me.organization_name or "?"), me.organization_id))
print(("Auth:          %s"):format(me.auth_type))
print(("Tier:          %s"):format(me.tier))
print(("Scopes:        %s"):format(table.concat(me.scopes, ", ")))
print(("Features:      %s"):format(table.concat(me.features, ", ")))

local balance, err = client:credits_balance()
if balance then
  print(("Balance:       %d credits"):format(balance.credits))
elseif err.kind == "permission" then
  print("Balance:       (this key lacks the credits:read scope)")
else
  error(err)
end
client:close()
