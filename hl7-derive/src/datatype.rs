//! `#[derive(DataType)]`: a composite datatype, one field per component.

use hl7_codegen::api::Shape;
use hl7_codegen::expand;
use hl7_codegen::model::Usage;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident};

use crate::attrs::Attrs;
use crate::common;
use crate::errors::Errors;

const STRUCT_KEYS: &[&str] = &["id", "name", "runtime", "datatypes"];
const FIELD_KEYS: &[&str] = &["component", "part", "name", "datatype", "usage", "len", "table"];

struct Declared<'i> {
    ident: &'i Ident,
    pos: u16,
    pos_span: Span,
    name: String,
    usage: Usage,
    len: Option<u32>,
    table: Option<String>,
    datatype: TokenStream,
}

pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let attrs = Attrs::read(&input.attrs, STRUCT_KEYS, "a datatype", &mut errors);
    let target = common::target(input, "DataType", "datatype", &mut errors);
    let rt = common::runtime_path(&attrs, &mut errors);
    let datatypes = common::datatypes_path(&attrs, &mut errors);
    let id = match attrs.str("id", &mut errors) {
        Some(lit) => common::datatype_id(&lit, &mut errors),
        None => {
            if !attrs.has("id") {
                errors.at(input.ident.span(), "missing required attribute: `#[hl7(id = \"ZXX\")]` names the datatype");
            }
            None
        }
    };
    let name = attrs.str("name", &mut errors).map(|n| n.value());

    let mut declared = Vec::new();
    let mut raw: Option<&Ident> = None;
    if let Some(t) = &target {
        for f in &t.fields {
            let fattrs = Attrs::read(&f.attrs, FIELD_KEYS, "a datatype component", &mut errors);
            let Some(ident) = f.ident.as_ref() else { continue };
            if let Some(span) = fattrs.flag("part", &mut errors) {
                if ["component", "name", "datatype", "usage", "len", "table"].iter().any(|k| fattrs.has(k)) {
                    errors.at(span, "conflicting options: `part` marks the field that keeps the value itself and takes no other option");
                }
                if !common::is_named(&f.ty, "Part") {
                    errors.at(f.ty.span(), format!("wrong field type: `{ident}` keeps the value, so its type is `Part<'a>`"));
                }
                raw = Some(ident);
                continue;
            }
            let Some((pos, pos_span)) = common::position(&fattrs, "component", &mut errors) else {
                if !fattrs.has("component") {
                    errors.at(ident.span(), format!("missing required attribute: `{ident}` needs `#[hl7(component = N)]`, or `#[hl7(part)]` to keep the value itself"));
                }
                continue;
            };
            let usage = common::usage(&fattrs, &mut errors);
            // Any component may be left out of a message (HL7's truncation), so each is read
            // as an `Option` whatever its usage; validation reports a missing R component.
            let Some(inner) = common::inner_type(f, Shape::of_component(), "Reps", &mut errors) else { continue };
            if common::is_named(inner, "Varies") {
                errors.at(inner.span(), "wrong field type: a component has a datatype of its own; `Varies` is for OBX-5 only");
                continue;
            }
            let lit = fattrs.str("datatype", &mut errors);
            let dt_id = lit.as_ref().and_then(|l| common::datatype_id(l, &mut errors));
            if lit.is_some() && dt_id.is_none() {
                continue;
            }
            let datatype = common::datatype_of(&rt, &datatypes, inner, &t.lifetime, lit.as_ref(), dt_id.as_deref(), &format!("component `{ident}`"));
            let len = fattrs.int("len", &mut errors).and_then(|(n, _)| u32::try_from(n).ok());
            let table = fattrs.str("table", &mut errors).map(|t| t.value());
            let name = fattrs.str("name", &mut errors).map(|n| n.value()).unwrap_or_else(|| common::title(ident));
            declared.push(Declared { ident, pos, pos_span, name, usage, len, table, datatype });
        }
        let positions: Vec<(u16, &Ident, Span)> = declared.iter().map(|d| (d.pos, d.ident, d.pos_span)).collect();
        common::check_positions(&positions, "component", &mut errors);
    }
    errors.finish()?;
    let (Some(t), Some(id)) = (target, id) else { return Ok(TokenStream::new()) };

    declared.sort_by_key(|d| d.pos);
    let ty = t.ident;
    let lt = &t.lifetime;
    let lt = quote! { #lt };
    let idents: Vec<String> = declared.iter().map(|d| d.ident.to_string()).collect();
    let comps: Vec<expand::Component> = declared
        .iter()
        .zip(&idents)
        .map(|(d, ident)| expand::Component { pos: d.pos, name: &d.name, ident, datatype: d.datatype.clone(), usage: d.usage, len: d.len, table: d.table.as_deref() })
        .collect();
    let dt_name = name.unwrap_or_else(|| id.clone());
    let def = expand::datatype_def(&rt, &id, &dt_name, &comps);
    let reads = declared
        .iter()
        .map(|d| {
            let ident = d.ident;
            let read = expand::read_component(&quote! { part }, d.pos);
            quote! { #ident: #read }
        })
        .collect();
    let from_part = common::fill(ty, reads, raw, &quote::format_ident!("part"));
    let impls = expand::from_part_impl(&rt, ty, &lt, &quote! { &__HL7_DEF }, &from_part);
    let doc = format!(" {id}: the datatype's definition, as generated ones carry theirs.");
    Ok(common::definition_items(&rt, ty, &lt, "DataTypeDef", &def, &impls, &doc))
}
