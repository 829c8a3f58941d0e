#!/usr/bin/env bash
# Starts a sandbox (rate limits off), runs bench/client_whoami.lua against it, stops it.
# Usage: bench/client_whoami.sh [N]      CLEANLIST_BIN overrides the executable.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CLEANLIST_BIN:-build/lua5.4/cleanlist}
out=$(mktemp)
flags=(--port 0 --quiet)
"$bin" sandbox --help | grep -q -- '--rate-limit' && flags+=(--rate-limit off)
coproc SB { exec "$bin" sandbox "${flags[@]}" >"$out"; }
trap 'kill "$SB_PID" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q LISTENING "$out" && break; sleep 0.1; done
url=$(awk '/LISTENING/ {print $2}' "$out")
CLEANLIST_API_KEY=clapi_sandbox_full_access_0000000000000000 "$bin" bench/client_whoami.lua "$url" "${1:-2000}"
