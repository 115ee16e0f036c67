//! `extract`: reads the guide's pages (`<ig>/input/pagecontent/`) into
//! `telerad/<profile>.tables.json`. Facts come only from the pages' tables; a cell that cannot be
//! read is reported (`<page>#t<N>.r<M>: <what>`) and its value left out, for the profile's
//! `.hand.json` to supply. What is not in the tables and is configuration (which page and
//! structure table make which profile, the profile's message, slice names) is in `PROFILES` and
//! `slice_name`.

mod base;
pub mod code_tables;
pub mod constraints;
pub mod html;
pub mod report;
pub mod structure;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Map, Value};

use html::{parse_page, Page};
pub use report::{Finding, Report};

struct Profile {
    id: &'static str,
    title: &'static str,
    /// (code, event, structure)
    message: (&'static str, Option<&'static str>, &'static str),
    /// Index of the structure table in `st-profils.md`.
    structure_table: usize,
    page: &'static str,
    includes: &'static [&'static str],
}

const PROFILES: &[Profile] = &[
    Profile {
        id: "flux1_orm_o01_nw",
        title: "Flux 1 - transmission de la demande d'examen d'imagerie",
        message: ("ORM", Some("O01"), "ORM_O01"),
        structure_table: 1,
        page: "st_flux1.md",
        includes: &["common"],
    },
    Profile {
        id: "flux2_orm_o01_ca",
        title: "Flux 2 - annulation de la demande d'examen d'imagerie",
        message: ("ORM", Some("O01"), "ORM_O01"),
        structure_table: 2,
        page: "st_flux2.md",
        includes: &["common"],
    },
    Profile {
        id: "flux3_oru_r01",
        title: "Flux 3 - réponse à la demande d'examen d'imagerie",
        message: ("ORU", Some("R01"), "ORU_R01"),
        structure_table: 3,
        page: "st_flux3.md",
        includes: &["common"],
    },
    Profile {
        id: "flux4_omi_o23",
        title: "Flux 4 - transmission d'un complément d'information post-acte",
        message: ("OMI", Some("O23"), "OMI_O23"),
        structure_table: 4,
        page: "st_flux4.md",
        includes: &["common"],
    },
    Profile {
        id: "ack",
        title: "Acquittement technique HL7 v2 (ACK) des flux 1 à 4",
        message: ("ACK", None, "ACK"),
        structure_table: 5,
        page: "acquittement.md",
        includes: &[],
    },
];

const COMMON_PAGE: &str = "st-contraintes.md";
const COMMON_TITLE: &str = "Contraintes communes à l'ensemble des messages (MSH, PID, PV1)";

/// Slice names, keyed by the OBX-3.1 code and, where one code has several slices, OBX-4's shape
/// or OBX-2's value.
fn slice_name(code: &str, pattern: Option<&str>, obx2: Option<&str>) -> Option<&'static str> {
    Some(match (code, pattern, obx2) {
        ("MODALITE_IMAGERIE", _, _) => "modality",
        ("REGION_ANATOMIQUE", Some("n.1"), _) => "anatomical_region",
        ("REGION_ANATOMIQUE", Some("n.2"), _) => "topographic_precision",
        ("11322-5", _, _) => "history",
        ("8302-2", _, _) => "body_height",
        ("29463-7", _, _) => "body_weight",
        ("82810-3", _, _) => "pregnancy_status",
        ("PROTOCOLE_IMAGERIE", _, Some("FT")) => "protocol_text",
        ("PROTOCOLE_IMAGERIE", _, Some("ED")) => "protocol_encapsulated",
        ("URL_PARTIELLE_VIEWER", _, _) => "viewer_url",
        ("CODE_ACTE_IMAGERIE", _, _) => "procedure_code",
        ("PRODUIT_ADMINISTRE", Some("n.1"), _) => "administered_product_code",
        ("PRODUIT_ADMINISTRE", Some("n.2"), _) => "administered_product_lot",
        ("PRODUIT_ADMINISTRE", Some("n.3"), _) => "administered_product_quantity",
        ("APPAREIL_IMAGERIE", Some("n.1"), _) => "device_identifier",
        ("APPAREIL_IMAGERIE", Some("n.2"), _) => "device_model",
        _ => return None,
    })
}

/// Reads the pages of `<ig>/input/pagecontent/` and returns the files to write (name under
/// `telerad/` → JSON text) with what could not be read. Errors are I/O errors.
pub fn extract(ig: &Path) -> std::io::Result<(BTreeMap<String, String>, Report)> {
    let dir = ig.join("input").join("pagecontent");
    let load = |name: &str| -> std::io::Result<Page> {
        let p = dir.join(name);
        let text = std::fs::read_to_string(&p).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        Ok(parse_page(name, &text))
    };
    let mut report = Report::default();
    let mut files = BTreeMap::new();

    // Code tables first: their names tell which X.3 values name a local table.
    let mut tables = Map::new();
    for (page, title) in code_tables::PAGES {
        if let Some((name, t)) = code_tables::read(&load(page)?, title, &mut report) {
            tables.insert(name, t);
        }
    }
    let local: Vec<String> = tables.keys().cloned().collect();
    let mut ct = Map::new();
    ct.insert("tables".into(), Value::Object(tables));
    files.insert("code_tables.tables.json".to_string(), to_text(&Value::Object(ct)));

    let profils = load("st-profils.md")?;
    let common = load(COMMON_PAGE)?;

    // Common: the three field tables of st-contraintes.md.
    let mut common_segments = Vec::new();
    let mut message_types: Option<(String, Vec<String>)> = None;
    for t in &common.tables {
        let ft = constraints::field_table(COMMON_PAGE, t, &mut report);
        if ft.message_types.is_some() {
            message_types = ft.message_types;
        }
        if let Some(seg) = segment_of(&ft.elements) {
            common_segments.push(segment_obj(&seg, None, None, None, &t.src(COMMON_PAGE, 1), ft.elements));
        }
    }
    let mut c = Map::new();
    c.insert("profile".into(), json!("common"));
    c.insert("title".into(), json!(COMMON_TITLE));
    c.insert("segments".into(), Value::Array(common_segments));
    files.insert("common.tables.json".to_string(), to_text(&Value::Object(c)));

    for p in PROFILES {
        let mut structure_v = Vec::new();
        match profils.table(p.structure_table) {
            Some(t) => structure_v = structure::read("st-profils.md", t, &mut report),
            None => report.push(format!("st-profils.md#t{}", p.structure_table), "structure table missing"),
        }
        let page = load(p.page)?;
        let mut segments = Vec::new();
        let mut slices: Vec<Value> = Vec::new();
        if p.id == "ack" {
            for t in &page.tables {
                if t.rows.first().and_then(|r| r.first()).is_some_and(|c| c.text.starts_with("Message initial")) {
                    continue;
                }
                let mut ft = constraints::field_table(p.page, t, &mut report);
                if let Some((src, types)) = &ft.message_types {
                    let at = ft.elements.iter().position(|e| e["src"] == json!(src)).map_or(ft.elements.len(), |i| i + 1);
                    let comps = message_components(src, types);
                    for (k, e) in comps.into_iter().enumerate() {
                        ft.elements.insert(at + k, e);
                    }
                }
                if let Some(seg) = segment_of(&ft.elements) {
                    let row = structure::find_segment(&structure_v, &seg);
                    segments.push(segment_obj(&seg, None, row, None, &t.src(p.page, 1), ft.elements));
                }
            }
        } else {
            if let Some((src, types)) = &message_types {
                let mine = format!("{}^{}^{}", p.message.0, p.message.1.unwrap_or(""), p.message.2);
                if types.contains(&mine) {
                    let row = structure::find_segment(&structure_v, "MSH");
                    let src1 = src.split_once(".r").map(|(t, _)| format!("{t}.r1")).unwrap_or_default();
                    segments.push(segment_obj("MSH", None, row, None, &src1, message_components(src, &[mine])));
                } else {
                    report.push(src, format!("no message type {mine} for {}", p.id));
                }
            }
            flow(p, &page, &structure_v, &local, &mut segments, &mut slices, &mut report);
        }
        let mut o = Map::new();
        o.insert("profile".into(), json!(p.id));
        o.insert("title".into(), json!(p.title));
        let mut m = Map::new();
        m.insert("code".into(), json!(p.message.0));
        m.insert("event".into(), json!(p.message.1));
        m.insert("structure".into(), json!(p.message.2));
        o.insert("message".into(), Value::Object(m));
        o.insert("includes".into(), json!(p.includes));
        o.insert("structure".into(), Value::Array(structure_v));
        o.insert("segments".into(), Value::Array(segments));
        o.insert("slices".into(), Value::Array(slices));
        files.insert(format!("{}.tables.json", p.id), to_text(&Value::Object(o)));
    }
    Ok((files, report))
}

/// MSH-9.1..3 from the message types a row lists: a component all types agree on is fixed,
/// otherwise its values are listed.
fn message_components(src: &str, types: &[String]) -> Vec<Value> {
    let split: Vec<Vec<&str>> = types.iter().map(|t| t.split('^').collect()).collect();
    (0..3)
        .map(|k| {
            let mut vals: Vec<String> = Vec::new();
            for s in &split {
                if let Some(v) = s.get(k) {
                    if !vals.iter().any(|x| x == v) {
                        vals.push(v.to_string());
                    }
                }
            }
            let path = format!("MSH-9.{}", k + 1);
            let mut e = constraints::element(&path, src, Some("R"));
            let facts = if vals.len() == 1 {
                constraints::ValueFacts { fixed: vals.pop(), ..Default::default() }
            } else {
                constraints::ValueFacts { values: vals, ..Default::default() }
            };
            // HL7's event table is named only where the row leaves a choice of events.
            let table_path = if facts.values.is_empty() { "" } else { path.as_str() };
            constraints::put_facts(&mut e, table_path, &facts);
            Value::Object(e)
        })
        .collect()
}

fn segment_of(elements: &[Value]) -> Option<String> {
    let p = elements.first()?.get("path")?.as_str()?;
    Some(p.split('-').next()?.to_string())
}

fn segment_obj(seg: &str, group: Option<&str>, row: Option<&Value>, caption: Option<&constraints::Caption>, src: &str, elements: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("segment".into(), json!(seg));
    if let Some(g) = group {
        m.insert("group".into(), json!(g));
    }
    if let Some(c) = caption {
        constraints::put_usage_card(&mut m, c.usage, &c.card);
    } else if let Some(r) = row {
        for k in ["usage", "min", "max"] {
            if let Some(v) = r.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
    }
    m.insert("src".into(), json!(src));
    m.insert("elements".into(), Value::Array(elements));
    Value::Object(m)
}

/// The per-flow tables of one `st_flux*.md` page, in page order: a segment table constrains
/// the segment (an NTE, which recurs in several groups, only in the group of the segment whose
/// table precedes it, or in the slice whose table precedes it); a group table is a slice.
fn flow(p: &Profile, page: &Page, structure_v: &[Value], local: &[String], segments: &mut Vec<Value>, slices: &mut Vec<Value>, report: &mut Report) {
    let mut previous_segment: Option<String> = None;
    let mut previous_was_slice = false;
    for t in &page.tables {
        let Some(cap) = constraints::caption(t, p.page, report) else {
            report.push(t.src(p.page, 1), "table shape not recognised (no 'Composition du …' caption)");
            continue;
        };
        let mut rows = constraints::flow_rows(p.page, t, report);
        constraints::link_local_tables(&mut rows.elements, local);
        let src1 = t.src(p.page, 1);
        if !cap.is_group {
            if cap.name == "NTE" && previous_was_slice {
                if let Some(Value::Object(sl)) = slices.last_mut() {
                    if let Some(Value::Array(segs)) = sl.get_mut("segments") {
                        segs.push(segment_obj("NTE", None, None, Some(&cap), &src1, rows.elements));
                    }
                }
                continue;
            }
            let group = if cap.name == "NTE" {
                previous_segment.as_deref().and_then(|s| structure::parent_of_segment(structure_v, s)).filter(|g| !g.is_empty())
            } else {
                None
            };
            segments.push(segment_obj(&cap.name, group.as_deref(), None, Some(&cap), &src1, rows.elements));
            previous_segment = Some(cap.name.clone());
            previous_was_slice = false;
            continue;
        }
        previous_was_slice = true;
        let fixed = |path: &str| rows.fixed_of.iter().find(|(p, _)| p == path).map(|(_, v)| v.clone());
        let Some(code) = fixed("OBX-3.1") else {
            report.push(&src1, "group table without a fixed OBX-3.1: no slice discriminator");
            continue;
        };
        let obx2 = fixed("OBX-2");
        let Some(name) = slice_name(&code, rows.pattern.as_deref(), obx2.as_deref()) else {
            report.push(&src1, format!("no slice name for OBX-3.1 '{code}' {:?}", rows.pattern));
            continue;
        };
        let Some(group) = structure::group_path(structure_v, &cap.name) else {
            report.push(&src1, format!("group {} is not in the structure table", cap.name));
            continue;
        };
        let title = t.headings.iter().rev().find(|h| !h.starts_with("Segment ")).cloned().unwrap_or_default();
        let mut disc = vec![json!({"path": "OBX-3.1", "value": code})];
        if let Some(pat) = &rows.pattern {
            disc.push(json!({"path": "OBX-4", "pattern": pat}));
        }
        let obx_row = structure::find_segment(structure_v, "OBX");
        let mut sl = Map::new();
        sl.insert("group".into(), json!(group));
        sl.insert("name".into(), json!(name));
        sl.insert("title".into(), json!(title));
        constraints::put_usage_card(&mut sl, cap.usage, &cap.card);
        sl.insert("src".into(), json!(src1));
        sl.insert("discriminator".into(), Value::Array(disc));
        let obx = segment_obj("OBX", None, obx_row, None, &t.src(p.page, 3), rows.elements);
        sl.insert("segments".into(), json!([obx]));
        sl.insert("obx2".into(), json!(obx2));
        slices.push(Value::Object(sl));
    }
    // Where two slices share OBX-3.1 and OBX-4 does not tell them apart, OBX-2 does.
    let keys: Vec<(Value, Value)> = slices.iter().map(|s| (s["discriminator"].clone(), s["obx2"].clone())).collect();
    for s in slices.iter_mut() {
        let Some(m) = s.as_object_mut() else { continue };
        let obx2 = m.remove("obx2").unwrap_or(Value::Null);
        let disc = m.get("discriminator").cloned().unwrap_or(Value::Null);
        if keys.iter().filter(|(d, _)| *d == disc).count() > 1 && !obx2.is_null() {
            if let Some(Value::Array(d)) = m.get_mut("discriminator") {
                d.push(json!({"path": "OBX-2", "value": obx2}));
            }
        }
    }
}

/// Two-space indented JSON with a trailing newline; keys stay in insertion order.
fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The `extract` command: writes `<out>/telerad/*.tables.json`, prints every finding on stderr.
/// Exit 0, or 1 when `strict` and something was reported, 2 on I/O errors.
pub fn run(ig: &Path, out: &Path, strict: bool) -> ExitCode {
    let (mut files, mut report) = match extract(ig) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hl7-codegen extract: {e}");
            return ExitCode::from(2);
        }
    };
    match base::Base::load(out) {
        Some(b) => base::prune_files(&b, &mut files, &mut report),
        None => eprintln!("hl7-codegen extract: no hl7v2.5.1/ in {}: element paths are not checked against base HL7", out.display()),
    }
    let dir = out.join("telerad");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("hl7-codegen extract: {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    for (name, text) in &files {
        let p = dir.join(name);
        if let Err(e) = std::fs::write(&p, text) {
            eprintln!("hl7-codegen extract: {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    for l in report.lines() {
        eprintln!("{l}");
    }
    eprintln!("hl7-codegen extract: {} cell(s) could not be interpreted", report.findings.len());
    if strict && !report.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
