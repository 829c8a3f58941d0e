-- The executable on a terminal (a pseudo-terminal from script(1)): the prompt's ready `client`
-- under --sandbox, expressions printed, multi-line input, history kept across sessions; and a
-- recipe's progress bar redrawn in place.
local run = require "spec.helpers.run"

-- Types `lines` into `cleanlist args` on a pseudo-terminal (with HOME = home); returns what
-- the terminal showed. Each line goes once the prompt asks for it, and the end of input once
-- every line has had its answer (a prompt after it) or, with no lines, once `done` shows.
local function prompt(args, lines, home, env, done)
  local input, out = os.tmpname(), os.tmpname()
  run.write_file(input, table.concat(lines, "\n") .. (#lines > 0 and "\n" or ""))
  local inner = "env " .. (env or "") .. " HOME=" .. run.quote(home) .. " " .. run.quote(run.bin()) .. " " .. args
  -- polls the terminal's output (every 50 ms, for at most 20 s) until the shell test holds
  local function until_(test)
    return "n=0; until " .. test .. " || [ $n -ge 400 ]; do sleep 0.05; n=$((n+1)); done; "
  end
  local prompts = "[ \"$(grep -o '> ' " .. run.quote(out) .. ' | wc -l)" -ge %d ]'
  local feed
  if #lines > 0 then
    feed = until_(prompts:format(1)) .. "cat " .. run.quote(input) .. "; " .. until_(prompts:format(#lines + 1))
  else
    feed = until_("grep -q " .. run.quote(done) .. " " .. run.quote(out))
  end
  run.sh(
    "(" .. feed .. "printf '\\004') | script -qec " .. run.quote(inner) .. " /dev/null >" .. run.quote(out) .. " 2>&1"
  )
  local shown = run.read_file(out) or ""
  os.remove(input)
  os.remove(out)
  return shown
end

describe("cleanlist prompt", function()
  local home
  before_each(function()
    home = os.tmpname()
    os.remove(home)
    assert(run.execute("mkdir -p " .. run.quote(home)))
  end)
  after_each(function()
    run.execute("rm -rf " .. run.quote(home))
  end)

  it("has a ready client under --sandbox that answers as the sandbox's Vera", function()
    local out = prompt("--sandbox", { "client:whoami().user_name", "cleanlist.VERSION" }, home)
    assert.matches("client: cleanlist%.Client%(http://127%.0%.0%.1:%d+/api/v1/public, clapi_", out)
    assert.matches("Vera Okafor", out)
    assert.matches("0%.1%.0", out)
    assert.is_nil(out:find("clapi_sandbox_full_access", 1, true))
  end)

  it("says how to get a client when there is no key", function()
    local out = prompt("", { "1 + 1" }, home, "-u CLEANLIST_API_KEY")
    assert.matches("no client: set CLEANLIST_API_KEY, or start with %-%-sandbox", out)
    assert.matches("\n2\r?\n", out)
  end)

  it("takes multi-line input and keeps the history in ~/.cleanlist_history", function()
    local out = prompt("", { "for i = 1, 3 do", "io.write(i * 7, ' ')", "end" }, home, "-u CLEANLIST_API_KEY")
    assert.matches(">> ", out)
    assert.matches("7 14 21", out)
    local hist = assert(run.read_file(home .. "/.cleanlist_history"))
    assert.matches("io%.write", hist)
  end)

  it("redraws a recipe's progress bar in place", function()
    local out =
      prompt("--sandbox --time-scale 60 run prospect_to_crm --title 'VP Sales' --limit 5", {}, home, nil, "created:")
    assert.matches("\r\27%[Kenriching  %[#+%]  5/5", out)
    assert.matches("created: +%d+", out)
  end)
end)
