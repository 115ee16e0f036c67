//! The extractor reads tables, not HL7: a row can name an element that base HL7 v2.5.1 does
//! not have (0469084 and 5fbc622 list `OBX-8.1` under OBX-8, which is a primitive IS). Such a
//! row is reported with its cell and left out, so that the spec folder still loads and `diff`
//! can compare revisions; the base definitions are read from the output spec folder.

use std::collections::BTreeMap;
use std::path::Path;

use hl7_codegen::model::parse_path;
use hl7_codegen::spec::{DatatypesFile, SegmentsFile};
use serde_json::Value;

use super::report::Report;

pub struct Base {
    segments: SegmentsFile,
    datatypes: DatatypesFile,
}

impl Base {
    /// The base definitions of a spec folder, `None` when it has none (the check is skipped).
    pub fn load(spec: &Path) -> Option<Base> {
        let read = |name: &str| std::fs::read_to_string(spec.join("hl7v2.5.1").join(name)).ok();
        let segments = serde_json::from_str(&read("segments.json")?).ok()?;
        let datatypes = serde_json::from_str(&read("datatypes.json")?).ok()?;
        Some(Base { segments, datatypes })
    }

    /// Why `path` names no element of base HL7, or `None` when it does.
    fn problem(&self, path: &str) -> Option<String> {
        let Some(p) = parse_path(path) else { return Some("not an element path".into()) };
        let Some(seg) = self.segments.segments.get(&p.segment) else { return Some(format!("no segment {}", p.segment)) };
        let Some(field) = seg.fields.get(usize::from(p.field) - 1) else {
            return Some(format!("{} has {} fields", p.segment, seg.fields.len()));
        };
        let mut dt = field.datatype.as_str();
        for (level, n) in [("component", p.component), ("subcomponent", p.subcomponent)] {
            let Some(n) = n else { break };
            if dt == "varies" {
                return None; // OBX-5: checked against the slice's datatype by the model
            }
            let comps = self.datatypes.datatypes.get(dt).map(|d| d.components.as_slice()).unwrap_or(&[]);
            match comps.get(usize::from(n) - 1) {
                Some(c) => dt = c.datatype.as_str(),
                None => return Some(format!("{dt} has {} components, no {level} {n}", comps.len())),
            }
        }
        None
    }

    /// Removes, from every `elements` array of a tables file, the rows whose path base HL7
    /// does not have, and reports each with its cell.
    pub fn prune(&self, file: &mut Value, report: &mut Report) {
        match file {
            Value::Object(map) => {
                if let Some(Value::Array(elements)) = map.get_mut("elements") {
                    elements.retain(|e| {
                        let (Some(path), src) = (e.get("path").and_then(Value::as_str), e.get("src").and_then(Value::as_str)) else { return true };
                        match self.problem(path) {
                            None => true,
                            Some(why) => {
                                report.push(src.unwrap_or(""), format!("{path} is not an element of base HL7 v2.5.1 ({why}); row left out"));
                                false
                            }
                        }
                    });
                }
                for v in map.values_mut() {
                    self.prune(v, report);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.prune(v, report)),
            _ => {}
        }
    }
}

/// Applies [`Base::prune`] to every file, re-serialised in the extractor's own form.
pub fn prune_files(base: &Base, files: &mut BTreeMap<String, String>, report: &mut Report) {
    for text in files.values_mut() {
        let Ok(mut v) = serde_json::from_str::<Value>(text) else { continue };
        let before = report.findings.len();
        base.prune(&mut v, report);
        if report.findings.len() != before {
            *text = super::to_text(&v);
        }
    }
}
