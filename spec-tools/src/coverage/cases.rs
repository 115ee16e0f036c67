//! The case that breaks a statement: a valid fixture of its profile, the edits, the finding.
//!
//! Mechanical cases find an occurrence of the constrained element, segment, group or slice in
//! the placed fixture (the same placement the validator uses) and change just that; written
//! ones apply the edits of their counterexample.

use std::collections::BTreeMap;

use hl7_runtime::structure::{GroupInstance, Item};
use hl7_runtime::typed::{GroupView, Placed};
use hl7_runtime::ParseOptions;

use hl7_codegen::model::Edit;

use super::edit::{describe, Er7};
use super::statements::{Bound, Change, Expect, How, Scope, Statement};
use super::Fixture;

/// A fixture changed to break one statement.
#[derive(Debug, Clone)]
pub struct Case {
    pub fixture: String,
    /// The acknowledged message given with an ACK (its file name and bytes).
    pub original: Option<(String, Vec<u8>)>,
    pub edits: Vec<Edit>,
    pub bytes: Vec<u8>,
    /// The finding, with its location settled (`None`: the statement's own).
    pub expect: Option<Expect>,
}

impl Case {
    pub fn describe(&self) -> String {
        let edits: Vec<String> = self.edits.iter().map(describe).collect();
        let at = self.expect.as_ref().and_then(|e| e.at.clone()).map(|a| format!(" => {a}")).unwrap_or_default();
        let original = self.original.as_ref().map(|(n, _)| format!(" (acknowledging {n})")).unwrap_or_default();
        format!("{}{original}: {}{at}", self.fixture, edits.join("; "))
    }
}

/// Whether every candidate must produce its finding (written counterexamples: each one is a
/// claim) or one is enough (mechanical cases, one per fixture where one can be made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    All,
    Any,
}

/// The cases for `st`: each written counterexample, or the mechanical case on each valid
/// fixture of the profile where one can be made. An error says why there is none.
pub fn make(st: &Statement, fixtures: &BTreeMap<String, Vec<Fixture>>, fixtures_dir: &std::path::Path) -> Result<(Need, Vec<Case>), String> {
    let list = fixtures.get(&st.profile).map(Vec::as_slice).unwrap_or_default();
    if list.is_empty() {
        return Err(format!("no valid fixture of {}", st.profile));
    }
    if let How::Written { violations } = &st.how {
        if violations.is_empty() {
            return Err("no written counterexample (`violations`) next to the rule".into());
        }
        let mut cases = Vec::new();
        for v in violations {
            let fx = list.iter().find(|f| f.name == v.fixture).ok_or_else(|| format!("{} is not a valid fixture of {}", v.fixture, st.profile))?;
            let mut m = Er7::new(&fx.bytes)?;
            for e in &v.edits {
                m.apply(e).map_err(|e| format!("{}: {e}", v.fixture))?;
            }
            let severity = match v.severity.as_deref() {
                Some("warning") => hl7_runtime::validate::Severity::Warning,
                Some(_) => hl7_runtime::validate::Severity::Error,
                None => st.expect.severity,
            };
            let expect = Expect { severity, code: v.code, at: Some(v.at.clone()), ..st.expect.clone() };
            let original = match &v.original {
                Some(name) => {
                    let path = fixtures_dir.join(name);
                    Some((name.clone(), std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?))
                }
                None => None,
            };
            cases.push(Case { fixture: fx.name.clone(), original, edits: v.edits.clone(), bytes: m.to_bytes(), expect: Some(expect) });
        }
        return Ok((Need::All, cases));
    }
    let mut cases = Vec::new();
    let mut last = String::new();
    for fx in list {
        let checked = telerad::check(&fx.bytes, &ParseOptions::default(), Some(&st.profile)).map_err(|e| e.to_string())?;
        let Some(any) = checked.message.as_ref() else { continue };
        match mechanical(st, fx, any.placed()) {
            Ok(c) => cases.push(c),
            Err(e) => last = e,
        }
    }
    if cases.is_empty() {
        Err(last)
    } else {
        Ok((Need::Any, cases))
    }
}

fn mechanical(st: &Statement, fx: &Fixture, placed: &Placed<'_>) -> Result<Case, String> {
    let mut m = Er7::new(&fx.bytes)?;
    let (edits, expect) = match &st.how {
        How::Element { scope, segment, field, component, subcomponent, change } => {
            let target = targets(placed, scope, segment).into_iter().next().ok_or_else(|| format!("no {segment} in scope {scope:?} in the fixtures"))?;
            let (id, k) = m.sequence_of(target).ok_or("segment out of range")?;
            element_edits(&m, st, &id, k, *field, *component, *subcomponent, change)?
        }
        How::Node { parent, name, group, bound } => node_edits(&m, st, placed, parent, name, *group, *bound)?,
        How::Slice { group, name, bound } => slice_edits(&m, st, placed, group, name, *bound)?,
        How::Written { .. } => return Err("written cases are not mechanical".into()),
    };
    for e in &edits {
        m.apply(e)?;
    }
    Ok(Case { fixture: fx.name.clone(), original: None, edits, bytes: m.to_bytes(), expect: Some(expect) })
}

fn addr(id: &str, k: usize, field: u16, rep: Option<usize>, component: Option<u16>, sub: Option<u16>) -> String {
    let mut s = format!("{id}[{k}]-{field}");
    if let Some(r) = rep {
        s.push_str(&format!("[{r}]"));
    }
    for p in [component, sub].into_iter().flatten() {
        s.push_str(&format!(".{p}"));
    }
    s
}

#[allow(clippy::too_many_arguments)]
fn element_edits(m: &Er7, st: &Statement, id: &str, k: usize, field: u16, component: Option<u16>, sub: Option<u16>, change: &Change) -> Result<(Vec<Edit>, Expect), String> {
    if id == "MSH" && field <= 2 {
        // The separators are broken by writing the whole message with other ones.
        let Change::NotFixed(_) = change else { return Err("only a fixed value of the separators can be broken".into()) };
        let (swap, with) = if field == 1 { ("|", "#") } else { ("~", "!") };
        return Ok((vec![Edit::Swap { from: swap.into(), to: with.into() }], Expect { at: Some(addr(id, k, field, None, None, None)), ..st.expect.clone() }));
    }
    let reps = m.repetitions(id, k, usize::from(field))?;
    let located = |rep: Option<usize>| Expect { at: Some(addr(id, k, field, rep, component, sub)), ..st.expect.clone() };
    // A changed value in the first repetition is located with its repetition when the field
    // repeats (the validator reports each repetition's value).
    let rep1 = (reps > 1).then_some(1);
    let set = |value: &str, extra: Option<u16>| {
        let (c, s) = match (component, sub, extra) {
            (_, _, None) => (component, sub),
            (None, _, Some(x)) => (Some(x), None),
            (Some(c), None, Some(x)) => (Some(c), Some(x)),
            (Some(c), Some(s), Some(_)) => (Some(c), Some(s)),
        };
        Edit::Set { at: addr(id, k, field, if c.is_some() || reps > 1 { Some(1) } else { None }, c, s), to: value.to_owned() }
    };
    Ok(match change {
        Change::Empty => {
            let mut edits = Vec::new();
            if component.is_some() {
                // A component's usage holds only in a field that is present: keep the field
                // present through another component (or subcomponent) when it has no other.
                let other = if sub.is_some() { component } else { Some(if component == Some(1) { 2 } else { 1 }) };
                let other_sub = sub.map(|s| if s == 1 { 2 } else { 1 });
                let other_addr = addr(id, k, field, None, other, other_sub);
                let target = m.get(&super::edit::Address::parse(&addr(id, k, field, None, component, sub))?)?;
                let field_raw = m.get(&super::edit::Address::parse(&addr(id, k, field, None, None, None))?)?;
                if field_raw.is_empty() || field_raw == target {
                    edits.push(Edit::Set { at: other_addr, to: "X".into() });
                }
            }
            if component.is_none() {
                edits.push(Edit::Set { at: addr(id, k, field, None, None, None), to: String::new() });
            } else {
                for r in 1..=reps.max(1) {
                    edits.push(Edit::Set { at: addr(id, k, field, Some(r), component, sub), to: String::new() });
                }
            }
            (edits, located(None))
        }
        Change::Present => {
            let current = m.get(&super::edit::Address::parse(&addr(id, k, field, None, component, sub))?)?;
            if !current.is_empty() {
                return Err(format!("{} is already present in the fixture, which should not validate", addr(id, k, field, None, component, sub)));
            }
            (vec![Edit::Set { at: addr(id, k, field, None, component, sub), to: "X".into() }], located(None))
        }
        Change::NotFixed(v) => {
            let other = if v == "ZZ" { "YY" } else { "ZZ" };
            (vec![set(other, None)], located(rep1))
        }
        Change::NotInList { list, table } => {
            let made_up = ["ZZ", "YY", "QQQ"].into_iter().find(|x| !list.iter().any(|v| v == x)).unwrap_or("ZZZZ");
            let other = table.iter().map(String::as_str).find(|c| !list.iter().any(|v| v == c) && !c.contains("nnnn")).unwrap_or(made_up);
            (vec![set(other, None)], located(rep1))
        }
        Change::NotInTable { composite, .. } => (vec![set("ZZ9", composite.then_some(1))], located(rep1)),
        Change::NotInValueSet(_) => (vec![set("0000000", None)], located(rep1)),
        Change::BadFormat(dt) => {
            let edits = match dt.as_str() {
                "DT" => vec![set("20261399", None)],
                "DTM" => vec![set("2026139912", None)],
                "TS" => vec![set("2026139912", component.is_none().then_some(1))],
                "TM" => vec![set("2561", None)],
                "NM" => vec![set("1,5", None)],
                "SI" => vec![set("-1", None)],
                "ED" if component.is_none() => vec![set("Base64", Some(4)), set("!!not base64!!", Some(5))],
                other => return Err(format!("no bad value for datatype {other}")),
            };
            (edits, Expect { at: Some(addr(id, k, field, None, None, None)), ..st.expect.clone() })
        }
    })
}

/// Group instances at a path from the root (`ORDER/ORDER_DETAIL`; empty: the root).
fn instances<'t>(root: &'t GroupInstance, path: &str) -> Vec<&'t GroupInstance> {
    let mut level = vec![root];
    for name in path.split('/').filter(|s| !s.is_empty()) {
        level = level
            .into_iter()
            .flat_map(|g| g.items.iter())
            .filter_map(|it| match it {
                Item::Group { group, .. } if group.def.name == name => Some(group),
                _ => None,
            })
            .collect();
    }
    level
}

fn is_slice(placed: &Placed<'_>, inst: &GroupInstance, name: &str) -> bool {
    let view = GroupView { message: &placed.message, instance: inst };
    inst.def.slices.iter().any(|s| s.name == name && view.is_slice(s))
}

/// Segment numbers (0-based, message order) of `segment` in the scope.
fn targets(placed: &Placed<'_>, scope: &Scope, segment: &str) -> Vec<usize> {
    let direct = |g: &GroupInstance| -> Vec<usize> {
        g.items
            .iter()
            .filter_map(|it| match it {
                Item::Segment { segment: i, .. } => Some(*i),
                _ => None,
            })
            .filter(|i| placed.message.segment(*i).is_some_and(|s| s.id() == segment))
            .collect()
    };
    match scope {
        Scope::Message { group: None } => placed.message.segment_ids().enumerate().filter(|(_, id)| *id == segment).map(|(i, _)| i).collect(),
        Scope::Message { group: Some(g) } => instances(&placed.tree, g).into_iter().flat_map(direct).collect(),
        Scope::Slice { group, name } => instances(&placed.tree, group).into_iter().filter(|g| is_slice(placed, g, name)).flat_map(direct).collect(),
    }
}

fn all_lines(item: &Item) -> Vec<usize> {
    match item {
        Item::Segment { segment, .. } | Item::Unexpected { segment } => vec![*segment],
        Item::Group { group, .. } => {
            let mut v = Vec::new();
            group.all_segments(&mut v);
            v
        }
    }
}

fn deletions(m: &Er7, mut lines: Vec<usize>) -> Result<Vec<Edit>, String> {
    // Deleted from the last up, so each address still names the segment it named.
    lines.sort_unstable();
    lines.dedup();
    lines.reverse();
    lines
        .into_iter()
        .map(|l| {
            let (id, k) = m.sequence_of(l).ok_or("segment out of range")?;
            Ok(Edit::Delete { segment: format!("{id}[{k}]") })
        })
        .collect()
}

/// Copies of `lines` inserted after the last of `after`, `times` times.
fn copies(m: &Er7, after: usize, lines: &[usize], times: u32) -> Result<Vec<Edit>, String> {
    let (id, k) = m.sequence_of(after).ok_or("segment out of range")?;
    let text: Vec<String> = lines.iter().filter_map(|l| m.line_text(*l).map(str::to_owned)).collect();
    let mut edits = Vec::new();
    // Inserted after the same anchor in reverse order, they end up in message order.
    for _ in 0..times {
        for t in text.iter().rev() {
            edits.push(Edit::InsertAfter { after: format!("{id}[{k}]"), segment: t.clone() });
        }
    }
    Ok(edits)
}

fn node_edits(m: &Er7, st: &Statement, placed: &Placed<'_>, parent: &str, name: &str, group: bool, bound: Bound) -> Result<(Vec<Edit>, Expect), String> {
    let parents = instances(&placed.tree, parent);
    let slot_of = |g: &GroupInstance| g.def.children.iter().position(|c| c.name() == name);
    let occurrences = |g: &GroupInstance| -> Vec<Vec<usize>> {
        let Some(slot) = slot_of(g) else { return Vec::new() };
        g.items
            .iter()
            .filter(|it| matches!(it, Item::Segment { slot: s, .. } | Item::Group { slot: s, .. } if usize::from(*s) == slot))
            .map(all_lines)
            .collect()
    };
    let expect = st.expect.clone();
    match bound {
        Bound::Min(_) => {
            let g = parents.iter().find(|g| !occurrences(g).is_empty()).ok_or_else(|| format!("no {name} in the fixtures"))?;
            let lines: Vec<usize> = occurrences(g).into_iter().flatten().collect();
            Ok((deletions(m, lines)?, expect))
        }
        Bound::Max(max) => {
            if let Some(g) = parents.iter().find(|g| !occurrences(g).is_empty()) {
                let occ = occurrences(g);
                let last = occ.last().cloned().unwrap_or_default();
                let after = *last.iter().max().ok_or("empty occurrence")?;
                let times = (max + 1).saturating_sub(occ.len() as u32);
                return Ok((copies(m, after, &last, times)?, expect));
            }
            if group {
                return Err(format!("no {name} group in the fixtures to repeat"));
            }
            // An absent segment: bare ones where it belongs, after what precedes its place;
            // in an absent group, after a bare segment that opens the group.
            let Some(g) = parents.first() else { return absent_group_edits(m, placed, parent, name, max, expect) };
            let slot = slot_of(g).ok_or("no slot")?;
            let after = last_line_before(g, slot).ok_or_else(|| format!("nothing precedes {name} in its group to insert it after"))?;
            let (id, k) = m.sequence_of(after).ok_or("segment out of range")?;
            let edits = (0..=max).map(|_| Edit::InsertAfter { after: format!("{id}[{k}]"), segment: name.to_owned() }).collect();
            Ok((edits, expect))
        }
    }
}

fn slice_edits(m: &Er7, st: &Statement, placed: &Placed<'_>, group: &str, name: &str, bound: Bound) -> Result<(Vec<Edit>, Expect), String> {
    let matching: Vec<&GroupInstance> = instances(&placed.tree, group).into_iter().filter(|g| is_slice(placed, g, name)).collect();
    let first = matching.first().ok_or_else(|| format!("no {name} instance in the fixtures"))?;
    match bound {
        Bound::Min(_) => {
            let mut lines = Vec::new();
            for g in &matching {
                g.all_segments(&mut lines);
            }
            Ok((deletions(m, lines)?, st.expect.clone()))
        }
        Bound::Max(max) => {
            let mut lines = Vec::new();
            first.all_segments(&mut lines);
            let after = *lines.iter().max().ok_or("empty instance")?;
            let times = (max + 1).saturating_sub(matching.len() as u32);
            Ok((copies(m, after, &lines, times)?, st.expect.clone()))
        }
    }
}

/// `max + 1` bare `name` segments in a new instance of the absent group `parent`, opened by a
/// bare segment that opens it, placed after what precedes the group in its own parent.
fn absent_group_edits(m: &Er7, placed: &Placed<'_>, parent: &str, name: &str, max: u32, expect: Expect) -> Result<(Vec<Edit>, Expect), String> {
    let (outer, group) = parent.rsplit_once('/').unwrap_or(("", parent));
    let holder = instances(&placed.tree, outer).into_iter().next().ok_or_else(|| format!("no {parent} in the fixtures, nor {outer} to add it to"))?;
    let slot = holder.def.children.iter().position(|c| c.name() == group).ok_or("no slot")?;
    let hl7_runtime::meta::Node::Group(def) = &holder.def.children[slot] else { return Err(format!("{group} is not a group")) };
    let opener = def.first.first().ok_or_else(|| format!("nothing opens {group}"))?;
    let after = last_line_before(holder, slot).ok_or_else(|| format!("nothing precedes {group} to insert it after"))?;
    let (id, k) = m.sequence_of(after).ok_or("segment out of range")?;
    // Inserted after the same anchor, the last insert comes first: the opener goes last.
    let mut edits: Vec<Edit> = (0..=max).map(|_| Edit::InsertAfter { after: format!("{id}[{k}]"), segment: name.to_owned() }).collect();
    edits.push(Edit::InsertAfter { after: format!("{id}[{k}]"), segment: (*opener).to_owned() });
    Ok((edits, expect))
}

/// The last segment of what a group instance holds before child `slot`: where an element of
/// that slot is inserted.
fn last_line_before(g: &GroupInstance, slot: usize) -> Option<usize> {
    g.items
        .iter()
        .filter(|it| matches!(it, Item::Segment { slot: s, .. } | Item::Group { slot: s, .. } if usize::from(*s) < slot))
        .flat_map(all_lines)
        .max()
}
