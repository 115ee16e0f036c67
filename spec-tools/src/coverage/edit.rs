//! Edits of an ER7 message addressed the way findings are located (ERL display, `OBX[3]-4`,
//! `PID[1]-3[2].4.2`, `OBX[2]`): what a written counterexample says and what the mechanical
//! cases produce. Works on the text, so a case is readable as the message it makes.

use hl7_codegen::model::Edit;

/// How an edit reads in the report.
pub fn describe(edit: &Edit) -> String {
    match edit {
        Edit::Set { at, to } if to.is_empty() => format!("clear {at}"),
        Edit::Set { at, to } => format!("{at} := '{to}'"),
        Edit::Delete { segment } => format!("delete {segment}"),
        Edit::InsertAfter { after, segment } => format!("insert '{segment}' after {after}"),
        Edit::Replace { text, with } => format!("replace '{text}' by '{with}'"),
        Edit::Swap { from, to } => format!("write every '{from}' as '{to}'"),
    }
}

/// An element address: `SEG[k]`, then optionally `-f`, `[r]`, `.c`, `.s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address<'a> {
    pub segment: &'a str,
    /// 1-based occurrence among the segments with this id.
    pub sequence: usize,
    pub field: Option<usize>,
    pub repetition: Option<usize>,
    pub component: Option<usize>,
    pub subcomponent: Option<usize>,
}

impl<'a> Address<'a> {
    /// Parses `SEG[k]-f[r].c.s` (every part after `SEG[k]` optional, in that order), as
    /// findings print their location (`hl7_runtime::validate::Erl`).
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let erl: hl7_runtime::validate::Erl = text.parse()?;
        let n = |x: Option<u32>| x.map(|v| v as usize);
        let segment = text.get(..3).ok_or("no segment id")?;
        let sequence = n(erl.sequence).ok_or_else(|| format!("`{text}` names no occurrence: write {segment}[k]"))?;
        Ok(Address { segment, sequence, field: n(erl.field), repetition: n(erl.repetition), component: n(erl.component), subcomponent: n(erl.subcomponent) })
    }
}

/// A message as editable text: segments split on CR, separators from MSH-1/MSH-2.
#[derive(Debug, Clone)]
pub struct Er7 {
    segments: Vec<String>,
    field: char,
    repetition: char,
    component: char,
    subcomponent: char,
}

impl Er7 {
    pub fn new(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "the fixture is not UTF-8".to_owned())?;
        let segments: Vec<String> = text.split('\r').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let msh = segments.first().filter(|s| s.starts_with("MSH")).ok_or("no MSH")?;
        let mut chars = msh.chars().skip(3);
        let field = chars.next().ok_or("no field separator")?;
        let enc: Vec<char> = chars.take_while(|c| *c != field).collect();
        let get = |i: usize, d: char| enc.get(i).copied().unwrap_or(d);
        Ok(Er7 { segments, field, component: get(0, '^'), repetition: get(1, '~'), subcomponent: get(3, '&') })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for s in &self.segments {
            out.push_str(s);
            out.push('\r');
        }
        out.into_bytes()
    }

    /// 0-based line of `SEG[k]`.
    fn line(&self, segment: &str, sequence: usize) -> Result<usize, String> {
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.get(..3) == Some(segment))
            .nth(sequence - 1)
            .map(|(i, _)| i)
            .ok_or_else(|| format!("the message has no {segment}[{sequence}]"))
    }

    /// The 1-based sequence of the segment on 0-based line `line`, with its id.
    pub fn sequence_of(&self, line: usize) -> Option<(String, usize)> {
        let id = self.segments.get(line)?.get(..3)?.to_owned();
        let n = self.segments.iter().take(line + 1).filter(|s| s.get(..3) == Some(id.as_str())).count();
        Some((id, n))
    }

    /// The raw text of an element (empty when absent).
    pub fn get(&self, a: &Address<'_>) -> Result<String, String> {
        let line = self.line(a.segment, a.sequence)?;
        let seg = &self.segments[line];
        let Some(f) = a.field else { return Ok(seg.clone()) };
        let fields = self.fields(seg, a.segment);
        let field = fields.get(f).cloned().unwrap_or_default();
        let reps: Vec<&str> = field.split(self.repetition).collect();
        let rep = reps.get(a.repetition.unwrap_or(1) - 1).copied().unwrap_or("");
        let Some(c) = a.component else { return Ok(if a.repetition.is_some() { rep.to_owned() } else { field.clone() }) };
        let comp = rep.split(self.component).nth(c - 1).unwrap_or("");
        let Some(s) = a.subcomponent else { return Ok(comp.to_owned()) };
        Ok(comp.split(self.subcomponent).nth(s - 1).unwrap_or("").to_owned())
    }

    /// Number of repetitions of a field (0 when empty).
    pub fn repetitions(&self, segment: &str, sequence: usize, field: usize) -> Result<usize, String> {
        let raw = self.get(&Address { segment, sequence, field: Some(field), repetition: None, component: None, subcomponent: None })?;
        Ok(if raw.is_empty() { 0 } else { raw.split(self.repetition).count() })
    }

    /// Fields of a segment with HL7 numbering: index `f` is SEG-f (MSH-1 is the separator).
    fn fields(&self, seg: &str, id: &str) -> Vec<String> {
        let mut parts: Vec<String> = seg.split(self.field).map(str::to_owned).collect();
        if id == "MSH" {
            parts.insert(1, self.field.to_string());
        }
        parts
    }

    fn join_fields(&self, mut parts: Vec<String>, id: &str) -> String {
        if id == "MSH" && parts.len() > 1 {
            parts.remove(1);
        }
        parts.join(&self.field.to_string())
    }

    pub fn apply(&mut self, edit: &Edit) -> Result<(), String> {
        match edit {
            Edit::Set { at, to } => self.set(&Address::parse(at)?, to),
            Edit::Delete { segment } => {
                let a = Address::parse(segment)?;
                if a.field.is_some() {
                    return Err(format!("delete takes a segment SEG[k], not `{segment}`"));
                }
                let line = self.line(a.segment, a.sequence)?;
                self.segments.remove(line);
                Ok(())
            }
            Edit::InsertAfter { after, segment } => {
                let a = Address::parse(after)?;
                let line = self.line(a.segment, a.sequence)?;
                self.segments.insert(line + 1, segment.clone());
                Ok(())
            }
            Edit::Swap { from, to } => {
                let text = self.segments.join("\r");
                if text.contains(to.as_str()) {
                    return Err(format!("the message already has `{to}`"));
                }
                let next = text.replace(from.as_str(), to);
                let segments: Vec<String> = next.split('\r').filter(|s| !s.is_empty()).map(str::to_owned).collect();
                *self = Er7::new(segments.join("\r").as_bytes())?;
                Ok(())
            }
            Edit::Replace { text: from, with } => {
                let text = self.segments.join("\r");
                if !text.contains(from.as_str()) {
                    return Err(format!("the message has no `{from}`"));
                }
                let next = text.replacen(from.as_str(), with, 1);
                self.segments = next.split('\r').filter(|s| !s.is_empty()).map(str::to_owned).collect();
                Ok(())
            }
        }
    }

    /// Inserts a raw segment before 0-based line `line` (for the mechanical cases).
    pub fn insert_line(&mut self, line: usize, segment: String) {
        self.segments.insert(line.min(self.segments.len()), segment);
    }

    /// Removes 0-based lines (any order).
    pub fn remove_lines(&mut self, mut lines: Vec<usize>) {
        lines.sort_unstable();
        lines.dedup();
        for l in lines.into_iter().rev() {
            if l < self.segments.len() {
                self.segments.remove(l);
            }
        }
    }

    pub fn line_text(&self, line: usize) -> Option<&str> {
        self.segments.get(line).map(String::as_str)
    }

    fn set(&mut self, a: &Address<'_>, value: &str) -> Result<(), String> {
        let line = self.line(a.segment, a.sequence)?;
        let Some(f) = a.field else { return Err(format!("set needs a field, not `{}[{}]`", a.segment, a.sequence)) };
        if a.segment == "MSH" && f <= 2 {
            return Err("MSH-1 and MSH-2 are the separators; edit them with replace".into());
        }
        let mut fields = self.fields(&self.segments[line], a.segment);
        if fields.len() <= f {
            fields.resize(f + 1, String::new());
        }
        let field = &fields[f];
        let new_field = match (a.repetition, a.component) {
            (None, None) => value.to_owned(),
            _ => {
                let mut reps: Vec<String> = field.split(self.repetition).map(str::to_owned).collect();
                let r = a.repetition.unwrap_or(1);
                if reps.len() < r {
                    reps.resize(r, String::new());
                }
                let rep = &reps[r - 1];
                reps[r - 1] = match a.component {
                    None => value.to_owned(),
                    Some(c) => {
                        let mut comps: Vec<String> = rep.split(self.component).map(str::to_owned).collect();
                        if comps.len() < c {
                            comps.resize(c, String::new());
                        }
                        comps[c - 1] = match a.subcomponent {
                            None => value.to_owned(),
                            Some(s) => {
                                let mut subs: Vec<String> = comps[c - 1].split(self.subcomponent).map(str::to_owned).collect();
                                if subs.len() < s {
                                    subs.resize(s, String::new());
                                }
                                subs[s - 1] = value.to_owned();
                                subs.join(&self.subcomponent.to_string())
                            }
                        };
                        comps.join(&self.component.to_string())
                    }
                };
                reps.join(&self.repetition.to_string())
            }
        };
        fields[f] = new_field;
        self.segments[line] = self.join_fields(fields, a.segment);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"MSH|^~\\&|A|B|C|D|20260101||ORM^O01^ORM_O01|1|P|2.5.1\rPID|||1^^^X&1.2&ISO~2^^^Y||DOE^JOHN\rOBX|1|CE|A^B\rOBX|2|CE|C^D\r";

    fn set(addr: &str, to: &str) -> String {
        let mut m = Er7::new(MSG).unwrap();
        m.apply(&Edit::Set { at: addr.into(), to: to.into() }).unwrap();
        String::from_utf8(m.to_bytes()).unwrap()
    }

    #[test]
    fn addresses_parse_as_erl_displays_them() {
        let a = Address::parse("PID[1]-3[2].4.2").unwrap();
        assert_eq!((a.segment, a.sequence, a.field, a.repetition, a.component, a.subcomponent), ("PID", 1, Some(3), Some(2), Some(4), Some(2)));
        assert_eq!(Address::parse("OBX[2]").unwrap().field, None);
        for bad in ["PID", "PID-3", "PID[0]-3", "PID[1]3", "PID[1]-3.", "PID[1]-3.1.2.3", "pid[1]-3", "PID[1]-3[x]"] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_reaches_fields_repetitions_components_and_subcomponents() {
        assert!(set("PID[1]-3[2].4.2", "9.9").contains("|1^^^X&1.2&ISO~2^^^Y&9.9||"));
        assert!(set("PID[1]-5.2", "").contains("|DOE^||") || set("PID[1]-5.2", "").contains("|DOE^\r"));
        assert!(set("OBX[2]-4", "1.1").contains("OBX|2|CE|C^D|1.1\r"));
        assert!(set("MSH[1]-9.2", "R01").contains("|ORM^R01^ORM_O01|"));
        assert!(set("MSH[1]-12", "2.3").ends_with("|P|2.3\rPID|||1^^^X&1.2&ISO~2^^^Y||DOE^JOHN\rOBX|1|CE|A^B\rOBX|2|CE|C^D\r"));
        let m = Er7::new(MSG).unwrap();
        assert_eq!(m.get(&Address::parse("PID[1]-3[1].4.2").unwrap()).unwrap(), "1.2");
        assert_eq!(m.repetitions("PID", 1, 3).unwrap(), 2);
    }

    #[test]
    fn delete_insert_and_replace() {
        let mut m = Er7::new(MSG).unwrap();
        m.apply(&Edit::Delete { segment: "OBX[1]".into() }).unwrap();
        m.apply(&Edit::InsertAfter { after: "OBX[1]".into(), segment: "NTE|1||x".into() }).unwrap();
        m.apply(&Edit::Replace { text: "DOE".into(), with: "ROE".into() }).unwrap();
        let s = String::from_utf8(m.to_bytes()).unwrap();
        assert!(s.ends_with("|ROE^JOHN\rOBX|2|CE|C^D\rNTE|1||x\r"), "{s}");
        assert!(m.apply(&Edit::Delete { segment: "OBX[2]".into() }).is_err());
        m.apply(&Edit::Swap { from: "|".into(), to: "#".into() }).unwrap();
        assert!(String::from_utf8(m.to_bytes()).unwrap().starts_with("MSH#^~\\&#A#"));
    }
}
