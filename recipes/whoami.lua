-- whoami: who the API key belongs to, what it may do, and the credits left.
-- Run: cleanlist run whoami      (CLEANLIST_API_KEY set), or cleanlist --sandbox run whoami
local cleanlist = require "cleanlist"
local recipe = require "cleanlist.recipe"

local function text(v, default)
  if v == nil or v == cleanlist.null then return default end
  return tostring(v)
end

return recipe.main {
  name = "whoami",
  purpose = "who the API key belongs to, what it may do, and the credits left.",
  examples = { "cleanlist run whoami", "cleanlist --sandbox run whoami --json" },
  run = function(r)
    local me = r:check(r.client:whoami())
    local out = {
      _order = {
        "user",
        "email",
        "organization",
        "organization_id",
        "auth",
        "tier",
        "scopes",
        "features",
        "credits",
      },
      user = text(me.user_name, "?"),
      email = text(me.user_email, "no email"),
      organization = text(me.organization_name, "?"),
      organization_id = me.organization_id,
      auth = me.auth_type,
      tier = me.tier,
      scopes = me.scopes,
      features = me.features,
    }
    local balance, err = r.client:credits_balance()
    if balance then
      out.credits = balance.credits
    elseif err.kind == "permission" then
      out.credits = "(this key lacks the credits:read scope)"
    else
      r:fail(err)
    end
    return out
  end,
}
