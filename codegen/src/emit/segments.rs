//! Segment definitions (`SEG_PID`) and typed views (`Pid<'a>`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Emit;
use crate::expand::{self, card, Shape};
use crate::model::{Field, Group, Node, Segment, SegmentConstraints};

impl Emit<'_> {
    pub(super) fn segments(&self) -> TokenStream {
        let items = self.model.segments.values().map(|s| self.segment(s));
        quote! { #(#items)* }
    }

    /// The Rust type a field accessor returns: the contract of spec/README.md.
    pub(super) fn field_type(&self, f: &Field) -> (TokenStream, Shape) {
        let rt = &self.rt;
        let ty = match &f.datatype {
            Some(dt) => {
                let name = self.model.datatypes.get(dt).map(|d| d.rust.clone()).unwrap_or_else(|| "St".into());
                let t = format_ident!("{}", name);
                quote! { super::datatypes::#t<'a> }
            }
            None => quote! { #rt::typed::Varies<'a> },
        };
        let shape = self.expand_field(f).shape();
        (expand::field_type(rt, shape, &ty, &quote! { 'a }), shape)
    }

    /// The field as the shared expansion takes it.
    fn expand_field<'f>(&self, f: &'f Field) -> expand::Field<'f> {
        let datatype = match &f.datatype {
            Some(d) => {
                let d = format_ident!("DT_{}", d);
                quote! { ::core::option::Option::Some(&super::datatypes::#d) }
            }
            None => quote! { ::core::option::Option::None },
        };
        expand::Field {
            pos: f.pos,
            name: &f.name,
            ident: &f.ident,
            datatype,
            usage: f.usage,
            min: f.min,
            max: f.max,
            len: f.len,
            table: f.table.as_deref(),
        }
    }

    /// What each profile of the guide says of field `pos` of segment `id`, as doc lines under
    /// the base line. A segment's view type is shared by every profile, so hovering
    /// `order_control()` cannot know the profile it is read in: it lists them all, each line
    /// naming its profile and, when the constraint holds only there, its group or slice
    /// (`flux3_oru_r01: ORC-1 · R · OK | OC · table 0119 · Order control: … · st_flux3.md#t1.r4`).
    /// The constraints on the field's components stay on the profiles' own accessors.
    fn profile_lines(&self, id: &str, pos: u16) -> Vec<String> {
        let mut lines = Vec::new();
        for p in &self.model.profiles {
            let mut each = |scope: Option<&str>, sc: &SegmentConstraints| {
                if sc.segment != id {
                    return;
                }
                for e in sc.elements.iter().filter(|e| e.path.field == pos && e.path.component.is_none()) {
                    let at = match scope.or(sc.group.as_deref()) {
                        Some(scope) => format!("{} ({scope})", p.id),
                        None => p.id.clone(),
                    };
                    lines.push(format!(" - {at}: {}", super::profiles::constraint_line(e)));
                }
            };
            for sc in &p.segments {
                each(None, sc);
            }
            each_slice(&p.root, &mut |slice, sc| each(Some(slice), sc));
        }
        if !lines.is_empty() {
            lines.splice(0..0, [String::new(), " In the guide's profiles:".to_owned()]);
        }
        lines
    }

    fn segment(&self, s: &Segment) -> TokenStream {
        let rt = &self.rt;
        let st = format_ident!("SEG_{}", s.id);
        let ty = format_ident!("{}", s.rust);
        let (id, name) = (&s.id, &s.name);
        let fields: Vec<expand::Field> = s.fields.iter().map(|f| self.expand_field(f)).collect();
        let def = expand::segment_def(rt, id, name, &fields, &[]);
        let accessors = s.fields.iter().enumerate().map(|(i, f)| {
            let m = format_ident!("{}", f.ident);
            let alias = format_ident!("{}_{}", s.id.to_lowercase(), f.pos);
            let path = format!("{}-{}", s.id, f.pos);
            let (ret, shape) = self.field_type(f);
            let body = expand::read_field(rt, shape, &quote! { self.0 }, f.pos, &path);
            let doc = format!(
                " {path} · {} · {} · {} · spec/hl7v2.5.1/segments.json#/segments/{}/fields/{i}",
                f.datatype.as_deref().unwrap_or("varies"),
                f.usage.code(),
                card(f.min, f.max),
                s.id
            );
            let alias_doc = format!(" {path}: same as [`Self::{}`].", f.ident);
            let title = format!(" {}", f.name);
            let profiles = self.profile_lines(&s.id, f.pos);
            quote! {
                #[doc = #title]
                #[doc = ""]
                #[doc = #doc]
                #(#[doc = #profiles])*
                #[inline]
                pub fn #m(&self) -> #ret { #body }
                #[doc = #alias_doc]
                #[inline]
                pub fn #alias(&self) -> #ret { self.#m() }
            }
        });
        let def_doc = format!(" {id} · {name} · hl7v2.5.1/segments.json#/segments/{id}");
        let doc = format!(" {id} · {name}");
        let builder = self.segment_builder(s);
        let impls = expand::segment_impls(rt, &ty, &quote! { 'a }, &quote! { &#st }, &quote! { #ty(segment) });
        quote! {
            #builder
            #[doc = #def_doc]
            pub static #st: #rt::meta::SegmentDef = #def;
            #[doc = #doc]
            #[derive(Clone, Copy, Debug)]
            pub struct #ty<'a>(pub #rt::Segment<'a>);
            impl<'a> #ty<'a> {
                #(#accessors)*
                /// The generic segment view (raw bytes, any field by position, location).
                pub fn segment(&self) -> #rt::Segment<'a> { self.0 }
            }
            #impls
        }
    }
}

/// Every slice's segment constraints in a profile's groups, depth first: `(slice path, constraints)`.
fn each_slice(g: &Group, f: &mut impl FnMut(&str, &SegmentConstraints)) {
    for slice in &g.slices {
        let at = format!("{}:{}", g.path, slice.name);
        for sc in &slice.segments {
            f(&at, sc);
        }
    }
    for child in &g.children {
        if let Node::Group(inner) = child {
            each_slice(inner, f);
        }
    }
}
