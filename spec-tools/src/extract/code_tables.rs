//! The guide's local code tables (`table_*.md`: Code | Libellé | CodeSystem). The table's name is
//! its CodeSystem column; its title is configuration (the pages give it only in prose).

use serde_json::{json, Map, Value};

use super::html::Page;
use super::report::Report;

/// Pages holding a local code table, with the table's title.
pub const PAGES: &[(&str, &str)] = &[
    ("table_obr.md", "Procédures métier du volet Téléradiologie (OBR-4)"),
    ("table_obs.md", "Codes locaux des observations (OBX-3)"),
    ("table_orga.md", "Types d'organisation (ORC-17)"),
];

/// Reads one code-table page into (table name, table object).
pub fn read(page: &Page, title: &str, report: &mut Report) -> Option<(String, Value)> {
    let Some(table) = page.table(1) else {
        report.push(format!("{}#t1", page.name), "no code table on the page");
        return None;
    };
    let mut name: Option<String> = None;
    let mut values = Vec::new();
    for (i, row) in table.rows.iter().enumerate().skip(1) {
        let src = table.src(&page.name, i + 1);
        if row.len() < 3 || row[0].text.is_empty() {
            report.push(src, "code row without Code | Libellé | CodeSystem");
            continue;
        }
        let system = row[2].text.trim().to_string();
        match &name {
            None => name = Some(system),
            Some(n) if *n != system => report.push(&src, format!("CodeSystem '{system}' differs from '{n}' above")),
            Some(_) => {}
        }
        let mut v = Map::new();
        v.insert("code".into(), json!(row[0].text.trim()));
        if !row[1].text.is_empty() {
            v.insert("description".into(), json!(row[1].text));
        }
        v.insert("src".into(), json!(src));
        values.push(Value::Object(v));
    }
    let name = name?;
    let mut t = Map::new();
    t.insert("name".into(), json!(title));
    t.insert("kind".into(), json!("local"));
    t.insert("src".into(), json!(table.src(&page.name, 1)));
    t.insert("values".into(), Value::Array(values));
    Some((name, Value::Object(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::html::parse_page;

    #[test]
    fn code_table() {
        let src = "<table><tr><th>Code</th><th>Libellé</th><th>CodeSystem</th></tr>\
            <tr><td>A</td><td>Un A</td><td>TLR_X</td></tr><tr><td>B</td><td></td><td>TLR_X</td></tr></table>";
        let page = parse_page("table_x.md", src);
        let mut r = Report::default();
        let (name, t) = read(&page, "X", &mut r).unwrap();
        assert_eq!(name, "TLR_X");
        assert_eq!(
            t,
            json!({"name": "X", "kind": "local", "src": "table_x.md#t1.r1", "values": [
                {"code": "A", "description": "Un A", "src": "table_x.md#t1.r2"},
                {"code": "B", "src": "table_x.md#t1.r3"}]})
        );
        assert!(r.is_empty());
    }
}
