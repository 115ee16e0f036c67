//! The message-structure tables of `st-profils.md` (Segment | Meaning | Usage | Card. | § HL7).
//! A row whose Meaning is `--- X begin` / `--- X end` opens / closes group X; any other row is a
//! segment, named by its Segment cell without the bracket notation.

use serde_json::{json, Map, Value};

use super::html::Table;
use super::report::Report;

/// Usage codes of the profile vocabulary; anything else in a Usage cell is reported.
pub fn usage(cell: &str) -> Option<&'static str> {
    match cell.trim() {
        "R" => Some("R"),
        "RE" => Some("RE"),
        "O" => Some("O"),
        "C" => Some("C"),
        "X" => Some("X"),
        _ => None,
    }
}

/// `[min..max]` with an integer min and an integer or `*` max.
pub fn cardinality(cell: &str) -> Option<(u64, Value)> {
    let inner = cell.trim().strip_prefix('[')?.strip_suffix(']')?;
    let (min, max) = inner.split_once("..")?;
    let min: u64 = min.trim().parse().ok()?;
    let max = match max.trim() {
        "*" => json!("*"),
        m => {
            let m: u64 = m.parse().ok()?;
            if m < min {
                return None;
            }
            json!(m)
        }
    };
    Some((min, max))
}

struct Frame {
    obj: Map<String, Value>,
    name: String,
    children: Vec<Value>,
}

/// Reads a structure table into the `structure` array of a profile. The Usage/Card. columns are
/// the source of usage and cardinality; the bracket notation of the Segment cell is only the
/// name's decoration, because the guide's errata rule makes the columns win over it.
pub fn read(page: &str, table: &Table, report: &mut Report) -> Vec<Value> {
    let mut stack: Vec<Frame> = vec![Frame { obj: Map::new(), name: String::new(), children: Vec::new() }];
    for (i, row) in table.rows.iter().enumerate().skip(1) {
        let src = table.src(page, i + 1);
        if row.len() < 4 {
            report.push(src, format!("structure row with {} cells, expected 5", row.len()));
            continue;
        }
        let meaning = row[1].text.trim();
        if let Some(rest) = meaning.strip_prefix("---") {
            let rest = rest.trim();
            if let Some(name) = rest.strip_suffix(" begin") {
                let mut obj = Map::new();
                obj.insert("group".into(), json!(name.trim()));
                put_usage_card(&mut obj, row[2].text.as_str(), row[3].text.as_str(), &src, report);
                obj.insert("src".into(), json!(src));
                stack.push(Frame { obj, name: name.trim().to_string(), children: Vec::new() });
            } else if let Some(name) = rest.strip_suffix(" end") {
                if stack.len() < 2 || stack.last().map(|f| f.name.as_str()) != Some(name.trim()) {
                    report.push(src, format!("group end '{}' does not close the open group", name.trim()));
                    continue;
                }
                if let Some(mut f) = stack.pop() {
                    f.obj.insert("children".into(), Value::Array(f.children));
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(Value::Object(f.obj));
                    }
                }
            } else {
                report.push(src, format!("group row '{meaning}' is neither a begin nor an end"));
            }
            continue;
        }
        // Segments the table marks as belonging to another HL7 version are not part of a
        // v2.5.1 profile (the ACK table's UAC row).
        if meaning.contains("uniquement dans la version") {
            continue;
        }
        let name: String = row[0].text.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        if name.len() != 3 || !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            report.push(src, format!("segment cell '{}' names no segment", row[0].text));
            continue;
        }
        let mut obj = Map::new();
        obj.insert("segment".into(), json!(name));
        put_usage_card(&mut obj, row[2].text.as_str(), row[3].text.as_str(), &src, report);
        obj.insert("src".into(), json!(src));
        if !meaning.is_empty() {
            obj.insert("meaning".into(), json!(meaning));
        }
        if let Some(top) = stack.last_mut() {
            top.children.push(Value::Object(obj));
        }
    }
    while stack.len() > 1 {
        if let Some(mut f) = stack.pop() {
            report.push(table.src(page, table.rows.len()), format!("group '{}' is never closed", f.name));
            f.obj.insert("children".into(), Value::Array(f.children));
            if let Some(parent) = stack.last_mut() {
                parent.children.push(Value::Object(f.obj));
            }
        }
    }
    stack.pop().map(|f| f.children).unwrap_or_default()
}

fn put_usage_card(obj: &mut Map<String, Value>, u: &str, card: &str, src: &str, report: &mut Report) {
    match usage(u) {
        Some(u) => {
            obj.insert("usage".into(), json!(u));
        }
        None => report.push(src, format!("usage '{}' is not a usage code", u.trim())),
    }
    match cardinality(card) {
        Some((min, max)) => {
            obj.insert("min".into(), json!(min));
            obj.insert("max".into(), max);
        }
        None => report.push(src, format!("cardinality '{}' is not [min..max]", card.trim())),
    }
}

/// The `/`-separated path of the first group named `name`, depth first.
pub fn group_path(structure: &[Value], name: &str) -> Option<String> {
    for e in structure {
        if let Some(g) = e.get("group").and_then(Value::as_str) {
            if g == name {
                return Some(g.to_string());
            }
            if let Some(children) = e.get("children").and_then(Value::as_array) {
                if let Some(p) = group_path(children, name) {
                    return Some(format!("{g}/{p}"));
                }
            }
        }
    }
    None
}

/// The path of the group that directly holds segment `seg` (first occurrence), "" at the root.
pub fn parent_of_segment(structure: &[Value], seg: &str) -> Option<String> {
    for e in structure {
        if e.get("segment").and_then(Value::as_str) == Some(seg) {
            return Some(String::new());
        }
    }
    for e in structure {
        if let (Some(g), Some(children)) = (e.get("group").and_then(Value::as_str), e.get("children").and_then(Value::as_array)) {
            if let Some(p) = parent_of_segment(children, seg) {
                return Some(if p.is_empty() { g.to_string() } else { format!("{g}/{p}") });
            }
        }
    }
    None
}

/// The structure row of segment `seg` (first occurrence, depth first).
pub fn find_segment<'a>(structure: &'a [Value], seg: &str) -> Option<&'a Value> {
    for e in structure {
        if e.get("segment").and_then(Value::as_str) == Some(seg) {
            return Some(e);
        }
        if let Some(children) = e.get("children").and_then(Value::as_array) {
            if let Some(f) = find_segment(children, seg) {
                return Some(f);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::html::parse_page;

    fn row(cells: &[&str]) -> String {
        let tds: String = cells.iter().map(|c| format!("<td><p>{c}</p></td>")).collect();
        format!("<tr>{tds}</tr>")
    }

    #[test]
    fn groups_brackets_and_unreadable_cells() {
        let rows = [
            row(&["MSH", "Message Header", "R", "[1..1]", "2"]),
            row(&["[{NTE}]", "Notes", "O", "[0..*]", "2"]),
            row(&["[", "--- PATIENT_VISIT begin", "R", "[R..1]", ""]),
            row(&["PV1", "Patient Visit", "R", "[1..1]", "3"]),
            row(&["]", "--- PATIENT_VISIT end", "", "", ""]),
            row(&["[{", "--- OBSERVATION begin", "1", "[1..*]", ""]),
            row(&["OBX", "Observation", "R", "[1..1]", "7"]),
            row(&["}]", "--- OBSERVATION end", "", "", ""]),
        ]
        .concat();
        let src = format!("<table><tr><th>Segment</th><th>Meaning</th><th>Usage</th><th>Card.</th><th>§</th></tr>{rows}</table>");
        let page = parse_page("st-profils.md", &src);
        let mut report = Report::default();
        let s = read("st-profils.md", &page.tables[0], &mut report);
        assert_eq!(s[1], json!({"segment": "NTE", "usage": "O", "min": 0, "max": "*", "src": "st-profils.md#t1.r3", "meaning": "Notes"}));
        // The Card. column wins over the '[{' bracket: OBSERVATION is [1..*].
        assert_eq!(s[3]["group"], "OBSERVATION");
        assert_eq!(s[3]["min"], 1);
        assert!(s[3].get("usage").is_none());
        assert!(s[2].get("min").is_none());
        assert_eq!(s[2]["usage"], "R");
        assert_eq!(s[2]["children"][0]["segment"], "PV1");
        assert_eq!(
            report.lines(),
            vec![
                "st-profils.md#t1.r4: cardinality '[R..1]' is not [min..max]",
                "st-profils.md#t1.r7: usage '1' is not a usage code",
            ]
        );
        assert_eq!(group_path(&s, "OBSERVATION").as_deref(), Some("OBSERVATION"));
        assert_eq!(parent_of_segment(&s, "PV1").as_deref(), Some("PATIENT_VISIT"));
    }
}
