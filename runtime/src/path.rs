//! Generic access to any element of a placed message by an HL7 path.
//!
//! ```text
//! path     = { group "/" } segment [ "-" field [ "[" rep "]" ] [ "." comp [ "." sub ] ] ] ;
//! group    = NAME [ "[" occ "]" ] ;          (* NAME: a group name, e.g. ORDER, OBSERVATION *)
//! segment  = SEGID [ "[" occ "]" ] ;         (* SEGID: 3 uppercase letters or digits *)
//! occ, rep, field, comp, sub = positive integer ;   (* all 1-based; occ and rep default to 1 *)
//! ```
//!
//! Each step searches the descendants of the previous one in message order, so
//! `ORDER[2]/OBX[3]-5[1].2` is component 2 of the first repetition of OBX-5 in the third OBX
//! of the second ORDER, whatever groups lie between; `PID-3[1].4.2` works from the root.

use std::borrow::Cow;

use crate::er7::Segment;
use crate::error::Location;
use crate::structure::{GroupInstance, Item};
use crate::typed::{Part, Placed};

/// A path that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path `{path}`: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: &'static str,
}

/// What a path designates.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Segment(Segment<'a>),
    Field(crate::er7::Field<'a>),
    Part(Part<'a>),
}

impl<'a> Target<'a> {
    /// The decoded text (a whole segment gives its raw ER7 text).
    pub fn text(&self) -> Cow<'a, str> {
        match self {
            Target::Segment(s) => String::from_utf8_lossy(s.raw()),
            Target::Field(f) => f.text(),
            Target::Part(p) => p.text(),
        }
    }
    pub fn location(&self) -> Location {
        match self {
            Target::Segment(s) => s.location(),
            Target::Field(f) => f.location(),
            Target::Part(p) => p.location(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Step<'p> {
    name: &'p str,
    occ: usize,
}

#[derive(Debug, PartialEq, Eq)]
struct Parsed<'p> {
    groups: Vec<Step<'p>>,
    segment: Step<'p>,
    field: Option<usize>,
    rep: Option<usize>,
    comp: Option<usize>,
    sub: Option<usize>,
}

fn err(path: &str, reason: &'static str) -> PathError {
    PathError { path: path.to_owned(), reason }
}

fn step<'p>(full: &str, s: &'p str) -> Result<Step<'p>, PathError> {
    match s.split_once('[') {
        None => Ok(Step { name: s, occ: 1 }),
        Some((name, rest)) => {
            let n = rest.strip_suffix(']').ok_or_else(|| err(full, "missing `]`"))?;
            let occ = positive(full, n)?;
            Ok(Step { name, occ })
        }
    }
}

fn positive(full: &str, s: &str) -> Result<usize, PathError> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(err(full, "positions are positive integers")),
    }
}

fn parse(path: &str) -> Result<Parsed<'_>, PathError> {
    let mut parts: Vec<&str> = path.split('/').collect();
    let last = parts.pop().filter(|s| !s.is_empty()).ok_or_else(|| err(path, "empty path"))?;
    let groups = parts
        .into_iter()
        .map(|g| {
            let s = step(path, g)?;
            if s.name.is_empty() || !s.name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
                return Err(err(path, "a group name is uppercase letters, digits and `_`"));
            }
            Ok(s)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (seg, rest) = match last.split_once('-') {
        Some((s, r)) => (s, Some(r)),
        None => (last, None),
    };
    let segment = step(path, seg)?;
    let id = segment.name.as_bytes();
    if id.len() != 3 || !id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(err(path, "a segment id is 3 uppercase letters or digits"));
    }
    let (mut field, mut rep, mut comp, mut sub) = (None, None, None, None);
    if let Some(rest) = rest {
        let mut dots = rest.split('.');
        let f = dots.next().unwrap_or("");
        let (fnum, r) = match f.split_once('[') {
            Some((n, r)) => (n, Some(r.strip_suffix(']').ok_or_else(|| err(path, "missing `]`"))?)),
            None => (f, None),
        };
        field = Some(positive(path, fnum)?);
        rep = r.map(|r| positive(path, r)).transpose()?;
        comp = dots.next().map(|c| positive(path, c)).transpose()?;
        sub = dots.next().map(|s| positive(path, s)).transpose()?;
        if dots.next().is_some() {
            return Err(err(path, "at most field, component and subcomponent"));
        }
    }
    Ok(Parsed { groups, segment, field, rep, comp, sub })
}

fn find_group<'t>(inst: &'t GroupInstance, name: &str, occ: usize) -> Option<&'t GroupInstance> {
    let mut found = Vec::new();
    collect_groups(inst, name, &mut found);
    found.get(occ - 1).copied()
}

fn collect_groups<'t>(inst: &'t GroupInstance, name: &str, out: &mut Vec<&'t GroupInstance>) {
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            if group.def.name == name {
                out.push(group);
            }
            collect_groups(group, name, out);
        }
    }
}

/// Resolves `path` in a placed message: `Ok(None)` when the path is well formed but designates
/// nothing present.
pub fn get<'m>(placed: &'m Placed<'_>, path: &str) -> Result<Option<Target<'m>>, PathError> {
    let p = parse(path)?;
    let mut inst = &placed.tree;
    for g in &p.groups {
        match find_group(inst, g.name, g.occ) {
            Some(next) => inst = next,
            None => return Ok(None),
        }
    }
    let mut segs = Vec::new();
    inst.all_segments(&mut segs);
    let Some(seg) = segs
        .into_iter()
        .filter_map(|i| placed.message.segment(i))
        .filter(|s| s.id() == p.segment.name)
        .nth(p.segment.occ - 1)
    else {
        return Ok(None);
    };
    let Some(fnum) = p.field else { return Ok(Some(Target::Segment(seg))) };
    let field = seg.field(fnum);
    if p.rep.is_none() && p.comp.is_none() {
        return Ok(if field.is_empty() { None } else { Some(Target::Field(field)) });
    }
    let Some(rep) = field.repetition(p.rep.unwrap_or(1)) else { return Ok(None) };
    let mut part = Part::Repetition(rep);
    if p.comp.is_some() {
        for n in [p.comp, p.sub].into_iter().flatten() {
            match part.child(n) {
                Some(c) => part = c,
                None => return Ok(None),
            }
        }
    } else if rep.raw().is_empty() {
        return Ok(None);
    }
    Ok(Some(Target::Part(part)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let p = parse("ORDER[2]/OBX[3]-5[1].2").unwrap();
        assert_eq!(p.groups, vec![Step { name: "ORDER", occ: 2 }]);
        assert_eq!(p.segment, Step { name: "OBX", occ: 3 });
        assert_eq!((p.field, p.rep, p.comp, p.sub), (Some(5), Some(1), Some(2), None));
        let p = parse("PID-3.4.2").unwrap();
        assert_eq!((p.field, p.rep, p.comp, p.sub), (Some(3), None, Some(4), Some(2)));
        assert!(parse("PID-0").is_err());
        assert!(parse("pid-1").is_err());
        assert!(parse("PID-1.2.3.4").is_err());
        assert!(parse("ORDER[x]/PID").is_err());
        assert!(parse("").is_err());
        assert!(parse("PID[2").is_err());
    }
}
