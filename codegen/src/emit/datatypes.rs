//! Datatype definitions (`DT_CX`) and typed views (`Cx<'a>`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{opt_str, opt_u32, Emit};
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
        let comps = d.components.iter().map(|c| {
            let (pos, cname, ident) = (c.pos, &c.name, &c.ident);
            let cdt = format_ident!("DT_{}", c.datatype);
            let usage = self.usage(c.usage);
            let len = opt_u32(c.len);
            let table = opt_str(c.table.as_deref());
            quote! {
                #rt::meta::ComponentDef {
                    pos: #pos, name: #cname, ident: #ident, datatype: &#cdt,
                    usage: #usage, len: #len, table: #table,
                }
            }
        });
        let def_doc = format!(" {id} · {name} · hl7v2.5.1/datatypes.json#/datatypes/{id}");
        let def = quote! {
            #[doc = #def_doc]
            pub static #st: #rt::meta::DataTypeDef = #rt::meta::DataTypeDef {
                id: #id, name: #name, components: &[#(#comps),*],
            };
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
            let pos = c.pos as usize;
            let doc = format!(" {id}.{pos} · {} · {} · {}", c.datatype, c.usage.code(), c.name);
            quote! {
                #[doc = #doc]
                pub fn #m(&self) -> ::core::option::Option<#cty<'a>> { self.0.get(#pos) }
            }
        });
        let doc = format!(" {id} · {name}");
        let value = self.datatype_value(d);
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
            impl<'a> #rt::typed::FromPart<'a> for #ty<'a> {
                const DEF: ::core::option::Option<&'static #rt::meta::DataTypeDef> = ::core::option::Option::Some(&#st);
                fn from_part(part: #rt::typed::Part<'a>) -> Self { #ty(part) }
                fn part(&self) -> #rt::typed::Part<'a> { self.0 }
            }
        }
    }
}
