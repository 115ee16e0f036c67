//! The guide extractor's table interpretation: an HTML/Markdown page fragment is parsed into
//! tables, and every table is read as a structure table, a field-constraint table, a flow table
//! and a code table, as `extract` does for the guide's pages. Inputs are capped at 4 KB (the
//! HTML parser is the slow part and bigger inputs add no new table shapes).
#![no_main]

use hl7_spec_tools::extract::{code_tables, constraints, html, structure, Report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let Ok(source) = std::str::from_utf8(data) else { return };
    let page = html::parse_page("fuzz.md", source);
    let mut report = Report::default();
    for table in &page.tables {
        let rows = structure::read("fuzz.md", table, &mut report);
        for name in ["PATIENT", "ORDER", "OBSERVATION"] {
            let _ = structure::group_path(&rows, name);
        }
        let _ = structure::parent_of_segment(&rows, "OBX");
        let _ = constraints::field_table("fuzz.md", table, &mut report);
        let _ = constraints::flow_rows("fuzz.md", table, &mut report);
        let _ = constraints::caption(table, "fuzz.md", &mut report);
        for row in &table.rows {
            for cell in row {
                let _ = constraints::read_value(cell);
                let _ = constraints::element_cell(&cell.text, "fuzz.md#t1.r1", &mut report);
                let _ = constraints::table_ref(&cell.text);
                let _ = constraints::parse_path(&cell.text);
                let _ = structure::usage(&cell.text);
                let _ = structure::cardinality(&cell.text);
            }
        }
    }
    for (_, title) in code_tables::PAGES {
        let _ = code_tables::read(&page, title, &mut report);
    }
    let _ = report.lines();
});
