--- Deterministic random numbers from the sandbox seed: L'Ecuyer's combined multiplicative
-- generator (1988). Every intermediate product stays below 2^47, so plain arithmetic gives the
-- same sequence on Lua 5.4 integers and on LuaJIT doubles; no bit operations are needed.
local M = {}
M.__index = M

local M1, A1 = 2147483563, 40014
local M2, A2 = 2147483399, 40692

local format, floor = string.format, math.floor

--- A generator for `seed` (0..2^32-1; 0 means the built-in seed). `stream` (a small integer)
-- separates independent sequences drawn from the same seed.
function M.new(seed, stream)
  seed = floor(tonumber(seed) or 0)
  if seed == 0 then seed = 20240601 end
  stream = floor(tonumber(stream) or 0)
  local self = setmetatable({
    s1 = (seed + stream * 7919) % (M1 - 1) + 1,
    s2 = (floor(seed / 3) + stream * 104729 + 12345) % (M2 - 1) + 1,
  }, M)
  for _ = 1, 8 do
    self:next()
  end
  return self
end

--- The next value, an integer in [0, 2147483561].
function M:next()
  local s1 = self.s1 * A1 % M1
  local s2 = self.s2 * A2 % M2
  self.s1, self.s2 = s1, s2
  return (s1 - s2) % (M1 - 1)
end

--- An integer in [lo, hi].
function M:int(lo, hi)
  return lo + self:next() % (hi - lo + 1)
end

--- A float in [0, 1).
function M:float()
  return self:next() / (M1 - 1)
end

--- 16 lowercase hex digits (three draws; the same as three next() calls).
function M:hex16()
  local s1, s2 = self.s1, self.s2
  s1, s2 = s1 * A1 % M1, s2 * A2 % M2
  local a = (s1 - s2) % (M1 - 1)
  s1, s2 = s1 * A1 % M1, s2 * A2 % M2
  local b = (s1 - s2) % (M1 - 1)
  s1, s2 = s1 * A1 % M1, s2 * A2 % M2
  local c = (s1 - s2) % (M1 - 1)
  self.s1, self.s2 = s1, s2
  return format("%04x%06x%06x", a % 65536, b % 16777216, c % 16777216)
end

--- n lowercase hex digits.
function M:hex(n)
  if n == 16 then return self:hex16() end
  local parts, len = {}, 0
  while len < n do
    parts[#parts + 1] = format("%04x", self:next() % 65536)
    len = len + 4
  end
  return table.concat(parts):sub(1, n)
end

return M
