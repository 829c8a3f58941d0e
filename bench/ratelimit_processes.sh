#!/usr/bin/env bash
# Processes (three by default) on one key sharing the limiter file, against a sandbox with its real limits
# (30 a minute per key, sandbox time 60x): prints each process's answered and 429 counts and
# the share of the limit sustained after the first window.
# Usage: [STORE=redis://host:port/db] [PROCESSES=3] bench/ratelimit_processes.sh [CALLS_PER_PROCESS]
# (default 60). With STORE the processes share the limiter through that Redis instead of the file.
set -eu
cd "$(dirname "$0")/.."
bin=${CLEANLIST_BIN:-build/lua5.4/cleanlist}
calls=${1:-60}
procs=${PROCESSES:-3}
. bench/lib.sh
bench_sandbox "$bin" --time-scale 60
work=$bench_work url=$bench_url
cat >"$work/calls.lua" <<LUA
local cleanlist = require "cleanlist"
local c = cleanlist.new { max_retries = 0, rate_limit = { share = true, store = os.getenv("STORE") } }
local ok, limited = 0, 0
for _ = 1, $calls do
  local res, err = c:credits_balance()
  if res then ok = ok + 1 elseif err.kind == "rate_limited" then limited = limited + 1 end
end
print(("answered %d, 429s %d"):format(ok, limited))
LUA
start=$(date +%s.%N)
pids=()
for i in $(seq "$procs"); do
  XDG_RUNTIME_DIR=$work CLEANLIST_BASE_URL=$url CLEANLIST_TIME_SCALE=60 \
    CLEANLIST_API_KEY=$(bench_sandbox_key) "$bin" "$work/calls.lua" \
    >"$work/out$i" &
  pids+=($!)
done
wait "${pids[@]}"
end=$(date +%s.%N)
for i in $(seq "$procs"); do echo "process $i: $(cat "$work/out$i")"; done
# 3 x calls, plus each process's organisation lookup; the first window (1 s) is a burst
awk -v s="$start" -v e="$end" -v n=$((procs * calls + procs)) 'BEGIN {
  t = e - s; printf "%.2f s for %d requests: %.1f %% of the limit after the first window\n",
  t, n, (n - 30) / (t - 1) / 30 * 100 }'
