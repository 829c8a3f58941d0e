--- Seeded malformed input for the property specs: a deterministic generator (the same
-- sequence on every engine) and bodies that look like JSON gone wrong, or bytes.
local M = {}

-- A small deterministic generator (a linear congruential one: the same on every engine).
function M.generator(seed)
  local state = seed % 2147483647
  local g = {}
  function g.int(lo, hi)
    state = (state * 48271) % 2147483647
    return lo + state % (hi - lo + 1)
  end
  function g.pick(list)
    return list[g.int(1, #list)]
  end
  function g.bytes(n)
    local t = {}
    for i = 1, n do
      t[i] = string.char(g.int(0, 255))
    end
    return table.concat(t)
  end
  return g
end

local FRAGMENTS = {
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  '"error"',
  '"detail"',
  '"code"',
  '"problem"',
  "null",
  "true",
  "1e400",
  "-0",
  "NaN",
  "Infinity",
  "\0",
  "\\u0000",
  "\\ud800",
  '"retry_after_ms"',
  "123456789012",
  '"loc"',
  '"msg"',
  '"request_id"',
  "{}",
  "[]",
  '"x"',
}

-- A body that looks like JSON gone wrong, or bytes.
function M.body(g, key)
  local kind = g.int(1, 5)
  if kind == 1 then return g.bytes(g.int(0, 64)) end
  if kind == 2 then return ("["):rep(g.int(1, 300)) end
  if kind == 3 then
    -- a plausible envelope with a field of the wrong type, echoing the key
    local v = g.pick { "1", '"s"', "[]", "{}", "null", "true", '"' .. key .. '"' }
    local field = g.pick {
      "code",
      "problem",
      "fix",
      "details",
      "retryable",
      "retry_after_ms",
      "request_id",
      "docs_url",
      "available_credits",
    }
    return ('{"error": {"%s": %s, "message": "the key %s"}}'):format(field, v, key)
  end
  if kind == 4 then
    local v = g.pick { '"' .. key .. '"', "1", "[1,2]", '{"a":"' .. key .. '"}', "null" }
    return ('{"detail": [{"loc": %s, "msg": %s, "type": %s}]}'):format(
      g.pick { "[]", '["body", 0]', '"x"', "null", "[[]]" },
      v,
      g.pick { '"t"', "1", "null" }
    )
  end
  local parts = {}
  for i = 1, g.int(1, 20) do
    parts[i] = g.pick(FRAGMENTS)
  end
  return table.concat(parts)
end

return M
