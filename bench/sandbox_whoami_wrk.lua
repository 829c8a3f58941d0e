-- wrk script for bench/sandbox_whoami.sh: GET /whoami with the key in CLEANLIST_BENCH_KEY (the
-- script passes the sandbox's built-in full-access key, a constant of the sandbox).
-- luacheck: globals wrk
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("CLEANLIST_BENCH_KEY"), "CLEANLIST_BENCH_KEY is not set")
