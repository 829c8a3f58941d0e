#!/usr/bin/env bash
# Sandbox speed: GET /whoami on one kept-alive loopback connection (wrk -t1 -c1), rate limits
# off. Builds nothing: runs build/lua5.4/cleanlist (or $CLEANLIST_BIN). Needs wrk
# (`apt-get install -y wrk`). Prints
#   sandbox GET /whoami: N req/s (target 10000, ratio R)
# and exits non-zero below the target. Usage: bench/sandbox_whoami.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CLEANLIST_BIN:-build/lua5.4/cleanlist}
secs=${1:-5}
target=10000
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 2; }
[ -x "$bin" ] || { echo "no executable at $bin: build it with make (or set CLEANLIST_BIN)" >&2; exit 2; }
. bench/lib.sh
bench_sandbox "$bin" --rate-limit off
url=$bench_url
report=$(CLEANLIST_BENCH_KEY=$(bench_sandbox_key) wrk -t1 -c1 -d"${secs}s" -s bench/sandbox_whoami_wrk.lua "$url/whoami")
rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$report")
errors=$(grep -E "Non-2xx|Socket errors" <<<"$report" || true)
[ -n "$errors" ] && echo "$errors" >&2
[ -n "$rps" ] || { echo "$report" >&2; echo "wrk gave no figure" >&2; exit 2; }
ratio=$(awk -v r="$rps" -v t="$target" 'BEGIN { printf "%.2f", r / t }')
printf "sandbox GET /whoami: %.0f req/s (target %d, ratio %s)\n" "$rps" "$target" "$ratio"
[ -z "$errors" ] && awk -v r="$rps" -v t="$target" 'BEGIN { exit !(r >= t) }'
