std = "min"
max_line_length = 120
max_comment_line_length = false -- LuaCATS annotations (---@param) carry long table types
include_files = { "lua/**/*.lua", "recipes/**/*.lua", "spec/**/*.lua", "sandbox/lua/**/*.lua", "bench/**/*.lua", "tools/mutate", "tools/*.lua" }
files["spec/**"] = { std = "+busted" }
files["lua/cleanlist/client.lua"] = { read_globals = { "jit" } }
files["recipes/**"] = { std = "+lua54" }
files["bench/**"] = { std = "+lua54" }
files["tools/**"] = { std = "+lua54" }
