--- cleanlist.recipe.cli: a recipe's command line. Its options (the recipe's own, those of a
-- paid recipe and those of every recipe), parsing argv against them, the --help text and the
-- exit statuses.
local core = require "cleanlist.core"

local type, ipairs, pairs, tostring, tonumber = type, ipairs, pairs, tostring, tonumber
local concat = table.concat

local M = {}

M.EXIT_OK, M.EXIT_ERROR, M.EXIT_USAGE, M.EXIT_INTERRUPTED = 0, 1, 2, 130
M.EXIT_UNKNOWN = 19 -- a call the state file says was sent, with no known outcome
M.EXIT_RUN_ENDED = 20 -- the run a recipe waited on ended failed or cancelled

local COMMON = {
  { "--help", "print this help and exit", short = "-h" },
  { "--json", "write JSON lines on stdout instead of text for a person" },
  { "--quiet", "no progress and no messages on stderr (errors still)", short = "-q" },
}
local PAID = {
  { "--dry-run", "estimate and print the quote; spend nothing" },
  { "--max-credits N", "refuse to spend more than N credits (checked against the estimate)", number = true },
  {
    "--state FILE",
    "where this run records what it dispatched (default: one file per recipe, "
      .. "arguments, key and API under $XDG_STATE_HOME/cleanlist)",
  },
  { "--fresh", "forget the state of an earlier run of the same command and start over" },
  {
    "--resend-unknown",
    "send again a call an earlier run sent without learning its outcome " .. "(it may be paid twice)",
  },
}

-- { name =, flag =, metavar =, help =, ... } from { "--flag METAVAR", help, ... }.
local function option(o)
  local flag, metavar = o[1]:match("^(%-%-[%w-]+)%s*(.*)$")
  local opt = {
    flag = flag,
    metavar = metavar ~= "" and metavar or nil,
    help = o[2],
    name = flag:sub(3):gsub("-", "_"),
    short = o.short,
    many = o.many,
    number = o.number,
    default = o.default,
    choices = o.choices,
    resume = o.resume,
  }
  return opt
end

--- Every option of a recipe definition, as { name =, flag =, metavar =, help =, ... }: its
-- own, then those of a paid recipe, then those of every recipe.
function M.all_options(def)
  local list = {}
  for _, group in ipairs { def.options or {}, def.paid and PAID or {}, COMMON } do
    for _, o in ipairs(group) do
      if type(o[1]) == "table" then -- a group of options (recipe.list_options)
        for _, inner in ipairs(o) do
          list[#list + 1] = option(inner)
        end
      else
        list[#list + 1] = option(o)
      end
    end
  end
  return list
end
local all_options = M.all_options

local function usage_error(def, fmt, ...)
  return {
    usage = true,
    message = ("%s: " .. fmt):format(def.name, ...)
      .. ("\nrun `cleanlist run %s --help` for its options"):format(def.name),
  }
end

-- The value given to an option that takes one: a number for a `number` option, one of the
-- `choices`; or nil and a usage error.
local function option_value(def, o, value)
  if value == nil then return nil, usage_error(def, "%s needs a value (%s)", o.flag, o.metavar) end
  if o.number then
    local n = tonumber(value)
    if not n or n < 0 then return nil, usage_error(def, "%s takes a number, not '%s'", o.flag, value) end
    value = n
  end
  if o.choices then
    local ok = false
    for _, c in ipairs(o.choices) do
      ok = ok or c == value
    end
    if not ok then
      return nil, usage_error(def, "%s takes one of %s, not '%s'", o.flag, concat(o.choices, ", "), value)
    end
  end
  return value
end

-- Records the value of an option: a `many` option collects its values ("a,b" gives two
-- values as well as --flag a --flag b), another keeps the last.
local function store(opts, o, value)
  if o.many then
    opts[o.name] = opts[o.name] or {}
    local list = opts[o.name]
    for v in tostring(value):gmatch("[^,]+") do
      list[#list + 1] = v
    end
  else
    opts[o.name] = value
  end
end

-- The defaults of the options not given, then the count of the operands checked.
local function complete(def, options, opts, operands)
  for _, o in ipairs(options) do
    if opts[o.name] == nil and o.default ~= nil then opts[o.name] = o.default end
  end
  local min = def.operands and def.operands.min or 0
  if not opts.help and #operands < min then return nil, nil, usage_error(def, "needs %s", def.operands.name) end
  if not opts.help and def.operands == nil and #operands > 0 then
    return nil, nil, usage_error(def, "takes no operand ('%s')", operands[1])
  end
  return opts, operands
end

--- Parses argv (an array) against the definition: opts, operands, or nil and a usage error.
function M.parse(def, argv)
  local options, by_flag = all_options(def), {}
  for _, o in ipairs(options) do
    by_flag[o.flag] = o
    if o.short then by_flag[o.short] = o end
  end
  local opts, operands, i = {}, {}, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do
        operands[#operands + 1] = argv[j]
      end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local flag, inline = a:match("^(%-%-[^=]+)=(.*)$")
      flag = flag or a
      local o = by_flag[flag]
      if not o then return nil, nil, usage_error(def, "unknown option '%s'", flag) end
      local value = true
      if o.metavar then
        if inline == nil then i = i + 1 end
        local verr
        value, verr = option_value(def, o, inline == nil and argv[i] or inline)
        if verr then return nil, nil, verr end
      elseif inline ~= nil then
        return nil, nil, usage_error(def, "%s takes no value", o.flag)
      end
      store(opts, o, value)
    else
      operands[#operands + 1] = a
    end
    i = i + 1
  end
  return complete(def, options, opts, operands)
end

--- The table of exit statuses of --help.
function M.exit_table()
  local rows = {}
  for kind, code in pairs(core.exit_status) do
    rows[#rows + 1] = { code, kind }
  end
  table.sort(rows, function(a, b)
    return a[1] < b[1]
  end)
  local out = { "  0  done", "  1  a script error (a bug: the traceback says where)", "  2  bad arguments" }
  for _, r in ipairs(rows) do
    out[#out + 1] = ("%3d  an error of kind %s"):format(r[1], r[2])
  end
  out[#out + 1] = ("%3d  a call an earlier run sent has no known outcome (see --resend-unknown)"):format(M.EXIT_UNKNOWN)
  out[#out + 1] = ("%3d  the run it waited on ended failed or cancelled (the message says what was charged"):format(
    M.EXIT_RUN_ENDED
  ) .. " and refunded)"
  out[#out + 1] = "130  interrupted (Ctrl-C): run the same command again to resume"
  return concat(out, "\n")
end

-- The lines of the options in --help: flag and metavar, then the help (on a line of its own
-- under a long flag).
local function option_lines(lines, def)
  for _, o in ipairs(all_options(def)) do
    local left = (o.short and o.short .. ", " or "    ") .. o.flag .. (o.metavar and " " .. o.metavar or "")
    local help = o.help
    if o.many then help = help .. " (repeatable, or comma-separated)" end
    if o.default ~= nil then help = help .. " (default " .. tostring(o.default) .. ")" end
    if #left > 24 then
      lines[#lines + 1] = "  " .. left
      lines[#lines + 1] = (" "):rep(28) .. help
    else
      lines[#lines + 1] = ("  %-26s%s"):format(left, help)
    end
  end
end

--- The --help text of a recipe.
function M.help(def)
  local lines = {
    ("usage: cleanlist run %s [options]%s"):format(def.name, def.operands and " " .. def.operands.name or ""),
    "",
    def.purpose,
  }
  if def.description then
    lines[#lines + 1] = ""
    lines[#lines + 1] = def.description
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  option_lines(lines, def)
  if def.examples then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "examples:"
    for _, e in ipairs(def.examples) do
      lines[#lines + 1] = "  " .. e
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "exit status:"
  lines[#lines + 1] = M.exit_table()
  return concat(lines, "\n") .. "\n"
end

--- The --timeout SECONDS option of a recipe that waits for `what` (default an hour; not part
-- of the run's identity), as an entry of `options`.
function M.timeout_option(what)
  return {
    "--timeout SECONDS",
    "give up waiting for " .. what .. " after this long",
    number = true,
    default = 3600,
    resume = false,
  }
end

--- The options that name a list, --list-id ID and --list NAME, as one entry of `options`
-- (r:find_list reads them).
function M.list_options(what)
  return {
    { "--list-id ID", "the list " .. what .. ", by id" },
    { "--list NAME", "the list " .. what .. ", by name (exact, else without regard to case)" },
  }
end

return M
