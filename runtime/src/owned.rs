//! Owned message model for building messages and for comparing them.
//!
//! Values are decoded text; escaping and character-set conversion happen only in
//! [`MessageBuf::encode`], so a builder cannot produce a half-escaped value.
//!
//! The model is kept in a canonical form where an element with no content has no
//! children (an empty component has `subs == []`, not `[""]`) and trailing empty
//! children are dropped, because that is exactly what survives an ER7 round trip:
//! `to_owned_buf()` of a parsed message returns that form, and [`MessageBuf::normalize`]
//! brings a built message to it so that the two compare equal.
//!
//! For MSH, fields 1 and 2 are represented by [`MessageBuf::delimiters`]; the
//! corresponding entries of `fields` are ignored on encoding and cleared by `normalize`.

use serde::Serialize;

use crate::charset::Charset;
use crate::er7::{is_segment_id, Delimiters, Field, Message};
use crate::error::EncodeError;
use crate::escape::{encode_text_with, Special};

/// A whole message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageBuf {
    /// Delimiters written to MSH-1/MSH-2 and used for escaping.
    pub delimiters: Delimiters,
    /// Character set text is converted to; MSH-18 must be set by the caller to match.
    pub charset: Charset,
    /// Segments in order.
    pub segments: Vec<SegmentBuf>,
}

/// One segment; `fields[0]` is field 1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SegmentBuf {
    /// Segment id, e.g. `PID`.
    pub id: String,
    /// Fields from field 1.
    pub fields: Vec<FieldBuf>,
}

/// One field: its repetitions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FieldBuf {
    /// Repetitions from the first.
    pub reps: Vec<RepBuf>,
}

/// One repetition: its components.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RepBuf {
    /// Components from the first.
    pub comps: Vec<CompBuf>,
}

/// One component: its subcomponents, as decoded text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CompBuf {
    /// Subcomponents from the first.
    pub subs: Vec<String>,
}

fn index(n: usize) -> usize {
    assert!(n > 0, "HL7 positions start at 1");
    n - 1
}

fn grow<T: Default>(v: &mut Vec<T>, n: usize) -> &mut T {
    let i = index(n);
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    // The resize above guarantees the element exists.
    match v.get_mut(i) {
        Some(x) => x,
        None => unreachable!("vector was grown to hold index {i}"),
    }
}

fn trim<T>(v: &mut Vec<T>, empty: impl Fn(&T) -> bool) {
    while v.last().is_some_and(&empty) {
        v.pop();
    }
}

impl CompBuf {
    /// A component holding one text value.
    pub fn text(value: &str) -> Self {
        let mut c = CompBuf { subs: vec![value.to_owned()] };
        c.normalize();
        c
    }

    /// True when it holds no text.
    pub fn is_empty(&self) -> bool {
        self.subs.iter().all(String::is_empty)
    }

    /// Drops trailing empty subcomponents.
    pub fn normalize(&mut self) {
        trim(&mut self.subs, String::is_empty);
    }

}

impl RepBuf {
    /// True when it holds no text.
    pub fn is_empty(&self) -> bool {
        self.comps.iter().all(CompBuf::is_empty)
    }

    /// Drops trailing empty elements at every level.
    pub fn normalize(&mut self) {
        self.comps.iter_mut().for_each(CompBuf::normalize);
        trim(&mut self.comps, CompBuf::is_empty);
    }

}

impl FieldBuf {
    /// A field holding one text value.
    pub fn text(value: &str) -> Self {
        let mut f = FieldBuf { reps: vec![RepBuf { comps: vec![CompBuf::text(value)] }] };
        f.normalize();
        f
    }

    /// True when it holds no text.
    pub fn is_empty(&self) -> bool {
        self.reps.iter().all(RepBuf::is_empty)
    }

    /// Drops trailing empty elements at every level.
    pub fn normalize(&mut self) {
        self.reps.iter_mut().for_each(RepBuf::normalize);
        trim(&mut self.reps, RepBuf::is_empty);
    }

    /// Repetition `n` (1-based), created if needed.
    pub fn rep_mut(&mut self, n: usize) -> &mut RepBuf {
        grow(&mut self.reps, n)
    }

}

impl SegmentBuf {
    /// An empty segment.
    pub fn new(id: impl Into<String>) -> Self {
        SegmentBuf { id: id.into(), fields: Vec::new() }
    }

    fn is_msh(&self) -> bool {
        self.id == "MSH"
    }

    /// Sets one subcomponent at `(field, rep, comp, sub)`, all 1-based, growing the
    /// model as needed.
    ///
    /// # Panics
    /// When a position is 0: positions are compile-time HL7 positions, never data.
    pub fn set(&mut self, (field, rep, comp, sub): (usize, usize, usize, usize), value: &str) -> &mut Self {
        let comp_buf = grow(&mut grow(&mut self.field_mut(field).reps, rep).comps, comp);
        *grow(&mut comp_buf.subs, sub) = value.to_owned();
        self
    }

    /// Replaces field `n` with a single text value.
    ///
    /// # Panics
    /// When `n` is 0.
    pub fn set_field(&mut self, n: usize, value: &str) -> &mut Self {
        *self.field_mut(n) = FieldBuf::text(value);
        self
    }

    /// Replaces one component with a single text value.
    ///
    /// # Panics
    /// When a position is 0.
    pub fn set_component(&mut self, field: usize, rep: usize, comp: usize, value: &str) -> &mut Self {
        *grow(&mut grow(&mut self.field_mut(field).reps, rep).comps, comp) = CompBuf::text(value);
        self
    }

    /// Sets one subcomponent.
    ///
    /// # Panics
    /// When a position is 0.
    pub fn set_subcomponent(&mut self, field: usize, rep: usize, comp: usize, sub: usize, value: &str) -> &mut Self {
        self.set((field, rep, comp, sub), value)
    }

    /// Field `n` (1-based), created if needed.
    ///
    /// # Panics
    /// When `n` is 0.
    pub fn field_mut(&mut self, n: usize) -> &mut FieldBuf {
        grow(&mut self.fields, n)
    }

    /// Field `n` (1-based), if present.
    pub fn field(&self, n: usize) -> Option<&FieldBuf> {
        self.fields.get(n.checked_sub(1)?)
    }

    /// The text at `(field, rep, comp, sub)`, if present.
    pub fn get(&self, field: usize, rep: usize, comp: usize, sub: usize) -> Option<&str> {
        self.field(field)?
            .reps
            .get(rep.checked_sub(1)?)?
            .comps
            .get(comp.checked_sub(1)?)?
            .subs
            .get(sub.checked_sub(1)?)
            .map(String::as_str)
    }

    /// Drops trailing empty elements at every level (and MSH-1/MSH-2, which live in the
    /// delimiters).
    pub fn normalize(&mut self) {
        if self.is_msh() {
            for f in self.fields.iter_mut().take(2) {
                *f = FieldBuf::default();
            }
        }
        self.fields.iter_mut().for_each(FieldBuf::normalize);
        trim(&mut self.fields, FieldBuf::is_empty);
    }

    fn write(&self, out: &mut Vec<u8>, d: &Delimiters, cs: Charset, special: &Special) -> Result<(), EncodeError> {
        if !is_segment_id(self.id.as_bytes()) {
            return Err(EncodeError::InvalidSegmentId { id: self.id.clone() });
        }
        out.extend_from_slice(self.id.as_bytes());
        let skip = if self.is_msh() {
            out.push(d.field);
            out.extend(d.encoding_characters());
            2
        } else {
            0
        };
        let fields = self.fields.iter().take(last_non_empty(&self.fields, FieldBuf::is_empty));
        for (f, field) in fields.enumerate().skip(skip) {
            out.push(d.field);
            for (r, rep) in field.reps.iter().take(last_non_empty(&field.reps, RepBuf::is_empty)).enumerate() {
                if r > 0 {
                    out.push(d.repetition);
                }
                for (c, comp) in rep.comps.iter().take(last_non_empty(&rep.comps, CompBuf::is_empty)).enumerate() {
                    if c > 0 {
                        out.push(d.component);
                    }
                    for (s, sub) in comp.subs.iter().take(last_non_empty(&comp.subs, String::is_empty)).enumerate() {
                        let at = |e| EncodeError::at(format!("{}-{}[{}].{}.{}", self.id, f + 1, r + 1, c + 1, s + 1), e);
                        if s > 0 {
                            out.push(d.subcomponent.ok_or_else(|| at(EncodeError::NoSubcomponentSeparator))?);
                        }
                        encode_text_with(sub, d, cs, special, out).map_err(at)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Length of `v` without its trailing empty elements.
fn last_non_empty<T>(v: &[T], empty: impl Fn(&T) -> bool) -> usize {
    v.iter().rposition(|x| !empty(x)).map_or(0, |i| i + 1)
}

impl MessageBuf {
    /// An empty message.
    pub fn new(delimiters: Delimiters, charset: Charset) -> Self {
        MessageBuf { delimiters, charset, segments: Vec::new() }
    }

    /// Appends a segment and returns it for filling.
    pub fn add_segment(&mut self, id: &str) -> &mut SegmentBuf {
        self.segments.push(SegmentBuf::new(id));
        match self.segments.last_mut() {
            Some(s) => s,
            None => unreachable!("a segment was just pushed"),
        }
    }

    /// The first segment with this id.
    pub fn segment(&self, id: &str) -> Option<&SegmentBuf> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// The first segment with this id, mutable.
    pub fn segment_mut(&mut self, id: &str) -> Option<&mut SegmentBuf> {
        self.segments.iter_mut().find(|s| s.id == id)
    }

    /// Brings the model to canonical form (see the module docs).
    pub fn normalize(&mut self) {
        self.segments.iter_mut().for_each(SegmentBuf::normalize);
    }

    /// Writes ER7: CR after every segment, trailing empty elements trimmed, text escaped
    /// and converted to the character set (errors, never substitution).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.delimiters
            .validate()
            .map_err(|reason| EncodeError::InvalidDelimiters { reason })?;
        let mut out = Vec::with_capacity(64 * self.segments.len() + 16);
        let special = Special::new(&self.delimiters, self.charset);
        for seg in &self.segments {
            seg.write(&mut out, &self.delimiters, self.charset, &special)?;
            out.push(b'\r');
        }
        Ok(out)
    }
}

impl Message<'_> {
    /// The message as an owned, decoded, canonical model.
    pub fn to_owned_buf(&self) -> MessageBuf {
        let segments = self
            .segments()
            .map(|seg| {
                let is_msh = seg.id() == "MSH";
                let mut buf = SegmentBuf {
                    id: seg.id().to_owned(),
                    fields: seg
                        .fields()
                        .enumerate()
                        .map(|(i, f)| if is_msh && i < 2 { FieldBuf::default() } else { field_buf(f) })
                        .collect(),
                };
                buf.normalize();
                buf
            })
            .collect();
        MessageBuf { delimiters: self.delimiters(), charset: self.charset(), segments }
    }
}

/// A parsed field as decoded text, every level kept (not yet in canonical form: see
/// [`FieldBuf::normalize`]).
pub(crate) fn field_buf(f: Field<'_>) -> FieldBuf {
    FieldBuf {
        reps: f
            .repetitions()
            .map(|r| RepBuf {
                comps: r
                    .components()
                    .map(|c| CompBuf { subs: c.subcomponents().map(|s| s.text().into_owned()).collect() })
                    .collect(),
            })
            .collect(),
    }
}
