#!/usr/bin/env python3
"""Convert public machine-readable HL7 v2.5.1 definitions into spec/hl7v2.5.1/*.json.

Sources (both MIT licensed; only facts are read, no code is copied):
  * npm  hl7-dictionary  -- segments (long field names, lengths, optionality, repetition,
                            tables), datatypes with components, table descriptions.
  * PyPI hl7apy          -- v2.5.1 message structures (groups, choice groups), version-specific
                            table code lists, a few field tables hl7-dictionary lacks.

Usage:
  python3 convert_base.py --dict-dir DIR --hl7apy-path DIR --out spec/hl7v2.5.1 \
      --dict-version X --hl7apy-version Y

  --dict-dir     root of the installed hl7-dictionary package (holds lib/2.5.1/*.js, lib/tables.js)
  --hl7apy-path  directory that contains the `hl7apy` package (e.g. a venv's site-packages);
                 only its data modules hl7apy.v2_5_1.* and hl7apy.v2_7.tables are imported.

Python 3.11, standard library only. Output is deterministic: map keys sorted, records in a fixed
key order, 2-space indent, trailing newline.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from pathlib import Path

VERSION = "2.5.1"
SRC = "hl7v2.5.1"

SEGMENTS = (
    "MSH SFT NTE PID PD1 NK1 PV1 PV2 IN1 IN2 IN3 GT1 AL1 ORC OBR RQD RQ1 RXO ODS ODT CTD DG1 "
    "OBX FT1 CTI BLG TQ1 TQ2 SPM DSC IPC MSA ERR"
).split()
STRUCTURES = ["ACK", "OMI_O23", "ORM_O01", "ORU_R01"]

# hl7-dictionary "opt" codes. 3 only occurs on components and marks HL7's conditional ones
# (HD-2/HD-3, EI-3/EI-4, CWE-7, XCN-8, ...). Fields only carry 1 and 2.
OPT_USAGE = {1: "O", 2: "R", 3: "C", 4: "B"}

# hl7apy writes some HL7 code ranges as one row: "E1... E9", "10 _19", "31 _ 39"; and "2 _" for
# "2 and higher".
RANGE = re.compile(r"^([A-Z]*)(\d+)\s*(?:\.\.\.|_)\s*([A-Z]*)(\d+)$")
OPEN_RANGE = re.compile(r"^(\d+)\s*(?:\.\.\.|_)$")


# --------------------------------------------------------------------------- helpers

def load_js_object(path: Path) -> dict:
    """hl7-dictionary files are `var x = { ...JSON... };\nmodule.exports = x;`."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index("{"), text.rindex("}")
    return json.loads(text[start : end + 1])


def clean(s: str) -> str:
    """Collapse runs of whitespace (including NBSP) and strip."""
    return re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip()


def table_id(t) -> str | None:
    """1 / "1" / "HL70001" -> "0001"."""
    if t is None or t == "":
        return None
    s = str(t)
    if s.upper().startswith("HL7"):
        s = s[3:]
    return "%04d" % int(s) if s.isdigit() else s


def dt_name(dt: str | None) -> str | None:
    if dt is None:
        return None
    return "varies" if dt.upper() == "VARIES" else dt


def max_of(m: int):
    return "*" if m == -1 else m


class Notes:
    """Collects every disagreement / fix, written into SOURCE.md."""

    def __init__(self):
        self.items: dict[str, list[str]] = {}

    def add(self, section: str, text: str):
        self.items.setdefault(section, []).append(text)


# --------------------------------------------------------------------------- conversion

def convert(dict_dir: Path, apy_path: Path, notes: Notes):
    lib = dict_dir / "lib"
    d_fields = load_js_object(lib / VERSION / "fields.js")
    d_segments = load_js_object(lib / VERSION / "segments.js")
    d_messages = load_js_object(lib / VERSION / "messages.js")
    d_tables = load_js_object(lib / "tables.js")

    sys.path.insert(0, str(apy_path))
    a_seg = importlib.import_module("hl7apy.v2_5_1.segments").SEGMENTS
    a_dt = importlib.import_module("hl7apy.v2_5_1.datatypes").DATATYPES
    a_tab = importlib.import_module("hl7apy.v2_5_1.tables").TABLES
    a_msg = importlib.import_module("hl7apy.v2_5_1.messages").MESSAGES
    a_grp = importlib.import_module("hl7apy.v2_5_1.groups").GROUPS
    a_tab27 = importlib.import_module("hl7apy.v2_7.tables").TABLES

    table_refs: dict[str, list[tuple[str, str]]] = {}  # table -> [(path, primitive dt)]
    ref_names: dict[str, str] = {}  # path -> long name

    def ref_table(tid, path, dt):
        if tid:
            table_refs.setdefault(tid, []).append((path, dt))

    def merge_table(path, d_t, a_t):
        d_t, a_t = table_id(d_t), table_id(a_t)
        if d_t and a_t and d_t != a_t:
            notes.add("tables", f"{path}: hl7-dictionary table {d_t}, hl7apy {a_t}; hl7-dictionary kept")
        if not d_t and a_t:
            notes.add("tables", f"{path}: table {a_t} only in hl7apy; taken from hl7apy")
        return d_t or a_t

    # ---------------- segments
    segments = {}
    used_dts: set[str] = set()
    for seg in SEGMENTS:
        dseg = d_segments[seg]
        afields = a_seg[seg][1]
        if len(dseg["fields"]) != len(afields):
            notes.add("segments", f"{seg}: {len(dseg['fields'])} fields in hl7-dictionary, "
                                  f"{len(afields)} in hl7apy; hl7-dictionary kept")
        fields = []
        for pos, df in enumerate(dseg["fields"], 1):
            path = f"{seg}-{pos}"
            af = afields[pos - 1] if pos <= len(afields) else None
            a_ref = af[1] if af else None
            a_min, a_max = af[2] if af else (None, None)
            dt = dt_name(df["datatype"])
            a_dtn = dt_name(a_ref[2]) if a_ref else None
            if a_ref and a_dtn != dt:
                notes.add("segments", f"{path}: datatype {dt} in hl7-dictionary, {a_dtn} in hl7apy; "
                                      "hl7-dictionary kept")
            usage = OPT_USAGE[df["opt"]]
            mn = 1 if usage == "R" else 0
            rep = df["rep"]
            if rep == 0:
                mx = "*"
            elif rep == 1:
                mx = 1
            elif table_id(df.get("table")) == table_id(rep) and a_max is not None:
                # hl7-dictionary carries the table number in "rep" here (OBX-2: rep 125 = table 0125)
                mx = max_of(a_max)
                notes.add("fixes", f"{path}: hl7-dictionary repetition {rep} equals its table number "
                                   f"(data error); hl7apy max {mx} used")
            else:
                mx = rep
            if a_min is not None and a_min != mn:
                notes.add("segments", f"{path}: min {mn} (hl7-dictionary) vs {a_min} (hl7apy); "
                                      "hl7-dictionary kept")
            if a_max is not None and max_of(a_max) != mx:
                extra = " (hl7apy marks the field withdrawn/reserved)" if a_max == 0 else ""
                notes.add("segments", f"{path}: max {mx} (hl7-dictionary) vs {max_of(a_max)} (hl7apy)"
                                      f"{extra}; hl7-dictionary kept")
            table = merge_table(path, df.get("table"), a_ref[4] if a_ref else None)
            ln = df.get("len")
            if ln is None:
                notes.add("gaps", f"{path} ({clean(df['desc'])}): no length in hl7-dictionary; len null")
            fields.append({"pos": pos, "name": clean(df["desc"]), "datatype": dt, "usage": usage,
                           "min": mn, "max": mx, "len": ln, "table": table})
            ref_table(table, path, dt)
            ref_names[path] = clean(df["desc"])
            used_dts.add(df["datatype"])
        segments[seg] = {"name": clean(dseg["desc"]), "fields": fields}

    # ---------------- datatypes (closure over components)
    # OBX-5 is "varies": its datatype is OBX-2's value, a code of HL7 table 0125 (Value Type).
    # Those datatypes are reachable at run time though no field names them, so they are seeded
    # here (the codes of table 0125 in v2.5.1 that hl7-dictionary defines for that version).
    value_types = ["AD", "CE", "CF", "CK", "CN", "CP", "CX", "DT", "ED", "FT", "MO", "NM", "PN",
                   "RP", "SN", "ST", "TM", "TN", "TS", "TX", "XAD", "XCN", "XON", "XPN", "XTN"]
    for vt in value_types:
        if vt in d_fields:
            used_dts.add(vt)
        else:
            notes.add("datatypes", f"table 0125 value type {vt}: not defined by hl7-dictionary for 2.5.1")
    datatypes = {}
    todo = sorted(used_dts)
    seen = set(todo)
    while todo:
        src_dt = todo.pop(0)
        dd = d_fields[src_dt]
        name = dt_name(src_dt)
        subs = dd.get("subfields", [])
        if not subs:
            datatypes[name] = {"name": clean(dd["desc"]), "primitive": True}
            continue
        comps = []
        for pos, c in enumerate(subs, 1):
            path = f"{name}.{pos}"
            a_c = a_dt.get(f"{src_dt}_{pos}")
            cdt = dt_name(c["datatype"])
            if a_c is None:
                notes.add("datatypes", f"{path}: absent from hl7apy")
            elif a_c[2] != c["datatype"]:
                notes.add("datatypes", f"{path}: datatype {cdt} in hl7-dictionary, {a_c[2]} in hl7apy; "
                                       "hl7-dictionary kept")
            table = merge_table(path, c.get("table"), a_c[4] if a_c else None)
            usage = OPT_USAGE[c["opt"]]
            if c.get("rep", 1) != 1:
                notes.add("datatypes", f"{path}: hl7-dictionary repetition {c['rep']} ignored")
            comps.append({"pos": pos, "name": clean(c["desc"]), "datatype": cdt, "usage": usage,
                          "len": c.get("len"), "table": table})
            ref_table(table, path, cdt)
            ref_names[path] = clean(c["desc"])
            if c["datatype"] not in seen:
                seen.add(c["datatype"])
                todo.append(c["datatype"])
        n_apy = sum(1 for k in a_dt if k.rsplit("_", 1)[0] == src_dt)
        if n_apy != len(subs):
            notes.add("datatypes", f"{name}: {len(subs)} components in hl7-dictionary, {n_apy} in hl7apy")
        datatypes[name] = {"name": clean(dd["desc"]), "primitive": False, "components": comps}
    multi_space = [n for n in d_fields if any(re.search(r"\s{2,}", s["desc"])
                                               for s in d_fields[n].get("subfields", []))]
    if multi_space:
        notes.add("fixes", "whitespace runs in hl7-dictionary component names collapsed "
                           f"(datatypes {', '.join(sorted(multi_space))})")

    # ---------------- tables
    tables = {}
    for tid in sorted(table_refs):
        refs = table_refs[tid]
        prims = {dt for _, dt in refs if dt in ("ID", "IS")}
        kind = {frozenset({"ID"}): "HL7", frozenset({"IS"}): "User"}.get(frozenset(prims))
        if prims == {"ID", "IS"}:
            notes.add("tables", f"{tid}: referenced by both ID and IS elements "
                                f"({', '.join(p for p, _ in refs)}); kind null")
        key = "HL7" + tid
        dtab = d_tables.get(str(int(tid))) if tid.isdigit() else None
        atab = a_tab.get(key)
        name = None
        if dtab:
            name = clean(dtab["desc"])
        elif atab:
            name = clean(atab[0])
        elif key in a_tab27:
            name = clean(a_tab27[key][0])
            notes.add("table_names", f"{tid} {name}")
        else:
            name = ref_names[refs[0][0]]
            notes.add("gaps", f"table {tid}: no name in any source; named after its first reference "
                              f"{refs[0][0]} \"{name}\"")
        if dtab and atab and clean(dtab["desc"]).lower() != clean(atab[0]).lower():
            notes.add("table_names_diff", f"{tid}: \"{clean(dtab['desc'])}\" (hl7-dictionary, kept) vs "
                                          f"\"{clean(atab[0])}\" (hl7apy)")
        descs = {clean(k): clean(v) for k, v in (dtab or {}).get("values", {}).items()}
        values = []
        if atab:
            codes = []
            for raw in atab[1]:
                code = clean(raw)
                if code in ("...", "_", ""):
                    notes.add("fixes", f"table {tid}: placeholder row {raw!r} of hl7apy dropped")
                    continue
                if "," in code and " " not in code:
                    parts = [p for p in code.split(",") if p]
                    notes.add("fixes", f"table {tid}: hl7apy code {raw!r} split into {', '.join(parts)}")
                    codes.extend(parts)
                    continue
                m = RANGE.match(code)
                if m and m.group(1) == m.group(3) and int(m.group(2)) < int(m.group(4)):
                    parts = [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(4)) + 1)]
                    notes.add("fixes", f"table {tid}: hl7apy range row {raw!r} expanded to "
                                       f"{parts[0]}..{parts[-1]}")
                    codes.extend(parts)
                    continue
                m = OPEN_RANGE.match(code)
                if m:
                    notes.add("fixes", f"table {tid}: hl7apy open range row {raw!r} written as its first "
                                       f"code {m.group(1)!r} (HL7: \"{m.group(1)} and higher\")")
                    codes.append(m.group(1))
                    continue
                if code != raw:
                    notes.add("fixes", f"table {tid}: hl7apy code {raw!r} trimmed to {code!r}")
                codes.append(code)
            seen_codes = set()
            for code in codes:
                if code in seen_codes:
                    continue
                seen_codes.add(code)
                values.append({"code": code, "description": descs.get(code)})
            dict_only = sorted(set(descs) - seen_codes)
            no_desc = [c for c in dict.fromkeys(codes) if c not in descs]
            if dict_only or no_desc:
                notes.add("table_values", f"{tid}: " + "; ".join(filter(None, [
                    dict_only and f"{len(dict_only)} code(s) only in hl7-dictionary dropped "
                                  f"({', '.join(dict_only[:6])}{', ...' if len(dict_only) > 6 else ''})",
                    no_desc and f"{len(no_desc)} hl7apy code(s) without description "
                                f"({', '.join(no_desc[:6])}{', ...' if len(no_desc) > 6 else ''})"])))
        elif dtab:
            values = [{"code": c, "description": d} for c, d in descs.items()]
            notes.add("table_values", f"{tid}: codes from hl7-dictionary only (not version-specific)")
        else:
            notes.add("empty_tables", tid)
        tables[tid] = {"name": name, "kind": kind, "values": values}

    # ---------------- structures
    def element(name, ref, card, kind, prefix):
        mn, mx = card
        base = {"usage": "R" if mn >= 1 else "O", "min": mn, "max": max_of(mx), "src": SRC}
        if kind == "SEG":
            return {"segment": name, **base}
        grp = a_grp[name]
        short = name[len(prefix):] if name.startswith(prefix) else name
        children = [element(c[0], c[1], c[2], c[3], prefix) for c in grp[1]]
        if grp[0] == "choice":
            return {"choice": short, **base, "alternatives": children}
        choices = [i for i, c in enumerate(children) if "choice" in c]
        if len(choices) == 1 and choices[0] == 0 and children[0]["min"] == 1 and children[0]["max"] == 1:
            # A group that begins with a required choice (ORM_O01 ORDER_DETAIL:
            # <OBR|RQD|RQ1|RXO|ODS|ODT> [{NTE}] [CTD] [{DG1}] [{OBSERVATION}]) is written as the
            # choice itself, each alternative a group <SEG>_SEQ = the alternative + the rest.
            rest = children[1:]
            alts = []
            for alt in children[0]["alternatives"]:
                alt_name = alt.get("segment") or alt.get("group")
                alts.append({"group": f"{alt_name}_SEQ", "usage": "R", "min": 1, "max": 1, "src": SRC,
                             "children": [alt] + json.loads(json.dumps(rest))})
            notes.add("structures", f"{prefix.rstrip('_')} {short}: hl7apy group {name} whose first child is the "
                                    f"choice group {grp[1][0][0]} written as choice {short} with alternatives "
                                    f"{', '.join(a['group'] for a in alts)}")
            return {"choice": short, **base, "alternatives": alts}
        return {"group": short, **base, "children": children}

    structures = {}
    for st in STRUCTURES:
        structures[st] = [element(c[0], c[1], c[2], c[3], st + "_") for c in a_msg[st][1]]
        compare_structure(st, structures[st], d_messages.get(st), notes)
        for seg in iter_segments(structures[st]):
            if seg not in segments:
                notes.add("gaps", f"{st}: segment {seg} not in the converted segment list")

    return segments, datatypes, tables, structures


def iter_segments(elements):
    for e in elements:
        if "segment" in e:
            yield e["segment"]
        yield from iter_segments(e.get("children", []))
        yield from iter_segments(e.get("alternatives", []))


def compare_structure(st, ours, dmsg, notes: Notes):
    """Cross-check hl7apy's structure against hl7-dictionary's messages.js (max 0 = unbounded)."""
    if dmsg is None:
        notes.add("structures", f"{st}: absent from hl7-dictionary messages; not cross-checked")
        return

    def flat_ours(elements, path):
        out = []
        for e in elements:
            if "choice" in e and all("group" in a and a["group"].endswith("_SEQ") for a in e["alternatives"]):
                # undo the ORDER_DETAIL rewriting for comparison
                first = e["alternatives"][0]["children"]
                out.append((path + e["choice"], e["min"], e["max"]))
                out.append((path + e["choice"] + "/<choice>", 1, 1))
                for a in e["alternatives"]:
                    out.append((path + e["choice"] + "/<choice>/" + a["children"][0]["segment"],
                                a["children"][0]["min"], a["children"][0]["max"]))
                out += flat_ours(first[1:], path + e["choice"] + "/")
            elif "choice" in e:
                out.append((path + "<choice>", e["min"], e["max"]))
                out += flat_ours(e["alternatives"], path + "<choice>/")
            elif "group" in e:
                out.append((path + e["group"], e["min"], e["max"]))
                out += flat_ours(e["children"], path + e["group"] + "/")
            else:
                out.append((path + e["segment"], e["min"], e["max"]))
        return out

    def flat_dict(items, path):
        out = []
        for e in items:
            mx = "*" if e["max"] == 0 else e["max"]
            if "compounds" in e:
                out.append((path + "<choice>", 1, 1))
                for c in e["compounds"]:
                    out.append((path + "<choice>/" + c["name"], c["min"], "*" if c["max"] == 0 else c["max"]))
            elif "children" in e:
                out.append((path + e["name"], e["min"], mx))
                out += flat_dict(e["children"], path + e["name"] + "/")
            else:
                out.append((path + e["name"], e["min"], mx))
        return out

    a = flat_ours(ours, "")
    d = flat_dict(dmsg["segments"]["segments"], "")
    if a == d:
        return
    a_map, d_map = {p: (mn, mx) for p, mn, mx in a}, {p: (mn, mx) for p, mn, mx in d}
    for p in [p for p, _, _ in a] + [p for p, _, _ in d if p not in a_map]:
        if p not in d_map:
            notes.add("structures", f"{st} {p}: only in hl7apy (kept)")
        elif p not in a_map:
            notes.add("structures", f"{st} {p}: only in hl7-dictionary (not taken)")
        elif a_map[p] != d_map[p]:
            notes.add("structures", f"{st} {p}: hl7apy {a_map[p]} vs hl7-dictionary {d_map[p]}; hl7apy kept")
    if [p for p, _, _ in a if p in d_map] != [p for p, _, _ in d if p in a_map]:
        notes.add("structures", f"{st}: element order differs between hl7apy and hl7-dictionary; hl7apy kept")


# --------------------------------------------------------------------------- output

def dump(path: Path, obj):
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def sort_map(m: dict) -> dict:
    return {k: m[k] for k in sorted(m)}


def source_md(args, notes: Notes, counts: dict) -> str:
    n = notes.items

    def section(key, empty="none"):
        items = n.get(key, [])
        return "\n".join(f"- {t}" for t in items) if items else f"- {empty}"

    empty = n.get("empty_tables", [])
    names27 = n.get("table_names", [])
    return f"""# HL7 v2.5.1 base definitions: sources

Generated by `spec/tools/convert_base.py` (run through `spec/tools/convert_base.sh`); do not edit
by hand, rerun instead. The files hold facts only; no code of either package is copied.

## Sources

| package | registry | version | licence | used for |
|---|---|---|---|---|
| `hl7-dictionary` | npm | {args.dict_version} | MIT | segments: long field names, datatypes, lengths, optionality (R/O), repetition, tables; datatypes: components (name, datatype, R/O/C, length, table), primitives; table names and value descriptions |
| `hl7apy` | PyPI | {args.hl7apy_version} | MIT | structures (`hl7apy/v2_5_1/messages.py`, `groups.py`): segment order, groups, choice groups, cardinalities; table code lists for v2.5.1 (`v2_5_1/tables.py`); field/component tables hl7-dictionary lacks; names of user tables absent from both v2.5.1 sources (`v2_7/tables.py`) |

hl7-dictionary data read: `lib/2.5.1/segments.js`, `lib/2.5.1/fields.js` (datatypes),
`lib/2.5.1/messages.js` (cross-check only), `lib/tables.js` (one table file for all versions).

## Rebuild

```
bash spec/tools/convert_base.sh
```

installs the pinned versions into a temporary directory (npm and a Python venv), runs the
converter, and rewrites `segments.json`, `datatypes.json`, `tables.json`, `structures.json` and this
file. Reruns give identical bytes.

## Contents

- segments: {counts['segments']} ({', '.join(SEGMENTS)}), {counts['fields']} fields
- datatypes: {counts['datatypes']} ({counts['primitives']} primitive), the closure of the fields' datatypes through components
- tables: {counts['tables']} referenced by those fields and components ({counts['tables_with_values']} with values, {len(empty)} empty)
- structures: {', '.join(STRUCTURES)}

## Rules applied

- usage: hl7-dictionary `opt` 2 -> `R` (min 1), 1 -> `O` (min 0), 3 -> `C` (components only).
  max: `rep` 1 -> 1, 0 -> `"*"`.
- Neither source carries HL7's conditional (`C`) or backward-compatible (`B`) usage reliably for
  fields: hl7-dictionary gives only R/O for fields (e.g. PID-2, a `B` field in HL7, is `O` here), and
  hl7apy gives only min/max. `C` appears only on components (from hl7-dictionary `opt` 3). No
  predicates are carried.
- OBX-5's datatype is written `varies` (hl7-dictionary `VARIES`), also as a primitive datatype.
- Datatypes: hl7-dictionary wins (hl7apy's `DR_SIMPLE` / `CQ_SIMPLE` component types are hl7apy
  parser artefacts for DR/CQ used inside composites). Primitives are those hl7-dictionary gives
  without components; `TS` is composite (DTM + Degree of Precision).
- Tables on fields/components: hl7-dictionary's when given, otherwise hl7apy's.
- Table `kind`: derived from the referencing datatype: tables referenced only by `ID` elements are
  `HL7` ("Coded values for HL7 tables"), only by `IS` elements `User` ("Coded value for
  user-defined tables"), otherwise null (tables reached only through CE/CWE/HD/... fields). HL7
  classes a few ID-coded tables as user-defined (e.g. 0203 Identifier Type); the sources do not
  say so, so check `kind` before relying on it.
- Table values: the code list is hl7apy's v2.5.1 list when hl7apy has the table (hl7-dictionary's
  `tables.js` is one file for all versions and holds later-version codes, e.g. 0125 has CWE/DTM
  where v2.5.1 has CE/TS); descriptions come from hl7-dictionary for the same code, else null.
  Closed ranges hl7apy writes as one row (`E1... E9`, `10 _19`) are expanded; codes that HL7 writes
  as patterns (e.g. `Q<integer>H`, `PRNxxx`, `HL7nnnn`, `NNxxx`, `TD<integer>`) and the special
  codes `<null>` (0356) and `Not present` (0207) are kept verbatim as hl7apy gives them.
- Table names: hl7-dictionary, else hl7apy v2.5.1, else hl7apy v2.7 (user tables without values).
- Structures: hl7apy. Group names lose the structure prefix (`ORM_O01_PATIENT` -> `PATIENT`). usage
  `R` when min >= 1 else `O`; max -1 -> `"*"`. Every element has `"src": "hl7v2.5.1"`.
- JSON: map keys sorted, records in fixed key order, 2-space indent, trailing newline.

## Fixes to source data

{section('fixes')}

## Structure rewriting and cross-check with hl7-dictionary messages.js

{section('structures', 'hl7apy and hl7-dictionary agree')}

## Disagreements between the sources

Segments (fields):

{section('segments')}

Field/component tables:

{section('tables')}

Datatypes:

{section('datatypes')}

Table names:

{section('table_names_diff')}

Table values:

{section('table_values')}

## Known gaps

- hl7apy has no lengths; all lengths come from hl7-dictionary.
- No conditional predicates, no conformance lengths (only HL7's maximum lengths), no `B`/`W`.
- MSA-5 (Delayed Acknowledgment Type) is withdrawn in v2.5.1 and OBX-20..22 are reserved for v2.6;
  hl7apy gives them max 0 and no datatype, hl7-dictionary keeps them as optional ST/ID fields without
  length; they are written as hl7-dictionary gives them (usage `O`, `len` null).
{section('gaps')}
- Tables with no values in either source (kept with an empty list): {', '.join(empty) if empty else 'none'}.
- Table names taken from hl7apy v2.7 (no v2.5.1 source names them): {', '.join(names27) if names27 else 'none'}.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dict-dir", required=True, type=Path)
    ap.add_argument("--hl7apy-path", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--dict-version", required=True)
    ap.add_argument("--hl7apy-version", required=True)
    args = ap.parse_args()

    notes = Notes()
    segments, datatypes, tables, structures = convert(args.dict_dir, args.hl7apy_path, notes)

    args.out.mkdir(parents=True, exist_ok=True)
    dump(args.out / "segments.json", {"version": VERSION, "segments": sort_map(segments)})
    dump(args.out / "datatypes.json", {"datatypes": sort_map(datatypes)})
    dump(args.out / "tables.json", {"tables": sort_map(tables)})
    dump(args.out / "structures.json", {"structures": sort_map(structures)})
    counts = {
        "segments": len(segments),
        "fields": sum(len(s["fields"]) for s in segments.values()),
        "datatypes": len(datatypes),
        "primitives": sum(1 for d in datatypes.values() if d["primitive"]),
        "tables": len(tables),
        "tables_with_values": sum(1 for t in tables.values() if t["values"]),
    }
    (args.out / "SOURCE.md").write_text(source_md(args, notes, counts), encoding="utf-8")
    print(json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
