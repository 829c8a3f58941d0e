--- cleanlist.recipe: what every recipe shares, so a recipe is only its workflow.
--
--   local recipe = require "cleanlist.recipe"
--   return recipe.main {
--     name = "my_recipe", purpose = "one line: what it does",
--     paid = true,                          -- adds --dry-run, --max-credits, --state, --fresh
--     options = { { "--title TEXT", "a job title to search for", many = true } },
--     run = function(r) ... end,            -- r: the run (below); returns the summary table
--   }
--
-- The run `r` gives: r.opts (options by name, dashes as underscores), r.args (the operands),
-- r.stdout_busy (set it when the recipe writes its records on stdout: the summary then goes to
-- stderr),
-- r.client (a client from the environment), r:say(fmt, ...) (a line for a person: stdout, or
-- stderr under --json, nothing under --quiet), r:emit(record) (a JSON line under --json),
-- r:progress(label) (an on_progress function for client:wait that draws a bar on stderr),
-- r:once(key, send, opts) (a call made once across runs: see below) and r:fail(err).
--
-- Resuming: a paid recipe keeps its state in a file (--state FILE; by default one per recipe,
-- arguments, key and API under $XDG_STATE_HOME/cleanlist). r:once(key, send) records that it is
-- about to send before sending and what came back after, so a run started again after a
-- crash or Ctrl-C returns the recorded result instead of sending again. A paid call goes out
-- with a quote recorded first: sent again, the quote makes the API refuse a second use, so it
-- is never paid twice. A call whose outcome is unknown (sent without a quote, no answer) is
-- not sent again: the run stops and says so (--resend-unknown sends it anyway). A run that
-- finishes removes its state file.
--
-- The parts: cleanlist.recipe.cli (options, --help, exit statuses), .output (what a run
-- writes), .state (the state file), .calls (r:once, r:paid, r:quote) and .inputs (CSV headers,
-- the list a recipe runs on). This module runs a recipe from its definition.
local cleanlist = require "cleanlist"
local core = require "cleanlist.core"
local cli = require "cleanlist.recipe.cli"
local output = require "cleanlist.recipe.output"
local state = require "cleanlist.recipe.state"
local calls = require "cleanlist.recipe.calls"
local inputs = require "cleanlist.recipe.inputs"

local type, pairs, ipairs = type, pairs, ipairs

local M = {}

M.EXIT_OK, M.EXIT_ERROR, M.EXIT_USAGE = cli.EXIT_OK, cli.EXIT_ERROR, cli.EXIT_USAGE
M.EXIT_INTERRUPTED, M.EXIT_UNKNOWN = cli.EXIT_INTERRUPTED, cli.EXIT_UNKNOWN
M.EXIT_RUN_ENDED = cli.EXIT_RUN_ENDED

M.parse, M.help, M.exit_table = cli.parse, cli.help, cli.exit_table
M.timeout_option, M.list_options = cli.timeout_option, cli.list_options
M.progress_line, M.jsonl_path, M.error_report = output.progress_line, output.jsonl_path, output.error_report
M.run_ended = output.run_ended
M.digest = state.digest
M.header_columns = inputs.header_columns

-- The run `r`: the methods of its parts (output, the state file, the calls made once, what it
-- reads), then its ending.
local Run = {}
Run.__index = Run
for _, part in ipairs { output, state, calls, inputs } do
  for name, fn in pairs(part.Run) do
    Run[name] = fn
  end
end

--- Ends the run on err (a cleanlist.Error or a message): raised, caught by main.
function Run:fail(err) -- luacheck: no unused args
  error({ recipe_failure = err }, 0)
end

--- res, or the run ends on err (as cleanlist.check, with the recipe's report and exit status).
function Run:check(res, err)
  if res == nil then self:fail(err or "no result and no error") end
  return res
end

local function exit_status_of(err)
  if type(err) == "table" then
    if err.exit_status then return err.exit_status end
    if err.kind and core.exit_status[err.kind] then return core.exit_status[err.kind] end
  end
  return M.EXIT_ERROR
end

--- Runs a recipe with the command line `argv` (default: the global arg) and returns the exit
-- status. Under the cleanlist executable, a script that returns it exits with it; under
-- another interpreter main exits itself.
function M.main(def, argv)
  if argv == nil then
    argv = {}
    for i = 1, #(arg or {}) do
      argv[i] = arg[i]
    end
  end
  local status = M.run(def, argv)
  if not package.loaded["cleanlist.hosted"] then os.exit(status) end
  return status
end

-- The run of def for argv, ready to run: its options, a client from the environment and its
-- state file; or nil and the exit status (after --help, or a report on stderr).
local function start(def, argv)
  local opts, operands, uerr = cli.parse(def, argv)
  if not opts then
    io.stderr:write(uerr.message, "\n")
    return nil, M.EXIT_USAGE
  end
  if opts.help then
    io.stdout:write(cli.help(def))
    return nil, M.EXIT_OK
  end
  local r = setmetatable({ def = def, opts = opts, args = operands, tty = output.is_tty(2) }, Run)
  local ok, client = pcall(cleanlist.new, def.client_options)
  if not ok then
    io.stderr:write(output.error_report(def.name, client), "\n")
    return nil, exit_status_of(client)
  end
  r.client = client
  if opts.quiet then client.on_wait = function() end end
  local sok, serr = r:_open_state(argv)
  if not sok then
    io.stderr:write(def.name, ": ", serr, "\n")
    return nil, M.EXIT_USAGE
  end
  return r
end

-- The end of an interrupted run: what was dispatched is kept for the next run, else the state
-- file goes.
local function interrupted(r)
  io.stderr:write(("\n%s: interrupted."):format(r.def.name))
  if r:_dispatched() then
    io.stderr:write(
      (
        " What was dispatched is recorded in %s: run the same command again to "
        .. "resume (nothing sent is sent or paid again)."
      ):format(r.state_path)
    )
  elseif r.state_path then
    os.remove(r.state_path)
  end
  io.stderr:write("\n")
  return M.EXIT_INTERRUPTED
end

-- The end of a run that failed on err: the report (and a JSON line under --json), and the
-- state file kept when something paid went out.
local function failed(r, err)
  if r.opts.json and type(err) == "table" then
    r:emit {
      error = {
        kind = err.kind,
        code = err.code,
        message = err.message,
        status = err.status,
        request_id = err.request_id,
      },
    }
  end
  io.stderr:write(output.error_report(r.def.name, err), "\n")
  if r:_dispatched() and not (type(err) == "table" and err.run_ended) then
    io.stderr:write(
      (
        "%s: what was dispatched is recorded in %s: run the same command again "
        .. "(with a larger --max-credits if the budget stopped it) to resume; nothing sent is "
        .. "sent or paid again\n"
      ):format(r.def.name, r.state_path)
    )
  elseif r.state_path then
    os.remove(r.state_path) -- nothing paid went out, or the run it waited on ended: the next starts afresh
  end
  return exit_status_of(err)
end

--- As main, without exiting: the exit status.
function M.run(def, argv)
  local r, status = start(def, argv)
  if not r then return status end
  local done, result = xpcall(function()
    return def.run(r)
  end, function(e) -- 5.1: no arguments
    if type(e) == "table" and e.recipe_failure ~= nil then return e end
    if type(e) == "string" and e:find("interrupted!", 1, true) then return { interrupted = true } end
    if cleanlist.is_error(e) then return { recipe_failure = e } end
    return { crash = debug.traceback(tostring(e), 2) }
  end)
  r:_clear_bar()
  r.client:close()
  if done then
    if r.state_path and not r.opts.dry_run then os.remove(r.state_path) end
    if type(result) == "table" then output.print_summary(r, result) end
    return M.EXIT_OK
  end
  if result.interrupted then return interrupted(r) end
  if result.crash then
    io.stderr:write(def.name, ": ", result.crash, "\n")
    return M.EXIT_ERROR
  end
  return failed(r, result.recipe_failure)
end

return M
