-- Long exports in bounded memory, over real libcurl against a sandbox holding a list of 20,000
-- enriched leads (POST /__sandbox/lists, about 3.8 MB of CSV): the signed CSV download reaches
-- its sink in pieces of at most 256 KiB + one libcurl write (16 KiB), however slowly the sink
-- takes them, whether the call blocks or runs in a task of client:gather (the transfer waits
-- while the sink works instead of piling the file up in memory) and are collected as it goes;
-- a download abandoned by an error in its sink stays paused and costs later calls no CPU; and
-- the JSON iterators hold one page: a lead of a page already read is garbage once the loop has
-- moved on.
local sandbox = require "spec.helpers.sandbox"
local clients = require "spec.helpers.client"
local core = require "cleanlist.core"

local LEADS = 20000
local PIECE = 256 * 1024 + 16 * 1024

describe("long exports in bounded memory", function()
  local sb = sandbox.suite { args = { "--rate-limit", "off", "--quiet" } }
  local list_id, link

  setup(function()
    local body, status = sb:control("POST", "/lists", { leads = LEADS, enriched = true })
    assert.equals(200, status)
    assert.equals(LEADS, body.lead_count)
    list_id = body.list_id
    link = assert(clients.new(sb):export_csv { list_id = list_id })
    assert.equals(LEADS, link.row_count)
    assert.is_true(link.file_size_bytes > 10 * PIECE, link.file_size_bytes)
  end)

  -- A sink that keeps only sizes and line ends, and sleeps on its first pieces so that the
  -- server gets well ahead of it.
  local function slow_sink()
    local s = { pieces = 0, largest = 0, bytes = 0, lines = 0 }
    s.fn = function(bytes)
      s.pieces = s.pieces + 1
      s.bytes = s.bytes + #bytes
      if #bytes > s.largest then s.largest = #bytes end
      local _, n = bytes:gsub("\n", "")
      s.lines = s.lines + n
      if s.pieces <= 8 then core.sleep(0.02) end
    end
    return s
  end

  local function check(s, res)
    assert.equals(link.file_size_bytes, res.bytes)
    assert.equals(link.file_size_bytes, s.bytes)
    assert.equals(LEADS + 1, s.lines)
    assert.is_true(s.largest <= PIECE, "a piece of " .. s.largest .. " bytes")
    assert.is_true(s.pieces >= link.file_size_bytes / PIECE, s.pieces .. " pieces")
  end

  it("hands a blocking download on in bounded pieces", function()
    local s = slow_sink()
    check(s, assert(clients.new(sb):download(link.download_url, s.fn)))
  end)

  it("hands export_csv's download on in bounded pieces inside a task, beside other calls", function()
    local c = clients.new(sb)
    local s = slow_sink()
    local results = c:gather({
      function()
        return c:export_csv { list_id = list_id, to = s.fn }
      end,
      function()
        return c:get_list(list_id)
      end,
    }, { concurrency = 2 })
    local res = assert(results[1][1], tostring(results[1][2]))
    assert.equals(LEADS, assert(results[2][1]).lead_count)
    check(s, res)
  end)

  -- In a process of its own (the executable under test), whose heap is small: in this one the
  -- collector may rightly let garbage grow as large as what busted holds live.
  it("lets the pieces be collected as the download goes: the Lua heap stays flat", function()
    local code = ([[
      local cleanlist = require "cleanlist"
      local c = cleanlist.new { api_key = %q, base_url = %q, rate_limit = false, max_retries = 0 }
      collectgarbage("collect")
      local before, most = collectgarbage("count"), 0
      assert(c:download(%q, function()
        most = math.max(most, collectgarbage("count") - before)
      end))
      print(("grew %%.0f KiB"):format(most))
    ]]):format(sb.key, sb.base_url, link.download_url)
    local out = sandbox.cli("-e " .. sandbox.quote(code))
    local grew = tonumber(out:match("grew (%d+) KiB"))
    assert.truthy(grew, out)
    assert.is_true(grew < 2048, ("the heap grew by %d KiB"):format(grew))
  end)

  it("leaves a download whose sink raised paused, without making the next call spin", function()
    local c = clients.new(sb)
    local pieces = 0
    local ok, err = pcall(c.download, c, link.download_url, function()
      pieces = pieces + 1
      if pieces == 2 then error("the sink broke") end
    end)
    assert.is_false(ok)
    assert.matches("the sink broke", err)
    sb:control("POST", "/script", { responses = { { fault = "stall", ms = 1000 } } })
    local cpu = os.clock()
    assert(c:whoami())
    cpu = os.clock() - cpu
    assert.is_true(cpu < 0.5, ("%.2f s of CPU for a call that waited 1 s"):format(cpu))
    assert.equals(2, pieces)
  end)

  for _, case in ipairs {
    {
      "iter_export_json",
      function(c)
        return c:iter_export_json { list_id = list_id, limit = 500 }
      end,
    },
    {
      "iter_leads",
      function(c)
        return c:iter_leads(list_id, { limit = 500 })
      end,
    },
  } do
    it(case[1] .. " lets the leads of the pages it has left be collected", function()
      local it = case[2](clients.new(sb))
      local kept = setmetatable({}, { __mode = "k" })
      kept[it()] = true -- the first lead of the first page
      for _ = 2, 1001 do
        assert(it(), tostring(it.err))
      end -- into the third page
      collectgarbage("collect")
      collectgarbage("collect")
      assert.is_nil(next(kept), "the first page is still held")
      assert.equals(3, it.pages)
      local n = it.count
      for _ in it do
        n = n + 1
      end
      assert.is_nil(it.err)
      assert.equals(LEADS, n)
    end)
  end
end)
