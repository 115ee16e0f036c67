//! The one expansion path shared by the code generator and `hl7-derive`.
//!
//! Two front ends describe elements: the model (from `spec/`) and the derive macros (from a
//! Rust struct and its `#[hl7(...)]` attributes). Both hand the description to the builders
//! below, which alone spell out the runtime's definitions (`SegmentDef`, `DataTypeDef`,
//! `GroupDef`, `MessageDef`), the trait impls the engine dispatches on, and the code that reads
//! a value out of a segment, a composite or a group. A generated `Obx` and a derived struct
//! declaring OBX therefore carry the same definition and read their values the same way; the
//! equivalence test in `tests/tests/derive.rs` holds them to it.
//!
//! Why both front ends call these builders rather than the generated code *using* the
//! derives (the other way the issue allowed), measured on this 2-core machine:
//!
//! - **Shape.** A derive only adds items beside a struct; it cannot turn it into a view. A
//!   derived segment is therefore a struct whose 25 (OBX) or 39 (PID) fields are read when it is
//!   built, where a generated one is a lazy view that reads the field asked for. Reading OBX-5
//!   of the 1.4 KB flow-3 ORU costs 136 ns through the generated view and 419 ns through the
//!   derived struct (`cargo bench -p benches --bench derive`, medians of one run): generated
//!   code going through the derives would make every typed access of the guide's messages
//!   three times slower, against the parse-speed targets of the benchmarks.
//! - **Build time** does not decide it. `cargo build --timings` after `cargo clean -p telerad`:
//!   the build script generates the guide's ~70k lines in 1.2 s and `telerad` compiles in
//!   6.9 s; a crate declaring 98 types with the derives (33 segments of 25 fields, 65
//!   composites) compiles in 1.9 s against 0.8 s for the same structs without them, about
//!   11 ms a type, so expanding the guide's ~100 types through the derives would add about a
//!   second.
//!
//! So the definitions, trait impls and value reads come from here for both, and only the
//! struct's shape differs: methods on a view for generated types, fields for derived ones.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

pub use crate::api::Shape;
use crate::model::{ElementConstraint, Usage, UNBOUNDED};

/// `::hl7_runtime::meta::Usage::R`.
pub fn usage(rt: &TokenStream, u: Usage) -> TokenStream {
    let v = quote::format_ident!("{}", u.code());
    quote! { #rt::meta::Usage::#v }
}

/// `Some("x")` / `None`.
pub fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote! { ::core::option::Option::Some(#s) },
        None => quote! { ::core::option::Option::None },
    }
}

/// `Some(n)` / `None`.
pub fn opt_u32(n: Option<u32>) -> TokenStream {
    match n {
        Some(n) => quote! { ::core::option::Option::Some(#n) },
        None => quote! { ::core::option::Option::None },
    }
}

/// A cardinality as HL7 writes it: `0..1`, `1..*`.
pub fn card(min: u32, max: u32) -> String {
    if max == UNBOUNDED {
        format!("{min}..*")
    } else {
        format!("{min}..{max}")
    }
}

/// A field as both front ends describe it.
pub struct Field<'a> {
    pub pos: u16,
    pub name: &'a str,
    pub ident: &'a str,
    /// An expression of type `Option<&'static DataTypeDef>` (`None` for "varies").
    pub datatype: TokenStream,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub len: Option<u32>,
    pub table: Option<&'a str>,
}

impl Field<'_> {
    pub fn shape(&self) -> Shape {
        Shape::of_field(self.usage, self.max)
    }
}

/// The type a field is read as, `inner` being the datatype's view type.
pub fn field_type(rt: &TokenStream, shape: Shape, inner: &TokenStream, lt: &TokenStream) -> TokenStream {
    match shape {
        Shape::Repeated => quote! { #rt::typed::Reps<#lt, #inner> },
        Shape::Required => quote! { ::core::result::Result<#inner, #rt::typed::Missing> },
        Shape::Optional => quote! { ::core::option::Option<#inner> },
    }
}

/// Reads field `pos` of `segment` (an expression of type `Segment`) as its shape says.
pub fn read_field(rt: &TokenStream, shape: Shape, segment: &TokenStream, pos: u16, path: &str) -> TokenStream {
    let pos = pos as usize;
    match shape {
        Shape::Repeated => quote! { #rt::typed::Reps::new(#segment.field(#pos)) },
        Shape::Required => quote! { #rt::typed::required(#segment.field(#pos), #path) },
        Shape::Optional => quote! { #rt::typed::single(#segment.field(#pos)) },
    }
}

/// `Some(n)` / `None`.
pub fn opt_u16(n: Option<u16>) -> TokenStream {
    match n {
        Some(n) => quote! { ::core::option::Option::Some(#n) },
        None => quote! { ::core::option::Option::None },
    }
}

/// The `ElementConstraint` expression of a constraint on one field, component or
/// subcomponent (a profile's, a slice's, or a derived segment's own).
pub fn element_constraint(rt: &TokenStream, e: &ElementConstraint) -> TokenStream {
    // Only what the guide gives is spelt; the rest comes from `ElementConstraint::DEFAULT`.
    let (path, field) = (&e.path.text, e.path.field);
    let mut given = vec![quote! { path: #path }, quote! { field: #field }];
    if let Some(c) = e.path.component {
        given.push(quote! { component: ::core::option::Option::Some(#c) });
    }
    if let Some(s) = e.path.subcomponent {
        given.push(quote! { subcomponent: ::core::option::Option::Some(#s) });
    }
    if let Some(u) = e.usage {
        let u = usage(rt, u);
        given.push(quote! { usage: ::core::option::Option::Some(#u) });
    }
    if let Some(n) = e.min {
        given.push(quote! { min: ::core::option::Option::Some(#n) });
    }
    if let Some(n) = e.max {
        let n = max(rt, n);
        given.push(quote! { max: ::core::option::Option::Some(#n) });
    }
    if let Some(f) = &e.fixed {
        given.push(quote! { fixed: ::core::option::Option::Some(#f) });
    }
    if !e.values.is_empty() {
        let values = &e.values;
        given.push(quote! { values: &[#(#values),*] });
    }
    if let Some(d) = &e.datatype {
        given.push(quote! { datatype: ::core::option::Option::Some(#d) });
    }
    if let Some(t) = &e.table {
        given.push(quote! { table: ::core::option::Option::Some(#t) });
    }
    if let Some((name, oid)) = &e.value_set {
        let oid = opt_str(oid.as_deref());
        given.push(quote! { value_set: ::core::option::Option::Some(#rt::meta::ValueSetRef { name: #name, oid: #oid }) });
    }
    if let Some(n) = e.len {
        given.push(quote! { len: ::core::option::Option::Some(#n) });
    }
    let src = &e.src;
    given.push(quote! { src: #src });
    quote! { #rt::meta::ElementConstraint { #(#given,)* ..#rt::meta::ElementConstraint::DEFAULT } }
}

/// An upper bound: `UNBOUNDED` by name for HL7's `*`, the number otherwise.
pub fn max(rt: &TokenStream, n: u32) -> TokenStream {
    if n == UNBOUNDED {
        quote! { #rt::meta::UNBOUNDED }
    } else {
        quote! { #n }
    }
}

/// The `SegmentDef` expression. `constraints` are the segment's own element constraints
/// (fixed values, value lists, value sets a derived segment declares), checked wherever the
/// segment appears; the base definitions of HL7 have none.
pub fn segment_def(rt: &TokenStream, id: &str, name: &str, fields: &[Field<'_>], constraints: &[ElementConstraint]) -> TokenStream {
    let fields = fields.iter().map(|f| {
        let (pos, fname, ident, dt) = (f.pos, f.name, f.ident, &f.datatype);
        let usage = usage(rt, f.usage);
        let (min, max) = (f.min, max(rt, f.max));
        let len = opt_u32(f.len);
        let table = opt_str(f.table);
        quote! {
            #rt::meta::FieldDef {
                pos: #pos, name: #fname, ident: #ident, datatype: #dt, usage: #usage,
                min: #min, max: #max, len: #len, table: #table,
            }
        }
    });
    let constraints = if constraints.is_empty() {
        quote! { ::core::option::Option::None }
    } else {
        let elems = constraints.iter().map(|e| element_constraint(rt, e));
        let src = format!("#[derive(Segment)] {id}");
        quote! {
            ::core::option::Option::Some(&#rt::meta::SegmentConstraints {
                segment: #id, group: ::core::option::Option::None, usage: ::core::option::Option::None,
                min: ::core::option::Option::None, max: ::core::option::Option::None,
                elements: &[#(#elems),*], src: #src,
            })
        }
    };
    quote! { #rt::meta::SegmentDef { id: #id, name: #name, fields: &[#(#fields),*], constraints: #constraints } }
}

/// `impl SegmentType` and `impl StructureElement` for a segment type with one lifetime.
pub fn segment_impls(rt: &TokenStream, ty: &Ident, lt: &TokenStream, def: &TokenStream, from_segment: &TokenStream) -> TokenStream {
    quote! {
        impl<#lt> #rt::typed::SegmentType<#lt> for #ty<#lt> {
            const DEF: &'static #rt::meta::SegmentDef = #def;
            fn from_segment(segment: #rt::Segment<#lt>) -> Self { #from_segment }
        }
        impl<#lt> #rt::typed::StructureElement<#lt> for #ty<#lt> {
            const ELEMENT: #rt::meta::Element = #rt::meta::Element::Segment(#def);
            fn first_at(group: #rt::typed::GroupView<#lt>, slot: u16) -> ::core::option::Option<Self> { group.segment(slot) }
            fn all_at(group: #rt::typed::GroupView<#lt>, slot: u16) -> ::std::vec::Vec<Self> { group.segments(slot).collect() }
        }
    }
}

/// A component as both front ends describe it.
pub struct Component<'a> {
    pub pos: u16,
    pub name: &'a str,
    pub ident: &'a str,
    /// An expression of type `&'static DataTypeDef`.
    pub datatype: TokenStream,
    pub usage: Usage,
    pub len: Option<u32>,
    pub table: Option<&'a str>,
}

/// The `DataTypeDef` expression.
pub fn datatype_def(rt: &TokenStream, id: &str, name: &str, components: &[Component<'_>]) -> TokenStream {
    let comps = components.iter().map(|c| {
        let (pos, cname, ident, cdt) = (c.pos, c.name, c.ident, &c.datatype);
        let usage = usage(rt, c.usage);
        let len = opt_u32(c.len);
        let table = opt_str(c.table);
        quote! {
            #rt::meta::ComponentDef {
                pos: #pos, name: #cname, ident: #ident, datatype: #cdt,
                usage: #usage, len: #len, table: #table,
            }
        }
    });
    quote! { #rt::meta::DataTypeDef::new(#id, #name, &[#(#comps),*]) }
}

/// Reads component `pos` of `part` (an expression of type `Part`): always `Option<T>`, since
/// HL7 lets any trailing component be left out.
pub fn read_component(part: &TokenStream, pos: u16) -> TokenStream {
    let pos = pos as usize;
    quote! { #part.get(#pos) }
}

/// `impl FromPart` for a composite datatype type with one lifetime.
pub fn from_part_impl(rt: &TokenStream, ty: &Ident, lt: &TokenStream, def: &TokenStream, from_part: &TokenStream) -> TokenStream {
    quote! {
        impl<#lt> #rt::typed::FromPart<#lt> for #ty<#lt> {
            const DEF: ::core::option::Option<&'static #rt::meta::DataTypeDef> = ::core::option::Option::Some(#def);
            fn from_part(part: #rt::typed::Part<#lt>) -> Self { #from_part }
        }
    }
}

/// A child of a group as both front ends describe it.
pub enum Child {
    /// A segment: its `&'static SegmentDef` expression and its place in the group.
    Segment { def: TokenStream, usage: Usage, min: u32, max: u32, src: String },
    /// A group: its `&'static GroupDef` expression (the group carries its own cardinality).
    Group { def: TokenStream },
    /// A structure element known only by type (derived groups and messages): a segment or a
    /// group, told apart when the constant is evaluated. Its usage and cardinality are the
    /// place's for a segment and the group's own for a group.
    Element { ty: TokenStream, usage: Usage, min: u32, max: u32, src: String },
}

/// The `Node` expression of a child.
pub fn node(rt: &TokenStream, child: &Child) -> TokenStream {
    match child {
        Child::Segment { def, usage: u, min, max: m, src } => {
            let (u, max) = (usage(rt, *u), max(rt, *m));
            quote! { #rt::meta::Node::Segment(#rt::meta::SegmentNode { def: #def, usage: #u, min: #min, max: #max, src: #src }) }
        }
        Child::Group { def } => quote! { #rt::meta::Node::Group(#def) },
        Child::Element { ty, usage: u, min, max: m, src } => {
            let (u, max) = (usage(rt, *u), max(rt, *m));
            quote! { #rt::meta::Node::of(<#ty as #rt::typed::StructureElement<'static>>::ELEMENT, #u, #min, #max, #src) }
        }
    }
}

/// A group as both front ends describe it.
pub struct Group<'a> {
    pub name: &'a str,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub choice: bool,
    pub children: &'a [Child],
    /// Segment ids opening the group; empty when only known at compile time (derived groups).
    pub first: &'a [String],
    /// `&'static SliceDef` expressions.
    pub slices: &'a [TokenStream],
    pub src: &'a str,
}

/// The `GroupDef` expression.
pub fn group_def(rt: &TokenStream, g: &Group<'_>) -> TokenStream {
    let (name, min, max, choice, first, slices, src) = (g.name, g.min, max(rt, g.max), g.choice, g.first, g.slices, g.src);
    let u = usage(rt, g.usage);
    let children = g.children.iter().map(|c| node(rt, c));
    quote! {
        #rt::meta::GroupDef {
            name: #name, usage: #u, min: #min, max: #max, choice: #choice,
            children: &[#(#children),*],
            first: &[#(#first),*],
            slices: &[#(#slices),*],
            src: #src,
        }
    }
}

/// Reads the child at `slot` of `view` (an expression of type `GroupView`) as its shape says,
/// lazily: a generated view returns an iterator for repetitions. `segment` tells a segment
/// from a group.
pub fn read_child(rt: &TokenStream, view: &TokenStream, slot: u16, shape: Shape, segment: bool, ty: &TokenStream, path: &str) -> TokenStream {
    match (segment, shape) {
        (true, Shape::Repeated) => quote! { #view.segments::<#ty>(#slot) },
        (true, Shape::Required) => quote! { #view.required_segment::<#ty>(#slot, #path) },
        (true, Shape::Optional) => quote! { #view.segment::<#ty>(#slot) },
        (false, Shape::Repeated) => quote! { #view.groups(#slot).map(<#ty as #rt::typed::GroupType>::from_group) },
        (false, Shape::Required) => quote! { #view.required_group(#slot, #path).map(<#ty as #rt::typed::GroupType>::from_group) },
        (false, Shape::Optional) => quote! { #view.group(#slot).map(<#ty as #rt::typed::GroupType>::from_group) },
    }
}

/// The type a structure accessor returns (`ty` the child's view), as its shape says: lazily,
/// an iterator for repetitions.
pub fn child_type(rt: &TokenStream, shape: Shape, ty: &TokenStream, lt: &TokenStream) -> TokenStream {
    match shape {
        Shape::Repeated => quote! { impl ::core::iter::Iterator<Item = #ty> + #lt },
        Shape::Required => quote! { ::core::result::Result<#ty, #rt::typed::Missing> },
        Shape::Optional => quote! { ::core::option::Option<#ty> },
    }
}

/// `impl GroupType` and `impl StructureElement` for a group type with one lifetime.
pub fn group_impls(rt: &TokenStream, ty: &Ident, lt: &TokenStream, def: &TokenStream, from_group: &TokenStream) -> TokenStream {
    quote! {
        impl<#lt> #rt::typed::GroupType<#lt> for #ty<#lt> {
            const DEF: &'static #rt::meta::GroupDef = #def;
            fn from_group(group: #rt::typed::GroupView<#lt>) -> Self { #from_group }
        }
        impl<#lt> #rt::typed::StructureElement<#lt> for #ty<#lt> {
            const ELEMENT: #rt::meta::Element = #rt::meta::Element::Group(#def);
            fn first_at(group: #rt::typed::GroupView<#lt>, slot: u16) -> ::core::option::Option<Self> {
                group.group(slot).map(<Self as #rt::typed::GroupType>::from_group)
            }
            fn all_at(group: #rt::typed::GroupView<#lt>, slot: u16) -> ::std::vec::Vec<Self> {
                group.groups(slot).map(<Self as #rt::typed::GroupType>::from_group).collect()
            }
        }
    }
}

/// Reads the child at `slot` of `view` into a derived struct's field, whatever the child is
/// (segment or group): the element type reads itself ([`StructureElement`]).
///
/// [`StructureElement`]: https://docs.rs/hl7-runtime (hl7_runtime::typed::StructureElement)
pub fn read_element(rt: &TokenStream, view: &TokenStream, slot: u16, shape: Shape, ty: &TokenStream, path: &str) -> TokenStream {
    match shape {
        Shape::Repeated => quote! { <#ty as #rt::typed::StructureElement>::all_at(#view, #slot) },
        Shape::Optional => quote! { <#ty as #rt::typed::StructureElement>::first_at(#view, #slot) },
        Shape::Required => quote! {
            <#ty as #rt::typed::StructureElement>::first_at(#view, #slot).ok_or_else(|| #view.missing(#path))
        },
    }
}

/// A message profile as both front ends describe it.
pub struct Message<'a> {
    pub profile: &'a str,
    pub title: &'a str,
    pub code: &'a str,
    pub event: Option<&'a str>,
    pub structure: &'a str,
    /// A `&'static GroupDef` expression.
    pub root: TokenStream,
    /// `SegmentConstraints` expressions.
    pub segments: &'a [TokenStream],
    /// `RuleDef` expressions.
    pub rules: &'a [TokenStream],
    /// An `Option<&'static MessageDef>` expression.
    pub extends: TokenStream,
}

/// The `MessageDef` expression.
pub fn message_def(rt: &TokenStream, m: &Message<'_>) -> TokenStream {
    let (profile, title, code, structure, root, segs, rules, extends) = (m.profile, m.title, m.code, m.structure, &m.root, m.segments, m.rules, &m.extends);
    let event = opt_str(m.event);
    quote! {
        #rt::meta::MessageDef {
            profile: #profile, title: #title, code: #code, event: #event, structure: #structure,
            root: #root, segments: &[#(#segs),*], rules: &[#(#rules),*], extends: #extends,
        }
    }
}

/// A rule as both front ends describe it: a conformance statement or a predicate in the
/// assertion language of `spec/HAND-FORMAT.md`.
pub struct Rule<'a> {
    pub id: &'a str,
    /// `Some((path, when_true, when_false))` for a predicate.
    pub predicate: Option<(&'a str, Usage, Usage)>,
    pub warning: bool,
    pub expression: &'a str,
    pub context: Option<&'a str>,
    /// The element a failed statement is reported at (`None`: the first path it reads).
    pub location: Option<&'a str>,
    pub description: &'a str,
    pub src: &'a str,
}

/// The `RuleDef` expression.
pub fn rule_def(rt: &TokenStream, r: &Rule<'_>) -> TokenStream {
    let kind = match r.predicate {
        Some((path, t, f)) => {
            let (t, f) = (usage(rt, t), usage(rt, f));
            quote! { #rt::meta::RuleKind::Predicate { path: #path, when_true: #t, when_false: #f } }
        }
        None => {
            let w = r.warning;
            quote! { #rt::meta::RuleKind::Conformance { warning: #w } }
        }
    };
    let (id, expression, description, src) = (r.id, r.expression, r.description, r.src);
    let context = opt_str(r.context);
    let location = opt_str(r.location);
    quote! {
        #rt::meta::RuleDef { id: #id, kind: #kind, expression: #expression, context: #context, location: #location, description: #description, src: #src }
    }
}

/// The guide's words as one line of Markdown that says what the guide says: whitespace folded,
/// and the characters rustdoc would read as HTML, links or emphasis escaped (`<OBR>`, `[0..1]`,
/// `*`), so that the documentation builds under `-D warnings` and shows the text verbatim.
pub fn doc_text(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '[' | ']' | '*' | '_' | '`' | '\\' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}
