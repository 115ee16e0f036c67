#!/usr/bin/env python3
"""Writes spec/hl7v2.5.1/ of this test guide: the repository's converted HL7 v2.5.1 base
(../../../spec/hl7v2.5.1, see its SOURCE.md), cut down to the segments the ADT profiles use,
the datatypes they reach and the tables those name, plus EVN, which the repository's base does
not hold (its structures need none). A small base keeps the test crate's build short.

Run from anywhere: python3 guides/adt-test/spec/tools/subset_base.py. Output is deterministic.
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
REPO_BASE = HERE.parents[3] / "spec" / "hl7v2.5.1"
OUT = HERE.parent / "hl7v2.5.1"
KEEP = ["MSH", "PID", "PV1", "MSA", "ERR"]

# HL7 v2.5.1, chapter 3 (Patient Administration), section 3.4.1 "EVN - Event Type Segment":
# sequence, element name, datatype, length, optionality, repetition, table. EVN-1 is B
# (backward compatible) in the standard; the converted base carries R and O only (its
# SOURCE.md, "Rules applied"), so it is O here as in that base.
EVN = {
    "name": "Event Type",
    "fields": [
        {"pos": 1, "name": "Event Type Code", "datatype": "ID", "usage": "O", "min": 0, "max": 1, "len": 3, "table": "0003"},
        {"pos": 2, "name": "Recorded Date/Time", "datatype": "TS", "usage": "R", "min": 1, "max": 1, "len": 26, "table": None},
        {"pos": 3, "name": "Date/Time Planned Event", "datatype": "TS", "usage": "O", "min": 0, "max": 1, "len": 26, "table": None},
        {"pos": 4, "name": "Event Reason Code", "datatype": "IS", "usage": "O", "min": 0, "max": 1, "len": 3, "table": "0062"},
        {"pos": 5, "name": "Operator ID", "datatype": "XCN", "usage": "O", "min": 0, "max": "*", "len": 250, "table": "0188"},
        {"pos": 6, "name": "Event Occurred", "datatype": "TS", "usage": "O", "min": 0, "max": 1, "len": 26, "table": None},
        {"pos": 7, "name": "Event Facility", "datatype": "HD", "usage": "O", "min": 0, "max": 1, "len": 241, "table": None},
    ],
}


def load(name):
    return json.loads((REPO_BASE / name).read_text(encoding="utf-8"))


def main():
    segments = load("segments.json")
    datatypes = load("datatypes.json")["datatypes"]
    tables = load("tables.json")["tables"]
    kept = {k: segments["segments"][k] for k in KEEP}
    kept["EVN"] = EVN
    # The datatypes the kept fields reach, through components.
    reach, todo = set(), [f["datatype"] for s in kept.values() for f in s["fields"]]
    while todo:
        d = todo.pop()
        if d in reach or d == "varies":
            continue
        reach.add(d)
        todo.extend(c["datatype"] for c in datatypes[d].get("components", []))
    named = {f["table"] for s in kept.values() for f in s["fields"] if f.get("table")}
    named |= {c["table"] for d in reach for c in datatypes[d].get("components", []) if c.get("table")}
    OUT.mkdir(exist_ok=True)
    write(OUT / "segments.json", {"version": segments["version"], "segments": dict(sorted(kept.items()))})
    write(OUT / "datatypes.json", {"datatypes": {d: datatypes[d] for d in sorted(reach)}})
    # 0062 and 0188, which only EVN names, are not in the repository's base (no segment of it
    # names them): they stay out, and no profile here binds them.
    write(OUT / "tables.json", {"tables": {t: tables[t] for t in sorted(named) if t in tables}})


def write(path, value):
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
