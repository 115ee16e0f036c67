//! `hl7_codegen::api::surface` is the generated API as `hl7-codegen diff` reports it; the
//! emitters generate that API. Both read their types from `hl7_codegen::api`, and this test
//! holds them to each other item by item on the guide's spec: every listed accessor, builder
//! field and `new` parameter is generated with the listed type, every listed type, variant and
//! trait impl exists, and every public field of a generated builder or value type is listed.
//! A rule of the contract changed in one place and not the other fails here.

use std::collections::BTreeMap;
use std::path::Path;

use hl7_codegen::api::{surface, ItemKind};
use syn::{FnArg, GenericArgument, ImplItem, Item, Pat, PathArguments, ReturnType, Type, TypeParamBound};

/// A type in the lists' short form: the last segment of each path, lifetimes left out
/// (`::core::result::Result<super::segments::Pid<'a>, ::hl7_runtime::typed::Missing>` →
/// `Result<Pid, Missing>`).
fn short(ty: &Type) -> String {
    match ty {
        Type::Path(p) => short_path(&p.path),
        Type::Reference(r) => format!("&{}", short(&r.elem)),
        Type::ImplTrait(t) => {
            let bounds: Vec<String> = t
                .bounds
                .iter()
                .filter_map(|b| match b {
                    TypeParamBound::Trait(tb) => Some(short_path(&tb.path)),
                    _ => None,
                })
                .collect();
            format!("impl {}", bounds.join(" + "))
        }
        other => quote::quote!(#other).to_string(),
    }
}

fn short_path(path: &syn::Path) -> String {
    let Some(last) = path.segments.last() else { return String::new() };
    let mut out = last.ident.to_string();
    if let PathArguments::AngleBracketed(a) = &last.arguments {
        let args: Vec<String> = a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(short(t)),
                GenericArgument::AssocType(at) => Some(format!("{} = {}", at.ident, short(&at.ty))),
                _ => None,
            })
            .collect();
        if !args.is_empty() {
            out = format!("{out}<{}>", args.join(", "));
        }
    }
    out
}

fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// What the generated files declare, named as the surface names items (name → short type;
/// an empty type for items that only exist), and the public fields of builder and value types.
#[derive(Default)]
struct Generated {
    items: BTreeMap<String, String>,
    owned_fields: Vec<String>,
}

impl Generated {
    fn read(files: &BTreeMap<String, String>) -> Generated {
        let mut g = Generated::default();
        for (name, text) in files {
            let module = name.trim_end_matches(".rs");
            let file = syn::parse_file(text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
            for item in &file.items {
                g.item(module, item);
            }
        }
        g
    }

    fn item(&mut self, module: &str, item: &Item) {
        let public = |v: &syn::Visibility| matches!(v, syn::Visibility::Public(_));
        match item {
            Item::Struct(s) if public(&s.vis) => {
                let ty = format!("{module}::{}", s.ident);
                self.items.insert(ty.clone(), String::new());
                for f in s.fields.iter().filter(|f| public(&f.vis)) {
                    let Some(ident) = &f.ident else { continue };
                    let key = format!("{ty}.{ident}");
                    if ty.ends_with("Builder") || ty.ends_with("Value") {
                        self.owned_fields.push(key.clone());
                    }
                    self.items.insert(key, short(&f.ty));
                }
            }
            Item::Type(t) if public(&t.vis) => {
                self.items.insert(format!("{module}::{}", t.ident), String::new());
            }
            Item::Enum(e) if public(&e.vis) && e.ident == "AnyMessage" => {
                for v in &e.variants {
                    self.items.insert(format!("AnyMessage::{}", v.ident), String::new());
                }
            }
            Item::Impl(i) => {
                let Some(ty) = type_name(&i.self_ty).map(|n| format!("{module}::{n}")) else { return };
                if let Some((trait_, _)) = &i.trait_ {
                    self.items.insert(format!("impl {} for {ty}", short_path(trait_)), String::new());
                    return;
                }
                for f in i.items.iter().filter_map(|it| match it {
                    ImplItem::Fn(f) if public(&f.vis) => Some(f),
                    _ => None,
                }) {
                    let name = f.sig.ident.to_string();
                    let args: Vec<(String, String)> = f
                        .sig
                        .inputs
                        .iter()
                        .filter_map(|a| match a {
                            FnArg::Typed(t) => match &*t.pat {
                                Pat::Ident(p) => Some((p.ident.to_string(), short(&t.ty))),
                                _ => None,
                            },
                            FnArg::Receiver(_) => None,
                        })
                        .collect();
                    if name == "new" {
                        let names: Vec<&str> = args.iter().map(|(n, _)| n.as_str()).collect();
                        self.items.insert(format!("{ty}::new"), names.join(", "));
                        for (n, t) in &args {
                            self.items.insert(format!("{ty}::new({n})"), t.clone());
                        }
                    } else if args.is_empty() {
                        if let ReturnType::Type(_, ret) = &f.sig.output {
                            self.items.insert(format!("{ty}::{name}()"), short(ret));
                        }
                    }
                }
            }
            Item::Mod(m) => {
                for inner in m.content.iter().flat_map(|(_, items)| items) {
                    self.item(&format!("{module}::{}", m.ident), inner);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_api_the_diff_lists_is_the_api_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = hl7_codegen::Config::new(root.join("../spec/telerad")).runtime_path("::hl7_runtime");
    let model = config.model().expect("the spec loads");
    let files = config.generate().expect("the code generates");
    let generated = Generated::read(&files);
    let listed = surface(&model);
    assert!(listed.order.len() > 1000, "the guide's API lists {} items", listed.order.len());

    let mut wrong = Vec::new();
    let mut typed = 0;
    for name in &listed.order {
        let item = &listed.items[name];
        match (item.kind, generated.items.get(name)) {
            (_, None) => wrong.push(format!("{name}: listed ({:?} `{}`), not generated", item.kind, item.sig)),
            (ItemKind::Method | ItemKind::Field | ItemKind::Param | ItemKind::ParamOrder, Some(got)) if !name.starts_with("impl ") => {
                typed += 1;
                if *got != item.sig {
                    wrong.push(format!("{name}: listed `{}`, generated `{got}`", item.sig));
                }
            }
            _ => {}
        }
    }
    for field in &generated.owned_fields {
        if !listed.items.contains_key(field) {
            wrong.push(format!("{field}: generated, not listed"));
        }
    }
    println!("{} items listed, {typed} of them compared by type", listed.order.len());
    assert!(wrong.is_empty(), "{} disagreements:\n{}", wrong.len(), wrong.join("\n"));
    // The comparison above looked at the types, not only at the names.
    assert!(typed > 1000, "only {typed} typed items compared");
}
