//! `#[hl7(...)]` attributes: read once, every mistake collected.
//!
//! Each derive names the keys it accepts; anything else, a key given twice, or a value of the
//! wrong kind is an error spanned on the offending token, and reading goes on so that the user
//! sees every mistake of the struct in one compile.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Lit, LitStr};

use crate::errors::Errors;

/// A value as written after `key =`, or a bare flag, or a list `key(...)`.
#[derive(Clone)]
pub enum Value {
    Str(LitStr),
    Int(u64, Span),
    Flag(Span),
    /// The nested `key = value` pairs of `rule(id = "...", expression = "...")`.
    List(Vec<Entry>, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span(),
            Value::Int(_, s) | Value::Flag(s) | Value::List(_, s) => *s,
        }
    }
}

#[derive(Clone)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Value,
}

/// The entries of every `#[hl7(...)]` on one item, in order.
pub struct Attrs {
    entries: Vec<Entry>,
}

/// Keys that may be given more than once.
const REPEATABLE: &[&str] = &["rule"];

impl Attrs {
    /// Reads the `#[hl7(...)]` attributes among `attrs`, accepting only `allowed` keys.
    pub fn read(attrs: &[Attribute], allowed: &[&str], what: &str, errors: &mut Errors) -> Attrs {
        let mut entries: Vec<Entry> = Vec::new();
        for attr in attrs.iter().filter(|a| a.path().is_ident("hl7")) {
            let result = attr.parse_nested_meta(|meta| {
                let entry = parse_entry(&meta)?;
                check_entry(&entry, &entries, allowed, what, errors);
                entries.push(entry);
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        Attrs { entries }
    }

    /// Reads the nested entries of a list value such as `rule(...)`.
    pub fn of_list(entries: Vec<Entry>, allowed: &[&str], what: &str, errors: &mut Errors) -> Attrs {
        let mut seen: Vec<Entry> = Vec::new();
        for e in entries {
            check_entry(&e, &seen, allowed, what, errors);
            seen.push(e);
        }
        Attrs { entries: seen }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s Entry> + 's {
        self.entries.iter().filter(move |e| e.key == key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A string value; another kind of value is an error.
    pub fn str(&self, key: &str, errors: &mut Errors) -> Option<LitStr> {
        let e = self.get(key)?;
        match &e.value {
            Value::Str(s) => Some(s.clone()),
            other => {
                errors.push(syn::Error::new(other.span(), format!("`{key}` takes a string, e.g. `{key} = \"...\"`")));
                None
            }
        }
    }

    /// A positive integer value; another kind of value is an error.
    pub fn int(&self, key: &str, errors: &mut Errors) -> Option<(u64, Span)> {
        let e = self.get(key)?;
        match &e.value {
            Value::Int(n, span) => Some((*n, *span)),
            other => {
                errors.push(syn::Error::new(other.span(), format!("`{key}` takes an integer, e.g. `{key} = 3`")));
                None
            }
        }
    }

    /// A bare flag such as `segment`; a value is an error.
    pub fn flag(&self, key: &str, errors: &mut Errors) -> Option<Span> {
        let e = self.get(key)?;
        match &e.value {
            Value::Flag(span) => Some(*span),
            other => {
                errors.push(syn::Error::new(other.span(), format!("`{key}` takes no value: write `#[hl7({key})]`")));
                None
            }
        }
    }
}

fn check_entry(entry: &Entry, seen: &[Entry], allowed: &[&str], what: &str, errors: &mut Errors) {
    if !allowed.contains(&entry.key.as_str()) {
        let expected = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        errors.push(syn::Error::new(entry.key_span, format!("unknown attribute `{}` on {what}; expected one of {expected}", entry.key)));
        return;
    }
    if REPEATABLE.contains(&entry.key.as_str()) {
        return;
    }
    if let Some(first) = seen.iter().find(|e| e.key == entry.key) {
        errors.push(syn::Error::new(entry.key_span, format!("duplicate attribute `{}` (first given as `{}`)", entry.key, describe(&first.value))));
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("\"{}\"", s.value()),
        Value::Int(n, _) => n.to_string(),
        Value::Flag(_) => "a flag".to_owned(),
        Value::List(..) => "a list".to_owned(),
    }
}

fn parse_entry(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Entry> {
    let key_span = meta.path.span();
    let key = match meta.path.get_ident() {
        Some(i) => i.to_string(),
        None => return Err(syn::Error::new(key_span, "expected an attribute name such as `field` or `usage`, not a path")),
    };
    let value = if meta.input.peek(syn::Token![=]) {
        let lit: Lit = meta.value()?.parse()?;
        match lit {
            Lit::Str(s) => Value::Str(s),
            Lit::Int(i) => Value::Int(i.base10_parse::<u64>()?, i.span()),
            other => return Err(syn::Error::new(other.span(), format!("`{key}` takes a string or an integer"))),
        }
    } else if meta.input.peek(syn::token::Paren) {
        let mut nested = Vec::new();
        meta.parse_nested_meta(|inner| {
            nested.push(parse_entry(&inner)?);
            Ok(())
        })?;
        Value::List(nested, key_span)
    } else {
        Value::Flag(key_span)
    };
    Ok(Entry { key, key_span, value })
}
