//! JSON view of a placed message, driven by the static definitions.
//!
//! Shape (the contract `telerad json` documents):
//! - the message is an object with `"profile"`, `"structure"`, `"charset"`, then one key per
//!   child of the structure that is present: the segment id (`"MSH"`) or the group name
//!   (`"PATIENT"`); an element whose cardinality allows more than one is an array, even with one
//!   occurrence; a group instance that is a slice of the guide has `"slice": "<name>"`;
//! - a segment is an object keyed by the field accessor names (`"patient_name"`), in position
//!   order, empty fields omitted; a repeating field is an array of its repetitions;
//! - a primitive value is its decoded string; a composite is an object keyed by component
//!   accessor names, empty components omitted;
//! - OBX-5 is read with the datatype OBX-2 names (text when OBX-2 names no known datatype);
//! - fields past the definition are keyed `"SEG-n"` with their decoded text;
//! - segments without a place in the structure are listed, in place, under `"unexpected"` as
//!   `{ "segment": "ZDS", "fields": { "1": "..." } }` with decoded field texts.

use serde_json::{Map, Value};

use crate::er7::{Field, Segment};
use crate::meta::{DataTypeDef, Node, Registry, SegmentDef};
use crate::structure::{GroupInstance, Item};
use crate::typed::{Part, Placed};

/// The JSON value of a placed message.
pub fn message(placed: &Placed<'_>, registry: &Registry) -> Value {
    let mut obj = Map::new();
    obj.insert("profile".into(), Value::String(placed.def.profile.to_owned()));
    obj.insert("structure".into(), Value::String(placed.def.structure.to_owned()));
    obj.insert("charset".into(), Value::String(placed.message.charset().label().to_owned()));
    group_into(&mut obj, placed, &placed.tree, registry);
    Value::Object(obj)
}

fn group_into(obj: &mut Map<String, Value>, placed: &Placed<'_>, inst: &GroupInstance, registry: &Registry) {
    let children = inst.def.children;
    for item in &inst.items {
        match item {
            Item::Segment { slot, segment } => {
                let Some(Node::Segment(node)) = children.get(*slot as usize) else { continue };
                let Some(seg) = placed.message.segment(*segment) else { continue };
                let v = segment_value(seg, Some(node.def), registry);
                put(obj, node.def.id, v, node.max > 1);
            }
            Item::Group { slot, group } => {
                let Some(Node::Group(def)) = children.get(*slot as usize) else { continue };
                let mut g = Map::new();
                let view = crate::typed::GroupView { message: &placed.message, instance: group };
                if let Some(s) = def.slices.iter().find(|s| view.is_slice(s)) {
                    g.insert("slice".into(), Value::String(s.name.to_owned()));
                }
                group_into(&mut g, placed, group, registry);
                put(obj, def.name, Value::Object(g), def.max > 1);
            }
            Item::Unexpected { segment } => {
                let Some(seg) = placed.message.segment(*segment) else { continue };
                let mut fields = Map::new();
                // One pass, as in `segment_value`.
                for (i, f) in seg.fields().enumerate() {
                    if !f.is_empty() {
                        fields.insert((i + 1).to_string(), Value::String(f.text().into_owned()));
                    }
                }
                let mut u = Map::new();
                u.insert("segment".into(), Value::String(seg.id().to_owned()));
                u.insert("fields".into(), Value::Object(fields));
                put(obj, "unexpected", Value::Object(u), true);
            }
        }
    }
}

fn put(obj: &mut Map<String, Value>, key: &str, v: Value, many: bool) {
    if many {
        match obj.get_mut(key) {
            Some(Value::Array(a)) => a.push(v),
            _ => {
                obj.insert(key.to_owned(), Value::Array(vec![v]));
            }
        }
    } else {
        obj.insert(key.to_owned(), v);
    }
}

/// The JSON value of one segment, by its definition (or positional keys without one).
pub fn segment_value(seg: Segment<'_>, def: Option<&SegmentDef>, registry: &Registry) -> Value {
    let mut obj = Map::new();
    let def = def.or_else(|| registry.segment(seg.id()));
    // One pass over the fields: `seg.field(n)` past the view's cached separators scans from
    // the last cached one, so reading every field by number is quadratic in the field count
    // (a 5,000-field MSH took seconds; found by the `typed` fuzz target).
    for (i, field) in seg.fields().enumerate() {
        let n = i + 1;
        if field.is_empty() {
            continue;
        }
        match def.and_then(|d| d.field(n)) {
            Some(fd) => {
                let dt = match fd.datatype {
                    Some(dt) => Some(dt),
                    // OBX-5: the datatype is OBX-2's value.
                    None => registry.datatype(seg.field(2).text().trim()),
                };
                let v = if fd.max > 1 {
                    Value::Array(reps(field).map(|p| value(p, dt)).collect())
                } else {
                    reps(field).next().map(|p| value(p, dt)).unwrap_or(Value::Null)
                };
                // MSH-2 holds the delimiters themselves: never split it.
                let v = if seg.id() == "MSH" && n <= 2 { Value::String(field.text().into_owned()) } else { v };
                obj.insert(fd.ident.to_owned(), v);
            }
            None => {
                obj.insert(positional_key(seg.id(), n), Value::String(field.text().into_owned()));
            }
        }
    }
    Value::Object(obj)
}

/// `SEG-n`, allocated once: `format!` starts from an empty buffer here and grows it again
/// for five-digit positions, which made a long segment's allocations jump past field 9,999.
fn positional_key(id: &str, n: usize) -> String {
    use std::fmt::Write as _;
    let mut key = String::with_capacity(id.len() + 1 + 20);
    // Writing to a String cannot fail.
    let _ = write!(key, "{id}-{n}");
    key
}

fn reps<'a>(field: Field<'a>) -> impl Iterator<Item = Part<'a>> {
    field.repetitions().map(Part::Repetition)
}

fn value(part: Part<'_>, dt: Option<&DataTypeDef>) -> Value {
    match dt {
        Some(dt) if !dt.is_primitive() => {
            let mut obj = Map::new();
            for c in dt.components {
                if let Some(p) = part.child(c.pos as usize) {
                    obj.insert(c.ident.to_owned(), value(p, Some(c.datatype)));
                }
            }
            Value::Object(obj)
        }
        _ => Value::String(part.text().into_owned()),
    }
}
