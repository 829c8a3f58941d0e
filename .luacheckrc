std = "min"
max_line_length = 120
include_files = { "lua", "recipes", "spec", "sandbox/lua", "bench" }
files["spec/**"] = { std = "+busted" }
files["lua/cleanlist/client.lua"] = { read_globals = { "jit" } }
files["recipes/**"] = { std = "+lua54" }
files["bench/**"] = { std = "+lua54" }
