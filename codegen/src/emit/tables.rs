//! Code tables (HL7 and the guide's TLR_*) and CI-SIS value sets, for validation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{opt_str, Emit};

/// A static's name for an id that may hold any character (`JDV_RegionAnatomique-CISIS`).
fn static_name(prefix: &str, id: &str) -> proc_macro2::Ident {
    let s: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format_ident!("{prefix}_{s}")
}

impl Emit<'_> {
    pub(super) fn tables(&self) -> TokenStream {
        let rt = &self.rt;
        let tables = self.model.tables.values().map(|t| {
            let st = static_name("TABLE", &t.id);
            let (id, name) = (&t.id, &t.name);
            let codes = t.values.iter().map(|(c, _)| c);
            quote! {
                pub static #st: #rt::meta::TableDef = #rt::meta::TableDef { id: #id, name: #name, codes: &[#(#codes),*] };
            }
        });
        let table_refs = self.model.tables.values().map(|t| {
            let st = static_name("TABLE", &t.id);
            quote! { &#st }
        });
        let value_sets = self.model.value_sets.values().map(|v| {
            let st = static_name("VALUE_SET", &v.name);
            let name = &v.name;
            let oid = opt_str(v.oid.as_deref());
            let available = v.available;
            let codes = v.codes.iter().map(|(system, code)| quote! { (#system, #code) });
            let src = &v.src;
            quote! {
                pub static #st: #rt::meta::ValueSetDef = #rt::meta::ValueSetDef {
                    name: #name, oid: #oid, available: #available, codes: &[#(#codes),*], src: #src,
                };
            }
        });
        let vs_refs = self.model.value_sets.values().map(|v| {
            let st = static_name("VALUE_SET", &v.name);
            quote! { &#st }
        });
        quote! {
            #(#tables)*
            /// Every code table, by id.
            pub static TABLES: &[&#rt::meta::TableDef] = &[#(#table_refs),*];
            #(#value_sets)*
            /// Every value set the profiles bind, by name.
            pub static VALUE_SETS: &[&#rt::meta::ValueSetDef] = &[#(#vs_refs),*];
        }
    }
}
