//! Generic access to any element of a placed message by an HL7 path.
//!
//! The path is of the one grammar of [`syntax`] (`{group "/"} SEG[occ] [-field[rep][.comp[.sub]]]`).
//!
//! Each step searches the descendants of the previous one in message order, so
//! `ORDER[2]/OBX[3]-5[1].2` is component 2 of the first repetition of OBX-5 in the third OBX
//! of the second ORDER, whatever groups lie between; `PID-3[1].4.2` works from the root.

use std::borrow::Cow;

use crate::er7::Segment;
use crate::error::Location;

pub mod syntax;

pub use crate::error::PathError;
use crate::structure::{GroupInstance, Item};
use crate::typed::{Part, Placed};

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
    let p = syntax::parse(path)?;
    let mut inst = &placed.tree;
    for g in &p.groups {
        match find_group(inst, g.name, g.occurrence.unwrap_or(1)) {
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
        .nth(p.segment.occurrence.unwrap_or(1) - 1)
    else {
        return Ok(None);
    };
    let Some(e) = p.element else { return Ok(Some(Target::Segment(seg))) };
    let field = seg.field(e.field);
    if e.repetition.is_none() && e.component.is_none() {
        return Ok(if field.is_empty() { None } else { Some(Target::Field(field)) });
    }
    let Some(rep) = field.repetition(e.repetition.unwrap_or(1)) else { return Ok(None) };
    let mut part = Part::Repetition(rep);
    if e.component.is_some() {
        for n in [e.component, e.subcomponent].into_iter().flatten() {
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
