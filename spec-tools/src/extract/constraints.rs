//! Element-constraint tables: the per-flow tables of `st_flux*.md` (a caption row "Composition du
//! segment|groupe X : Usage = … / Cardinalité = […]", a column header, a "Segment XXX" row, then
//! "Elément requis | Description | Valeur" rows, components marked `>` / `> >` or not at all) and
//! the "Champ | Contenu | Type donnée | Caractère optionnel/obligatoire" tables of
//! `st-contraintes.md` and `acquittement.md`.

use serde_json::{json, Map, Value};

use super::html::{Cell, Table};
use super::report::Report;
use super::structure::{cardinality, usage};

/// Tables of base HL7 v2.5.1 for the elements the guide restricts to codes (the guide names the
/// codes, HL7 names their table): a base fact, recorded next to the guide's codes.
const BASE_TABLES: &[(&str, &str)] =
    &[("ORC-1", "0119"), ("NTE-4.3", "0396"), ("MSH-11.1", "0103"), ("MSH-18", "0211"), ("MSA-1", "0008"), ("MSH-9.2", "0003")];

/// An element path `SEG-f[.c[.s]]` with its depth (0 field, 1 component, 2 subcomponent): a
/// path of the runtime's grammar (`hl7_runtime::path::syntax`) without groups, occurrence or
/// repetition.
pub fn parse_path(s: &str) -> Option<(String, usize)> {
    let p = hl7_runtime::path::syntax::parse(s).ok()?;
    let e = p.element?;
    if !p.groups.is_empty() || p.segment.occurrence.is_some() || e.repetition.is_some() {
        return None;
    }
    Some((s.to_string(), usize::from(e.component.is_some()) + usize::from(e.subcomponent.is_some())))
}

pub struct ElementCell {
    pub path: String,
    pub usage: Option<&'static str>,
}

/// Reads "> > ORC-12.9.1 (optionnel)": the `>` markers (absent in older revisions, where the
/// path's dots tell the depth), the path, and the usage marker.
pub fn element_cell(text: &str, src: &str, report: &mut Report) -> Option<ElementCell> {
    let t = text.trim();
    let markers = t.chars().take_while(|c| *c == '>' || c.is_whitespace()).filter(|c| *c == '>').count();
    let t = t.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
    let (p, rest) = match t.split_once(' ') {
        Some((p, r)) => (p, r.trim()),
        None => (t, ""),
    };
    let Some((path, depth)) = parse_path(p) else {
        report.push(src, format!("element cell '{text}' names no element"));
        return None;
    };
    if markers != 0 && markers != depth {
        report.push(src, format!("'{text}': {markers} '>' marker(s) for a path of depth {depth}"));
    }
    let usage = match rest.to_lowercase().as_str() {
        "" => Some("R"),
        "(requis si connu)" => Some("RE"),
        "(optionnel)" => Some("O"),
        // A bare number in parentheses is a call to a note under the table.
        r if r.starts_with('(') && r.ends_with(')') && r[1..r.len() - 1].trim().chars().all(|c| c.is_ascii_digit()) => Some("R"),
        _ => {
            report.push(src, format!("usage marker '{rest}' is not understood"));
            None
        }
    };
    Some(ElementCell { path, usage })
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

fn is_oid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// "X" or "X (label)" where X is a code: X.
fn code_with_label(line: &str) -> Option<String> {
    let line = line.trim();
    let (head, tail) = match line.find(" (") {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line, ""),
    };
    let label_ok = tail.is_empty() || (tail.starts_with('(') && tail.ends_with(')') && tail.matches('(').count() == tail.matches(')').count());
    (is_code(head) && label_ok).then(|| head.to_string())
}

/// The text between the first « and the next ».
fn guillemets(text: &str) -> Option<String> {
    let start = text.find('«')? + '«'.len_utf8();
    let end = text[start..].find('»')? + start;
    Some(text[start..end].trim().to_string())
}

fn curly_quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('“') {
        let after = &rest[i + '“'.len_utf8()..];
        let Some(j) = after.find('”') else { break };
        out.push(after[..j].trim().to_string());
        rest = &after[j + '”'.len_utf8()..];
    }
    out
}

/// Splits on `sep` outside parentheses.
fn split_outside_parens<'a>(s: &'a str, seps: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    let b = s.as_bytes();
    while i < s.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            if let Some(sep) = seps.iter().find(|sep| b[i..].starts_with(sep.as_bytes())) {
                out.push(s.get(start..i).unwrap_or(""));
                i += sep.len();
                start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// The part after the last " : " outside parentheses.
fn after_colon(s: &str) -> &str {
    split_outside_parens(s, &[" : "]).last().copied().unwrap_or(s)
}

/// "Table 0203", "table HL7 0357", "Table HL7 : 0136": the HL7 table the text names.
pub fn table_ref(text: &str) -> Option<String> {
    let i = text.find("table ").or_else(|| text.find("Table "))?;
    let rest = text.get(i + 6..)?.trim_start();
    let rest = rest.strip_prefix("HL7").unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    (num.len() == 4).then_some(num)
}

/// "… JDV_Name …": the value set the text names.
fn value_set_ref(text: &str) -> Option<String> {
    let i = text.find("JDV_")?;
    let name: String = text[i..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')).collect();
    Some(name.trim_end_matches('-').to_string())
}

/// OIDs of the CI-SIS value sets the guide names (published by the terminology server).
fn value_set_oid(name: &str) -> Option<&'static str> {
    match name {
        "JDV_modalitedemandeActeImagerie-CISIS" => Some("1.2.250.1.213.1.1.5.660"),
        "JDV_RegionAnatomique-CISIS" => Some("1.2.250.1.213.1.1.5.695"),
        "JDV_ModificateurTopographique-CISIS" => Some("1.2.250.1.213.1.1.5.688"),
        "JDV_CodeDocumentImagerie-CISIS" => Some("1.2.250.1.213.1.1.5.687"),
        _ => None,
    }
}

/// What a Valeur cell says about the element's value.
#[derive(Debug, Default, PartialEq)]
pub struct ValueFacts {
    pub fixed: Option<String>,
    pub values: Vec<String>,
    pub table: Option<String>,
    pub value_set: Option<String>,
    /// "Valeur fixée à n.1": the OBX-4 shape of a slice.
    pub pattern: Option<String>,
}

pub fn read_value(cell: &Cell) -> ValueFacts {
    let mut f = ValueFacts { table: table_ref(&cell.text), ..Default::default() };
    let text = cell.text.trim();
    if text.is_empty() {
        return f;
    }
    if let Some(g) = guillemets(text) {
        f.fixed = Some(g);
        return f;
    }
    if let Some(rest) = text.strip_prefix("Valeur fixée à") {
        let rest = rest.trim_start().trim_start_matches(':').trim();
        let first = rest.split_whitespace().next().unwrap_or("");
        if first.starts_with("n.") && first[2..].chars().all(|c| c.is_ascii_digit()) {
            f.pattern = Some(first.to_string());
        } else if is_code(first) {
            f.fixed = Some(first.to_string());
        }
        return f;
    }
    if let Some(vs) = value_set_ref(text) {
        f.value_set = Some(vs);
        return f;
    }
    let quoted = curly_quoted(text);
    if !quoted.is_empty() {
        f.values = quoted;
        return f;
    }
    // A list under "Valeur possible": one code a line.
    if let Some(i) = cell.lines.iter().position(|l| l.to_lowercase().starts_with("valeur possible")) {
        let codes: Vec<String> = cell.lines[i + 1..].iter().filter_map(|l| code_with_label(l)).collect();
        if !codes.is_empty() {
            f.values = codes;
            return f;
        }
    }
    // Bulleted codes ("· Y (Yes) -> …") or one code a line after a lead line ("OK (…) dans le cas …").
    let bullets: Vec<String> = text.split('·').skip(1).filter_map(lead_code).collect();
    if bullets.len() >= 2 {
        f.values = bullets;
        return f;
    }
    if cell.lines.len() >= 3 {
        let codes: Vec<String> = cell.lines[1..].iter().filter_map(|l| lead_code(l)).collect();
        if codes.len() == cell.lines.len() - 1 && codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_uppercase())) {
            f.values = codes;
            return f;
        }
    }
    for line in &cell.lines {
        let tail = after_colon(line).trim();
        let head = tail.split(" (").next().unwrap_or("");
        if is_oid(head) && code_with_label(tail).is_some() {
            f.fixed = Some(head.to_string());
            return f;
        }
    }
    if cell.lines.len() == 1 {
        if let Some(c) = code_with_label(text) {
            f.fixed = Some(c);
            return f;
        }
    }
    // "A ou B …", "… : A (…) ou B (…), C (…)": alternatives, each led by a code.
    let tail = after_colon(text);
    let parts = split_outside_parens(tail, &[" ou ", ", "]);
    if parts.len() >= 2 {
        let codes: Vec<String> = parts.iter().filter_map(|p| lead_code(p)).collect();
        if codes.len() == parts.len() {
            f.values = codes;
        }
    }
    f
}

/// The code that opens a phrase: "FINEJ (FINESS …)", "DCM en fonction de …", "AA(Original…".
fn lead_code(s: &str) -> Option<String> {
    let s = s.trim();
    let code: String = s.chars().take_while(|c| !c.is_whitespace() && *c != '(').collect();
    let code = code.trim_end_matches(['.', ',']).to_string();
    // A capitalised or lower-case French word ("Informations", "valide") is prose, not a code:
    // codes are upper case, or carry '-' / '_' ("terminologie-cisis-fr").
    let codeish = code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | '/'))
        || code.contains(['-', '_']);
    (is_code(&code) && codeish && code.chars().any(|c| c.is_ascii_alphanumeric())).then_some(code)
}

/// Element objects in one fixed key order, whatever the table shape.
pub fn element(path: &str, src: &str, usage: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("path".into(), json!(path));
    m.insert("src".into(), json!(src));
    if let Some(u) = usage {
        m.insert("usage".into(), json!(u));
    }
    m
}

pub fn put_facts(m: &mut Map<String, Value>, path: &str, f: &ValueFacts) {
    if let Some(x) = &f.fixed {
        m.insert("fixed".into(), json!(x));
    }
    if !f.values.is_empty() {
        m.insert("values".into(), json!(f.values));
    }
    let table = f.table.clone().or_else(|| {
        (f.fixed.is_some() || !f.values.is_empty())
            .then(|| BASE_TABLES.iter().find(|(p, _)| *p == path).map(|(_, t)| t.to_string()))
            .flatten()
    });
    if let Some(t) = table {
        m.insert("table".into(), json!(t));
    }
    if let Some(vs) = &f.value_set {
        let mut v = Map::new();
        v.insert("name".into(), json!(vs));
        if let Some(oid) = value_set_oid(vs) {
            v.insert("oid".into(), json!(oid));
        }
        m.insert("value_set".into(), Value::Object(v));
    }
}

/// The caption of a per-flow table: what it composes and its usage/cardinality.
pub struct Caption {
    pub is_group: bool,
    pub name: String,
    pub usage: Option<&'static str>,
    pub card: Option<(u64, Value)>,
}

pub fn caption(table: &Table, page: &str, report: &mut Report) -> Option<Caption> {
    let text = table.rows.first()?.first()?.text.clone();
    let rest = text.strip_prefix("Composition du ")?;
    let (is_group, rest) = if let Some(r) = rest.strip_prefix("groupe ") {
        (true, r)
    } else {
        (false, rest.strip_prefix("segment ")?)
    };
    let (name, rest) = rest.split_once(':')?;
    let src = table.src(page, 1);
    let mut usage_code = None;
    let mut card = None;
    for part in rest.split('/') {
        let part = part.trim();
        if let Some(u) = part.strip_prefix("Usage =") {
            usage_code = match u.trim() {
                "Required" => Some("R"),
                "Optional" => Some("O"),
                "Required if known" | "Required but may be empty" => Some("RE"),
                other => usage(other),
            };
            if usage_code.is_none() {
                report.push(&src, format!("usage '{}' is not understood", u.trim()));
            }
        } else if let Some(c) = part.strip_prefix("Cardinalité =") {
            card = cardinality(c);
            if card.is_none() {
                report.push(&src, format!("cardinality '{}' is not [min..max]", c.trim()));
            }
        }
    }
    Some(Caption { is_group, name: name.trim().to_string(), usage: usage_code, card })
}

pub fn put_usage_card(m: &mut Map<String, Value>, usage: Option<&str>, card: &Option<(u64, Value)>) {
    if let Some(u) = usage {
        m.insert("usage".into(), json!(u));
    }
    if let Some((min, max)) = card {
        m.insert("min".into(), json!(min));
        m.insert("max".into(), max.clone());
    }
}

/// The element rows (from r4) of a per-flow table. Returns the elements and the OBX-4 pattern
/// and OBX-2 value, which discriminate slices.
pub struct Rows {
    pub elements: Vec<Value>,
    pub pattern: Option<String>,
    pub fixed_of: Vec<(String, String)>,
}

pub fn flow_rows(page: &str, table: &Table, report: &mut Report) -> Rows {
    let mut rows = Rows { elements: Vec::new(), pattern: None, fixed_of: Vec::new() };
    let mut maps: Vec<Map<String, Value>> = Vec::new();
    let mut parents: Vec<String> = Vec::new();
    for (i, row) in table.rows.iter().enumerate().skip(3) {
        let src = table.src(page, i + 1);
        if row.len() < 3 {
            report.push(src, format!("element row with {} cells, expected 3", row.len()));
            continue;
        }
        let Some(ec) = element_cell(&row[0].text, &src, report) else { continue };
        // A component row belongs to the field (or component) row above it; one that names
        // another field is a slip of the guide, and taking it would constrain the wrong element.
        let depth = ec.path.matches('.').count();
        if depth > 0 {
            let parent = ec.path.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap_or_default();
            if parents.get(depth - 1).map(String::as_str) != Some(parent.as_str()) {
                let above = parents.get(depth - 1).cloned().unwrap_or_else(|| "nothing".to_string());
                report.push(&src, format!("{} is not a part of {above}, the row above", ec.path));
                continue;
            }
        }
        parents.truncate(depth);
        parents.push(ec.path.clone());
        let mut m = element(&ec.path, &src, ec.usage);
        if !row[1].text.is_empty() {
            m.insert("description".into(), json!(row[1].text));
        }
        if !row[2].text.is_empty() {
            m.insert("guide_value".into(), json!(row[2].text));
        }
        let facts = read_value(&row[2]);
        if let Some(p) = &facts.pattern {
            rows.pattern = Some(p.clone());
        }
        put_facts(&mut m, &ec.path, &facts);
        if let Some(x) = &facts.fixed {
            rows.fixed_of.push((ec.path.clone(), x.clone()));
        }
        maps.push(m);
    }
    // OBX-5's datatype is the one OBX-2 fixes in the same table.
    if let Some((_, dt)) = rows.fixed_of.iter().find(|(p, _)| p == "OBX-2") {
        for m in maps.iter_mut() {
            if m.get("path").and_then(Value::as_str) == Some("OBX-5") {
                m.insert("datatype".into(), json!(dt));
            }
        }
    }
    rows.elements = maps.into_iter().map(Value::Object).collect();
    rows
}

/// Gives `X.1` the local table that its sibling `X.3` (name of coding system) fixes, when that
/// name is one of the guide's code tables.
pub fn link_local_tables(elements: &mut [Value], code_tables: &[String]) {
    let fixed: Vec<(String, String)> = elements
        .iter()
        .filter_map(|e| Some((e.get("path")?.as_str()?.to_string(), e.get("fixed")?.as_str()?.to_string())))
        .collect();
    for e in elements.iter_mut() {
        let Some(path) = e.get("path").and_then(Value::as_str).map(str::to_string) else { continue };
        let Some(base) = path.strip_suffix(".1") else { continue };
        let sib = format!("{base}.3");
        if let Some((_, name)) = fixed.iter().find(|(p, n)| *p == sib && code_tables.contains(n)) {
            if let Some(m) = e.as_object_mut() {
                if !m.contains_key("table") {
                    m.insert("table".into(), json!(name));
                }
            }
        }
    }
}

/// Composite datatypes whose first component carries the value the Contenu cell gives.
fn composite(dt: &str) -> bool {
    matches!(dt, "PT" | "VID" | "EI" | "MSG" | "HD" | "CE" | "CWE" | "CX" | "XPN")
}

/// A "Champ | Contenu | Type donnée | Caractère optionnel/obligatoire" table (or a "Champ requis |
/// Contenu" one). Message types listed under MSH-9 are returned apart: each profile takes its own.
pub struct FieldTable {
    pub elements: Vec<Value>,
    pub message_types: Option<(String, Vec<String>)>,
}

pub fn field_table(page: &str, table: &Table, report: &mut Report) -> FieldTable {
    let mut out = FieldTable { elements: Vec::new(), message_types: None };
    for (i, row) in table.rows.iter().enumerate().skip(1) {
        let src = table.src(page, i + 1);
        if row.len() < 2 {
            report.push(src, "field row with fewer than 2 cells");
            continue;
        }
        // "PV1-19 (2)", "MSA.1 - Acknowledgment Code": the path is the first word, HL7 dots
        // between segment and field accepted.
        let first = row[0].text.split_whitespace().next().unwrap_or("").replacen('.', "-", 1);
        let first = if first.contains('-') { first } else { row[0].text.split_whitespace().next().unwrap_or("").to_string() };
        let Some((path, _)) = parse_path(&first) else {
            report.push(src, format!("field cell '{}' names no element", row[0].text));
            continue;
        };
        let dt = row.get(2).map(|c| c.text.trim().to_string()).filter(|d| !d.is_empty());
        let u = match row.get(3) {
            Some(c) => {
                let head = c.text.split(" - ").next().unwrap_or("").trim();
                let u = usage(head);
                if u.is_none() {
                    report.push(&src, format!("usage '{}' is not a usage code", c.text));
                }
                u
            }
            None => Some("R"),
        };
        let mut m = element(&path, &src, u);
        // ERR-3's Type donnée (CE) narrows nothing the profile checks, but a datatype is kept
        // only where the row gives one.
        if let Some(d) = &dt {
            m.insert("datatype".into(), json!(d));
        }
        let content = &row[1];
        m.insert("description".into(), json!(content.text));
        let mut extra: Vec<Map<String, Value>> = Vec::new();
        let values: Vec<&String> = content.lines.iter().skip(1).collect();
        let types: Vec<String> = content.lines.iter().filter(|l| l.split('^').count() == 3 && l.split('^').all(is_code)).cloned().collect();
        let delim = content.lines.iter().find(|l| !l.is_empty() && l.chars().all(|c| "|^~\\&".contains(c)));
        let bullets: Vec<String> = content.text.split('·').skip(1).filter_map(lead_code).collect();
        let coded: Vec<String> =
            values.iter().filter_map(|l| l.split_once(" : ").map(|(c, _)| c.trim().to_string())).filter(|c| is_code(c)).collect();
        let mut facts = ValueFacts { table: table_ref(&content.text), ..Default::default() };
        let target = if dt.as_deref().is_some_and(composite) { format!("{path}.1") } else { path.clone() };
        if let Some(d) = delim {
            facts.fixed = Some(d.clone());
        } else if !types.is_empty() {
            out.message_types = Some((src.clone(), types));
        } else if bullets.len() >= 2 {
            facts.values = bullets;
        } else if values.iter().any(|l| l.starts_with(&format!("{path}."))) {
            for l in &values {
                let Some((p, rest)) = l.split_once(" : ") else { continue };
                let Some((sub, _)) = parse_path(p.trim()) else { continue };
                let v = after_colon(rest).trim();
                let mut e = element(&sub, &src, Some("R"));
                if is_code(v) {
                    e.insert("fixed".into(), json!(v));
                } else {
                    report.push(&src, format!("{sub}: value '{v}' is not a code"));
                }
                extra.push(e);
            }
        } else if coded.len() >= 2 && coded.len() == values.len() {
            let mut e = element(&target, &src, Some("R"));
            put_facts(&mut e, &target, &ValueFacts { values: coded, ..Default::default() });
            if target != path {
                extra.push(e);
            } else {
                m = e;
            }
        } else if let Some(l) = values.last() {
            let l = after_colon(l).trim();
            let alts: Vec<&str> = l.split(" ou ").map(str::trim).collect();
            if alts.len() >= 2 && alts.iter().all(|a| a.split(' ').all(is_code)) {
                facts.values = alts.iter().map(|a| a.to_string()).collect();
            } else if is_code(l) {
                if target != path {
                    let mut e = element(&target, &src, Some("R"));
                    e.insert("fixed".into(), json!(l));
                    extra.push(e);
                } else {
                    facts.fixed = Some(l.to_string());
                }
            }
        }
        put_facts(&mut m, &path, &facts);
        out.elements.push(Value::Object(m));
        out.elements.extend(extra.into_iter().map(Value::Object));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::html::parse_page;

    fn cell(lines: &[&str]) -> Cell {
        Cell { header: false, colspan: 1, lines: lines.iter().map(|s| s.to_string()).collect(), text: lines.join(" ") }
    }

    #[test]
    fn element_cells_with_and_without_markers() {
        let mut r = Report::default();
        let e = element_cell("> > ORC-12.9.1 (optionnel)", "p#t1.r4", &mut r).map(|e| (e.path, e.usage));
        assert_eq!(e, Some(("ORC-12.9.1".to_string(), Some("O"))));
        let e = element_cell("ORC-12.9.2", "p#t1.r5", &mut r).map(|e| (e.path, e.usage));
        assert_eq!(e, Some(("ORC-12.9.2".to_string(), Some("R"))));
        let e = element_cell("ORC-11 (Requis si connu)", "p#t1.r6", &mut r).map(|e| e.usage);
        assert_eq!(e, Some(Some("RE")));
        let e = element_cell("IPC-3 (5)", "p#t1.r7", &mut r).map(|e| e.usage);
        assert_eq!(e, Some(Some("R")));
        assert!(r.is_empty());
        assert!(element_cell("> ORC-2.1 (peut-être)", "p#t1.r8", &mut r).is_some());
        assert!(element_cell("Segment ORC", "p#t1.r9", &mut r).is_none());
        assert_eq!(r.lines(), vec!["p#t1.r8: usage marker '(peut-être)' is not understood", "p#t1.r9: element cell 'Segment ORC' names no element"]);
    }

    #[test]
    fn value_cells() {
        assert_eq!(read_value(&cell(&["Valeur fixée à « NW » (New order/service)"])).fixed.as_deref(), Some("NW"));
        assert_eq!(read_value(&cell(&["Valeur fixée à : FINALITE_EXAMEN"])).fixed.as_deref(), Some("FINALITE_EXAMEN"));
        let f = read_value(&cell(&["Valeur fixée à n.2", "Voir règle commune"]));
        assert_eq!((f.fixed, f.pattern.as_deref()), (None, Some("n.2")));
        assert_eq!(read_value(&cell(&["CE (Coded Entry)"])).fixed.as_deref(), Some("CE"));
        assert_eq!(read_value(&cell(&["Unité"])).fixed, None);
        assert_eq!(read_value(&cell(&["Autorité (OID de gestion) : 1.2.250.1.71.4.2.1"])).fixed.as_deref(), Some("1.2.250.1.71.4.2.1"));
        assert_eq!(read_value(&cell(&["OID du code system", "2.16.840.1.113883.6.1 (LOINC)"])).fixed.as_deref(), Some("2.16.840.1.113883.6.1"));
        assert_eq!(read_value(&cell(&["Autorité", "1.2.250.1.71.4.2.2 (OID de structures), N° FINESS ou N° FINEG"])).fixed, None);
        assert_eq!(read_value(&cell(&["Valeur issue du JDV_RegionAnatomique-CISIS"])).value_set.as_deref(), Some("JDV_RegionAnatomique-CISIS"));
        assert_eq!(read_value(&cell(&["Valeur issue du JDV ATC niveau 2 “V09” ou “V10”."])).values, vec!["V09", "V10"]);
        assert_eq!(read_value(&cell(&["terminologie-cisis-fr ou DCM en fonction du code"])).values, vec!["terminologie-cisis-fr", "DCM"]);
        let f = read_value(&cell(&["Type (valeur issue de la Table 0203 - doc) : FINEJ (FINESS juridique) ou FINEG (géo) ou IDNST ou UF (UF), SVR (service)."]));
        assert_eq!((f.values, f.table.as_deref()), (vec!["FINEJ".to_string(), "FINEG".into(), "IDNST".into(), "UF".into(), "SVR".into()], Some("0203")));
        assert_eq!(read_value(&cell(&["Pertinence", "Valeur possible :", "SANS_IMPACT", "PERTINENT"])).values, vec!["SANS_IMPACT", "PERTINENT"]);
        let f = read_value(&cell(&["Table HL7 : 0136 :", "· Y (Yes) -> enceinte", "· N (No) -> non"]));
        assert_eq!((f.values, f.table.as_deref()), (vec!["Y".to_string(), "N".into()], Some("0136")));
    }

    #[test]
    fn flow_table_with_components_and_obx5_datatype() {
        let src = "<table><tr><th colspan=\"3\">Composition du groupe OBSERVATION: Usage = Optional / Cardinalité = [0..1]</th></tr>\
            <tr><th>Elément requis</th><th>Description</th><th>Valeur</th></tr>\
            <tr><td>Segment OBX</td><td>Observation</td><td></td></tr>\
            <tr><td>OBX-2</td><td>Value Type</td><td>CE (Coded Entry)</td></tr>\
            <tr><td>OBX-3</td><td>Id</td><td></td></tr>\
            <tr><td>&gt; OBX-3.1</td><td>Code</td><td>REGION_ANATOMIQUE</td></tr>\
            <tr><td>OBX-3.3</td><td>System</td><td>TLR_OBSERVATION</td></tr>\
            <tr><td>OBX-4</td><td>Sub-ID</td><td>Valeur fixée à n.1</td></tr>\
            <tr><td>OBX-5</td><td>Value</td><td></td></tr>\
            <tr><td>&gt; &gt; OBX-5.1</td><td>Code</td><td>x</td></tr></table>";
        let page = parse_page("st_flux1.md", src);
        let mut r = Report::default();
        let c = caption(&page.tables[0], "st_flux1.md", &mut r).map(|c| (c.is_group, c.name, c.usage, c.card));
        assert_eq!(c, Some((true, "OBSERVATION".to_string(), Some("O"), Some((0, json!(1))))));
        let mut rows = flow_rows("st_flux1.md", &page.tables[0], &mut r);
        link_local_tables(&mut rows.elements, &["TLR_OBSERVATION".to_string()]);
        assert_eq!(rows.pattern.as_deref(), Some("n.1"));
        assert_eq!(rows.elements[0]["fixed"], "CE");
        assert_eq!(rows.elements[2]["path"], "OBX-3.1");
        assert_eq!(rows.elements[2]["table"], "TLR_OBSERVATION");
        assert_eq!(rows.elements[5]["datatype"], "CE");
        assert_eq!(r.lines(), vec!["st_flux1.md#t1.r10: '> > OBX-5.1': 2 '>' marker(s) for a path of depth 1"]);
    }

    #[test]
    fn field_table_with_message_types_codes_and_fixed_values() {
        let src = "<table><tr><th>Champ</th><th>Contenu</th><th>Type donnée</th><th>Caractère optionnel/obligatoire</th></tr>\
            <tr><td>MSH-9</td><td><p>Type du message</p><p>ORM^O01^ORM_O01</p><p>ORU^R01^ORU_R01</p></td><td>MSG</td><td>R</td></tr>\
            <tr><td>MSH-11</td><td><p>Processing Id</p><p>P : en production</p><p>T : message de test</p></td><td>PT</td><td>R</td></tr>\
            <tr><td>MSH-12</td><td><p>Version du standard</p><p>2.5.1</p></td><td>VID</td><td>R</td></tr>\
            <tr><td>PID-18</td><td>N° de dossier administratif</td><td>CX</td><td>RE</td></tr></table>";
        let page = parse_page("st-contraintes.md", src);
        let mut r = Report::default();
        let ft = field_table("st-contraintes.md", &page.tables[0], &mut r);
        let (at, types) = ft.message_types.clone().expect("MSH-9 lists message types");
        assert_eq!(at, "st-contraintes.md#t1.r2");
        assert_eq!(types, vec!["ORM^O01^ORM_O01".to_string(), "ORU^R01^ORU_R01".into()]);
        let by_path = |p: &str| ft.elements.iter().find(|e| e["path"] == p).cloned();
        assert_eq!(by_path("MSH-11.1").map(|e| e["values"].clone()), Some(json!(["P", "T"])));
        assert_eq!(by_path("MSH-12.1").map(|e| e["fixed"].clone()), Some(json!("2.5.1")));
        assert_eq!(by_path("PID-18").map(|e| e["usage"].clone()), Some(json!("RE")));
        assert!(r.is_empty(), "{:?}", r.lines());
    }
}
