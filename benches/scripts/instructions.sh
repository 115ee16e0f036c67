#!/usr/bin/env bash
# Instructions per operation, counted by callgrind (see benches/examples/instructions.rs):
# a measure that machine load does not move. Each operation runs 1 and 101 times; the
# difference over 100 is its cost, start-up and the registry's first use left out.
#
#   benches/scripts/instructions.sh [OP:FIXTURE ...]   a table (default: the cases below)
#   benches/scripts/instructions.sh --check            compares the recorded cases with
#                                                      benches/instructions.recorded and fails
#                                                      when one grew by more than 5 % (CI)
#   benches/scripts/instructions.sh --record           measures them and rewrites that file
#   benches/scripts/instructions.sh --misses [OP:FIXTURE ...]
#                                                      the table with a second column: misses
#                                                      of a simulated 32 KB 8-way L1
#                                                      instruction cache per operation
#
# The misses explain what the instructions do not (BENCHMARKS.md, issue 21's tenth session):
# code spread over more than the instruction cache holds runs slower than its count says. They
# are informative, not checked: a change anywhere moves where functions lie, and with them
# which ones share a cache set.
# A deliberate slowdown to see --check fail (BENCHMARKS.md, "Instruction counts in CI"):
#   sed -i 's/^const CACHED_SEPS: usize = 48;/const CACHED_SEPS: usize = 2;/' runtime/src/er7/views.rs
set -euo pipefail
cd "$(dirname "$0")/../.."
recorded=benches/instructions.recorded
# Growth tolerated by --check, in percent: the counts move by well under 1 % between runs of
# the same binary (allocator and hashing seeds), so 5 % is a change of the code.
tolerance=5

mode=table
case "${1:-}" in
  --check) mode=check; shift ;;
  --record) mode=record; shift ;;
  --misses) mode=misses; shift ;;
esac

cargo build -q --release --locked -p benches --example instructions
bin=target/release/examples/instructions
# One run's instructions; with `sim` set, its instructions and L1i misses (callgrind's
# cache simulation counts Ir Dr Dw I1mr ...: the first and the fourth).
count() {
  valgrind --tool=callgrind ${sim:+--cache-sim=yes --I1=32768,8,64} --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 >/dev/null \
    | sed -n 's/.*Collected : \([0-9]*\) [0-9]* [0-9]* \([0-9]*\).*/\1 \2/p; t; s/.*Collected : \([0-9]*\).*/\1/p'
}
per_op() {
  local op=${1%%:*} fixture=${1#*:}
  [ "$fixture" = - ] && fixture=flux3_ok_ft.hl7
  local one many
  one=$(count "$op" "$fixture" 1); many=$(count "$op" "$fixture" 101)
  if [ -z "$one" ] || [ -z "$many" ]; then
    echo "instructions.sh: callgrind gave no count for $1 (is valgrind installed?)" >&2
    exit 2
  fi
  if [ -n "${sim:-}" ]; then
    read -r ir1 miss1 <<<"$one"; read -r ir2 miss2 <<<"$many"
    echo "$(( (ir2 - ir1) / 100 )) | $(( (miss2 - miss1) / 100 ))"
  else
    echo $(( (many - one) / 100 ))
  fi
}

# What the CPU offers changes which search routine memchr picks, so the recorded counts say
# which kind of CPU they come from; --check warns when this one differs.
cpu() { if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo avx2; else echo no-avx2; fi; }

# The cases --check guards (issue 21): parse, the peers' read and visit workloads, typed parse, check (parse + validation), the ACK
# and builder encoding, on the three inputs of the validation issue; parse and read of a report of 80
# lines, whose escapes the parse lists and the read searches for.
guarded=(parse:flux3_ok_ft.hl7 read:flux3_ok_ft.hl7 visit:flux3_ok_ft.hl7 typed:flux3_ok_ft.hl7 typed:flux1_nw_full.hl7
         parse:bench/flux3_ok_ft_80_lines.hl7 read:bench/flux3_ok_ft_80_lines.hl7
         check:flux3_ok_ft.hl7 check:flux1_nw_full.hl7 check:bench/flux4_sr_ten_orders.hl7
         ack:flux3_ok_ft.hl7 encode:-)

case $mode in
  table|misses)
    cases=("$@")
    if [ ${#cases[@]} -eq 0 ]; then
      cases=(parse:flux3_ok_ft.hl7 typed:flux3_ok_ft.hl7 er7-parse:flux3_ok_ft.hl7
             validate:flux3_ok_ft.hl7 check:flux3_ok_ft.hl7 ack:flux3_ok_ft.hl7
             typed:flux1_nw_full.hl7 er7-parse:flux1_nw_full.hl7 validate:flux1_nw_full.hl7 check:flux1_nw_full.hl7
             typed:bench/flux4_sr_ten_orders.hl7 er7-parse:bench/flux4_sr_ten_orders.hl7 check:bench/flux4_sr_ten_orders.hl7
             parse:bench/flux3_ok_ft_80_lines.hl7 read:bench/flux3_ok_ft_80_lines.hl7 er7-read:bench/flux3_ok_ft_80_lines.hl7
             encode:- er7-encode:-)
    fi
    if [ $mode = misses ]; then
      sim=1
      printf '| operation | input | instructions | L1i misses |\n|---|---|---:|---:|\n'
    else
      printf '| operation | input | instructions |\n|---|---|---:|\n'
    fi
    for c in "${cases[@]}"; do
      printf '| %s | %s | %s |\n' "${c%%:*}" "${c#*:}" "$(per_op "$c")"
    done
    ;;
  record)
    {
      echo "# Instructions per operation (benches/scripts/instructions.sh --record), checked by --check in CI."
      echo "# cpu $(cpu)"
      for c in "${guarded[@]}"; do echo "$c $(per_op "$c")"; done
    } > "$recorded.tmp"
    mv "$recorded.tmp" "$recorded"
    cat "$recorded"
    ;;
  check)
    [ -f "$recorded" ] || { echo "instructions.sh: $recorded is missing (run --record)" >&2; exit 2; }
    was_cpu=$(sed -n 's/^# cpu //p' "$recorded")
    if [ "$was_cpu" != "$(cpu)" ]; then
      # The segment scan takes its AVX2 path only where the CPU has AVX2, and memchr picks its
      # routines by CPU too: counts from the other kind of CPU say nothing about the code.
      echo "WARNING: the counts were recorded on a CPU with $was_cpu, this one has $(cpu): the scan's and memchr's paths differ, so the counts are not comparable. THE INSTRUCTION-COUNT CHECK IS SKIPPED on this machine (run --record on a $(cpu) machine to check here)." >&2
      exit 0
    fi
    failed=0
    printf '| operation | input | recorded | now | change |\n|---|---|---:|---:|---:|\n'
    while read -r c was; do
      case $c in '#'*|'') continue ;; esac
      now=$(per_op "$c")
      # Per mille, in integers: 1000 × (now − was) / was.
      change=$(( (now - was) * 1000 / was ))
      sign="+"; abs=$change
      if [ "$change" -lt 0 ]; then sign="-"; abs=$(( -change )); fi
      verdict=""
      if [ $(( now * 100 )) -gt $(( was * (100 + tolerance) )) ]; then verdict=" **grew by more than ${tolerance} %**"; failed=1; fi
      printf '| %s | %s | %s | %s | %s%d.%d %%%s |\n' "${c%%:*}" "${c#*:}" "$was" "$now" "$sign" $(( abs / 10 )) $(( abs % 10 )) "$verdict"
    done < "$recorded"
    if [ $failed -ne 0 ]; then
      echo "instructions.sh: an operation costs more than ${tolerance} % over $recorded; if the growth is meant, say why in the commit and run --record" >&2
      exit 1
    fi
    echo "every operation within ${tolerance} % of $recorded"
    ;;
esac
