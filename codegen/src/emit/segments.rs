//! Segment definitions (`SEG_PID`) and typed views (`Pid<'a>`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{card, opt_str, opt_u32, Emit};
use crate::model::{Field, Segment, Usage};

impl Emit<'_> {
    pub(super) fn segments(&self) -> TokenStream {
        let items = self.model.segments.values().map(|s| self.segment(s));
        quote! { #(#items)* }
    }

    /// The Rust type a field accessor returns: the contract of spec/README.md.
    pub(super) fn field_type(&self, f: &Field) -> (TokenStream, FieldShape) {
        let rt = &self.rt;
        let ty = match &f.datatype {
            Some(dt) => {
                let name = self.model.datatypes.get(dt).map(|d| d.rust.clone()).unwrap_or_else(|| "St".into());
                let t = format_ident!("{}", name);
                quote! { super::datatypes::#t<'a> }
            }
            None => quote! { #rt::typed::Varies<'a> },
        };
        if f.max > 1 {
            (quote! { #rt::typed::Reps<'a, #ty> }, FieldShape::Repeated)
        } else if f.usage == Usage::R {
            (quote! { ::core::result::Result<#ty, #rt::typed::Missing> }, FieldShape::Required)
        } else {
            (quote! { ::core::option::Option<#ty> }, FieldShape::Optional)
        }
    }

    fn segment(&self, s: &Segment) -> TokenStream {
        let rt = &self.rt;
        let st = format_ident!("SEG_{}", s.id);
        let ty = format_ident!("{}", s.rust);
        let (id, name) = (&s.id, &s.name);
        let fields = s.fields.iter().map(|f| {
            let (pos, fname, ident) = (f.pos, &f.name, &f.ident);
            let dt = match &f.datatype {
                Some(d) => {
                    let d = format_ident!("DT_{}", d);
                    quote! { ::core::option::Option::Some(&super::datatypes::#d) }
                }
                None => quote! { ::core::option::Option::None },
            };
            let usage = self.usage(f.usage);
            let (min, max) = (f.min, f.max);
            let len = opt_u32(f.len);
            let table = opt_str(f.table.as_deref());
            quote! {
                #rt::meta::FieldDef {
                    pos: #pos, name: #fname, ident: #ident, datatype: #dt, usage: #usage,
                    min: #min, max: #max, len: #len, table: #table,
                }
            }
        });
        let accessors = s.fields.iter().enumerate().map(|(i, f)| {
            let m = format_ident!("{}", f.ident);
            let alias = format_ident!("{}_{}", s.id.to_lowercase(), f.pos);
            let pos = f.pos as usize;
            let path = format!("{}-{}", s.id, f.pos);
            let (ret, shape) = self.field_type(f);
            let body = match shape {
                FieldShape::Repeated => quote! { #rt::typed::Reps::new(self.0.field(#pos)) },
                FieldShape::Required => quote! { #rt::typed::required(self.0.field(#pos), #path) },
                FieldShape::Optional => quote! { #rt::typed::single(self.0.field(#pos)) },
            };
            let doc = format!(
                " {path} · {} · {} · {} · spec/hl7v2.5.1/segments.json#/segments/{}/fields/{i}",
                f.datatype.as_deref().unwrap_or("varies"),
                f.usage.code(),
                card(f.min, f.max),
                s.id
            );
            let alias_doc = format!(" {path}: same as [`Self::{}`].", f.ident);
            let title = format!(" {}", f.name);
            quote! {
                #[doc = #title]
                #[doc = ""]
                #[doc = #doc]
                pub fn #m(&self) -> #ret { #body }
                #[doc = #alias_doc]
                pub fn #alias(&self) -> #ret { self.#m() }
            }
        });
        let def_doc = format!(" {id} · {name} · hl7v2.5.1/segments.json#/segments/{id}");
        let doc = format!(" {id} · {name}");
        let builder = self.segment_builder(s);
        quote! {
            #builder
            #[doc = #def_doc]
            pub static #st: #rt::meta::SegmentDef = #rt::meta::SegmentDef {
                id: #id, name: #name, fields: &[#(#fields),*],
            };
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #ty<'a>(pub #rt::Segment<'a>);
            impl<'a> #ty<'a> {
                #(#accessors)*
                /// The generic segment view (raw bytes, any field by position, location).
                pub fn segment(&self) -> #rt::Segment<'a> { self.0 }
            }
            impl<'a> #rt::typed::SegmentType<'a> for #ty<'a> {
                const DEF: &'static #rt::meta::SegmentDef = &#st;
                fn from_segment(segment: #rt::Segment<'a>) -> Self { #ty(segment) }
                fn segment(&self) -> #rt::Segment<'a> { self.0 }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldShape {
    Required,
    Optional,
    Repeated,
}
