//! One module per profile: static structure (`DEF`), group and slice views, the message type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{card, opt_str, opt_u16, opt_u32, Emit};
use crate::expand::{self, doc_text};
use crate::model::{Discriminator, ElementConstraint, Group, Node, Profile, Rule, RuleKind, SegmentConstraints, Slice};

fn group_static(path: &str) -> proc_macro2::Ident {
    if path.is_empty() {
        format_ident!("G_ROOT")
    } else {
        format_ident!("G_{}", path.replace('/', "__"))
    }
}

fn slice_static(name: &str) -> proc_macro2::Ident {
    format_ident!("SLICE_{}", name.to_uppercase())
}

impl Emit<'_> {
    pub(super) fn profile(&self, p: &Profile) -> TokenStream {
        let rt = &self.rt;
        let mut statics = Vec::new();
        self.group_statics(p, &p.root, &mut statics);
        let mut views = Vec::new();
        self.group_views(p, &p.root, &mut views);
        let (title, code, structure) = (&p.title, &p.code, &p.structure);
        let segs: Vec<TokenStream> = p.segments.iter().map(|s| self.segment_constraints(s)).collect();
        let rules: Vec<TokenStream> = p.rules.iter().map(|r| self.rule(r)).collect();
        let def = expand::message_def(
            rt,
            &expand::Message {
                profile: &p.id,
                title,
                code,
                event: p.event.as_deref(),
                structure,
                root: quote! { &G_ROOT },
                segments: &segs,
                rules: &rules,
                extends: quote! { ::core::option::Option::None },
            },
        );
        let root_accessors = self.accessors(p, &p.root, quote! { self.0.root() }, quote! { '_ });
        let builders = self.profile_builders(p);
        let doc = format!(" {title} · {code}^{}^{structure} · spec/{}", p.event.as_deref().unwrap_or("*"), p.file);
        quote! {
            #(#statics)*
            /// The profile's definition, read by the generic engine (placement, paths, JSON).
            pub static DEF: #rt::meta::MessageDef = #def;
            #[doc = #doc]
            #[derive(Clone, Debug)]
            pub struct Message<'a>(pub #rt::typed::Placed<'a>);
            impl<'a> Message<'a> {
                /// Parses strictly (syntax only: missing or misplaced elements are findings of
                /// validation, not parse errors).
                pub fn parse(bytes: &'a [u8]) -> ::core::result::Result<Self, #rt::ParseError> {
                    Self::parse_with(bytes, &#rt::ParseOptions::default())
                }
                pub fn parse_with(bytes: &'a [u8], options: &#rt::ParseOptions) -> ::core::result::Result<Self, #rt::ParseError> {
                    ::core::result::Result::Ok(Self::from_message(#rt::Message::parse_with(bytes, options)?))
                }
                /// Places an already parsed message into this profile's structure.
                pub fn from_message(message: #rt::Message<'a>) -> Self {
                    Message(#rt::typed::Placed::new(message, &DEF))
                }
                /// The generic ER7 view.
                pub fn er7(&self) -> &#rt::Message<'a> { &self.0.message }
                /// The message re-encoded from the placed structure (byte-identical when unmodified).
                pub fn encode(&self) -> ::std::vec::Vec<u8> { self.0.encode() }
                /// Segments kept at the message level without a place in the structure.
                pub fn unexpected(&self) -> impl ::core::iter::Iterator<Item = #rt::Segment<'_>> + '_ { self.0.root().unexpected() }
                #root_accessors
            }
            impl #rt::typed::MessageType for Message<'_> {
                const DEF: &'static #rt::meta::MessageDef = &DEF;
            }
            /// The JSON shape of the runtime's `json` module.
            impl #rt::__private::serde::Serialize for Message<'_> {
                fn serialize<S: #rt::__private::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                    #rt::__private::serialize_placed(&self.0, &super::REGISTRY, serializer)
                }
            }
            #(#views)*
            #builders
        }
    }

    fn group_statics(&self, p: &Profile, g: &Group, out: &mut Vec<TokenStream>) {
        let rt = &self.rt;
        for c in &g.children {
            if let Node::Group(inner) = c {
                self.group_statics(p, inner, out);
            }
        }
        let st = group_static(&g.path);
        let src = format!("{} · spec/{}#{}", g.src, p.file, g.pointer);
        let children: Vec<expand::Child> = g
            .children
            .iter()
            .map(|c| match c {
                Node::Segment(s) => {
                    let def = format_ident!("SEG_{}", s.id);
                    expand::Child::Segment {
                        def: quote! { &super::segments::#def },
                        usage: s.usage,
                        min: s.min,
                        max: s.max,
                        src: format!("{} · spec/{}#{}", s.src, p.file, s.pointer),
                    }
                }
                Node::Group(inner) => {
                    let st = group_static(&inner.path);
                    expand::Child::Group { def: quote! { &#st } }
                }
            })
            .collect();
        let slices: Vec<TokenStream> = g
            .slices
            .iter()
            .map(|s| {
                let st = slice_static(&s.name);
                out.push(self.slice_static(s));
                quote! { &#st }
            })
            .collect();
        let def = expand::group_def(
            rt,
            &expand::Group {
                name: &g.name,
                usage: g.usage,
                min: g.min,
                max: g.max,
                choice: g.choice,
                children: &children,
                first: &g.first,
                slices: &slices,
                src: &src,
            },
        );
        out.push(quote! { static #st: #rt::meta::GroupDef = #def; });
    }

    fn slice_static(&self, s: &Slice) -> TokenStream {
        let rt = &self.rt;
        let st = slice_static(&s.name);
        let (name, title) = (&s.name, &s.title);
        let usage = self.usage(s.usage);
        let (min, max) = (s.min, expand::max(rt, s.max));
        let disc = s.discriminator.iter().map(|d| match d {
            Discriminator::Value { path, value } => {
                let (t, f) = (&path.text, path.field);
                let c = opt_u16(path.component);
                quote! { #rt::meta::Discriminator::Value { path: #t, field: #f, component: #c, value: #value } }
            }
            Discriminator::SubIdSuffix { path, suffix } => {
                let (t, f) = (&path.text, path.field);
                quote! { #rt::meta::Discriminator::SubIdSuffix { path: #t, field: #f, suffix: #suffix } }
            }
        });
        let segs = s.segments.iter().map(|c| self.segment_constraints(c));
        let vt = match &s.value_type {
            Some(v) => {
                let d = format_ident!("DT_{}", v);
                quote! { ::core::option::Option::Some(&super::datatypes::#d) }
            }
            None => quote! { ::core::option::Option::None },
        };
        let src = format!("{} · spec/{}#{}", s.src, s.file, s.pointer);
        quote! {
            /// A slice of the guide: see `DEF`.
            pub static #st: #rt::meta::SliceDef = #rt::meta::SliceDef {
                name: #name, title: #title, usage: #usage, min: #min, max: #max,
                discriminator: &[#(#disc),*], segments: &[#(#segs),*], value_type: #vt, src: #src,
            };
        }
    }

    fn rule(&self, r: &Rule) -> TokenStream {
        let predicate = match &r.kind {
            RuleKind::Predicate { path, when_true, when_false } => Some((path.as_str(), *when_true, *when_false)),
            RuleKind::Conformance { .. } => None,
        };
        let warning = matches!(r.kind, RuleKind::Conformance { warning: true });
        expand::rule_def(
            &self.rt,
            &expand::Rule {
                id: &r.id,
                predicate,
                warning,
                expression: &r.expression,
                context: r.context.as_deref(),
                location: r.location.as_deref(),
                description: &r.description,
                src: &r.src,
            },
        )
    }

    fn segment_constraints(&self, s: &SegmentConstraints) -> TokenStream {
        let rt = &self.rt;
        let seg = &s.segment;
        let group = opt_str(s.group.as_deref());
        let usage = match s.usage {
            Some(u) => {
                let u = self.usage(u);
                quote! { ::core::option::Option::Some(#u) }
            }
            None => quote! { ::core::option::Option::None },
        };
        let min = opt_u32(s.min);
        let max = match s.max {
            Some(n) => {
                let n = expand::max(rt, n);
                quote! { ::core::option::Option::Some(#n) }
            }
            None => quote! { ::core::option::Option::None },
        };
        let src = &s.src;
        let elems = s.elements.iter().map(|e| self.element_constraint(e));
        quote! {
            #rt::meta::SegmentConstraints {
                segment: #seg, group: #group, usage: #usage, min: #min, max: #max, elements: &[#(#elems),*], src: #src,
            }
        }
    }

    fn element_constraint(&self, e: &ElementConstraint) -> TokenStream {
        expand::element_constraint(&self.rt, e)
    }

    fn group_views(&self, p: &Profile, g: &Group, out: &mut Vec<TokenStream>) {
        let rt = &self.rt;
        for c in &g.children {
            let Node::Group(inner) = c else { continue };
            let ty = format_ident!("{}", inner.rust);
            let accessors = self.accessors(p, inner, quote! { self.0 }, quote! { 'm });
            let st = group_static(&inner.path);
            let impls = expand::group_impls(rt, &ty, &quote! { 'm }, &quote! { &#st }, &quote! { #ty(group) });
            let doc = format!(" {} · {} · {} · {} · spec/{}#{}", inner.path, inner.usage.code(), card(inner.min, inner.max), inner.src, p.file, inner.pointer);
            out.push(quote! {
                #[doc = #doc]
                #[derive(Clone, Copy, Debug)]
                pub struct #ty<'m>(pub #rt::typed::GroupView<'m>);
                impl<'m> #ty<'m> {
                    /// Segments kept in this group without a place in the structure.
                    pub fn unexpected(&self) -> impl ::core::iter::Iterator<Item = #rt::Segment<'m>> + 'm { self.0.unexpected() }
                    #accessors
                }
                #impls
            });
            for s in &inner.slices {
                out.push(self.slice_view(inner, s));
            }
            self.group_views(p, inner, out);
        }
    }

    fn slice_view(&self, g: &Group, s: &Slice) -> TokenStream {
        let rt = &self.rt;
        let ty = format_ident!("{}", s.rust);
        let gty = format_ident!("{}", g.rust);
        let st = slice_static(&s.name);
        let value = s.value_type.as_ref().map(|v| {
            let vty = format_ident!("{}", self.model.datatypes.get(v).map(|d| d.rust.as_str()).unwrap_or("St"));
            let line = format!(" OBX-5 read as {v}, the datatype this slice fixes in OBX-2.");
            let obx5 = s.segments.iter().filter(|c| c.segment == "OBX").flat_map(|c| &c.elements).filter(|e| e.path.field == 5 && e.path.component.is_none());
            let doc: Vec<String> = std::iter::once(line).chain(obx5.map(|e| format!(" - {}", constraint_line(e)))).collect();
            quote! {
                #(#[doc = #doc])*
                pub fn value(&self) -> ::core::option::Option<super::datatypes::#vty<'m>> {
                    self.0 .0.first_segment_with_id("OBX").and_then(|obx| #rt::typed::single(obx.field(5)))
                }
            }
        });
        let line = format!(" Slice `{}` of {} ({}) · {} · {} · {} · spec/{}#{}", s.name, g.path, doc_text(&s.title), s.usage.code(), card(s.min, s.max), s.src, s.file, s.pointer);
        let doc = with_constraints(&line, s.segments.iter());
        quote! {
            #(#[doc = #doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct #ty<'m>(pub #gty<'m>);
            impl<'m> #ty<'m> {
                /// The slice's definition.
                pub const DEF: &'static #rt::meta::SliceDef = &#st;
                /// The group instance this slice is.
                pub fn group(&self) -> #gty<'m> { self.0 }
                #value
            }
            impl<'m> ::core::ops::Deref for #ty<'m> {
                type Target = #gty<'m>;
                fn deref(&self) -> &Self::Target { &self.0 }
            }
        }
    }

    /// Accessors for the children of `g`: the usage/cardinality → Rust type contract.
    fn accessors(&self, p: &Profile, g: &Group, view: TokenStream, lt: TokenStream) -> TokenStream {
        let rt = &self.rt;
        let mut out = Vec::new();
        for (slot, c) in g.children.iter().enumerate() {
            let slot = slot as u16;
            match c {
                Node::Segment(s) => {
                    let seg = self.model.segments.get(&s.id);
                    let sty = format_ident!("{}", seg.map(|x| x.rust.as_str()).unwrap_or("Msh"));
                    let path = if g.path.is_empty() { s.id.clone() } else { format!("{}/{}", g.path, s.id) };
                    let line = format!(" {path} · {} · {} · {} · spec/{}#{}", s.usage.code(), card(s.min, s.max), s.src, p.file, s.pointer);
                    let applies = p.segments.iter().filter(|c| c.segment == s.id && c.group.as_ref().is_none_or(|grp| *grp == g.path));
                    let doc = with_constraints(&with_meaning(line, s.meaning.as_deref()), applies);
                    let shape = expand::Shape::of_child(s.usage, s.min, s.max);
                    let ty = quote! { super::segments::#sty<#lt> };
                    let body = expand::read_child(rt, &view, slot, shape, true, &ty, &path);
                    let ret = expand::child_type(rt, shape, &ty, &lt);
                    let m = format_ident!("{}", s.accessor);
                    out.push(quote! { #(#[doc = #doc])* #[inline] pub fn #m(&self) -> #ret { #body } });
                }
                Node::Group(inner) => {
                    let gty = format_ident!("{}", inner.rust);
                    let path = inner.path.clone();
                    let doc = with_meaning(format!(" {path} · {} · {} · {} · spec/{}#{}", inner.usage.code(), card(inner.min, inner.max), inner.src, p.file, inner.pointer), inner.meaning.as_deref());
                    let shape = expand::Shape::of_child(inner.usage, inner.min, inner.max);
                    let ty = quote! { #gty<#lt> };
                    let body = expand::read_child(rt, &view, slot, shape, false, &ty, &path);
                    let ret = expand::child_type(rt, shape, &ty, &lt);
                    let m = format_ident!("{}", inner.accessor);
                    let doc = doc.lines();
                    out.push(quote! { #(#[doc = #doc])* #[inline] pub fn #m(&self) -> #ret { #body } });
                    for s in &inner.slices {
                        let sty = format_ident!("{}", s.rust);
                        let st = slice_static(&s.name);
                        let spath = format!("{path}:{}", s.name);
                        let line = format!(" {} ({}) · {} · {} · {} · spec/{}#{}", spath, doc_text(&s.title), s.usage.code(), card(s.min, s.max), s.src, s.file, s.pointer);
                        let doc = with_constraints(&line, s.segments.iter());
                        let shape = expand::Shape::of_child(s.usage, s.min, s.max);
                        let body = match shape {
                            expand::Shape::Repeated => quote! { #view.slice(#slot, &#st).map(#gty).map(#sty) },
                            expand::Shape::Required => quote! { #view.required_slice(#slot, &#st, #spath).map(#gty).map(#sty) },
                            expand::Shape::Optional => quote! { #view.slice(#slot, &#st).next().map(#gty).map(#sty) },
                        };
                        let ret = expand::child_type(rt, shape, &quote! { #sty<#lt> }, &lt);
                        let m = format_ident!("{}", s.accessor);
                        out.push(quote! { #(#[doc = #doc])* #[inline] pub fn #m(&self) -> #ret { #body } });
                    }
                }
            }
        }
        quote! { #(#out)* }
    }
}

/// A structure row's first doc line, then the guide's words for the row on a line of its own.
fn with_meaning(line: String, meaning: Option<&str>) -> String {
    match meaning {
        Some(m) if !m.trim().is_empty() => format!("{line}\n\n {}", doc_text(m)),
        _ => line,
    }
}

/// A doc comment: its first line, then one line per element the profile constrains in these
/// segment constraints (`with_constraints(" OBR · …", …)`).
fn with_constraints<'c>(first: &str, constraints: impl Iterator<Item = &'c SegmentConstraints>) -> Vec<String> {
    let mut lines: Vec<String> = first.lines().map(str::to_owned).collect();
    let elements: Vec<&ElementConstraint> = constraints.flat_map(|c| &c.elements).collect();
    if !elements.is_empty() {
        lines.push(String::new());
        lines.push(" The profile's constraints:".to_owned());
        lines.extend(elements.into_iter().map(|e| format!(" - {}", constraint_line(e))));
    }
    lines
}

/// One element constraint in one line, in the order a reader of the guide's table expects:
/// the path, then what the guide requires (usage, cardinality, fixed value, value list, table or
/// value set, datatype, length), then the guide's own words, then the row it comes from:
/// `ORC-1 · R · OK | OC · table 0119 · Order control: Décision … · st_flux3.md#t1.r4`.
pub(crate) fn constraint_line(e: &ElementConstraint) -> String {
    let mut parts = vec![format!("`{}`", e.path.text)];
    if let Some(u) = e.usage {
        parts.push(u.code().to_owned());
    }
    if e.min.is_some() || e.max.is_some() {
        parts.push(card(e.min.unwrap_or(0), e.max.unwrap_or(crate::model::UNBOUNDED)));
    }
    if let Some(f) = &e.fixed {
        parts.push(format!("= `{}`", f.replace('`', "'")));
    }
    if !e.values.is_empty() {
        parts.push(doc_text(&e.values.join(" | ")));
    }
    if let Some(t) = &e.table {
        parts.push(format!("table {t}"));
    }
    if let Some((name, oid)) = &e.value_set {
        parts.push(match oid {
            Some(oid) => format!("value set {name} ({oid})"),
            None => format!("value set {name}"),
        });
    }
    if let Some(d) = &e.datatype {
        parts.push(format!("as {d}"));
    }
    if let Some(n) = e.len {
        parts.push(format!("length {n}"));
    }
    match (&e.description, &e.guide_value) {
        (Some(d), Some(v)) => parts.push(format!("{}: {}", doc_text(d), doc_text(v))),
        (Some(t), None) | (None, Some(t)) => parts.push(doc_text(t)),
        (None, None) => {}
    }
    if !e.src.is_empty() {
        parts.push(e.src.clone());
    }
    parts.join(" · ")
}
