//! Rust names for HL7 things: deterministic, sanitised, never a keyword, never colliding.
//!
//! The name table is part of the public API of the generated crates (see the golden test), so
//! every rule here is a compatibility promise.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Drops apostrophes before re-casing ("Mother's Maiden Name" → `mothers_maiden_name`) and
/// turns every other non-alphanumeric character into a word break.
fn words(name: &str) -> String {
    let no_apostrophes: String = name.chars().filter(|c| !matches!(c, '\'' | '’' | '`')).collect();
    let ascii: String = no_apostrophes
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_ascii_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    ascii
}

/// A snake_case method or field name.
pub fn snake(name: &str) -> String {
    let mut s = words(name).to_snake_case();
    if s.is_empty() {
        s = "unnamed".to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("n_{s}");
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// An UpperCamelCase type name (`CX` → `Cx`, `ORDER_DETAIL` → `OrderDetail`).
pub fn camel(name: &str) -> String {
    let mut s = words(&name.to_lowercase()).to_upper_camel_case();
    if s.is_empty() {
        s = "Unnamed".to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("T{s}");
    }
    s
}

/// The accessor name of a repeated element.
pub fn plural(snake: &str) -> String {
    let base = snake.trim_end_matches('_');
    if base.ends_with('s') || base.ends_with('x') || base.ends_with("sh") || base.ends_with("ch") {
        format!("{base}es")
    } else {
        format!("{base}s")
    }
}

/// Gives each name of a list a unique spelling, in order: later duplicates get `_2`, `_3`…
/// Names in `reserved` count as already taken.
pub fn dedupe(names: &mut [String], reserved: &[&str]) {
    let mut taken: std::collections::BTreeSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    for n in names.iter_mut() {
        if taken.contains(n.as_str()) {
            let mut k = 2;
            while taken.contains(&format!("{n}_{k}")) {
                k += 1;
            }
            *n = format!("{n}_{k}");
        }
        taken.insert(n.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitises_hl7_names() {
        assert_eq!(snake("Mother's Maiden Name"), "mothers_maiden_name");
        assert_eq!(snake("Set ID - PID"), "set_id_pid");
        assert_eq!(snake("Type"), "type_");
        assert_eq!(snake("2nd Name"), "n_2nd_name");
        assert_eq!(snake("Date/Time of Message"), "date_time_of_message");
        assert_eq!(camel("CX"), "Cx");
        assert_eq!(camel("ORDER_DETAIL"), "OrderDetail");
        assert_eq!(camel("NK1"), "Nk1");
        assert_eq!(plural("order"), "orders");
        assert_eq!(plural("obx"), "obxes");
        let mut v = vec!["a".to_owned(), "a".to_owned(), "b".to_owned(), "a".to_owned()];
        dedupe(&mut v, &["b"]);
        assert_eq!(v, ["a", "a_2", "b_2", "a_3"]);
    }
}
