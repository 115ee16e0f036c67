#!/usr/bin/env python3
"""Prints the tables of BENCHMARKS.md from a saved criterion baseline.

    cargo bench -p benches -- --save-baseline NAME
    python3 benches/scripts/table.py NAME > /tmp/tables.md

Medians (criterion's median point estimate), throughput from the input size, and for every
group that has a `floor` (the SIMD delimiter scan) the ratio to it; for the peer groups, the
ratio of each peer's median to ours.
"""
import json, os, sys

base = sys.argv[1] if len(sys.argv) > 1 else "issue6"
root = os.path.join(os.path.dirname(__file__), "..", "..", "target", "criterion")
rows = {}
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != base or "benchmark.json" not in files:
        continue
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    est = json.load(open(os.path.join(dirpath, "estimates.json")))
    median = est["median"]["point_estimate"]  # ns
    tp = (bench.get("throughput") or {}).get("Bytes")
    rows.setdefault(bench["group_id"], []).append((bench["function_id"], median, tp))

def fmt_t(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns:.3g} ns"

def fmt_tp(tp, ns):
    if not tp:
        return ""
    bps = tp / (ns / 1e9)
    return f"{bps / 1e9:.2f} GB/s" if bps >= 1e9 else f"{bps / 1e6:.0f} MB/s"

for group in sorted(rows):
    items = rows[group]
    by = {f: m for f, m, _ in items}
    floor = by.get("floor")
    ours = by.get("ours-typed") or by.get("ours")
    head = "| benchmark | median | throughput |"
    sep = "|---|---:|---:|"
    if floor:
        head += " × floor |"
        sep += "---:|"
    if ours and floor:
        head += " peer ÷ ours |"
        sep += "---:|"
    print(f"\n**{group}**\n")
    print(head)
    print(sep)
    for f, m, tp in sorted(items, key=lambda r: r[1]):
        line = f"| {f} | {fmt_t(m)} | {fmt_tp(tp, m)} |"
        if floor:
            line += f" {m / floor:.1f} |"
        if ours and floor:
            line += f" {m / ours:.2f} |"
        print(line)
