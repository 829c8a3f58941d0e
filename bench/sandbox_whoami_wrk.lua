-- wrk script for bench/sandbox_whoami.sh: GET /whoami with the sandbox's built-in full-access
-- key (a constant of the sandbox, not a secret).
-- luacheck: globals wrk
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer "
  .. (os.getenv("CLEANLIST_BENCH_KEY") or "clapi_sandbox_full_access_0000000000000000")
