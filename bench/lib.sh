# Sourced by the bench scripts (from the repository's root): the sandbox's built-in key, read
# from its one definition, and a sandbox started for a benchmark and stopped when it ends.

# The key that holds every scope (CL_SANDBOX_DEFAULT_KEY in sandbox/sandbox.h).
bench_sandbox_key() {
  sed -n 's/^#define CL_SANDBOX_DEFAULT_KEY "\(.*\)"$/\1/p' sandbox/sandbox.h
}

# bench_sandbox BIN FLAGS...: makes a work directory (bench_work), starts
# `BIN sandbox --port 0 --quiet FLAGS...`, waits until it listens (10 s at most) and sets
# bench_url to its API address. At exit the sandbox is stopped and the work directory removed.
# Exits with status 2 when the sandbox does not start.
bench_sandbox() {
  local bin=$1
  shift
  bench_work=$(mktemp -d)
  "$bin" sandbox --port 0 --quiet "$@" >"$bench_work/sandbox" 2>&1 &
  bench_pid=$!
  trap 'kill "$bench_pid" 2>/dev/null; wait "$bench_pid" 2>/dev/null; rm -rf "$bench_work"' EXIT
  bench_url=""
  for _ in $(seq 100); do
    bench_url=$(awk '/^LISTENING/ {print $2}' "$bench_work/sandbox")
    [ -n "$bench_url" ] && return 0
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the sandbox did not start:" >&2
  cat "$bench_work/sandbox" >&2
  exit 2
}
