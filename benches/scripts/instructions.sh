#!/usr/bin/env bash
# Instructions per operation, counted by callgrind (see benches/examples/instructions.rs):
# a measure that machine load does not move. Usage: benches/scripts/instructions.sh [OP:FIXTURE ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p benches --example instructions
bin=target/release/examples/instructions
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  cases=(parse:flux3_ok_ft.hl7 typed:flux3_ok_ft.hl7 er7-parse:flux3_ok_ft.hl7
         validate:flux3_ok_ft.hl7 check:flux3_ok_ft.hl7 ack:flux3_ok_ft.hl7
         typed:flux1_nw_full.hl7 er7-parse:flux1_nw_full.hl7 validate:flux1_nw_full.hl7 check:flux1_nw_full.hl7
         typed:bench/flux4_sr_ten_orders.hl7 er7-parse:bench/flux4_sr_ten_orders.hl7 check:bench/flux4_sr_ten_orders.hl7
         encode:- er7-encode:-)
fi
printf '| operation | input | instructions |\n|---|---|---:|\n'
for c in "${cases[@]}"; do
  op=${c%%:*}; fixture=${c#*:}; [ "$fixture" = - ] && fixture=flux3_ok_ft.hl7
  one=$(count "$op" "$fixture" 1); many=$(count "$op" "$fixture" 101)
  printf '| %s | %s | %s |\n' "$op" "$fixture" "$(( (many - one) / 100 ))"
done
