//! Segment definitions (`SEG_PID`) and typed views (`Pid<'a>`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Emit;
use crate::expand::{self, card, Shape};
use crate::model::{Field, Segment};

impl Emit<'_> {
    pub(super) fn segments(&self) -> TokenStream {
        let items = self.model.segments.values().map(|s| self.segment(s));
        quote! { #(#items)* }
    }

    /// The Rust type a field accessor returns: the contract of spec/README.md.
    pub(super) fn field_type(&self, f: &Field) -> (TokenStream, Shape) {
        let rt = &self.rt;
        let ty = match &f.datatype {
            Some(dt) => {
                let name = self.model.datatypes.get(dt).map(|d| d.rust.clone()).unwrap_or_else(|| "St".into());
                let t = format_ident!("{}", name);
                quote! { super::datatypes::#t<'a> }
            }
            None => quote! { #rt::typed::Varies<'a> },
        };
        let shape = self.expand_field(f).shape();
        (expand::field_type(rt, shape, &ty, &quote! { 'a }), shape)
    }

    /// The field as the shared expansion takes it.
    fn expand_field<'f>(&self, f: &'f Field) -> expand::Field<'f> {
        let datatype = match &f.datatype {
            Some(d) => {
                let d = format_ident!("DT_{}", d);
                quote! { ::core::option::Option::Some(&super::datatypes::#d) }
            }
            None => quote! { ::core::option::Option::None },
        };
        expand::Field {
            pos: f.pos,
            name: &f.name,
            ident: &f.ident,
            datatype,
            usage: f.usage,
            min: f.min,
            max: f.max,
            len: f.len,
            table: f.table.as_deref(),
        }
    }

    fn segment(&self, s: &Segment) -> TokenStream {
        let rt = &self.rt;
        let st = format_ident!("SEG_{}", s.id);
        let ty = format_ident!("{}", s.rust);
        let (id, name) = (&s.id, &s.name);
        let fields: Vec<expand::Field> = s.fields.iter().map(|f| self.expand_field(f)).collect();
        let def = expand::segment_def(rt, id, name, &fields, &[]);
        let accessors = s.fields.iter().enumerate().map(|(i, f)| {
            let m = format_ident!("{}", f.ident);
            let alias = format_ident!("{}_{}", s.id.to_lowercase(), f.pos);
            let path = format!("{}-{}", s.id, f.pos);
            let (ret, shape) = self.field_type(f);
            let body = expand::read_field(rt, shape, &quote! { self.0 }, f.pos, &path);
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
        let impls = expand::segment_impls(rt, &ty, &quote! { 'a }, &quote! { &#st }, &quote! { #ty(segment) });
        quote! {
            #builder
            #[doc = #def_doc]
            pub static #st: #rt::meta::SegmentDef = #def;
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #ty<'a>(pub #rt::Segment<'a>);
            impl<'a> #ty<'a> {
                #(#accessors)*
                /// The generic segment view (raw bytes, any field by position, location).
                pub fn segment(&self) -> #rt::Segment<'a> { self.0 }
            }
            #impls
        }
    }
}
