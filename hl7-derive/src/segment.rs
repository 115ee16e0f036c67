//! `#[derive(Segment)]`: a struct with one field per HL7 field.

use hl7_codegen::api::Shape;
use hl7_codegen::expand;
use hl7_codegen::model::{ElementConstraint, ElementPath, Usage};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{DeriveInput, Field, Ident, LitStr, Type};

use crate::attrs::Attrs;
use crate::common::{self, Target};
use crate::errors::Errors;

const STRUCT_KEYS: &[&str] = &["id", "name", "runtime", "datatypes"];
const FIELD_KEYS: &[&str] = &["field", "segment", "name", "datatype", "usage", "min", "max", "len", "table", "value_set", "fixed", "values"];

/// One declared field, checked.
struct Declared<'i> {
    ident: &'i Ident,
    pos: u16,
    pos_span: Span,
    name: String,
    usage: Usage,
    min: u32,
    max: u32,
    len: Option<u32>,
    table: Option<String>,
    shape: Shape,
    /// The element type's definition, as a constant expression.
    datatype: TokenStream,
    own: Option<ElementConstraint>,
}

pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::new();
    let attrs = Attrs::read(&input.attrs, STRUCT_KEYS, "a segment", &mut errors);
    let target = common::target(input, "Segment", "segment", &mut errors);
    let rt = common::runtime_path(&attrs, &mut errors);
    let datatypes = common::datatypes_path(&attrs, &mut errors);
    let id = segment_id(&attrs, input, &mut errors);
    let name = attrs.str("name", &mut errors).map(|n| n.value());

    let mut declared = Vec::new();
    let mut raw: Option<&Ident> = None;
    if let Some(t) = &target {
        for f in &t.fields {
            let fattrs = Attrs::read(&f.attrs, FIELD_KEYS, "a segment field", &mut errors);
            let Some(ident) = f.ident.as_ref() else { continue };
            if let Some(span) = fattrs.flag("segment", &mut errors) {
                if fattrs.has("field") || ["datatype", "usage", "min", "max", "len", "table", "value_set", "fixed", "values", "name"].iter().any(|k| fattrs.has(k)) {
                    errors.at(span, "conflicting options: `segment` marks the field that keeps the segment itself and takes no other option");
                }
                if !common::is_named(&f.ty, "Segment") {
                    errors.at(f.ty.span(), format!("wrong field type: `{ident}` keeps the segment, so its type is `Segment<'a>`"));
                }
                if let Some(first) = raw {
                    errors.at(span, format!("only one field keeps the segment (first: `{first}`)"));
                }
                raw = Some(ident);
                continue;
            }
            if let Some(d) = field(f, ident, &fattrs, t, &id, &datatypes, &rt, &mut errors) {
                declared.push(d);
            }
        }
        let positions: Vec<(u16, &Ident, Span)> = declared.iter().map(|d| (d.pos, d.ident, d.pos_span)).collect();
        common::check_positions(&positions, "field", &mut errors);
    }
    errors.finish()?;
    let (Some(t), Some(id)) = (target, id) else { return Ok(TokenStream::new()) };

    declared.sort_by_key(|d| d.pos);
    let ty = t.ident;
    let lt = &t.lifetime;
    let lt = quote! { #lt };
    let fields: Vec<expand::Field> = declared
        .iter()
        .map(|d| expand::Field {
            pos: d.pos,
            name: &d.name,
            ident: "",
            datatype: d.datatype.clone(),
            usage: d.usage,
            min: d.min,
            max: d.max,
            len: d.len,
            table: d.table.as_deref(),
        })
        .collect();
    // The JSON key and accessor name of a derived field is its Rust name.
    let idents: Vec<String> = declared.iter().map(|d| d.ident.to_string()).collect();
    let fields: Vec<expand::Field> = fields.into_iter().zip(&idents).map(|(f, i)| expand::Field { ident: i, ..f }).collect();
    let own: Vec<ElementConstraint> = declared.iter().filter_map(|d| d.own.clone()).collect();
    let seg_name = name.unwrap_or_else(|| id.clone());
    let def = expand::segment_def(&rt, &id, &seg_name, &fields, &own);
    let reads = declared
        .iter()
        .map(|d| {
            let ident = d.ident;
            let read = expand::read_field(&rt, d.shape, &quote! { segment }, d.pos, &format!("{id}-{}", d.pos));
            quote! { #ident: #read }
        })
        .collect();
    let from_segment = common::fill(ty, reads, raw, &quote::format_ident!("segment"));
    let impls = expand::segment_impls(&rt, ty, &lt, &quote! { &__HL7_DEF }, &from_segment);
    let doc = format!(" {id}: the segment's definition, as generated ones carry theirs.");
    Ok(common::definition_items(&rt, ty, &lt, "SegmentDef", &def, &impls, &doc))
}

fn segment_id(attrs: &Attrs, input: &DeriveInput, errors: &mut Errors) -> Option<String> {
    let Some(lit) = attrs.str("id", errors) else {
        if !attrs.has("id") {
            errors.at(input.ident.span(), "missing required attribute: `#[hl7(id = \"ZDS\")]` names the segment");
        }
        return None;
    };
    let v = lit.value();
    let ok = v.len() == 3 && v.bytes().next().is_some_and(|b| b.is_ascii_uppercase()) && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Some(v)
    } else {
        errors.at(lit.span(), format!("segment id must be 3 uppercase letters or digits, starting with a letter (found `{v}`)"));
        None
    }
}

#[allow(clippy::too_many_arguments)]
fn field<'i>(
    f: &'i Field,
    ident: &'i Ident,
    attrs: &Attrs,
    t: &Target<'_>,
    id: &Option<String>,
    datatypes: &TokenStream,
    rt: &TokenStream,
    errors: &mut Errors,
) -> Option<Declared<'i>> {
    let Some((pos, pos_span)) = common::position(attrs, "field", errors) else {
        if !attrs.has("field") {
            errors.at(ident.span(), format!("missing required attribute: `{ident}` needs `#[hl7(field = N)]` (its position in the segment), or `#[hl7(segment)]` to keep the segment itself"));
        }
        return None;
    };
    let usage = common::usage(attrs, errors);
    let card = common::cardinality(attrs, usage, errors);
    let len = attrs.int("len", errors).and_then(|(n, span)| {
        u32::try_from(n).ok().filter(|n| *n > 0).or_else(|| {
            errors.at(span, "`len` is a positive length in characters");
            None
        })
    });
    let table = attrs.str("table", errors).map(|t| t.value());
    let value_set = attrs.str("value_set", errors);
    let fixed = attrs.str("fixed", errors);
    let values = attrs.str("values", errors);
    if let (Some(fx), Some(_)) = (&fixed, &values) {
        errors.at(fx.span(), "conflicting options: `fixed` and `values` both constrain the value; keep one");
    }
    if usage == Usage::X {
        for lit in [&fixed, &values, &value_set].into_iter().flatten() {
            errors.at(lit.span(), "conflicting options: usage X means the field is never sent, so it has no value to constrain");
        }
    }
    let (min, max) = card?;
    let shape = Shape::of_field(usage, max);
    let inner = common::inner_type(f, shape, "Reps", errors);
    let datatype_lit = attrs.str("datatype", errors);
    let datatype_id = datatype_lit.as_ref().and_then(|l| common::datatype_id(l, errors));
    let datatype = inner.and_then(|inner| datatype_expr(inner, ident, datatype_lit.as_ref(), datatype_id.as_deref(), &t.lifetime, datatypes, rt, errors))?;
    let name = attrs.str("name", errors).map(|n| n.value()).unwrap_or_else(|| common::title(ident));
    // `table` stays on the field definition, as in HL7's field tables (informative: a profile
    // decides whether it is checked); `fixed`, `values` and `value_set` are the segment's own
    // constraints, checked wherever it appears.
    let own = (fixed.is_some() || values.is_some() || value_set.is_some()).then(|| {
        let seg = id.clone().unwrap_or_default();
        ElementConstraint {
            path: ElementPath { text: format!("{seg}-{pos}"), segment: seg.clone(), field: pos, component: None, subcomponent: None },
            usage: None,
            min: None,
            max: None,
            fixed: fixed.as_ref().map(LitStr::value),
            values: values.as_ref().map(|v| v.value().split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()).unwrap_or_default(),
            datatype: None,
            table: None,
            value_set: value_set.as_ref().map(|v| (v.value(), None)),
            len: None,
            src: format!("#[derive(Segment)] {}.{ident}", t.ident),
            description: None,
            guide_value: None,
        }
    });
    Some(Declared { ident, pos, pos_span, name, usage, min, max, len, table, shape, datatype, own })
}

/// The field's `Option<&'static DataTypeDef>`: the element type's own definition when it has
/// one (a composite, generated or derived), checked against a declared `datatype`; the
/// declared datatype of the guide's module when the type is a primitive view (which all
/// primitives share); none for `Varies` (OBX-5's type is in OBX-2).
#[allow(clippy::too_many_arguments)]
fn datatype_expr(
    inner: &Type,
    ident: &Ident,
    lit: Option<&LitStr>,
    id: Option<&str>,
    lifetime: &syn::Lifetime,
    datatypes: &TokenStream,
    rt: &TokenStream,
    errors: &mut Errors,
) -> Option<TokenStream> {
    if common::is_named(inner, "Varies") {
        if let Some(l) = lit {
            errors.at(l.span(), "conflicting options: a `Varies` field takes its datatype from the message (OBX-2); drop `datatype`");
        }
        return Some(quote! { ::core::option::Option::None });
    }
    if lit.is_some() && id.is_none() {
        return None;
    }
    let def = common::datatype_of(rt, datatypes, inner, lifetime, lit, id, &format!("field `{ident}`"));
    Some(quote! { ::core::option::Option::Some(#def) })
}
