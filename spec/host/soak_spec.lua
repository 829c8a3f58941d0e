-- A short soak (bench/soak: every paid workflow, 20 % of the requests faulted, rate limits
-- on): no run charged twice, no lead lost or duplicated, no quoted call of unknown outcome,
-- judged by the sandbox's ledger. `bench/soak 360` is the full size (README).
local run = require "spec.helpers.run"

describe("the soak, shortened", function()
  it("meets its goal over 36 paid runs with faults on", function()
    local out, code =
      run.capture("CLEANLIST_BIN=" .. run.quote(run.bin()) .. " timeout 150 bench/soak 36 </dev/null 2>&1")
    local r = { code = code, stdout = out, stderr = "" }
    assert.equals(0, r.code, r.stdout)
    assert.matches("soak: 36 paid runs intended over (%d+) requests", r.stdout)
    local requests = tonumber(r.stdout:match("over (%d+) requests"))
    assert.is_true(requests >= 200, requests .. " requests")
    assert.matches("double charges 0\n", r.stdout)
    assert.matches("unknown outcome 0 %(quoted calls%)", r.stdout)
    assert.matches("leads lost 0, duplicated 0", r.stdout)
    assert.matches("soak: goal met", r.stdout)
  end)
end)
