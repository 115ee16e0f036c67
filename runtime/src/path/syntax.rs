//! The one grammar of HL7 element paths, read by every part of the toolkit that takes a path:
//! [`crate::er7::Message::get`], [`crate::path::get`], the assertion language of the rules
//! (`PID-3[1].4.2 = 'x'`) and the code generator's spec files (`hl7_codegen::model`), each
//! accepting the part of it that makes sense there (no groups over a flat message, no
//! repetition in a spec's element path …) and saying so with a located error.
//!
//! ```ebnf
//! path     = { group , "/" } , segment , [ element ] ;
//! group    = name , [ "[" , int , "]" ] ;                 (* occurrence, default 1 *)
//! segment  = segid , [ "[" , int , "]" ] ;                (* occurrence, default 1 *)
//! element  = "-" , int ,                                  (* field *)
//!            [ "[" , int , "]" ] ,                        (* repetition *)
//!            [ "." , int , [ "." , int ] ] ;              (* component, subcomponent *)
//! name     = ( upper | digit | "_" ) , { upper | digit | "_" } ;
//! segid    = upper , 2 * ( upper | digit ) ;
//! int      = nonzero-digit , { digit } ;                  (* 1-based, no leading zero *)
//! ```
//!
//! Examples: `PID-3[1].4.2`, `OBX[3]-5`, `ORDER[2]/OBX[3]-5.1`, `PATIENT_RESULT/ORDER_OBSERVATION`.

use crate::error::PathError;

/// A group or segment step of a path: its name and, when the path gives one, its occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'p> {
    pub name: &'p str,
    pub occurrence: Option<usize>,
}

/// The element part of a path (`-3[1].4.2`), 1-based positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    pub field: usize,
    pub repetition: Option<usize>,
    pub component: Option<usize>,
    pub subcomponent: Option<usize>,
}

/// A path as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<'p> {
    pub groups: Vec<Step<'p>>,
    pub segment: Step<'p>,
    pub element: Option<Element>,
}

/// Reads a whole path.
pub fn parse(path: &str) -> Result<Path<'_>, PathError> {
    let mut c = Cursor { path, pos: 0, max: usize::MAX };
    let mut groups = Vec::new();
    let segment = loop {
        let start = c.pos;
        let name = c.name();
        if name.is_empty() {
            return Err(c.error("expected a segment id or a group name"));
        }
        let occurrence = c.bracketed("occurrence")?;
        let step = Step { name, occurrence };
        if c.eat(b'/') {
            groups.push(step);
            continue;
        }
        if !crate::er7::is_segment_id(name.as_bytes()) {
            c.pos = start;
            return Err(c.error("a segment id is an upper-case letter and two upper-case letters or digits"));
        }
        break step;
    };
    let element = if c.peek() == Some(b'-') { Some(c.element()?) } else { None };
    if c.pos != path.len() {
        return Err(c.error("unexpected character (a path ends with field, component and subcomponent)"));
    }
    Ok(Path { groups, segment, element })
}

/// Reads the element part of a path embedded in other text (the assertion language's
/// `PID-3.1 = 'x'`), from the `-` at byte `at` of `text`, with positions at most `max`. Gives
/// the element and the byte where it ends; what may follow is the caller's to say.
pub fn element_at(text: &str, at: usize, max: usize) -> Result<(Element, usize), PathError> {
    let mut c = Cursor { path: text, pos: at, max };
    let element = c.element()?;
    Ok((element, c.pos))
}

struct Cursor<'p> {
    path: &'p str,
    pos: usize,
    /// The largest position accepted.
    max: usize,
}

impl<'p> Cursor<'p> {
    fn peek(&self) -> Option<u8> {
        self.path.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[cold]
    fn error(&self, reason: &'static str) -> PathError {
        PathError::Syntax { path: self.path.to_owned(), position: self.pos, reason }
    }

    /// Upper-case letters, digits and `_`: a group name or a segment id.
    fn name(&mut self) -> &'p str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            self.pos += 1;
        }
        self.path.get(start..self.pos).unwrap_or("")
    }

    /// `-f[r].c.s`, at its `-`.
    fn element(&mut self) -> Result<Element, PathError> {
        if !self.eat(b'-') {
            return Err(self.error("expected '-' and a field number"));
        }
        let field = self.int("field")?;
        let repetition = self.bracketed("repetition")?;
        let mut component = None;
        let mut subcomponent = None;
        if self.eat(b'.') {
            component = Some(self.int("component")?);
            if self.eat(b'.') {
                subcomponent = Some(self.int("subcomponent")?);
            }
        }
        Ok(Element { field, repetition, component, subcomponent })
    }

    fn bracketed(&mut self, what: &'static str) -> Result<Option<usize>, PathError> {
        if !self.eat(b'[') {
            return Ok(None);
        }
        let n = self.int(what)?;
        if !self.eat(b']') {
            return Err(self.error("expected ']'"));
        }
        Ok(Some(n))
    }

    /// A 1-based position without a leading zero, at most `max`.
    fn int(&mut self, what: &'static str) -> Result<usize, PathError> {
        let start = self.pos;
        let mut value: usize = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            if self.pos == start && b == b'0' {
                return Err(self.error(if self.path.as_bytes().get(start + 1).is_some_and(u8::is_ascii_digit) {
                    "a position has no leading zero"
                } else {
                    "positions start at 1"
                }));
            }
            let next = value.checked_mul(10).and_then(|v| v.checked_add(usize::from(b - b'0'))).filter(|v| *v <= self.max);
            let Some(next) = next else {
                self.pos = start;
                return Err(self.error("number too large"));
            };
            value = next;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(match what {
                "field" => "expected a field number",
                "repetition" => "expected a repetition number",
                "component" => "expected a component number",
                "subcomponent" => "expected a subcomponent number",
                _ => "expected an occurrence number",
            }));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> (usize, &'static str) {
        match parse(path) {
            Err(PathError::Syntax { position, reason, .. }) => (position, reason),
            Ok(p) => panic!("{path} parsed: {p:?}"),
        }
    }

    #[test]
    fn every_level_is_read() {
        let p = parse("ORDER[2]/OBSERVATION/OBX[3]-5[2].1.4").unwrap();
        assert_eq!(p.groups, vec![Step { name: "ORDER", occurrence: Some(2) }, Step { name: "OBSERVATION", occurrence: None }]);
        assert_eq!(p.segment, Step { name: "OBX", occurrence: Some(3) });
        assert_eq!(p.element, Some(Element { field: 5, repetition: Some(2), component: Some(1), subcomponent: Some(4) }));
        let p = parse("PATIENT_RESULT/PID").unwrap();
        assert_eq!((p.groups.len(), p.segment.name, p.element), (1, "PID", None));
        assert_eq!(parse("ZB1-10").unwrap().element.map(|e| e.field), Some(10));
    }

    #[test]
    fn errors_say_where_and_why() {
        assert_eq!(at(""), (0, "expected a segment id or a group name"));
        assert_eq!(at("pid-1"), (0, "expected a segment id or a group name"));
        assert_eq!(at("ORDER"), (0, "a segment id is an upper-case letter and two upper-case letters or digits"));
        assert_eq!(at("1AB-1"), (0, "a segment id is an upper-case letter and two upper-case letters or digits"));
        assert_eq!(at("ORDER/"), (6, "expected a segment id or a group name"));
        assert_eq!(at("PID-0"), (4, "positions start at 1"));
        assert_eq!(at("PID-03"), (4, "a position has no leading zero"));
        assert_eq!(at("PID-"), (4, "expected a field number"));
        assert_eq!(at("PID-1."), (6, "expected a component number"));
        assert_eq!(at("PID-1[x]"), (6, "expected a repetition number"));
        assert_eq!(at("PID-1[2"), (7, "expected ']'"));
        assert_eq!(at("PID[0]-1"), (4, "positions start at 1"));
        assert_eq!(at("PID-1.2.3.4"), (9, "unexpected character (a path ends with field, component and subcomponent)"));
        assert_eq!(at("PID-99999999999999999999999"), (4, "number too large"));
    }

    #[test]
    fn an_embedded_element_ends_where_the_path_does() {
        let text = "present(PID-3[2].4) AND x";
        let (e, end) = element_at(text, 11, usize::from(u16::MAX)).unwrap();
        assert_eq!(e, Element { field: 3, repetition: Some(2), component: Some(4), subcomponent: None });
        assert_eq!(&text[end..], ") AND x");
        assert!(matches!(element_at("PID-70000", 3, usize::from(u16::MAX)), Err(PathError::Syntax { position: 4, reason: "number too large", .. })));
    }
}
