//! `#[derive(Group)]` and `#[derive(Message)]`: one field per child, segment or group.

use hl7_codegen::api::Shape;
use hl7_codegen::expand::{self, Child};
use hl7_codegen::model::Usage;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, LitStr, Type};

use crate::attrs::{Attrs, Value};
use crate::common::{self, Target};
use crate::errors::Errors;

const GROUP_KEYS: &[&str] = &["name", "usage", "min", "max", "choice", "runtime"];
const MESSAGE_KEYS: &[&str] = &["profile", "title", "message_type", "extends", "rule", "runtime"];
const CHILD_KEYS: &[&str] = &["usage", "min", "max"];
const RULE_KEYS: &[&str] = &["id", "expression", "context", "description", "warning"];

/// One declared child, checked.
struct Declared<'i> {
    ident: &'i Ident,
    shape: Shape,
    min: u32,
    max: u32,
    /// The element type with the struct's lifetime (for reading).
    ty: &'i Type,
    /// The same with `'static` (for the definitions).
    ty_static: Type,
    usage: Usage,
}

fn children<'i>(t: &Target<'i>, owner: &str, errors: &mut Errors) -> Vec<Declared<'i>> {
    let mut out = Vec::new();
    for f in &t.fields {
        let attrs = Attrs::read(&f.attrs, CHILD_KEYS, "a structure element", errors);
        let Some(ident) = f.ident.as_ref() else { continue };
        let usage = common::usage(&attrs, errors);
        let Some((min, max)) = common::cardinality(&attrs, usage, errors) else { continue };
        let shape = Shape::of_child(usage, min, max);
        let Some(ty) = common::inner_type(f, shape, "Vec", errors) else { continue };
        if usage == Usage::X {
            errors.at(ident.span(), format!("usage X in {owner}: an element that must not be sent has no field; leave it out of the struct"));
            continue;
        }
        out.push(Declared { ident, shape, min, max, ty, ty_static: common::with_static(ty, &t.lifetime), usage });
    }
    out
}

/// The children's nodes, a compile-time check that each group child is declared with its
/// group's own cardinality, and the reads that fill the struct from a group view.
fn expand_children(rt: &TokenStream, owner: &Ident, declared: &[Declared<'_>]) -> (Vec<Child>, TokenStream, Vec<TokenStream>) {
    let nodes = declared
        .iter()
        .map(|d| {
            let ty = &d.ty_static;
            Child::Element { ty: quote! { #ty }, usage: d.usage, min: d.min, max: d.max, src: format!("#[derive] {owner}.{}", d.ident) }
        })
        .collect();
    let checks = declared.iter().map(|d| {
        let ty = &d.ty_static;
        let (min, max) = (d.min, d.max);
        let span = d.ty.span();
        let message = format!(
            "field `{}` is declared {}, which its group type does not have: a group carries its own usage and cardinality, declare the field with the same",
            d.ident,
            expand::card(min, max)
        );
        quote_spanned! {span=>
            ::core::assert!(<#ty as #rt::typed::StructureElement<'static>>::ELEMENT.agrees(#min, #max), #message);
        }
    });
    let checks = quote! { const _: () = { #(#checks)* }; };
    let reads = declared
        .iter()
        .enumerate()
        .map(|(slot, d)| {
            let ident = d.ident;
            let ty = d.ty;
            let ts = &d.ty_static;
            let slot = u16::try_from(slot).unwrap_or(u16::MAX);
            let read = match d.shape {
                // The absent element's path is its own name (`ZTL`, `ORDER`).
                Shape::Required => quote! {
                    <#ty as #rt::typed::StructureElement>::first_at(group, #slot)
                        .ok_or_else(|| group.missing(<#ts as #rt::typed::StructureElement<'static>>::ELEMENT.name()))
                },
                shape => expand::read_element(rt, &quote! { group }, slot, shape, &quote! { #ty }, ""),
            };
            quote! { #ident: #read }
        })
        .collect();
    (nodes, checks, reads)
}

pub fn derive_group(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let attrs = Attrs::read(&input.attrs, GROUP_KEYS, "a group", &mut errors);
    let target = common::target(input, "Group", "group", &mut errors);
    let rt = common::runtime_path(&attrs, &mut errors);
    let name = match attrs.str("name", &mut errors) {
        Some(lit) => group_name(&lit, &mut errors),
        None => {
            if !attrs.has("name") {
                errors.at(input.ident.span(), "missing required attribute: `#[hl7(name = \"ZORDER\")]` names the group in HL7 paths");
            }
            None
        }
    };
    let usage = common::usage(&attrs, &mut errors);
    let (min, max) = common::cardinality(&attrs, usage, &mut errors).unwrap_or((0, 1));
    let choice = attrs.flag("choice", &mut errors).is_some();
    let declared = target.as_ref().map(|t| children(t, "a group", &mut errors)).unwrap_or_default();
    if let Some(t) = &target {
        if declared.is_empty() && t.fields.is_empty() {
            errors.at(input.ident.span(), "a group has at least one child");
        }
    }
    errors.finish()?;
    let (Some(t), Some(name)) = (target, name) else { return Ok(TokenStream::new()) };

    let ty = t.ident;
    let lt = &t.lifetime;
    let lt = quote! { #lt };
    let (nodes, checks, reads) = expand_children(&rt, ty, &declared);
    let src = format!("#[derive(Group)] {ty}");
    let def = expand::group_def(&rt, &expand::Group { name: &name, usage, min, max, choice, children: &nodes, first: &[], slices: &[], src: &src });
    let from_group = quote! { #ty { #(#reads,)* } };
    let impls = expand::group_impls(&rt, ty, &lt, &quote! { &__HL7_GROUP }, &from_group);
    Ok(quote! {
        const _: () = {
            static __HL7_GROUP: #rt::meta::GroupDef = #def;
            #checks
            #impls
            impl<#lt> #ty<#lt> {
                /// The group's definition, as generated groups carry theirs.
                pub const DEF: &'static #rt::meta::GroupDef = &__HL7_GROUP;
            }
        };
    })
}

pub fn derive_message(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let attrs = Attrs::read(&input.attrs, MESSAGE_KEYS, "a message", &mut errors);
    let target = common::target(input, "Message", "message", &mut errors);
    let rt = common::runtime_path(&attrs, &mut errors);
    let profile = required_str(&attrs, "profile", "`#[hl7(profile = \"flux1_ztl\")]` names the profile (as `telerad validate --profile` would)", input, &mut errors);
    let message_type = required_str(&attrs, "message_type", "`#[hl7(message_type = \"ORM^O01^ORM_O01\")]` gives MSH-9", input, &mut errors);
    let parts = message_type.as_ref().and_then(|lit| {
        let v = lit.value();
        let parts: Vec<String> = v.split('^').map(str::to_owned).collect();
        let ok = parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
        if let (true, Ok(parts)) = (ok, <[String; 3]>::try_from(parts)) {
            Some(parts)
        } else {
            errors.at(lit.span(), format!("message type must be MSH-9 in full, code^event^structure such as `ORM^O01^ORM_O01` (found `{v}`)"));
            None
        }
    });
    let title = attrs.str("title", &mut errors).map(|t| t.value());
    let extends = match attrs.str("extends", &mut errors) {
        Some(lit) => match syn::parse_str::<syn::Path>(&lit.value()) {
            Ok(p) => quote! { ::core::option::Option::Some(&#p) },
            Err(_) => {
                errors.at(lit.span(), "`extends` is the path of the profile's definition, such as `telerad::flux1_orm_o01_nw::DEF`");
                quote! { ::core::option::Option::None }
            }
        },
        None => quote! { ::core::option::Option::None },
    };
    let rules = rules(&attrs, &rt, &mut errors);
    let declared = target.as_ref().map(|t| children(t, "a message", &mut errors)).unwrap_or_default();
    if let Some(t) = &target {
        if let Some(first) = t.fields.first() {
            let msh = common::outer(&first.ty).is_some_and(|(_, args)| args.first().is_some_and(|i| common::is_named(i, "Msh")));
            if !msh {
                errors.at(first.ty.span(), "a message starts with its MSH segment: the first field is `Result<Msh<'m>, Missing>`");
            }
        }
    }
    errors.finish()?;
    let (Some(t), Some(profile), Some(parts)) = (target, profile, parts) else { return Ok(TokenStream::new()) };

    let ty = t.ident;
    let lt = &t.lifetime;
    let lt = quote! { #lt };
    let (nodes, checks, reads) = expand_children(&rt, ty, &declared);
    let [code, event, structure] = parts;
    let src = format!("#[derive(Message)] {ty}");
    let root = expand::group_def(&rt, &expand::Group { name: &structure, usage: Usage::R, min: 1, max: 1, choice: false, children: &nodes, first: &[], slices: &[], src: &src });
    let profile = profile.value();
    let title = title.unwrap_or_else(|| profile.clone());
    let def = expand::message_def(
        &rt,
        &expand::Message { profile: &profile, title: &title, code: &code, event: Some(&event), structure: &structure, root: quote! { &__HL7_ROOT }, segments: &[], rules: &rules, extends },
    );
    Ok(quote! {
        const _: () = {
            static __HL7_ROOT: #rt::meta::GroupDef = #root;
            static __HL7_MESSAGE: #rt::meta::MessageDef = #def;
            #checks
            impl #rt::typed::MessageType for #ty<'_> {
                const DEF: &'static #rt::meta::MessageDef = &__HL7_MESSAGE;
            }
            impl<#lt> #ty<#lt> {
                /// The profile's definition: register it to have profile selection choose it.
                pub const DEF: &'static #rt::meta::MessageDef = &__HL7_MESSAGE;
                /// Places a parsed message into this structure (for validation, JSON, encoding).
                pub fn place<'x>(message: #rt::Message<'x>) -> #rt::typed::Placed<'x> {
                    #rt::typed::Placed::new(message, &__HL7_MESSAGE)
                }
                /// Every element read from a placed message.
                pub fn from_placed(placed: &#lt #rt::typed::Placed<'_>) -> Self {
                    let group = placed.root();
                    #ty { #(#reads,)* }
                }
            }
        };
    })
}

fn required_str(attrs: &Attrs, key: &str, help: &str, input: &DeriveInput, errors: &mut Errors) -> Option<LitStr> {
    let v = attrs.str(key, errors);
    if v.is_none() && !attrs.has(key) {
        errors.at(input.ident.span(), format!("missing required attribute: {help}"));
    }
    v
}

fn group_name(lit: &LitStr, errors: &mut Errors) -> Option<String> {
    let v = lit.value();
    let ok = !v.is_empty() && v.bytes().next().is_some_and(|b| b.is_ascii_uppercase()) && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Some(v)
    } else {
        errors.at(lit.span(), format!("group name must be uppercase letters, digits and `_`, as HL7 writes them (found `{v}`)"));
        None
    }
}

/// `rule(id = "...", expression = "...", context = "...", description = "...", warning)`:
/// the expression is parsed now, with the runtime's own parser, so a rule that would never
/// evaluate is a compile error.
fn rules(attrs: &Attrs, rt: &TokenStream, errors: &mut Errors) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for entry in attrs.all("rule") {
        let Value::List(entries, span) = &entry.value else {
            errors.at(entry.key_span, "`rule` takes a list: `rule(id = \"...\", expression = \"...\", description = \"...\")`");
            continue;
        };
        let r = Attrs::of_list(entries.clone(), RULE_KEYS, "a rule", errors);
        let id = r.str("id", errors);
        let expression = r.str("expression", errors);
        let description = r.str("description", errors).map(|d| d.value());
        let context = r.str("context", errors).map(|c| c.value());
        let warning = r.flag("warning", errors).is_some();
        for key in ["id", "expression"] {
            if !r.has(key) {
                errors.at(*span, format!("missing required attribute: a rule needs `{key}`"));
            }
        }
        let (Some(id), Some(expression)) = (id, expression) else { continue };
        if let Err(e) = hl7_runtime::validate::assertion::parse(&expression.value()) {
            errors.at(expression.span(), format!("rule `{}`: not an assertion of spec/HAND-FORMAT.md: {e}", id.value()));
            continue;
        }
        let (id, expression) = (id.value(), expression.value());
        let src = format!("#[hl7(rule)] {id}");
        let description = description.unwrap_or_else(|| expression.clone());
        out.push(expand::rule_def(
            rt,
            &expand::Rule { id: &id, predicate: None, warning, expression: &expression, context: context.as_deref(), location: None, description: &description, src: &src },
        ));
    }
    out
}
