//! Datatype definitions (`DT_CX`) and typed views (`Cx<'a>`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Emit;
use crate::expand;
use crate::model::DataType;

impl Emit<'_> {
    pub(super) fn datatypes(&self) -> TokenStream {
        let items = self.model.datatypes.values().map(|d| self.datatype(d));
        quote! { #(#items)* }
    }

    fn datatype(&self, d: &DataType) -> TokenStream {
        let rt = &self.rt;
        let st = format_ident!("DT_{}", d.id);
        let ty = format_ident!("{}", d.rust);
        let (id, name) = (&d.id, &d.name);
        let comps: Vec<expand::Component> = d
            .components
            .iter()
            .map(|c| {
                let cdt = format_ident!("DT_{}", c.datatype);
                expand::Component {
                    pos: c.pos,
                    name: &c.name,
                    ident: &c.ident,
                    datatype: quote! { &#cdt },
                    usage: c.usage,
                    len: c.len,
                    table: c.table.as_deref(),
                }
            })
            .collect();
        let def = expand::datatype_def(rt, id, name, &comps);
        let def_doc = format!(" {id} · {name} · hl7v2.5.1/datatypes.json#/datatypes/{id}");
        let def = quote! {
            #[doc = #def_doc]
            pub static #st: #rt::meta::DataTypeDef = #def;
        };
        if d.components.is_empty() {
            let doc = format!(" {id} · {name} (primitive)");
            return quote! {
                #def
                #[doc = #doc]
                pub type #ty<'a> = #rt::typed::Primitive<'a>;
            };
        }
        let accessors = d.components.iter().map(|c| {
            let m = format_ident!("{}", c.ident);
            let cty = format_ident!("{}", self.model.datatypes.get(&c.datatype).map(|x| x.rust.as_str()).unwrap_or("St"));
            let doc = format!(" {id}.{} · {} · {} · {}", c.pos, c.datatype, c.usage.code(), c.name);
            let body = expand::read_component(&quote! { self.0 }, c.pos);
            quote! {
                #[doc = #doc]
                #[inline]
                pub fn #m(&self) -> ::core::option::Option<#cty<'a>> { #body }
            }
        });
        let doc = format!(" {id} · {name}");
        let value = self.datatype_value(d);
        let from_part = expand::from_part_impl(rt, &ty, &quote! { 'a }, &quote! { &#st }, &quote! { #ty(part) });
        quote! {
            #def
            #value
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #ty<'a>(pub #rt::typed::Part<'a>);
            impl<'a> #ty<'a> {
                #(#accessors)*
                /// The generic view: raw bytes, decoded text of the whole value, location.
                pub fn part(&self) -> #rt::typed::Part<'a> { self.0 }
            }
            #from_part
        }
    }
}
