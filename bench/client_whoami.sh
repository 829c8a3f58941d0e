#!/usr/bin/env bash
# Starts a sandbox (rate limits off), runs bench/client_whoami.lua against it, stops it.
# Usage: bench/client_whoami.sh [N]      CLEANLIST_BIN overrides the executable.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CLEANLIST_BIN:-build/lua5.4/cleanlist}
. bench/lib.sh
bench_sandbox "$bin" --rate-limit off
url=$bench_url
CLEANLIST_API_KEY=$(bench_sandbox_key) "$bin" bench/client_whoami.lua "$url" "${1:-2000}"
