//! What the four derives share: the shape of the input, usages, cardinalities, field types.

use hl7_codegen::api::Shape;
use hl7_codegen::model::{Usage, UNBOUNDED};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Data, DeriveInput, Field, Fields, GenericArgument, GenericParam, Ident, Lifetime, LitStr, PathArguments, Type};

use crate::attrs::{Attrs, Value};
use crate::errors::Errors;

/// A struct with named fields and exactly one lifetime: the only input the derives take.
pub struct Target<'i> {
    pub ident: &'i Ident,
    pub lifetime: Lifetime,
    pub fields: Vec<&'i Field>,
}

/// Checks the input's shape. `what` names the derive in messages ("segment").
pub fn target<'i>(input: &'i DeriveInput, derive: &str, what: &str, errors: &mut Errors) -> Option<Target<'i>> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named.named.iter().collect::<Vec<_>>()),
            Fields::Unnamed(_) | Fields::Unit => {
                errors.at(input.ident.span(), format!("`#[derive({derive})]` needs a struct with named fields, one per {what} element"));
                None
            }
        },
        Data::Enum(e) => {
            errors.at(e.enum_token.span(), format!("`#[derive({derive})]` applies to a struct with named fields, not an enum"));
            None
        }
        Data::Union(u) => {
            errors.at(u.union_token.span(), format!("`#[derive({derive})]` applies to a struct with named fields, not a union"));
            None
        }
    };
    // Not a struct: its lifetime is beside the point.
    fields.as_ref()?;
    let mut lifetimes = Vec::new();
    for p in &input.generics.params {
        match p {
            GenericParam::Lifetime(l) => lifetimes.push(l.lifetime.clone()),
            GenericParam::Type(t) => errors.at(t.ident.span(), format!("a derived {what} takes no type parameters, only the lifetime of the message it borrows")),
            GenericParam::Const(c) => errors.at(c.ident.span(), format!("a derived {what} takes no const parameters, only the lifetime of the message it borrows")),
        }
    }
    let lifetime = match lifetimes.as_slice() {
        [one] => Some(one.clone()),
        [] => {
            errors.at(input.ident.span(), format!("missing lifetime: a derived {what} borrows the message it reads; declare it as `struct {}<'a>`", input.ident));
            None
        }
        [_, second, ..] => {
            errors.at(second.span(), format!("a derived {what} has exactly one lifetime, the message's"));
            None
        }
    };
    Some(Target { ident: &input.ident, lifetime: lifetime?, fields: fields? })
}

/// The runtime crate's path: `#[hl7(runtime = "...")]`, default `::telerad::runtime` (the
/// runtime as telerad re-exports it, so that an application depending on telerad alone needs
/// no attribute; see the crate docs).
pub fn runtime_path(attrs: &Attrs, errors: &mut Errors) -> TokenStream {
    path_or(attrs, "runtime", "::telerad::runtime", errors)
}

/// The module of the guide's datatypes (`DT_ST` …): `#[hl7(datatypes = "...")]`, default
/// `::telerad::datatypes`.
pub fn datatypes_path(attrs: &Attrs, errors: &mut Errors) -> TokenStream {
    path_or(attrs, "datatypes", "::telerad::datatypes", errors)
}

fn path_or(attrs: &Attrs, key: &str, default: &str, errors: &mut Errors) -> TokenStream {
    let text = attrs.str(key, errors);
    let (text, span) = match &text {
        Some(lit) => (lit.value(), lit.span()),
        None => (default.to_owned(), Span::call_site()),
    };
    match syn::parse_str::<syn::Path>(&text) {
        Ok(p) => p.to_token_stream(),
        Err(_) => {
            errors.at(span, format!("`{key}` must be a Rust path such as `{default}`"));
            quote! { #default }
        }
    }
}

/// `usage = "..."`, default `O`.
pub fn usage(attrs: &Attrs, errors: &mut Errors) -> Usage {
    let Some(lit) = attrs.str("usage", errors) else { return Usage::O };
    match lit.value().as_str() {
        "R" => Usage::R,
        "RE" => Usage::RE,
        "O" => Usage::O,
        "C" => Usage::C,
        "X" => Usage::X,
        other => {
            errors.at(lit.span(), format!("unknown usage `{other}`; expected R, RE, O, C or X"));
            Usage::O
        }
    }
}

/// `min` and `max` (an integer or `"*"`), checked against each other and the usage: R means
/// at least one, and at least one means R. `None` when they are wrong, so that the field's
/// type is not checked against a cardinality the user did not write.
pub fn cardinality(attrs: &Attrs, usage: Usage, errors: &mut Errors) -> Option<(u32, u32)> {
    let before = errors.count();
    let card = cardinality_unchecked(attrs, usage, errors);
    (errors.count() == before).then_some(card)
}

fn cardinality_unchecked(attrs: &Attrs, usage: Usage, errors: &mut Errors) -> (u32, u32) {
    let max = match attrs.get("max").map(|e| &e.value) {
        None => 1,
        Some(Value::Str(s)) if s.value() == "*" => UNBOUNDED,
        Some(Value::Int(0, span)) => {
            errors.at(*span, "bad cardinality: `max` must be at least 1 (use usage X for an element that must not be sent)");
            1
        }
        Some(Value::Int(n, span)) => u32::try_from(*n).unwrap_or_else(|_| {
            errors.at(*span, "bad cardinality: `max` is too large; write `max = \"*\"` for unbounded");
            1
        }),
        Some(other) => {
            errors.at(other.span(), "bad cardinality: `max` is an integer or \"*\"");
            1
        }
    };
    let default_min = u32::from(usage == Usage::R);
    let min = match attrs.int("min", errors) {
        None => default_min,
        Some((n, span)) => {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            if n > max {
                errors.at(span, format!("bad cardinality: `min` {n} is greater than `max` {}", card_max(max)));
            } else if n == 0 && usage == Usage::R {
                errors.at(span, "conflicting options: usage R means at least one (`min = 0` contradicts it)");
            } else if n > 0 && usage != Usage::R {
                errors.at(span, format!("conflicting options: `min = {n}` needs usage R"));
            }
            n
        }
    };
    (min, max)
}

fn card_max(max: u32) -> String {
    if max == UNBOUNDED {
        "*".to_owned()
    } else {
        max.to_string()
    }
}

/// A field's name for messages: `study_uid` → `Study uid`.
pub fn title(ident: &Ident) -> String {
    let text = ident.to_string().replace('_', " ");
    let mut chars = text.trim_start_matches("r#").chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The last path segment of a type and its type arguments: `Option<Ei<'a>>` → (`Option`, [Ei]).
pub fn outer(ty: &Type) -> Option<(String, Vec<&Type>)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let args = match &last.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((last.ident.to_string(), args))
}

/// A type as a person writes it (`Option<Ei<'a>>`), not as tokens print (`Option < Ei < 'a > >`).
pub fn type_text(ty: &Type) -> String {
    let mut text = quote!(#ty).to_string();
    for (from, to) in [(" < ", "<"), ("< ", "<"), (" <", "<"), (" > ", ">"), (" >", ">"), (" , ", ", "), (" ,", ","), ("& '", "&'"), (" :: ", "::"), (":: ", "::")] {
        text = text.replace(from, to);
    }
    text
}

/// Whether the type's last path segment is `name`.
pub fn is_named(ty: &Type, name: &str) -> bool {
    outer(ty).is_some_and(|(n, _)| n == name)
}

/// Checks that a field's type is the shape its usage and cardinality call for, and returns the
/// element type inside. `container` is how repetitions are held (`Reps` for fields, `Vec` for
/// structure elements).
pub fn inner_type<'t>(field: &'t Field, shape: Shape, container: &str, errors: &mut Errors) -> Option<&'t Type> {
    let ty = &field.ty;
    let name = field.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
    let (expected, wanted) = match shape {
        Shape::Required => ("Result", "Result<T, Missing>".to_owned()),
        Shape::Optional => ("Option", "Option<T>".to_owned()),
        Shape::Repeated => (container, if container == "Reps" { "Reps<'a, T>".to_owned() } else { format!("{container}<T>") }),
    };
    let why = match shape {
        Shape::Required => "is required (usage R) with at most one occurrence",
        Shape::Optional => "is optional with at most one occurrence",
        Shape::Repeated => "may repeat",
    };
    let found = type_text(ty);
    match outer(ty) {
        Some((n, args)) if n == expected => {
            let inner = args.first().copied();
            if shape == Shape::Required && !args.get(1).is_some_and(|e| is_named(e, "Missing")) {
                errors.at(ty.span(), format!("wrong field type: `{name}` {why}, so its type is `{wanted}` (the error type is `hl7_runtime::typed::Missing`); found `{found}`"));
                return None;
            }
            if inner.is_none() {
                errors.at(ty.span(), format!("wrong field type: `{name}` {why}, so its type is `{wanted}`; found `{found}`"));
            }
            inner
        }
        _ => {
            errors.at(ty.span(), format!("wrong field type: `{name}` {why}, so its type is `{wanted}`; found `{found}`"));
            None
        }
    }
}

/// The type with the struct's lifetime replaced by `'static`, for the constants that read the
/// element types' definitions (a `static` cannot name the impl's lifetime).
pub fn with_static(ty: &Type, lifetime: &Lifetime) -> Type {
    struct Replace<'l>(&'l Lifetime);
    impl VisitMut for Replace<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
            if l.ident == self.0.ident {
                *l = Lifetime::new("'static", l.span());
            }
        }
    }
    let mut ty = ty.clone();
    Replace(lifetime).visit_type_mut(&mut ty);
    ty
}

/// A string attribute that must be an HL7 datatype id (`ST`, `CWE`, `ZXX`).
pub fn datatype_id(lit: &LitStr, errors: &mut Errors) -> Option<String> {
    let v = lit.value();
    let ok = (2..=4).contains(&v.len())
        && v.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Some(v)
    } else {
        errors.at(lit.span(), format!("datatype `{v}` is not an HL7 datatype id (2 to 4 uppercase letters or digits, such as `ST` or `CWE`)"));
        None
    }
}

/// Positions (fields or components) must be unique and run from 1 without gaps, since the
/// runtime finds a definition by position.
/// Each entry: the position, the field it is on, and the span of the position's value.
pub fn check_positions(positions: &[(u16, &Ident, Span)], what: &str, errors: &mut Errors) {
    let mut seen: Vec<(u16, &Ident)> = Vec::new();
    for (pos, ident, span) in positions {
        if let Some((_, first)) = seen.iter().find(|(p, _)| p == pos) {
            errors.at(*span, format!("{what} position {pos} is used twice (first on `{first}`)"));
        } else {
            seen.push((*pos, ident));
        }
    }
    seen.sort_by_key(|(p, _)| *p);
    for (i, (pos, _)) in seen.iter().enumerate() {
        let expected = u16::try_from(i + 1).unwrap_or(u16::MAX);
        if *pos != expected {
            let span = positions.iter().find(|(p, _, _)| p == pos).map(|(_, _, s)| *s).unwrap_or_else(Span::call_site);
            errors.at(span, format!("{what} positions run from 1 without gaps: {expected} is missing before {pos} (declare it even if unused)"));
            break;
        }
    }
}

/// A position attribute (`field = 3`, `component = 2`): 1 to 999.
pub fn position(attrs: &Attrs, key: &str, errors: &mut Errors) -> Option<(u16, Span)> {
    let (n, span) = attrs.int(key, errors)?;
    match u16::try_from(n) {
        Ok(p) if (1..=999).contains(&p) => Some((p, span)),
        _ => {
            errors.at(span, format!("`{key}` is an HL7 position, from 1 to 999"));
            None
        }
    }
}

/// A derived element's `&'static DataTypeDef`, settled when the constant is evaluated
/// (`hl7_runtime::meta::derived_datatype`): the definition the Rust type carries, else the one
/// `datatype = "..."` names in the guide's module. `what` names the element in the messages
/// (`field `note``).
pub fn datatype_of(rt: &TokenStream, datatypes: &TokenStream, inner: &Type, lifetime: &Lifetime, lit: Option<&LitStr>, id: Option<&str>, what: &str) -> TokenStream {
    let st = with_static(inner, lifetime);
    let span = inner.span();
    let of_type = quote_spanned! {span=> <#st as #rt::typed::FromPart<'static>>::DEF };
    let named = match (lit, id) {
        (Some(l), Some(id)) => {
            let dt = quote::format_ident!("DT_{}", id, span = l.span());
            quote! { ::core::option::Option::Some(&#datatypes::#dt) }
        }
        _ => quote! { ::core::option::Option::None },
    };
    let mismatch = format!("{what} declares datatype {} but its Rust type is a view of another datatype", id.unwrap_or(""));
    let undeclared = format!("{what}: its Rust type is a primitive view shared by every primitive datatype; name the datatype with `datatype = \"ST\"` (or the one it is)");
    quote_spanned! {span=> {
        // Called through a name spanned on the element's type, so that a failed check points
        // at the element rather than at the derive.
        use #rt::meta::derived_datatype as check_datatype;
        check_datatype(#of_type, #named, #mismatch, #undeclared)
    } }
}

/// The struct literal a derived type is built with: each element read from `source`, and the
/// field that keeps `source` itself, if any.
pub fn fill(ty: &Ident, reads: Vec<TokenStream>, keep: Option<&Ident>, source: &Ident) -> TokenStream {
    let keep = keep.map(|k| quote! { #k: #source, });
    quote! {
        let _ = &#source;
        #ty { #(#reads,)* #keep }
    }
}

/// What a derive emits: the definition in a `static` beside the trait impls, and `DEF` on the
/// type, all in an anonymous constant so that nothing leaks into the user's namespace.
pub fn definition_items(rt: &TokenStream, ty: &Ident, lt: &TokenStream, kind: &str, def: &TokenStream, impls: &TokenStream, doc: &str) -> TokenStream {
    let kind = quote::format_ident!("{}", kind);
    quote! {
        const _: () = {
            static __HL7_DEF: #rt::meta::#kind = #def;
            #impls
            impl<#lt> #ty<#lt> {
                #[doc = #doc]
                pub const DEF: &'static #rt::meta::#kind = &__HL7_DEF;
            }
        };
    }
}
