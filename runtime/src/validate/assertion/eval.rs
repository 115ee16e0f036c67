//! Three-valued evaluation of an [`Expr`] in a [`Scope`].

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use crate::er7::{Delimiters, Field, Message, Repetition, Segment};
use crate::structure::{GroupInstance, Item};
use crate::typed::Part;

use super::{CmpOp, CountTarget, Expr, Operand, Ref, Rhs, Scope};

/// What the scopes of one context have already read. A rule is evaluated once per occurrence
/// of its context (once per repetition for `SEG-f[*]`); everything it reads that does not
/// depend on the occurrence's own repetition is the same for every occurrence that resolves
/// to the same segment or group, so it is read once. Without this, `ANY(PID-3.5)` in a
/// `PID-5[*]` context, or a path resolved by scanning a large group, costs the product of
/// two sizes of the input instead of their sum.
#[derive(Debug, Default)]
pub struct Memo<'a> {
    /// Values of a path in a segment: (path, segment index) → values.
    values: RefCell<HashMap<(PathKey, usize), Kept<'a>>>,
    /// First segment of an id in a group's subtree: id → group address → segment index.
    firsts: RefCell<HashMap<(SegmentKey, usize), Option<usize>>>,
    /// `count(SEG)` in a group: id → group address → count.
    counts: RefCell<HashMap<(SegmentKey, usize), u64>>,
    /// Element values decoded and group items visited, the work validation counts.
    work: Cell<u64>,
    /// Whether reads are kept: only when several scopes share the memo. A context with one
    /// occurrence (most rules) reads each path once, and keeping it would cost more (a key
    /// cloned and hashed, a map entry) than the read itself.
    shared: Cell<bool>,
}

impl Memo<'_> {
    /// Keeps reads from now on, for the scopes of a context with several occurrences.
    pub(crate) fn share(&self) {
        self.shared.set(true);
    }

    fn add_work(&self, n: usize) {
        self.work.set(self.work.get().saturating_add(n as u64));
    }

    /// Work done by the scopes sharing this memo so far.
    pub(crate) fn work(&self) -> u64 {
        self.work.get()
    }
}

/// A segment id as a memo key: its three bytes, copied (the assertion language's ids are three
/// characters; any other text gets a key of its own that no id has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SegmentKey([u8; 3]);

impl SegmentKey {
    fn of(id: &str) -> SegmentKey {
        match id.as_bytes() {
            &[a, b, c] => SegmentKey([a, b, c]),
            _ => SegmentKey([0; 3]),
        }
    }
}

/// A path read by an operand as a memo key, without the string a [`Ref`] holds: `any` marks
/// `ANY(P)`, which reads other values than `P`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PathKey {
    original: bool,
    segment: SegmentKey,
    field: u16,
    repetition: Option<u16>,
    component: Option<u16>,
    subcomponent: Option<u16>,
    any: bool,
}

impl PathKey {
    fn of(r: &Ref, any: bool) -> PathKey {
        PathKey {
            original: r.original,
            segment: SegmentKey::of(&r.segment),
            field: r.field,
            repetition: r.repetition,
            component: r.component,
            subcomponent: r.subcomponent,
            any: any && r.repetition.is_none(),
        }
    }
}

/// Groups are keyed by address: they live in the placed tree, which outlives every scope.
fn key_of(inst: &GroupInstance) -> usize {
    std::ptr::from_ref(inst) as usize
}

/// The outcome of a rule in one scope. `Unknown` only when the rule reads the acknowledged
/// message (`original.`) and none was given: such a rule is "not evaluated", never passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// Marks a value that cannot be read because the acknowledged message is missing.
struct Unknown;

/// The values an operand ranges over: one for a path, one per repetition for `ANY`;
/// `None` is an absent value. Borrowed from the message unless decoding or joining children
/// made a new string.
type Values<'a> = Vec<Option<Cow<'a, str>>>;

/// Evaluates `expr` in `scope`.
pub fn eval(expr: &Expr, scope: &Scope<'_, '_>) -> Truth {
    match expr {
        Expr::Or(xs) => {
            let mut unknown = false;
            for x in xs {
                match eval(x, scope) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => unknown = true,
                    Truth::False => {}
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        Expr::And(xs) => {
            let mut unknown = false;
            for x in xs {
                match eval(x, scope) {
                    Truth::False => return Truth::False,
                    Truth::Unknown => unknown = true,
                    Truth::True => {}
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::True
            }
        }
        Expr::Not(x) => eval(x, scope).not(),
        Expr::Present(r) => match present(scope, r) {
            Ok(p) => Truth::from_bool(p),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::Absent(r) => match present(scope, r) {
            Ok(p) => Truth::from_bool(!p),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::Matches(o, p) => match values(scope, o) {
            Ok(vs) => Truth::from_bool(vs.iter().flatten().any(|v| p.regex.is_match(v.as_ref()))),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::In(o, list) => match values(scope, o) {
            Ok(vs) => Truth::from_bool(vs.iter().flatten().any(|v| list.iter().any(|l| l.as_str() == v.as_ref()))),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::Compare { left, op, right } => {
            let (Ok(ls), Ok(rs)) = (values(scope, left), rhs_values(scope, right)) else {
                return Truth::Unknown;
            };
            // `ANY` on either side is existential: some pair of values satisfies the
            // comparison. Without `ANY` there is exactly one pair, so this is plain `=`/`!=`.
            let holds = ls.iter().any(|l| {
                rs.iter().any(|r| {
                    let eq = matches!((l, r), (Some(a), Some(b)) if a == b);
                    match op {
                        CmpOp::Eq => eq,
                        CmpOp::Ne => !eq,
                    }
                })
            });
            Truth::from_bool(holds)
        }
        Expr::Count { target, op, n } => match count(scope, target) {
            Ok(c) => Truth::from_bool(op.holds(c, u64::from(*n))),
            Err(Unknown) => Truth::Unknown,
        },
    }
}

fn rhs_values<'v, 'a: 'v>(scope: &Scope<'_, 'a>, rhs: &'v Rhs) -> Result<Read<'v>, Unknown> {
    match rhs {
        Rhs::Literal(s) => Ok(Read::One([Some(Cow::Borrowed(s.as_str()))])),
        Rhs::Operand(o) => values(scope, o),
    }
}

/// The first segment with this id directly in `inst`, else in its child groups, depth
/// first (rule 1 of "Resolution of a path").
fn first_in_group<'a>(message: &Message<'a>, inst: &GroupInstance, id: &str) -> Option<Segment<'a>> {
    let direct = inst.items.iter().find_map(|it| match it {
        Item::Segment { segment, .. } | Item::Unexpected { segment } => {
            message.segment_is(*segment, id).then(|| message.segment(*segment)).flatten()
        }
        Item::Group { .. } => None,
    });
    direct.or_else(|| {
        inst.items.iter().find_map(|it| match it {
            Item::Group { group, .. } => first_in_group(message, group, id),
            _ => None,
        })
    })
}

/// The first segment with this id in `inst`'s subtree, read once per group and id.
fn first_in_group_memo<'a>(scope: &Scope<'_, 'a>, inst: &GroupInstance, id: &str) -> Option<Segment<'a>> {
    let message = &scope.placed.message;
    // Always kept, unlike values: finding a segment walks the group's subtree (hundreds of
    // instructions), a look-up is a few dozen, and rules in the same group look for the same
    // segments (`OBR-2 = ORC-2` and `OBR-16 = ORC-12` both find the ORDER's OBR and ORC).
    let memo_key = (SegmentKey::of(id), key_of(inst));
    let known = scope.memo.firsts.borrow().get(&memo_key).copied();
    let index = match known {
        Some(index) => index,
        None => {
            scope.memo.add_work(inst.segment_count());
            let index = first_in_group(message, inst, id).map(|s| s.index());
            scope.memo.firsts.borrow_mut().insert(memo_key, index);
            index
        }
    };
    index.and_then(|i| message.segment(i))
}

/// The segment a path designates: the context's own segment, else the nearest occurrence
/// (context group, enclosing groups innermost first, then the whole message).
fn resolve<'m, 'a>(scope: &Scope<'m, 'a>, r: &Ref) -> Result<Option<Segment<'a>>, Unknown> {
    if r.original {
        let Some(original) = scope.original else { return Err(Unknown) };
        return Ok(original.segments_by_id(&r.segment).next());
    }
    let message = &scope.placed.message;
    if let Some(own) = scope.segment.and_then(|i| message.segment(i)).filter(|s| s.id() == r.segment) {
        return Ok(Some(own));
    }
    let found = std::iter::once(scope.group)
        .chain(scope.ancestors.iter().rev().copied())
        .find_map(|g| first_in_group_memo(scope, g, &r.segment))
        .or_else(|| first_in_message_memo(scope, &r.segment));
    Ok(found)
}

/// The message index of the segment a (non-`original.`) path designates in this scope, as the
/// assertion's own paths resolve it; `None` when no such segment is in the message.
pub fn locate(scope: &Scope<'_, '_>, r: &Ref) -> Option<usize> {
    if r.original {
        return None;
    }
    resolve(scope, r).ok().flatten().map(|s| s.index())
}

/// The first segment with this id in the whole message, read once per id (the group
/// addresses never collide with `usize::MAX`).
fn first_in_message_memo<'a>(scope: &Scope<'_, 'a>, id: &str) -> Option<Segment<'a>> {
    let message = &scope.placed.message;
    let memo_key = (SegmentKey::of(id), usize::MAX);
    let known = scope.memo.firsts.borrow().get(&memo_key).copied();
    let index = match known {
        Some(index) => index,
        None => {
            scope.memo.add_work(message.segment_count());
            let index = message.segments_by_id(id).next().map(|s| s.index());
            scope.memo.firsts.borrow_mut().insert(memo_key, index);
            index
        }
    };
    index.and_then(|i| message.segment(i))
}

/// The value of one repetition of a path, `None` when absent or empty.
fn element<'a>(rep: Option<Repetition<'a>>, r: &Ref, delimiters: Delimiters) -> Option<Cow<'a, str>> {
    let part = part_of(rep, r)?;
    // A part without children's separators is its own text: no string is built (most reads).
    let has = |sep: Option<u8>| sep.is_some_and(|b| crate::er7::find(b, part.raw()).is_some());
    let leaf = match part {
        Part::Subcomponent(_) => true,
        Part::Component(_) => !has(delimiters.subcomponent),
        Part::Repetition(_) => !has(Some(delimiters.component)) && !has(delimiters.subcomponent),
    };
    let s = if leaf { part.text() } else { Cow::Owned(encode(&part, delimiters)) };
    (!s.is_empty()).then_some(s)
}

/// The component or subcomponent of one repetition that a path names (the repetition itself
/// when it names neither).
fn part_of<'a>(rep: Option<Repetition<'a>>, r: &Ref) -> Option<Part<'a>> {
    let mut part = Part::Repetition(rep?);
    for n in [r.component, r.subcomponent].into_iter().flatten() {
        part = part.child(usize::from(n))?;
    }
    Some(part)
}

/// Whether [`element`] would give a value, without building it: some leaf of the part has
/// text (joining the leaves drops only empty ones).
fn has_value(part: &Part<'_>, d: Delimiters) -> bool {
    match part {
        Part::Subcomponent(s) => !s.text().is_empty(),
        Part::Component(c) if d.subcomponent.is_some() => c.subcomponents().any(|s| !s.text().is_empty()),
        Part::Component(c) => !c.text().is_empty(),
        Part::Repetition(r) => r.components().any(|c| has_value(&Part::Component(c), d)),
    }
}

/// The comparison string of a part: decoded text for a leaf; for a part with children, the
/// decoded children joined by the message's separators, trailing empty children dropped.
/// Written into one string, without a string per child.
fn encode(part: &Part<'_>, d: Delimiters) -> String {
    let mut out = String::new();
    match part {
        Part::Subcomponent(s) => out.push_str(&s.text()),
        Part::Component(c) => encode_component(c, d, &mut out),
        Part::Repetition(r) => {
            let start = out.len();
            let mut keep = start;
            for (i, c) in r.components().enumerate() {
                if i > 0 {
                    out.push(char::from(d.component));
                }
                let before = out.len();
                encode_component(&c, d, &mut out);
                if out.len() > before {
                    keep = out.len();
                }
            }
            out.truncate(keep);
        }
    }
    out
}

/// A component's subcomponents joined by the subcomponent separator, trailing empty ones
/// dropped, appended to `out`.
fn encode_component(c: &crate::er7::Component<'_>, d: Delimiters, out: &mut String) {
    let Some(sep) = d.subcomponent else {
        out.push_str(&c.text());
        return;
    };
    let mut keep = out.len();
    for (i, s) in c.subcomponents().enumerate() {
        if i > 0 {
            out.push(char::from(sep));
        }
        let text = s.text();
        if !text.is_empty() {
            out.push_str(&text);
            keep = out.len();
        }
    }
    out.truncate(keep);
}

fn field_of<'a>(seg: &Segment<'a>, r: &Ref) -> Field<'a> {
    seg.field(usize::from(r.field))
}

/// The values an operand reads: the explicit `[r]`, else the current repetition of a
/// `SEG-f[*]` context when the path is into that very field, else the first; with `ANY`,
/// every repetition. Everything but the current repetition is read once per segment and path
/// (see [`Memo`]).
fn values<'a>(scope: &Scope<'_, 'a>, o: &Operand) -> Result<Read<'a>, Unknown> {
    match o {
        Operand::Ref(r) => values_of(scope, r, false),
        Operand::Any(r) => values_of(scope, r, true),
    }
}

/// [`values`] of the path `r`, of every repetition with `any`.
fn values_of<'a>(scope: &Scope<'_, 'a>, r: &Ref, any: bool) -> Result<Read<'a>, Unknown> {
    let Some(seg) = resolve(scope, r)? else { return Ok(Read::One([None])) };
    let d = seg.delimiters();
    if !any {
        if let Some(current) = current_repetition(scope, r, &seg) {
            scope.memo.add_work(1);
            return Ok(Read::One([element(Some(current), r, d)]));
        }
    }
    let key = scope.memo.shared.get().then(|| (PathKey::of(r, any), seg.index()));
    if let Some(read) = key.and_then(|k| kept(scope, &k)) {
        return Ok(read);
    }
    let field = field_of(&seg, r);
    // One value (most reads): no vector, no shared pointer; kept, when reads are, as the slice
    // of the message. An empty field has no repetition 1, so `ANY(P)` of it reads one absent
    // value, and `ANY(P) != 'x'` agrees with `P != 'x'` when P is absent.
    if r.repetition.is_some() || !any || field.repetition_count() <= 1 {
        scope.memo.add_work(1);
        let one = element(field.repetition(r.repetition.map_or(1, usize::from)), r, d);
        let Some(key) = key else { return Ok(Read::One([one])) };
        let kept = match &one {
            None => Kept::Borrowed(None),
            Some(Cow::Borrowed(b)) => Kept::Borrowed(Some(*b)),
            // Decoding or joining made a string: kept once, shared by the later reads.
            Some(Cow::Owned(_)) => {
                let read = Rc::new(vec![one]);
                scope.memo.values.borrow_mut().insert(key, Kept::Made(Rc::clone(&read)));
                return Ok(Read::Kept(read));
            }
        };
        scope.memo.values.borrow_mut().insert(key, kept);
        return Ok(Read::One([one]));
    }
    // `ANY(P)` of a repeating field: every repetition.
    let read: Values<'a> = field.repetitions().map(|rep| element(Some(rep), r, d)).collect();
    scope.memo.add_work(read.len());
    let read = Rc::new(read);
    if let Some(key) = key {
        scope.memo.values.borrow_mut().insert(key, Kept::Made(Rc::clone(&read)));
    }
    Ok(Read::Kept(read))
}

/// The repetition a `SEG-f[*]` context is at, when the path (without `[r]`, not `original.`)
/// reads that very field of that very segment occurrence.
fn current_repetition<'a>(scope: &Scope<'_, 'a>, r: &Ref, seg: &Segment<'a>) -> Option<Repetition<'a>> {
    let (s, f, _) = scope.repetition?;
    let current = scope.current?;
    (r.repetition.is_none() && !r.original && s == seg.index() && f == r.field).then_some(current)
}

/// What the memo already holds for a read.
fn kept<'a>(scope: &Scope<'_, 'a>, key: &(PathKey, usize)) -> Option<Read<'a>> {
    match scope.memo.values.borrow().get(key)? {
        Kept::Borrowed(v) => Some(Read::One([v.map(Cow::Borrowed)])),
        Kept::Made(v) => Some(Read::Kept(Rc::clone(v))),
    }
}

/// What the memo keeps of a read: the one value as the message holds it, or the values made
/// (several repetitions, or text decoding or joining built).
#[derive(Debug)]
enum Kept<'a> {
    Borrowed(Option<&'a str>),
    Made(Rc<Values<'a>>),
}

/// What an operand read: one value, or the values kept in the memo.
enum Read<'a> {
    One([Option<Cow<'a, str>>; 1]),
    Kept(Rc<Values<'a>>),
}

impl<'a> std::ops::Deref for Read<'a> {
    type Target = [Option<Cow<'a, str>>];
    fn deref(&self) -> &[Option<Cow<'a, str>>] {
        match self {
            Read::One(v) => v,
            Read::Kept(v) => v,
        }
    }
}

/// The value a path reads in `scope` (decoded, as comparisons see it): `None` when absent or
/// when it reads the acknowledged message and none was given. For messages that name values.
pub fn value_of(scope: &Scope<'_, '_>, r: &Ref) -> Option<String> {
    values_of(scope, r, false).ok()?.first().cloned().flatten().map(Cow::into_owned)
}

/// Whether a path has a value in `scope`: what [`values_of`] reads, without building the
/// value of a composite only to see that it is not empty.
fn present(scope: &Scope<'_, '_>, r: &Ref) -> Result<bool, Unknown> {
    let Some(seg) = resolve(scope, r)? else { return Ok(false) };
    let current = current_repetition(scope, r, &seg);
    if current.is_none() && scope.memo.shared.get() {
        if let Some(read) = kept(scope, &(PathKey::of(r, false), seg.index())) {
            return Ok(read.first().is_some_and(Option::is_some));
        }
    }
    let d = seg.delimiters();
    let rep = current.or_else(|| field_of(&seg, r).repetition(r.repetition.map_or(1, usize::from)));
    scope.memo.add_work(1);
    Ok(part_of(rep, r).is_some_and(|p| has_value(&p, d)))
}

/// `count(SEG)`: segments of that id anywhere in the context group occurrence.
/// `count(SEG-f)`: repetitions of the field (0 when empty); with a component or an explicit
/// repetition, the repetitions in which that element is present.
fn count(scope: &Scope<'_, '_>, target: &CountTarget) -> Result<u64, Unknown> {
    match target {
        CountTarget::Segment(id) => {
            let key = key_of(scope.group);
            let shared = scope.memo.shared.get();
            if shared {
                if let Some(n) = scope.memo.counts.borrow().get(&(SegmentKey::of(id), key)) {
                    return Ok(*n);
                }
            }
            scope.memo.add_work(scope.group.segment_count());
            let message = &scope.placed.message;
            let n = scope.group.count_segments(|i| message.segment_id(i) == Some(id.as_str())) as u64;
            if shared {
                scope.memo.counts.borrow_mut().insert((SegmentKey::of(id), key), n);
            }
            Ok(n)
        }
        CountTarget::Ref(r) => {
            let Some(seg) = resolve(scope, r)? else { return Ok(0) };
            let field = field_of(&seg, r);
            if r.repetition.is_none() && r.component.is_none() {
                return Ok(if field.is_empty() { 0 } else { field.repetition_count() as u64 });
            }
            // Every repetition, or the explicit one: the same values `ANY` reads, memoised.
            let vs = values_of(scope, r, true)?;
            Ok(vs.iter().filter(|v| v.is_some()).count() as u64)
        }
    }
}
