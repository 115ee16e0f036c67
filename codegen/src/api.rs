//! The usage/cardinality → Rust type contract (spec/README.md, "the API contract"), decided
//! once per element from the model: how an accessor returns it ([`Shape`]) and how a builder
//! holds it ([`Slot`]). The emitters, the derives (through [`crate::expand`]) and
//! `hl7-codegen diff` all read these, and the diff's list of the generated API is [`surface`],
//! next to the decisions, so that the API the diff reports is the API generated
//! (`tests/api_surface.rs` checks that list against the generated code item by item).

use std::collections::BTreeMap;

use crate::model::{DataType, Group, Model, Node, Profile, Segment, Usage};
use crate::names;

/// How a value of an element is returned by its accessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Required, at most one: `Result<T, Missing>`.
    Required,
    /// Any other usage, at most one: `Option<T>`.
    Optional,
    /// More than one allowed: every repetition (`Reps` for fields, an iterator or a `Vec` for
    /// structure elements).
    Repeated,
}

impl Shape {
    /// A field of a segment. Its base usage decides, not a profile's cardinality: a segment type
    /// is shared by every profile, and a profile that requires a field reports its absence in
    /// validation rather than through another Rust type.
    pub fn of_field(usage: Usage, max: u32) -> Shape {
        Shape::of_child(usage, 0, max)
    }

    /// A segment, group or slice in a message structure: required by its usage or its minimum.
    pub fn of_child(usage: Usage, min: u32, max: u32) -> Shape {
        if max > 1 {
            Shape::Repeated
        } else if required(usage, min) {
            Shape::Required
        } else {
            Shape::Optional
        }
    }

    /// A component or subcomponent: `None` when empty, whatever its usage (a missing required
    /// component is a validation finding).
    pub fn of_component() -> Shape {
        Shape::Optional
    }

    /// A field accessor's type as the diff lists it (`T` the datatype's view).
    pub fn field_signature(self, t: &str) -> String {
        match self {
            Shape::Repeated => format!("Reps<{t}>"),
            other => other.single_signature(t),
        }
    }

    /// A structure accessor's type as the diff lists it (`T` the segment's or group's view).
    pub fn child_signature(self, t: &str) -> String {
        match self {
            Shape::Repeated => format!("impl Iterator<Item = {t}>"),
            other => other.single_signature(t),
        }
    }

    fn single_signature(self, t: &str) -> String {
        match self {
            Shape::Required => format!("Result<{t}, Missing>"),
            _ => format!("Option<{t}>"),
        }
    }
}

/// Whether an element must be there: usage R (which the model already folds into a minimum of
/// one) or a minimum above zero.
fn required(usage: Usage, min: u32) -> bool {
    usage == Usage::R || min > 0
}

/// How a builder keeps a value of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// The value itself.
    One,
    /// `Option<T>`.
    Maybe,
    /// `Vec<T>`, every repetition.
    Many,
}

/// A builder's place for an element: what its field holds, and whether `new` takes the
/// element as an argument (its first value, for a repeated one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub holds: Holds,
    pub argument: bool,
}

impl Slot {
    /// A field of segment `segment`: every repetition when it may repeat, else an `Option`, a
    /// required field too (set by `new`, which takes the required fields, but a builder can
    /// still leave it out to test a receiver). `None` for MSH-1 and MSH-2: the message writes
    /// them from its delimiters.
    pub fn of_field(segment: &str, pos: u16, usage: Usage, max: u32) -> Option<Slot> {
        if segment == "MSH" && pos <= 2 {
            return None;
        }
        let holds = if max > 1 { Holds::Many } else { Holds::Maybe };
        Some(Slot { holds, argument: usage == Usage::R })
    }

    /// A segment or group of a structure: `None` for usage X (a maximum of 0: it must not be
    /// sent, so the builder has no place for it); a required one is a `new` argument, kept
    /// as it is when it occurs once.
    pub fn of_child(usage: Usage, min: u32, max: u32) -> Option<Slot> {
        if max == 0 {
            return None;
        }
        let argument = required(usage, min);
        let holds = match (argument, max > 1) {
            (_, true) => Holds::Many,
            (true, false) => Holds::One,
            (false, false) => Holds::Maybe,
        };
        Some(Slot { holds, argument })
    }

    /// The field's type as the diff lists it (`T` the value's or builder's type).
    pub fn signature(self, t: &str) -> String {
        match self.holds {
            Holds::One => t.to_owned(),
            Holds::Maybe => format!("Option<{t}>"),
            Holds::Many => format!("Vec<{t}>"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generated API as a list: what `hl7-codegen diff` compares between two spec folders.

/// What a [`surface`] item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Type,
    Method,
    Field,
    /// A parameter of a builder's `new`.
    Param,
    /// The order of a builder's `new` parameters (names, comma-separated).
    ParamOrder,
    /// A variant of the exhaustive `AnyMessage` enum.
    Variant,
}

/// One public item of the generated API.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    /// Its type, in the short form of the lists (`Result<Pid, Missing>`, `Vec<ObxBuilder>`).
    pub sig: String,
    pub profile: Option<String>,
    /// The HL7 path the item is generated from (`PID-3`, `ORDER/OBR`, `CX.1`).
    pub origin: String,
}

/// The generated API's items by name (`segments::Pid::patient_name()`,
/// `segments::PidBuilder.patient_name`, `segments::PidBuilder::new(patient_name)` …), in
/// generation order.
#[derive(Debug, Default)]
pub struct Surface {
    pub order: Vec<String>,
    pub items: BTreeMap<String, Item>,
}

impl Surface {
    fn add(&mut self, name: String, kind: ItemKind, sig: impl Into<String>, profile: Option<&str>, origin: &str) {
        let item = Item { kind, sig: sig.into(), profile: profile.map(str::to_owned), origin: origin.to_owned() };
        // A name generated twice would not compile; keep the first, as rustc would report it.
        if !self.items.contains_key(&name) {
            self.order.push(name.clone());
            self.items.insert(name, item);
        }
    }
}

/// The API the emitters generate from `m`, by the decisions above.
pub fn surface(m: &Model) -> Surface {
    let mut s = Surface::default();
    for d in m.datatypes.values() {
        datatype_items(m, d, &mut s);
    }
    for seg in m.segments.values() {
        segment_items(m, seg, &mut s);
    }
    for p in &m.profiles {
        let pid = Some(p.id.as_str());
        s.add(format!("AnyMessage::{}", names::camel(&p.id)), ItemKind::Variant, "variant", pid, "");
        group_items(m, p, &p.root, "", &mut s);
    }
    s
}

/// The view type of a datatype (`Cx`; `St` for one the model does not define).
fn dt_rust(m: &Model, id: &str) -> String {
    m.datatypes.get(id).map(|d| d.rust.clone()).unwrap_or_else(|| "St".to_owned())
}

/// The owned type of a datatype in builders: `String` for primitives, `XxValue` for composites,
/// `Value` for a field whose datatype varies.
fn value_type(m: &Model, id: Option<&str>) -> String {
    match id {
        None => "Value".to_owned(),
        Some(id) => match m.datatypes.get(id) {
            Some(d) if !d.components.is_empty() => format!("{}Value", d.rust),
            _ => "String".to_owned(),
        },
    }
}

fn datatype_items(m: &Model, d: &DataType, s: &mut Surface) {
    let ty = format!("datatypes::{}", d.rust);
    if d.components.is_empty() {
        s.add(ty, ItemKind::Type, "type = Primitive", None, &d.id);
        return;
    }
    s.add(ty.clone(), ItemKind::Type, "struct", None, &d.id);
    let value = format!("datatypes::{}Value", d.rust);
    s.add(value.clone(), ItemKind::Type, "struct", None, &d.id);
    for c in &d.components {
        let origin = format!("{}.{}", d.id, c.pos);
        s.add(format!("{ty}::{}()", c.ident), ItemKind::Method, Shape::of_component().field_signature(&dt_rust(m, &c.datatype)), None, &origin);
        s.add(format!("{value}.{}", c.ident), ItemKind::Field, format!("Option<{}>", value_type(m, Some(&c.datatype))), None, &origin);
    }
    let first_primitive = d.components.first().is_some_and(|c| m.datatypes.get(&c.datatype).is_none_or(|x| x.components.is_empty()));
    if first_primitive {
        s.add(format!("impl From<&str> for {value}"), ItemKind::Method, "impl", None, &format!("{}.1", d.id));
    }
}

fn segment_items(m: &Model, seg: &Segment, s: &mut Surface) {
    let ty = format!("segments::{}", seg.rust);
    let builder = format!("{ty}Builder");
    s.add(ty.clone(), ItemKind::Type, "struct", None, &seg.id);
    s.add(builder.clone(), ItemKind::Type, "struct", None, &seg.id);
    let mut params = Vec::new();
    for f in &seg.fields {
        let origin = format!("{}-{}", seg.id, f.pos);
        let t = f.datatype.as_deref().map(|d| dt_rust(m, d)).unwrap_or_else(|| "Varies".to_owned());
        let ret = Shape::of_field(f.usage, f.max).field_signature(&t);
        s.add(format!("{ty}::{}()", f.ident), ItemKind::Method, ret.clone(), None, &origin);
        s.add(format!("{ty}::{}_{}()", seg.id.to_lowercase(), f.pos), ItemKind::Method, ret, None, &origin);
        let Some(slot) = Slot::of_field(&seg.id, f.pos, f.usage, f.max) else { continue };
        let vt = value_type(m, f.datatype.as_deref());
        s.add(format!("{builder}.{}", f.ident), ItemKind::Field, slot.signature(&vt), None, &origin);
        if slot.argument {
            s.add(format!("{builder}::new({})", f.ident), ItemKind::Param, format!("impl Into<{vt}>"), None, &origin);
            params.push(f.ident.clone());
        }
    }
    if params.is_empty() {
        s.add(format!("impl Default for {builder}"), ItemKind::Method, "impl", None, &seg.id);
    }
    s.add(format!("{builder}::new"), ItemKind::ParamOrder, params.join(", "), None, &seg.id);
}

fn group_items(m: &Model, p: &Profile, g: &Group, path: &str, s: &mut Surface) {
    let pid = Some(p.id.as_str());
    let ty = format!("{}::{}", p.id, g.rust);
    let builder = format!("{ty}Builder");
    s.add(ty.clone(), ItemKind::Type, "struct", pid, path);
    s.add(builder.clone(), ItemKind::Type, "struct", pid, path);
    let mut params = Vec::new();
    for (cp, c) in children(g, path) {
        let (accessor, usage, view, built) = match c {
            Node::Segment(r) => {
                let rust = m.segments.get(&r.id).map(|x| x.rust.clone()).unwrap_or_else(|| "Msh".to_owned());
                (&r.accessor, r.usage, rust.clone(), format!("{rust}Builder"))
            }
            Node::Group(inner) => (&inner.accessor, inner.usage, inner.rust.clone(), format!("{}Builder", inner.rust)),
        };
        s.add(format!("{ty}::{accessor}()"), ItemKind::Method, Shape::of_child(usage, c.min(), c.max()).child_signature(&view), pid, &cp);
        if let Node::Group(inner) = c {
            for sl in &inner.slices {
                let sp = format!("{cp}:{}", sl.name);
                s.add(format!("{ty}::{}()", sl.accessor), ItemKind::Method, Shape::of_child(sl.usage, sl.min, sl.max).child_signature(&sl.rust), pid, &sp);
            }
        }
        let Some(slot) = Slot::of_child(usage, c.min(), c.max()) else { continue };
        s.add(format!("{builder}.{accessor}"), ItemKind::Field, slot.signature(&built), pid, &cp);
        if slot.argument {
            s.add(format!("{builder}::new({accessor})"), ItemKind::Param, built, pid, &cp);
            params.push(accessor.clone());
        }
    }
    s.add(format!("{builder}::new"), ItemKind::ParamOrder, params.join(", "), pid, path);
    for sl in &g.slices {
        let sp = format!("{path}:{}", sl.name);
        let sty = format!("{}::{}", p.id, sl.rust);
        s.add(sty.clone(), ItemKind::Type, "struct", pid, &sp);
        if let Some(v) = &sl.value_type {
            s.add(format!("{sty}::value()"), ItemKind::Method, format!("Option<{}>", dt_rust(m, v)), pid, &sp);
        }
    }
    for (cp, c) in children(g, path) {
        if let Node::Group(inner) = c {
            group_items(m, p, inner, &cp, s);
        }
    }
}

/// A group's children with their paths under `path` (`ORDER/OBX`; `OBX[2]` for the second
/// child of one name): the origins of the items and the keys by which the diff pairs children.
pub fn children<'g>(g: &'g Group, path: &str) -> Vec<(String, &'g Node)> {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    g.children
        .iter()
        .map(|c| {
            let name = match c {
                Node::Segment(s) => s.id.as_str(),
                Node::Group(inner) => inner.name.as_str(),
            };
            let n = seen.entry(name).or_insert(0);
            *n += 1;
            let key = if *n == 1 { name.to_owned() } else { format!("{name}[{n}]") };
            (join(path, &key), c)
        })
        .collect()
}

/// `parent/child`, or `child` at the root.
fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}/{child}")
    }
}
