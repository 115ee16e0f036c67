#!/usr/bin/env bash
# Runs fuzz targets for a bounded time each, two at a time (the machine has two cores), and
# fails if any of them finds a crash, a timeout or an out-of-memory input.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]      (default: 60 s, every target)
#
# Each target starts from a temporary copy of its committed corpus (fuzz/corpus/<target>), so
# a run never writes into the repository; crash inputs and logs are kept in that temporary
# folder only for the message below. Needs cargo-fuzz (`cargo install cargo-fuzz --locked
# --version 0.13.2`); on the stable toolchain RUSTC_BOOTSTRAP=1 lets it pass the nightly-only
# instrumentation flags. Longer campaigns: RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds=${1:-60}
shift || true
# No sanitizer: the only `unsafe` is three SSE2 intrinsic calls in the runtime, whose one load
# asserts its bounds (a panic, not a silent over-read), so AddressSanitizer would mostly slow
# the search (RELIABILITY.md); panics, overflows (debug assertions are on), timeouts and memory
# blow-ups are what can go wrong, and libFuzzer catches all of them.
flags=(-s none)

cargo fetch --locked --quiet
cargo fuzz build "${flags[@]}"
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_one() {
  local t=$1
  mkdir -p "$work/$t"
  cp -R "corpus/$t/." "$work/$t/" 2>/dev/null || true
  # -max_len: the extractor caps its inputs at 4 KB, and bigger messages add no new shapes.
  if cargo fuzz run "${flags[@]}" "$t" "$work/$t" -- \
      -max_total_time="$seconds" -max_len=4096 -timeout=30 -rss_limit_mb=2048 \
      -artifact_prefix="$work/$t-" -print_final_stats=1 > "$work/$t.log" 2>&1; then
    echo "$t: $(grep -Eo '^#[0-9]+' "$work/$t.log" | tail -1 | tr -d '#') executions, no crash"
  else
    echo "$t: FAILED; end of its log:"
    tail -n 40 "$work/$t.log"
    for a in "$work/$t"-*; do
      [ -f "$a" ] && echo "crash input $a (base64): $(base64 -w0 "$a" | head -c 2000)"
    done
    return 1
  fi
}

passed=0
failed=0
pids=()
reap() {
  for p in "${pids[@]}"; do
    if wait "$p"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  pids=()
}
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=("$!")
  if [ "${#pids[@]}" -eq 2 ]; then reap; fi
done
reap
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
