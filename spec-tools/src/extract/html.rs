//! The tables of one guide page, read with a real HTML parser, plus the Markdown headings that
//! stand above each table (the pages are Markdown with embedded HTML tables).

use scraper::{ElementRef, Html, Node, Selector};

/// One `<td>`/`<th>`. `lines` keeps the cell's paragraph and `<br>` breaks, because several
/// readings (lists of codes, MSH-9's message types) depend on them; `text` is the cell on one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub header: bool,
    pub colspan: usize,
    pub lines: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    /// 1-based index of the `<table>` in the page, as in a `src`.
    pub index: usize,
    pub rows: Vec<Vec<Cell>>,
    /// The Markdown headings above the table, nearest last (text without the `#` marks).
    pub headings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub name: String,
    pub tables: Vec<Table>,
}

impl Page {
    pub fn table(&self, index: usize) -> Option<&Table> {
        self.tables.get(index.wrapping_sub(1))
    }
}

impl Table {
    /// The `src` of row `r` (1-based).
    pub fn src(&self, page: &str, r: usize) -> String {
        format!("{page}#t{}.r{r}", self.index)
    }
}

/// Collapses runs of whitespace (including non-breaking and zero-width spaces the pages carry) to
/// one space, so that cell text compares the way a reader sees it.
pub fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{200b}' {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

fn walk(e: ElementRef<'_>, lines: &mut Vec<String>, cur: &mut String) {
    for child in e.children() {
        match child.value() {
            Node::Text(t) => cur.push_str(t),
            Node::Element(el) => {
                let breaks = matches!(el.name(), "p" | "br" | "div" | "li" | "ul" | "ol");
                if breaks {
                    flush(lines, cur);
                }
                if let Some(ce) = ElementRef::wrap(child) {
                    walk(ce, lines, cur);
                }
                if breaks {
                    flush(lines, cur);
                }
            }
            _ => {}
        }
    }
}

fn flush(lines: &mut Vec<String>, cur: &mut String) {
    let l = squash(cur);
    if !l.is_empty() {
        lines.push(l);
    }
    cur.clear();
}

fn cell(e: ElementRef<'_>) -> Cell {
    let mut lines = Vec::new();
    let mut cur = String::new();
    walk(e, &mut lines, &mut cur);
    flush(&mut lines, &mut cur);
    let colspan = e.value().attr("colspan").and_then(|c| c.trim().parse().ok()).unwrap_or(1);
    Cell { header: e.value().name() == "th", colspan, text: lines.join(" "), lines }
}

/// Markdown headings, each with the number of `<table` start tags seen before it, so that each
/// table can be given the headings above it. The headings are Markdown, not HTML, hence the
/// line scan; the tables themselves are read by the HTML parser.
fn headings(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut tables = 0;
    for line in source.lines() {
        let t = line.trim_start();
        if t.starts_with('#') {
            let text = t.trim_start_matches('#');
            if text.starts_with(' ') {
                out.push((tables, squash(text)));
            }
        }
        tables += line.matches("<table").count();
    }
    out
}

pub fn parse_page(name: &str, source: &str) -> Page {
    let doc = Html::parse_fragment(source);
    let heads = headings(source);
    let mut tables = Vec::new();
    let (Ok(table_sel), Ok(tr_sel)) = (Selector::parse("table"), Selector::parse("tr")) else {
        return Page { name: name.to_string(), tables };
    };
    for (i, t) in doc.select(&table_sel).enumerate() {
        let mut rows = Vec::new();
        for tr in t.select(&tr_sel) {
            let cells = tr
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|c| matches!(c.value().name(), "td" | "th"))
                .map(cell)
                .collect();
            rows.push(cells);
        }
        let headings = heads.iter().filter(|(n, _)| *n <= i).map(|(_, h)| h.clone()).collect();
        tables.push(Table { index: i + 1, rows, headings });
    }
    Page { name: name.to_string(), tables }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_lines_and_headings_precede_tables() {
        let src = "# Title\n\n## Part A\n<table><tbody><tr><th colspan=\"3\"><p>Cap</p></th></tr>\n<tr><td><p>A</p><p>B <br> C</p></td><td>x\u{a0} y</td></tr></tbody></table>\n### Part B\n<table><tr><td>z</td></tr></table>\n";
        let p = parse_page("p.md", src);
        assert_eq!(p.tables.len(), 2);
        let t = &p.tables[0];
        assert_eq!(t.rows[0][0].colspan, 3);
        assert!(t.rows[0][0].header);
        assert_eq!(t.rows[1][0].lines, vec!["A", "B", "C"]);
        assert_eq!(t.rows[1][0].text, "A B C");
        assert_eq!(t.rows[1][1].text, "x y");
        assert_eq!(t.headings, vec!["Title", "Part A"]);
        assert_eq!(p.tables[1].headings.last().map(String::as_str), Some("Part B"));
        assert_eq!(p.tables[1].src("p.md", 1), "p.md#t2.r1");
    }
}
