//! Owned values and builders: `CxValue`, `PidBuilder`, `OrderBuilder`, `MessageBuilder`.
//!
//! A builder's `new` takes exactly the required elements (base-required fields of a segment,
//! required children of a group), so a message cannot be built without them; everything else
//! is a public field. Writing goes through `hl7_runtime::build`.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Emit;
use crate::api::{Holds, Slot};
use crate::model::{DataType, Group, Node, Profile, Segment};

impl Emit<'_> {
    /// The owned value type of a composite datatype.
    pub(super) fn datatype_value(&self, d: &DataType) -> TokenStream {
        let rt = &self.rt;
        let ty = format_ident!("{}Value", d.rust);
        let fields = d.components.iter().map(|c| {
            let f = format_ident!("{}", c.ident);
            let t = self.value_type(&c.datatype);
            let doc = format!(" {}.{} · {} · {}", d.id, c.pos, c.datatype, c.name);
            quote! { #[doc = #doc] pub #f: ::core::option::Option<#t> }
        });
        let parts = d.components.iter().map(|c| {
            let f = format_ident!("{}", c.ident);
            quote! { v.#f.map(::core::convert::Into::into) }
        });
        let writes = d.components.iter().map(|c| {
            let f = format_ident!("{}", c.ident);
            let n = u32::from(c.pos);
            // The writer moves only to a component that is there: most are not.
            quote! {
                if let ::core::option::Option::Some(v) = &self.#f {
                    if let ::core::option::Option::Some(level) = c.child(w, #n) {
                        #rt::build::Write::write_at(v, w, level);
                    }
                }
            }
        });
        let doc = format!(" {} · {} (owned, for building messages)", d.id, d.name);
        // A text sets the first component when that component is primitive: `TsValue::from("20260106")`.
        let from_text = d.components.first().filter(|c| self.model.datatypes.get(&c.datatype).is_none_or(|x| x.components.is_empty())).map(|c| {
            let f = format_ident!("{}", c.ident);
            let doc = format!(" A {} whose {}.1 ({}) is this text.", d.id, d.id, c.name);
            quote! {
                impl ::core::convert::From<&str> for #ty {
                    #[doc = #doc]
                    fn from(text: &str) -> Self {
                        #ty { #f: ::core::option::Option::Some(::std::string::String::from(text)), ..::core::default::Default::default() }
                    }
                }
            }
        });
        quote! {
            #from_text
            #[doc = #doc]
            #[derive(Clone, Debug, Default, PartialEq, Eq)]
            pub struct #ty { #(#fields,)* }
            impl ::core::convert::From<#ty> for #rt::build::Value {
                fn from(v: #ty) -> Self { #rt::build::Value::Composite(::std::vec![#(#parts),*]) }
            }
            impl #rt::build::Write for #ty {
                fn write_at(&self, w: &mut #rt::build::Writer, level: #rt::build::Level) {
                    let mut c = w.children(level);
                    #(#writes)*
                    c.close(w);
                }
            }
        }
    }

    /// The owned Rust type of a datatype: `String` for primitives, `XxValue` for composites.
    fn value_type(&self, dt: &str) -> TokenStream {
        match self.model.datatypes.get(dt) {
            Some(d) if !d.components.is_empty() => {
                let t = format_ident!("{}Value", d.rust);
                quote! { super::datatypes::#t }
            }
            _ => quote! { ::std::string::String },
        }
    }

    fn field_value_type(&self, dt: Option<&str>) -> TokenStream {
        let rt = &self.rt;
        match dt {
            Some(dt) => self.value_type(dt),
            None => quote! { #rt::build::Value },
        }
    }

    /// The builder of a segment.
    pub(super) fn segment_builder(&self, s: &Segment) -> TokenStream {
        let rt = &self.rt;
        let ty = format_ident!("{}Builder", s.rust);
        let id = &s.id;
        // The fields the builder has a place for, and how (MSH-1 and MSH-2 it has none for:
        // the message writes them).
        let fields: Vec<_> = s.fields.iter().filter_map(|f| Slot::of_field(&s.id, f.pos, f.usage, f.max).map(|slot| (f, slot))).collect();
        let required: Vec<_> = fields.iter().filter(|(_, slot)| slot.argument).map(|(f, _)| f).collect();
        let decls = fields.iter().map(|(f, slot)| {
            let name = format_ident!("{}", f.ident);
            let t = held(*slot, &self.field_value_type(f.datatype.as_deref()));
            let doc = format!(" {}-{} · {} · {} · {}", s.id, f.pos, f.datatype.as_deref().unwrap_or("varies"), f.usage.code(), f.name);
            quote! { #[doc = #doc] pub #name: #t }
        });
        let params = required.iter().map(|f| {
            let name = format_ident!("{}", f.ident);
            let t = self.field_value_type(f.datatype.as_deref());
            quote! { #name: impl ::core::convert::Into<#t> }
        });
        let inits = fields.iter().map(|(f, slot)| {
            let name = format_ident!("{}", f.ident);
            init(*slot, &name, &quote! { #name.into() })
        });
        let writes = fields.iter().map(|(f, slot)| {
            let name = format_ident!("{}", f.ident);
            let pos = f.pos as usize;
            let many = quote! {
                for (i, v) in self.#name.iter().enumerate() {
                    #rt::build::set(&mut seg, #pos, i + 1, v.clone());
                }
            };
            each(slot.holds, &name, quote! { #rt::build::set(&mut seg, #pos, 1, v.clone()); }, many)
        });
        let er7_writes = fields.iter().map(|(f, slot)| {
            let name = format_ident!("{}", f.ident);
            let pos = u32::from(f.pos);
            // An empty list moves nowhere: a field is reached only when it has a value.
            let many = quote! {
                if !self.#name.is_empty() {
                    w.field(#pos);
                    let mut reps = w.repetitions();
                    for (rep, v) in (1u32..).zip(&self.#name) {
                        if let ::core::option::Option::Some(level) = reps.child(w, rep) {
                            #rt::build::Write::write_at(v, w, level);
                        }
                    }
                    reps.close(w);
                }
            };
            each(slot.holds, &name, quote! { w.field(#pos); #rt::build::Write::write_at(v, w, #rt::build::Level::FIELD); }, many)
        });
        let req_doc = if required.is_empty() {
            " A segment with no field set (the base standard requires none).".to_owned()
        } else {
            format!(
                " The fields the base standard requires: {}.",
                required.iter().map(|f| format!("{}-{}", s.id, f.pos)).collect::<Vec<_>>().join(", ")
            )
        };
        let default = required.is_empty().then(|| {
            quote! {
                impl ::core::default::Default for #ty {
                    fn default() -> Self { Self::new() }
                }
            }
        });
        let doc = format!(" {} · {} (builder)", s.id, s.name);
        quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub struct #ty { #(#decls,)* }
            impl #ty {
                #[doc = #req_doc]
                #[allow(clippy::too_many_arguments)]
                pub fn new(#(#params),*) -> Self { #ty { #(#inits,)* } }
                /// The segment in the owned model.
                pub fn to_segment(&self) -> #rt::owned::SegmentBuf {
                    let mut seg = #rt::owned::SegmentBuf::new(#id);
                    #(#writes)*
                    seg
                }
                /// Writes the segment as ER7, straight from these values.
                pub fn write_er7(&self, w: &mut #rt::build::Writer) {
                    w.segment(#id);
                    #(#er7_writes)*
                }
            }
            #default
        }
    }

    /// Builders for the groups of a profile and for the message itself.
    pub(super) fn profile_builders(&self, p: &Profile) -> TokenStream {
        let mut out = Vec::new();
        self.group_builder(&p.root, &mut out);
        quote! { #(#out)* }
    }

    fn group_builder(&self, g: &Group, out: &mut Vec<TokenStream>) {
        let rt = &self.rt;
        for c in &g.children {
            if let Node::Group(inner) = c {
                self.group_builder(inner, out);
            }
        }
        let is_root = g.path.is_empty();
        let ty = format_ident!("{}Builder", g.rust);
        let mut decls = Vec::new();
        let mut params = Vec::new();
        let mut inits = Vec::new();
        let mut writes = Vec::new();
        let mut er7_writes = Vec::new();
        for c in &g.children {
            let usage = match c {
                Node::Segment(s) => s.usage,
                Node::Group(inner) => inner.usage,
            };
            let Some(slot) = Slot::of_child(usage, c.min(), c.max()) else { continue };
            // Builder fields are named like the view's accessors.
            let (accessor, t, path) = match c {
                Node::Segment(s) => {
                    let seg = self.model.segments.get(&s.id);
                    let t = format_ident!("{}Builder", seg.map(|x| x.rust.as_str()).unwrap_or("Msh"));
                    (&s.accessor, quote! { super::segments::#t }, s.id.clone())
                }
                Node::Group(inner) => {
                    let t = format_ident!("{}Builder", inner.rust);
                    (&inner.accessor, quote! { #t }, inner.path.clone())
                }
            };
            let f = format_ident!("{}", accessor);
            let doc = format!(" {path} · {}", crate::emit::card(c.min(), c.max()));
            let emit_one = match c {
                Node::Segment(_) => quote! { segments.push(v.to_segment()); },
                Node::Group(_) => quote! { v.write(segments); },
            };
            let er7_one = quote! { v.write_er7(w); };
            let held_t = held(slot, &t);
            decls.push(quote! { #[doc = #doc] pub #f: #held_t });
            if slot.argument {
                params.push(quote! { #f: #t });
            }
            inits.push(init(slot, &f, &quote! { #f }));
            writes.push(each(slot.holds, &f, emit_one.clone(), quote! { for v in &self.#f { #emit_one } }));
            er7_writes.push(each(slot.holds, &f, er7_one.clone(), quote! { for v in &self.#f { #er7_one } }));
        }
        let doc = if is_root {
            " Builds a message of this profile; `new` takes every required segment and group.".to_owned()
        } else {
            format!(" Builds one {} group; `new` takes its required children.", g.path)
        };
        // MSH-18 of the message's MSH builder: the character set the writer converts to.
        let msh18 = g
            .children
            .iter()
            .find_map(|c| match c {
                Node::Segment(s) if s.id == "MSH" => Some(&s.accessor),
                _ => None,
            })
            .zip(self.model.segments.get("MSH").and_then(|m| m.fields.iter().find(|f| f.pos == 18)))
            .map(|(msh, f18)| {
                let (msh, f18) = (format_ident!("{}", msh), format_ident!("{}", f18.ident));
                quote! { self.#msh.#f18.first().map_or("", ::std::string::String::as_str) }
            })
            .unwrap_or_else(|| quote! { "" });
        // The writer's first buffer: one allocation for most messages (a flow-3 response with
        // its FT protocol is 1.4 KB, which 1024 bytes made grow once, a copy of the first KB).
        let capacity = 4096usize;
        let finish = if is_root {
            quote! {
                /// The segments in structure order.
                pub fn to_segments(&self) -> ::std::vec::Vec<#rt::owned::SegmentBuf> {
                    let mut segments = ::std::vec::Vec::new();
                    self.write(&mut segments);
                    segments
                }
                /// The owned message (character set from MSH-18, delimiters `|^~\&`).
                pub fn to_buf(&self) -> ::core::result::Result<#rt::owned::MessageBuf, #rt::build::BuildError> {
                    #rt::build::message(self.to_segments())
                }
                /// ER7 bytes, CR after every segment; text escaped and converted to MSH-18's
                /// character set (a character it cannot represent is an error). Written
                /// straight from the builders; the same bytes as `to_buf()?.encode()`.
                pub fn encode(&self) -> ::core::result::Result<::std::vec::Vec<u8>, #rt::build::BuildError> {
                    let mut w = #rt::build::Writer::new(#msh18, #capacity)?;
                    self.write_er7(&mut w);
                    w.finish()
                }
            }
        } else {
            quote! {}
        };
        out.push(quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub struct #ty { #(#decls,)* }
            impl #ty {
                #[allow(clippy::too_many_arguments)]
                pub fn new(#(#params),*) -> Self { #ty { #(#inits,)* } }
                /// Appends this element's segments in structure order.
                pub fn write(&self, segments: &mut ::std::vec::Vec<#rt::owned::SegmentBuf>) { #(#writes)* }
                /// Writes this element's segments as ER7, in structure order.
                pub fn write_er7(&self, w: &mut #rt::build::Writer) { #(#er7_writes)* }
                #finish
            }
        });
    }
}

/// The type of a builder field holding values of type `t`.
fn held(slot: Slot, t: &TokenStream) -> TokenStream {
    match slot.holds {
        Holds::One => quote! { #t },
        Holds::Maybe => quote! { ::core::option::Option<#t> },
        Holds::Many => quote! { ::std::vec::Vec<#t> },
    }
}

/// The field `f`'s value in `new`: from the argument (`arg`) when it is one, else empty. A value
/// held as it is can only be an argument, of the field's own name.
fn init(slot: Slot, f: &Ident, arg: &TokenStream) -> TokenStream {
    match (slot.holds, slot.argument) {
        (Holds::One, _) => quote! { #f },
        (Holds::Maybe, true) => quote! { #f: ::core::option::Option::Some(#arg) },
        (Holds::Many, true) => quote! { #f: ::std::vec![#arg] },
        (Holds::Maybe, false) => quote! { #f: ::core::option::Option::None },
        (Holds::Many, false) => quote! { #f: ::std::vec::Vec::new() },
    }
}

/// `one` (which reads `v`) for the value of `self.f`, or `many` (its loop) for repetitions.
fn each(holds: Holds, f: &Ident, one: TokenStream, many: TokenStream) -> TokenStream {
    match holds {
        Holds::One => quote! { { let v = &self.#f; #one } },
        Holds::Maybe => quote! { if let ::core::option::Option::Some(v) = &self.#f { #one } },
        Holds::Many => many,
    }
}
