#!/usr/bin/env bash
# Exchange throughput on SQLite, on PostgreSQL with one receiver, and on PostgreSQL with two
# receivers (BENCHMARKS.md, "Exchange throughput: SQLite or PostgreSQL"). Needs the release
# binary (cargo build --release -p telerad-exchange) and a PostgreSQL server:
#   eval "$(.ci/postgres.sh start /tmp/telerad-pg)"; bash benches/scripts/exchange_stores.sh RUNS MESSAGES
# Each run: a fresh SQLite file or a fresh database; 32 connections in all (two receivers: two
# `telerad load` of 16, one per receiver, started together). Prints one line per run:
#   store receivers run msg/s p50 p99   (two receivers: msg/s summed, p50/p99 of each load)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
messages="${2:-10000}"
bin=target/release/telerad
: "${TELERAD_TEST_PG:?TELERAD_TEST_PG (a PostgreSQL URL) is needed}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['$2'])" "$1"; }
serve() { # STORE OUT: starts a receiver, waits for its address
  # Removed first: the check below must not see an earlier run's address before the new
  # process has truncated the file.
  rm -f "$2"
  "$bin" serve --role platform --listen 127.0.0.1:0 --store "$1" --log-level warn > "$2" 2> "$2.err" &
  pids+=($!)
  for _ in $(seq 600); do [ -s "$2" ] && break; sleep 0.1; done
  [ -s "$2" ] || { echo "serve --store $1 did not start: $(cat "$2.err")" >&2; exit 1; }
}
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  pids=()
}
fresh_db() { # NAME -> URL of a new database
  python3 - "$TELERAD_TEST_PG" "$1" << 'PY'
import sys
base, name = sys.argv[1], sys.argv[2]
head, _, tail = base.partition('?')
print(head.rsplit('/', 1)[0] + '/' + name + ('?' + tail if tail else ''))
PY
}
psql() { /usr/lib/postgresql/*/bin/psql "$TELERAD_TEST_PG" -q "$@"; }
for run in $(seq "$runs"); do
  # SQLite
  serve "$work/load$run.db" "$work/a"
  out="$("$bin" load --to "$(head -1 "$work/a")" --connections 32 --messages "$messages")"
  echo "sqlite 1 $run $(field "$out" per_second) $(field "$out" p50_ms) $(field "$out" p99_ms)"
  stop_all
  # PostgreSQL, one receiver
  db="bench_one_$run"
  psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  url="$(fresh_db "$db")"
  serve "$url" "$work/a"
  out="$("$bin" load --to "$(head -1 "$work/a")" --connections 32 --messages "$messages")"
  echo "postgres 1 $run $(field "$out" per_second) $(field "$out" p50_ms) $(field "$out" p99_ms)"
  stop_all
  # PostgreSQL, two receivers
  db="bench_two_$run"
  psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  url="$(fresh_db "$db")"
  serve "$url" "$work/a"
  serve "$url" "$work/b"
  "$bin" load --to "$(head -1 "$work/a")" --connections 16 --messages $((messages / 2)) --run "A$run" > "$work/la" &
  la=$!
  "$bin" load --to "$(head -1 "$work/b")" --connections 16 --messages $((messages / 2)) --run "B$run" > "$work/lb" &
  lb=$!
  wait "$la" "$lb"
  a="$(cat "$work/la")"; b="$(cat "$work/lb")"
  sum="$(python3 -c "print(round($(field "$a" per_second) + $(field "$b" per_second)))")"
  echo "postgres 2 $run $sum $(field "$a" p50_ms)/$(field "$b" p50_ms) $(field "$a" p99_ms)/$(field "$b" p99_ms)"
  stop_all
done
