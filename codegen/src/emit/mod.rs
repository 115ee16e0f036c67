//! Stage 3: tokens. Every decision was taken by the model; here we only spell it out.

mod builders;
mod datatypes;
mod profiles;
mod segments;
mod tables;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Model, Usage};

/// Options the emitter needs from the [`crate::Config`].
pub(crate) struct Emit<'m> {
    pub model: &'m Model,
    /// Path of the runtime crate in generated code (`::hl7_runtime`).
    pub rt: TokenStream,
}

impl Emit<'_> {
    /// Every generated file, by file name.
    pub(crate) fn files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("datatypes.rs".to_owned(), render(&format!("{}/datatypes.json", self.model.base), self.datatypes()));
        out.insert("segments.rs".to_owned(), render(&format!("{}/segments.json", self.model.base), self.segments()));
        out.insert("tables.rs".to_owned(), render(&format!("{}/tables.json", self.model.base), self.tables()));
        for p in &self.model.profiles {
            out.insert(format!("{}.rs", p.id), render(&p.file, self.profile(p)));
        }
        out.insert("mod.rs".to_owned(), render(&format!("{}/", self.model.guide), self.index()));
        out
    }

    /// The one file an `include!` site needs: the modules and the registry.
    fn index(&self) -> TokenStream {
        let rt = &self.rt;
        let mods = self.model.profiles.iter().map(|p| {
            let m = quote::format_ident!("{}", p.id);
            let file = format!("/{}.rs", p.id);
            let doc = format!(" {} · {}^{}^{} · spec/{}", p.title, p.code, p.event.as_deref().unwrap_or("*"), p.structure, p.file);
            quote! {
                #[doc = #doc]
                pub mod #m { include!(concat!(env!("OUT_DIR"), #file)); }
            }
        });
        let defs = self.model.profiles.iter().map(|p| {
            let m = quote::format_ident!("{}", p.id);
            quote! { &#m::DEF }
        });
        let segs = self.model.segments.values().map(|s| {
            let st = quote::format_ident!("SEG_{}", s.id);
            quote! { &segments::#st }
        });
        let dts = self.model.datatypes.values().map(|d| {
            let st = quote::format_ident!("DT_{}", d.id);
            quote! { &datatypes::#st }
        });
        let variants: Vec<_> = self.model.profiles.iter().map(|p| quote::format_ident!("{}", crate::names::camel(&p.id))).collect();
        let modules: Vec<_> = self.model.profiles.iter().map(|p| quote::format_ident!("{}", p.id)).collect();
        let ids: Vec<&str> = self.model.profiles.iter().map(|p| p.id.as_str()).collect();
        quote! {
            /// A message of any profile of the spec, chosen by the runtime's `select::profile`.
            #[derive(Clone, Debug)]
            pub enum AnyMessage<'a> {
                #(#variants(#modules::Message<'a>),)*
            }
            impl<'a> AnyMessage<'a> {
                /// Chooses the profile from MSH-9 (and ORC-1 where profiles share a message type)
                /// and places the message into its structure.
                pub fn from_message(message: #rt::Message<'a>) -> ::core::result::Result<Self, #rt::select::NoProfile> {
                    let def = #rt::select::profile(&message, &REGISTRY)?;
                    Self::with_profile(message, def.profile).ok_or_else(|| #rt::select::NoProfile {
                        message_type: ::std::string::String::new(),
                        order_control: ::core::option::Option::None,
                    })
                }
                /// Places the message into the named profile, whatever its header says.
                pub fn with_profile(message: #rt::Message<'a>, profile: &str) -> ::core::option::Option<Self> {
                    match profile {
                        #(#ids => ::core::option::Option::Some(Self::#variants(#modules::Message::from_message(message))),)*
                        _ => ::core::option::Option::None,
                    }
                }
                /// The profile this message was placed into.
                pub fn profile(&self) -> &'static #rt::meta::MessageDef { self.placed().def }
                /// The placed message, for generic access, JSON and encoding.
                pub fn placed(&self) -> &#rt::typed::Placed<'a> {
                    match self {
                        #(Self::#variants(m) => &m.0,)*
                    }
                }
            }
            /// The JSON shape of the runtime's `json` module.
            impl #rt::__private::serde::Serialize for AnyMessage<'_> {
                fn serialize<S: #rt::__private::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                    #rt::__private::serialize_placed(self.placed(), &REGISTRY, serializer)
                }
            }
            /// HL7 v2.5.1 datatypes: definitions and typed views.
            pub mod datatypes { include!(concat!(env!("OUT_DIR"), "/datatypes.rs")); }
            /// HL7 v2.5.1 segments: definitions and typed views.
            pub mod segments { include!(concat!(env!("OUT_DIR"), "/segments.rs")); }
            /// Code tables (HL7 and the guide's) and CI-SIS value sets.
            pub mod tables { include!(concat!(env!("OUT_DIR"), "/tables.rs")); }
            #(#mods)*
            /// Every definition generated from the spec, for generic access and profile selection.
            pub static REGISTRY: #rt::meta::Registry = #rt::meta::Registry {
                segments: &[#(#segs),*],
                datatypes: &[#(#dts),*],
                profiles: &[#(#defs),*],
                tables: tables::TABLES,
                value_sets: tables::VALUE_SETS,
                base: ::core::option::Option::None,
            };
        }
    }

    fn usage(&self, u: Usage) -> TokenStream {
        crate::expand::usage(&self.rt, u)
    }
}

pub(crate) use crate::expand::{card, opt_str, opt_u16, opt_u32};

fn render(source: &str, tokens: TokenStream) -> String {
    let body = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Unparsable output is a generator bug; keep it readable for the bug report.
        Err(e) => format!("compile_error!({:?});\n{}", e.to_string(), tokens),
    };
    format!("// @generated by hl7-codegen from spec/{source}; do not edit.\n\n{body}")
}

