--- The sandbox clock: virtual epoch milliseconds that start at the wall clock and then run
-- `time_scale` times faster than real time, plus an offset that POST /__sandbox/clock
-- {"advance_ms": N} moves forward.
--
--   now_ms = wall time at the (re)base + monotonic time elapsed since then × scale + offset
--
-- For other modules: read time ONLY through `state:now_ms()` or `ctx.now_ms()` (both are
-- `app.clock.now_ms`); never os.time/os.clock. Everything time-based then follows --time-scale
-- and advances: rate-limit windows, quote and cohort expiry, workflow progress, timestamps.
--   app.clock.now_ms()       virtual epoch ms (an integer)
--   app.clock.scale()        the current time scale
--   app.clock:real_ms(v)     how many real milliseconds a virtual span of v ms takes now
--   app.clock:wall_ms()      the real wall clock (for HTTP dates only)
-- The clock never goes backwards except on reset (POST /__sandbox/reset), which also resets
-- everything that remembers times.
local M = {}
M.__index = M

local floor = math.floor

--- opts: wall_ms (function: epoch ms), monotonic_ms (function: ms; default wall_ms), native
-- (optional: a function returning now(), set(base_ms, k), the C half from sb_lua.c, where
-- now() = base + (monotonic now - monotonic at set) * k in one C call), scale (> 0, default 1).
function M.new(opts)
  local wall = opts.wall_ms or function()
    return os.time() * 1000
  end
  local self = setmetatable({ wall = wall, initial_scale = opts.scale or 1, offset = 0 }, M)
  local k = 1
  local now, set
  if opts.native then
    now, set = opts.native()
  else
    -- The same in Lua: now = base + (mono() - mono0) * k.
    local mono = opts.monotonic_ms or wall
    local base, mono0 = 0, mono()
    now = function()
      return floor(base + (mono() - mono0) * k)
    end
    set = function(b)
      base, mono0 = b, mono()
    end
  end
  self.now_ms = now
  -- Continues from the current time plus `shift` ms at speed new_k (no jump when shift = 0).
  self.shift = function(shift, new_k)
    local at = now() + shift
    k = new_k
    set(at, new_k)
  end
  -- Restarts at epoch ms `at` with speed new_k.
  self.start = function(at, new_k)
    k = new_k
    set(at, new_k)
  end
  self.scale = function()
    return k
  end
  self:reset()
  return self
end

--- Back to the wall clock at the initial scale, offset 0.
function M:reset()
  self.offset = 0
  self.start(self.wall(), self.initial_scale)
end

--- Changes the speed from now on; the clock does not jump.
function M:set_scale(k)
  self.shift(0, k)
end

--- Moves the clock forward by ms (>= 0).
function M:advance(ms)
  self.offset = self.offset + ms
  self.shift(ms, self.scale())
end

--- Real milliseconds that a virtual span of v ms takes at the current scale (rounded up).
function M:real_ms(v)
  local r = v / self.scale()
  local c = floor(r)
  if c < r then c = c + 1 end
  return c
end

function M:wall_ms()
  return self.wall()
end

--- {now_ms, time_scale, offset_ms} for GET /__sandbox/clock.
function M:info()
  return { now_ms = self.now_ms(), time_scale = self.scale(), offset_ms = self.offset }
end

return M
