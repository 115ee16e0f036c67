//! The small vocabulary generated typed views are written in.
//!
//! Generated code stays thin: a typed segment is a [`Segment`] plus accessors that call
//! [`single`], [`required`] or [`Reps::new`]; a typed datatype is a [`Part`]; a typed group is a
//! [`GroupView`]. The mapping from usage and cardinality to these types is the API contract
//! documented in `spec/README.md`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use crate::er7::{Component, Field, Message, Repetition, Segment, Subcomponent};
use crate::error::Location;
use crate::meta::{DataTypeDef, Discriminator, GroupDef, MessageDef, SegmentDef, SliceDef};
use crate::structure::{place, GroupInstance};

/// A value at any of the three ER7 levels below a field repetition. A composite datatype
/// reads its components one level down; at the subcomponent level there is no level left, so
/// component 1 is the subcomponent itself and the others are absent (HL7's truncation rule).
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    Repetition(Repetition<'a>),
    Component(Component<'a>),
    Subcomponent(Subcomponent<'a>),
}

impl<'a> Part<'a> {
    /// The `n`th (1-based) child, or `None` when it is absent or empty.
    pub fn child(&self, n: usize) -> Option<Part<'a>> {
        let p = match self {
            Part::Repetition(r) => Part::Component(r.component(n)),
            Part::Component(c) => Part::Subcomponent(c.subcomponent(n)),
            Part::Subcomponent(s) => {
                if n == 1 {
                    Part::Subcomponent(*s)
                } else {
                    return None;
                }
            }
        };
        if p.raw().is_empty() {
            None
        } else {
            Some(p)
        }
    }

    /// The children in order, empty ones included, found in one scan (where `child(n)` for
    /// each `n` rescans from the start): components of a repetition, subcomponents of a
    /// component, and a subcomponent itself.
    pub fn children(&self) -> Children<'a> {
        match self {
            Part::Repetition(r) => Children::Components(r.components()),
            Part::Component(c) => Children::Subcomponents(c.subcomponents()),
            Part::Subcomponent(s) => Children::Itself(Some(*s)),
        }
    }

    /// Typed access to the `n`th child.
    pub fn get<T: FromPart<'a>>(&self, n: usize) -> Option<T> {
        self.child(n).map(T::from_part)
    }

    /// The raw ER7 bytes, escapes undecoded.
    pub fn raw(&self) -> &'a [u8] {
        match self {
            Part::Repetition(r) => r.raw(),
            Part::Component(c) => c.raw(),
            Part::Subcomponent(s) => s.raw(),
        }
    }

    /// The decoded text (escapes and character set applied; formatting commands kept).
    pub fn text(&self) -> Cow<'a, str> {
        match self {
            Part::Repetition(r) => r.text(),
            Part::Component(c) => c.text(),
            Part::Subcomponent(s) => s.text(),
        }
    }

    pub fn location(&self) -> Location {
        match self {
            Part::Repetition(r) => r.location(),
            Part::Component(c) => c.location(),
            Part::Subcomponent(s) => s.location(),
        }
    }

    /// How many children this part has (trailing empty ones included).
    pub fn child_count(&self) -> usize {
        match self {
            Part::Repetition(r) => r.component_count(),
            Part::Component(c) => c.subcomponent_count(),
            Part::Subcomponent(_) => 1,
        }
    }

    pub fn is_leaf(&self) -> bool {
        self.child_count() <= 1
    }
}

/// The children of a [`Part`], in order ([`Part::children`]).
#[derive(Clone, Debug)]
pub enum Children<'a> {
    Components(crate::er7::Components<'a>),
    Subcomponents(crate::er7::Subcomponents<'a>),
    Itself(Option<Subcomponent<'a>>),
}

impl<'a> Iterator for Children<'a> {
    type Item = Part<'a>;
    fn next(&mut self) -> Option<Part<'a>> {
        match self {
            Children::Components(c) => c.next().map(Part::Component),
            Children::Subcomponents(s) => s.next().map(Part::Subcomponent),
            Children::Itself(s) => s.take().map(Part::Subcomponent),
        }
    }
}

/// A typed datatype built from a [`Part`]: a generated view or a `#[derive(DataType)]` struct.
pub trait FromPart<'a>: Sized {
    /// The datatype's definition, `None` for values whose type is only known at run time
    /// (primitives share one view type, OBX-5 varies).
    const DEF: Option<&'static DataTypeDef>;
    fn from_part(part: Part<'a>) -> Self;
}

/// A primitive value (ST, ID, IS, NM, DTM, FT, TX …).
#[derive(Clone, Copy, Debug)]
pub struct Primitive<'a>(pub Part<'a>);

impl<'a> Primitive<'a> {
    /// The generic view: raw bytes, decoded text, location.
    pub fn part(&self) -> Part<'a> {
        self.0
    }
    pub fn text(&self) -> Cow<'a, str> {
        self.0.text()
    }
    pub fn raw(&self) -> &'a [u8] {
        self.0.raw()
    }
    pub fn location(&self) -> Location {
        self.0.location()
    }
}

impl fmt::Display for Primitive<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl<'a> FromPart<'a> for Primitive<'a> {
    const DEF: Option<&'static DataTypeDef> = None;
    fn from_part(part: Part<'a>) -> Self {
        Primitive(part)
    }
}

/// OBX-5: its datatype is OBX-2's value. Read it as the type the slice (or OBX-2) says.
#[derive(Clone, Copy, Debug)]
pub struct Varies<'a>(pub Part<'a>);

impl<'a> Varies<'a> {
    /// The generic view: raw bytes, decoded text, location.
    pub fn part(&self) -> Part<'a> {
        self.0
    }
    pub fn as_<T: FromPart<'a>>(&self) -> T {
        T::from_part(self.0)
    }
    pub fn text(&self) -> Cow<'a, str> {
        self.0.text()
    }
    pub fn raw(&self) -> &'a [u8] {
        self.0.raw()
    }
}

impl<'a> FromPart<'a> for Varies<'a> {
    const DEF: Option<&'static DataTypeDef> = None;
    fn from_part(part: Part<'a>) -> Self {
        Varies(part)
    }
}

/// A required element that the message does not carry. Parsing is strict on syntax only, so
/// absence is reported when the element is read (and by validation), not by the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} is required but absent{}", location.as_ref().map(|l| format!(" (at {l})")).unwrap_or_default())]
pub struct Missing {
    /// The element in HL7 terms: `PID-5`, `ORDER/ORC`. Static, so that reading an absent
    /// element never allocates.
    pub path: &'static str,
    /// Where it should have been, when the message has anything near it.
    pub location: Option<Location>,
}

/// The first repetition of a non-repeating field, `None` when the field is empty.
pub fn single<'a, T: FromPart<'a>>(field: Field<'a>) -> Option<T> {
    if field.is_empty() {
        return None;
    }
    field.repetition(1).map(|r| T::from_part(Part::Repetition(r)))
}

/// The first repetition of a required field, or where it should have been.
pub fn required<'a, T: FromPart<'a>>(field: Field<'a>, path: &'static str) -> Result<T, Missing> {
    single(field).ok_or_else(|| Missing { path, location: Some(field.location()) })
}

/// The repetitions of a repeating field, each as `T` (empty repetitions included, so that
/// positions match `PID-3[n]`).
pub struct Reps<'a, T> {
    field: Field<'a>,
    next: usize,
    /// Where repetition `next` starts in the field: the iterator walks the field once (each
    /// repetition used to be searched from the field's start, quadratic in their number).
    at: usize,
    count: usize,
    _t: PhantomData<T>,
}

// By hand: `derive` would ask `T: Clone`/`T: Debug`, which a view type need not be.
impl<T> Clone for Reps<'_, T> {
    fn clone(&self) -> Self {
        Reps { field: self.field, next: self.next, at: self.at, count: self.count, _t: PhantomData }
    }
}

impl<T> fmt::Debug for Reps<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reps").field("field", &self.field).field("count", &self.count).field("next", &self.next).finish()
    }
}

impl<'a, T: FromPart<'a>> Reps<'a, T> {
    pub fn new(field: Field<'a>) -> Self {
        let count = if field.is_empty() { 0 } else { field.repetition_count() };
        Reps { field, next: 1, at: 0, count, _t: PhantomData }
    }
    /// Repetition `i` (1-based, as in `PID-3[i]`).
    pub fn get(&self, i: usize) -> Option<T> {
        if i == 0 || i > self.count {
            return None;
        }
        self.field.repetition(i).map(|r| T::from_part(Part::Repetition(r)))
    }
    pub fn field(&self) -> Field<'a> {
        self.field
    }
}

impl<'a, T: FromPart<'a>> Iterator for Reps<'a, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        if self.next > self.count {
            return None;
        }
        // The last repetition runs to the field's end: the count already went over it.
        let (r, at) = self.field.repetition_at(self.next, self.at, self.next == self.count)?;
        self.next += 1;
        self.at = at;
        Some(T::from_part(Part::Repetition(r)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.count + 1).saturating_sub(self.next);
        (n, Some(n))
    }
}

impl<'a, T: FromPart<'a>> ExactSizeIterator for Reps<'a, T> {}

/// A typed segment: a generated view or a `#[derive(Segment)]` struct.
pub trait SegmentType<'a>: Sized {
    const DEF: &'static SegmentDef;
    fn from_segment(segment: Segment<'a>) -> Self;
}

/// A typed group: a generated view or a `#[derive(Group)]` struct. `DEF` carries the group's
/// own usage and cardinality, so a group type is the same group wherever it is used.
pub trait GroupType<'m>: Sized {
    const DEF: &'static GroupDef;
    fn from_group(group: GroupView<'m>) -> Self;
}

/// A typed message: a generated message or a `#[derive(Message)]` struct.
pub trait MessageType {
    const DEF: &'static MessageDef;
}

/// A child of a group, segment or group alike: what lets a derived group or message list its
/// children by type alone. Every segment and group type implements it (generated and derived
/// alike, through the same expansion).
pub trait StructureElement<'m>: Sized {
    const ELEMENT: Element;
    /// The first occurrence at `slot` of `group`.
    fn first_at(group: GroupView<'m>, slot: u16) -> Option<Self>;
    /// Every occurrence at `slot` of `group`.
    fn all_at(group: GroupView<'m>, slot: u16) -> Vec<Self>;
}

pub use crate::meta::Element;


/// A message placed into a profile's structure: what every generated message type holds.
///
/// Views into it (segments, groups, values) borrow it: they carry the message's delimiter
/// index, so they live as long as the `Placed`, not only as long as the input bytes.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub message: Message<'a>,
    pub tree: GroupInstance,
    pub def: &'static MessageDef,
}

impl<'a> Placed<'a> {
    pub fn new(message: Message<'a>, def: &'static MessageDef) -> Self {
        let tree = place(def.root, message.segment_ids());
        Placed { message, tree, def }
    }

    pub fn root(&self) -> GroupView<'_> {
        GroupView { message: &self.message, instance: &self.tree }
    }

    /// Cardinality of every segment, group and slice, and segments without a place.
    pub fn check_structure(&self) -> Vec<crate::structure::StructureFinding> {
        // On the stack for the guide's messages (6 to 20 segments).
        let ids: smallvec::SmallVec<[&str; 32]> = self.message.segment_ids().collect();
        let message = &self.message;
        crate::structure::check(&self.tree, &ids, &|instance, slice| GroupView { message, instance }.is_slice(slice))
    }

    /// The message re-encoded from the placed tree: each segment in tree order with the
    /// bytes up to the next segment (its own terminator, and any empty lines a lenient parse
    /// skipped), so an unmodified message comes out byte for byte.
    pub fn encode(&self) -> Vec<u8> {
        let mut order = Vec::new();
        self.tree.all_segments(&mut order);
        let bytes = self.message.bytes();
        let mut out = Vec::with_capacity(bytes.len());
        for i in order {
            let Some(seg) = self.message.segment(i) else { continue };
            let start = seg.byte_offset();
            let end = self.message.segment(i + 1).map_or(bytes.len(), |next| next.byte_offset());
            out.extend_from_slice(bytes.get(start..end).unwrap_or(seg.raw()));
        }
        out
    }
}

/// One group instance of a placed message; generated group types wrap it.
#[derive(Clone, Copy, Debug)]
pub struct GroupView<'m> {
    pub message: &'m Message<'m>,
    pub instance: &'m GroupInstance,
}

impl<'m> GroupView<'m> {
    pub fn def(&self) -> &'static GroupDef {
        self.instance.def
    }

    pub fn segment<T: SegmentType<'m> + 'm>(&self, slot: u16) -> Option<T> {
        self.segments::<T>(slot).next()
    }

    pub fn required_segment<T: SegmentType<'m> + 'm>(&self, slot: u16, path: &'static str) -> Result<T, Missing> {
        self.segment(slot).ok_or_else(|| self.missing(path))
    }

    pub fn segments<T: SegmentType<'m> + 'm>(&self, slot: u16) -> impl Iterator<Item = T> + 'm {
        let message = self.message;
        self.instance.segments_at(slot).filter_map(move |i| message.segment(i)).map(T::from_segment)
    }

    pub fn group(&self, slot: u16) -> Option<GroupView<'m>> {
        self.groups(slot).next()
    }

    pub fn required_group(&self, slot: u16, path: &'static str) -> Result<GroupView<'m>, Missing> {
        self.group(slot).ok_or_else(|| self.missing(path))
    }

    pub fn groups(&self, slot: u16) -> impl Iterator<Item = GroupView<'m>> + 'm {
        let message = self.message;
        self.instance.groups_at(slot).map(move |instance| GroupView { message, instance })
    }

    /// Instances of the group at `slot` that belong to `slice`.
    pub fn slice(&self, slot: u16, slice: &'static SliceDef) -> impl Iterator<Item = GroupView<'m>> + 'm {
        self.groups(slot).filter(move |g| g.is_slice(slice))
    }

    /// The first instance of `slice` at `slot`, or where it should have been.
    pub fn required_slice(&self, slot: u16, slice: &'static SliceDef, path: &'static str) -> Result<GroupView<'m>, Missing> {
        self.slice(slot, slice).next().ok_or_else(|| self.missing(path))
    }

    /// Whether this instance matches every discriminator of `slice`.
    pub fn is_slice(&self, slice: &SliceDef) -> bool {
        match self.slice_bit(slice) {
            Some(bit) => self.matches().is & bit != 0,
            None => self.matches_slice(slice),
        }
    }

    /// Whether this instance is of the kind `slice` describes: it matches the slice's
    /// discriminators on OBX-3 (the observation code), whatever OBX-4's `m` or OBX-2 say. An
    /// instance of a known kind that matches no slice breaks a rule of that kind (a wrong sub-id
    /// suffix, a wrong value type), which those rules report; it is not of an unknown kind.
    pub fn is_kind_of(&self, slice: &SliceDef) -> bool {
        match self.slice_bit(slice) {
            Some(bit) => self.matches().kind & bit != 0,
            None => self.of_kind(slice),
        }
    }

    /// The bit of `slice` in [`crate::structure::SliceMatches`]: one of the first 64 slices of
    /// this instance's own definition (compared by identity).
    fn slice_bit(&self, slice: &SliceDef) -> Option<u64> {
        let i = self.instance.def.slices.iter().position(|s| std::ptr::eq(*s, slice))?;
        1u64.checked_shl(u32::try_from(i).ok()?)
    }

    /// The slices this instance matches, read from the message once per instance: each
    /// element the slices' discriminators read (OBX-3.1, OBX-4, OBX-2) is read and trimmed
    /// once, then every test of the group's [`SlicePlan`] is a string compare.
    fn matches(&self) -> crate::structure::SliceMatches {
        *self.instance.slices.get_or_init(|| self.read_matches(&|id, field, component| self.discriminated_text(id, field, component)))
    }

    /// Settles this instance's slice matches (unless they are already), reading each
    /// discriminated element with `read` (segment id, field, component): the validator reads
    /// them off the message's elements it has found anyway, for a fraction of what segment
    /// views cost (slice matching was 7 % of `check` on the ten-order OMI). `read` must give
    /// what [`GroupView::discriminated_text`] gives.
    pub(crate) fn settle_matches(&self, read: &ReadDiscriminated<'_, 'm>) {
        let _ = self.instance.slices.get_or_init(|| self.read_matches(read));
    }

    fn read_matches(&self, read: &ReadDiscriminated<'_, 'm>) -> crate::structure::SliceMatches {
        let plan = slice_plan(self.instance.def);
        // At most READS elements are kept (flow 4 reads 3); a plan reading more reads each
        // element again per test.
        let mut texts: [Option<Cow<'m, str>>; READS] = Default::default();
        let kept = plan.reads.len() <= READS;
        if kept {
            for (slot, &(id, field, component)) in texts.iter_mut().zip(&plan.reads) {
                *slot = read(id, field, component).map(trimmed);
            }
        }
        let test = |&(read, d): &(usize, &Discriminator)| match texts.get(read).filter(|_| kept) {
            Some(text) => text.as_deref().is_some_and(|t| holds_trimmed(d, t)),
            None => self.discriminates(d),
        };
        let mut m = crate::structure::SliceMatches::default();
        for (i, slice) in plan.slices.iter().enumerate() {
            let bit = 1u64 << i;
            if slice.tests.iter().all(test) {
                m.is |= bit;
            }
            if slice.kind > 0 && slice.tests.iter().take(slice.kind).all(test) {
                m.kind |= bit;
            }
        }
        m
    }

    fn matches_slice(&self, slice: &SliceDef) -> bool {
        slice.discriminator.iter().all(|d| self.discriminates(d))
    }

    fn of_kind(&self, slice: &SliceDef) -> bool {
        let mut kind = slice.discriminator.iter().filter(|d| matches!(d, Discriminator::Value { field: 3, .. })).peekable();
        kind.peek().is_some() && kind.all(|d| self.discriminates(d))
    }

    fn discriminates(&self, d: &Discriminator) -> bool {
        let (id, field, component) = discriminated(d);
        let text = self.discriminated_text(id, field, component);
        text.is_some_and(|t| holds(d, &t))
    }

    /// The element a discriminator reads in this instance (`None` without its segment).
    fn discriminated_text(&self, id: &str, field: u16, component: Option<u16>) -> Option<Cow<'m, str>> {
        let seg = self.first_segment_with_id(id)?;
        let f = seg.field(field as usize);
        Some(match component {
            Some(c) => f.component(c as usize).text(),
            None => f.text(),
        })
    }

    /// The first segment of this instance with this id (for slice values such as OBX-5).
    pub fn first_segment_with_id(&self, id: &str) -> Option<Segment<'m>> {
        let message = self.message;
        // Runs for every slice check: ids are compared in place, nothing is collected.
        let found = self.instance.find_segment(&mut |i| message.segment_is(i, id))?;
        message.segment(found)
    }

    /// Segments kept here without a place in the structure (Z segments, misplaced ones).
    pub fn unexpected(&self) -> impl Iterator<Item = Segment<'m>> + 'm {
        let message = self.message;
        self.instance.unexpected().filter_map(move |i| message.segment(i))
    }

    /// The error for an absent required child, located at this instance's first segment.
    pub fn missing(&self, path: &'static str) -> Missing {
        let at = self.instance.first_segment().unwrap_or(0);
        let location = self.message.segment(at).map(|s| s.location());
        Missing { path, location }
    }
}

/// The segment id, field and component a discriminator reads.
fn discriminated(d: &Discriminator) -> Discriminated {
    let (path, field, component) = match d {
        Discriminator::Value { path, field, component, .. } => (*path, *field, *component),
        Discriminator::SubIdSuffix { path, field, .. } => (*path, *field, None),
    };
    (path.get(..3).unwrap_or(""), field, component)
}

/// Whether the element's text satisfies the discriminator.
fn holds(d: &Discriminator, text: &str) -> bool {
    holds_trimmed(d, text.trim())
}

/// [`holds`] of a text already trimmed.
fn holds_trimmed(d: &Discriminator, text: &str) -> bool {
    match d {
        Discriminator::Value { value, .. } => text == *value,
        Discriminator::SubIdSuffix { suffix, .. } => text
            .split_once('.')
            .and_then(|(n, m)| Some((n.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
            .is_some_and(|(_, m)| m == *suffix),
    }
}

/// Which element a discriminator reads: segment id, field, component.
type Discriminated = (&'static str, u16, Option<u16>);

/// What reads a discriminated element (segment id, field, component) in an instance, as
/// [`GroupView::discriminated_text`] does.
pub(crate) type ReadDiscriminated<'r, 'm> = dyn Fn(&str, u16, Option<u16>) -> Option<Cow<'m, str>> + 'r;

/// How many distinct elements [`GroupView::matches`] keeps the text of.
const READS: usize = 8;

/// The tests of a group's slices, arranged once per group definition ([`crate::plan`]): every
/// OBSERVATION instance tests every slice of its group (flow 4: 7 slices, up to 2
/// discriminators each, on 3 elements), and finding which element a test reads, by comparing
/// its segment id, field and component with those read before, cost more than the test
/// (slice matching was 11 % of `check` on the ten-order OMI).
struct SlicePlan {
    /// The distinct elements the discriminators read.
    reads: Vec<Discriminated>,
    /// The group's first 64 slices (the bits of [`crate::structure::SliceMatches`]).
    slices: Vec<SliceTests>,
}

/// One slice's discriminators, each with the index in [`SlicePlan::reads`] of the element it
/// reads: those on OBX-3 (what [`GroupView::is_kind_of`] tests) first.
struct SliceTests {
    tests: Vec<(usize, &'static Discriminator)>,
    /// How many of `tests` are on OBX-3.
    kind: usize,
}

fn slice_plan(def: &'static GroupDef) -> &'static SlicePlan {
    crate::plan::of(def, || {
        let mut reads: Vec<Discriminated> = Vec::new();
        let mut index = |d: &Discriminator| {
            let key = discriminated(d);
            reads.iter().position(|k| *k == key).unwrap_or_else(|| {
                reads.push(key);
                reads.len() - 1
            })
        };
        let is_kind = |d: &Discriminator| matches!(d, Discriminator::Value { field: 3, .. });
        let slices = def
            .slices
            .iter()
            .take(64)
            .map(|slice| {
                let kind: Vec<_> = slice.discriminator.iter().filter(|d| is_kind(d)).map(|d| (index(d), d)).collect();
                let rest = slice.discriminator.iter().filter(|d| !is_kind(d)).map(|d| (index(d), d));
                SliceTests { kind: kind.len(), tests: kind.iter().copied().chain(rest).collect() }
            })
            .collect();
        SlicePlan { reads, slices }
    })
}

/// `text` without its surrounding whitespace, still borrowed when it was.
pub(crate) fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) if t.trim().len() == t.len() => Cow::Owned(t),
        Cow::Owned(t) => Cow::Owned(t.trim().to_owned()),
    }
}
