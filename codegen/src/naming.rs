//! The naming pass: every Rust name of a profile's views and builders, decided once on the
//! model so that the emitters only spell them out.
//!
//! - Group and slice view types are unique within the profile module (`Order`, `Modality`,
//!   `_2` suffixes in traversal order on collision; `Message` is the root's).
//! - Accessors on a group: the child's snake name, in the plural when it may repeat
//!   (`orders`, `ntes`), then the slices of a child group (`modality`, `protocol_texts`);
//!   unique within the group in position order, never one of the view's own methods.

use std::collections::BTreeSet;

use crate::model::{Group, Node};
use crate::names;

/// Methods every generated message type has: accessors must not shadow them.
const MESSAGE_METHODS: &[&str] = &["parse", "parse_with", "from_message", "er7", "encode", "unexpected"];
/// Methods every generated group view has.
const GROUP_METHODS: &[&str] = &["unexpected", "group", "value"];

pub(crate) fn profile(root: &mut Group) {
    let mut types: Vec<String> = Vec::new();
    collect_types(root, &mut types);
    names::dedupe(&mut types, &["Message"]);
    let mut types = types.into_iter();
    assign_types(root, &mut types);
    assign_accessors(root, MESSAGE_METHODS);
}

fn collect_types(g: &Group, out: &mut Vec<String>) {
    for c in &g.children {
        if let Node::Group(inner) = c {
            out.push(inner.rust.clone());
            out.extend(inner.slices.iter().map(|s| s.rust.clone()));
            collect_types(inner, out);
        }
    }
}

fn assign_types(g: &mut Group, names: &mut impl Iterator<Item = String>) {
    for c in &mut g.children {
        if let Node::Group(inner) = c {
            if let Some(n) = names.next() {
                inner.rust = n;
            }
            for s in &mut inner.slices {
                if let Some(n) = names.next() {
                    s.rust = n;
                }
            }
            assign_types(inner, names);
        }
    }
}

fn assign_accessors(g: &mut Group, reserved: &[&str]) {
    let mut taken: BTreeSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    for c in &mut g.children {
        let repeated = c.max() > 1;
        match c {
            Node::Segment(s) => s.accessor = unique(&mut taken, if repeated { names::plural(&s.ident) } else { s.ident.clone() }),
            Node::Group(inner) => {
                inner.accessor = unique(&mut taken, if repeated { names::plural(&inner.ident) } else { inner.ident.clone() });
                for s in &mut inner.slices {
                    let base = names::snake(&s.name);
                    s.accessor = unique(&mut taken, if s.max > 1 { names::plural(&base) } else { base });
                }
                assign_accessors(inner, GROUP_METHODS);
            }
        }
    }
}

/// `name`, or `name_2`, `name_3`… when already taken; the result is taken.
fn unique(taken: &mut BTreeSet<String>, name: String) -> String {
    let mut n = name.clone();
    let mut k = 2;
    while taken.contains(&n) {
        n = format!("{name}_{k}");
        k += 1;
    }
    taken.insert(n.clone());
    n
}
