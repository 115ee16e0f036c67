//! Evaluation scopes: where a rule's paths are resolved, one scope per occurrence of its
//! context (`spec/HAND-FORMAT.md`, "Contexts").

use std::borrow::Cow;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::er7::Message;
use crate::meta::{GroupDef, Node, SliceDef};
use crate::structure::{GroupInstance, Item};
use crate::typed::{GroupView, Placed};

use super::eval::{LentOrShared, Memo};
use super::AssertionError;

/// One evaluation occurrence of a rule.
#[derive(Debug, Clone)]
pub struct Scope<'m, 'a> {
    pub placed: &'m Placed<'a>,
    /// The context group occurrence (for a segment or `SEG-f[*]` context, the group that
    /// holds the segment).
    pub group: &'m GroupInstance,
    /// The enclosing group occurrences of `group`, root first, `group` excluded: path
    /// resolution falls back to the nearest of them that contains the segment. Lent by the
    /// walk of a validation (`Walk`), shared by the scopes of one group occurrence.
    pub ancestors: Cow<'m, [&'m GroupInstance]>,
    /// The context's own segment (message index) for segment and `SEG-f[*]` contexts: paths
    /// into a segment with its id resolve to it, not to a sibling.
    pub segment: Option<usize>,
    /// `(segment index, field, 1-based repetition)` in a `SEG-f[*]` context: paths into that
    /// field without an explicit index denote this repetition.
    pub repetition: Option<(usize, u16, usize)>,
    /// The message being acknowledged, for `original.` paths.
    pub original: Option<&'m Message<'a>>,
    /// The view of the current repetition of a `SEG-f[*]` context, taken while the field's
    /// repetitions were walked once: reading it again by index would rescan the field in every
    /// scope, quadratic in the repetitions.
    pub(crate) current: Option<crate::validate::tokens::Tok>,
    /// What the scopes of one context have already read (shared by them all).
    pub(crate) memo: MemoRef<'m, 'a>,
}

/// The memo a scope reads through: the validation's, lent, or one of the scope's own (scopes
/// made outside a validation).
pub(crate) type MemoRef<'m, 'a> = LentOrShared<'m, Memo<'a>>;

impl<'m, 'a> Scope<'m, 'a> {
    /// The whole message, once (a rule without context).
    pub fn message(placed: &'m Placed<'a>) -> Self {
        Scope { placed, group: &placed.tree, ancestors: Cow::Borrowed(&[]), segment: None, repetition: None, original: None, current: None, memo: MemoRef::Shared(Rc::default()) }
    }

    /// The same scope with the acknowledged message available to `original.` paths.
    pub fn with_original(mut self, original: &'m Message<'a>) -> Self {
        self.original = Some(original);
        self
    }
}

/// The group occurrences and the segments of a placed message with their ancestors, walked
/// once per validation and shared by the contexts of every rule: a rule's occurrences are then
/// a filter over two lists, not a walk of the tree with a copy of the ancestor chain per
/// occurrence. It also holds the one [`Memo`] of the validation: what a scope reads depends on
/// the path and the segment or group it resolves to, never on the rule, so the rules of a
/// profile share their reads (and no memo is allocated per rule). The lists are on the stack
/// for the guide's messages (a flow's message has 6 to 20 segments and a few groups).
pub struct Walk<'m, 'a> {
    /// Every group occurrence, in message order (a group before its children), with its
    /// ancestors, root first.
    groups: SmallVec<[(&'m GroupInstance, Chain); 16]>,
    /// Every segment (message index), in message order, with the group holding it and that
    /// group's ancestors.
    segments: SmallVec<[(usize, &'m GroupInstance, Chain); 32]>,
    /// The ancestor chains, one after the other: a chain per group that holds groups, shared
    /// by the groups and segments it holds.
    chains: SmallVec<[&'m GroupInstance; 16]>,
    memo: MemoRef<'m, 'a>,
}

/// An ancestor chain: a run of [`Walk::chains`].
#[derive(Debug, Clone, Copy, Default)]
struct Chain {
    start: u32,
    len: u32,
}

impl<'m, 'a> Walk<'m, 'a> {
    pub fn new(placed: &'m Placed<'a>) -> Walk<'m, 'a> {
        Walk::with_memo(placed, MemoRef::Shared(Rc::default()))
    }

    /// As [`Walk::new`], for a validation, whose memo (holding the message's elements, found
    /// already) the walk borrows.
    pub(crate) fn lending(placed: &'m Placed<'a>, memo: &'m Memo<'a>) -> Walk<'m, 'a> {
        Walk::with_memo(placed, MemoRef::Lent(memo))
    }

    fn with_memo(placed: &'m Placed<'a>, memo: MemoRef<'m, 'a>) -> Walk<'m, 'a> {
        /// `chain` is shared by the siblings it is passed to: one chain per group that holds
        /// groups, not one per group occurrence.
        fn visit<'t>(inst: &'t GroupInstance, chain: Chain, walk: &mut Walk<'t, '_>) {
            walk.groups.push((inst, chain));
            let mut inner: Option<Chain> = None;
            for it in &inst.items {
                match it {
                    Item::Segment { segment, .. } | Item::Unexpected { segment } => walk.segments.push((*segment, inst, chain)),
                    Item::Group { group, .. } => {
                        let inner = *inner.get_or_insert_with(|| {
                            // This group's chain: its own ancestors, then itself.
                            let start = walk.chains.len();
                            for k in chain.start as usize..(chain.start + chain.len) as usize {
                                if let Some(&g) = walk.chains.get(k) {
                                    walk.chains.push(g);
                                }
                            }
                            walk.chains.push(inst);
                            Chain { start: start as u32, len: chain.len + 1 }
                        });
                        visit(group, inner, walk);
                    }
                }
            }
        }
        // A group occurrence holds at least one segment: both lists fit in the segment count
        // (on the heap at once when it is more than they hold inline).
        let n = placed.message.segment_count();
        let mut walk = Walk { groups: SmallVec::with_capacity(n), segments: SmallVec::with_capacity(n), chains: SmallVec::new(), memo };
        visit(&placed.tree, Chain::default(), &mut walk);
        walk
    }

    /// The group occurrences of a chain, root first.
    fn chain(&self, c: Chain) -> &[&'m GroupInstance] {
        self.chains.get(c.start as usize..(c.start + c.len) as usize).unwrap_or_default()
    }

    /// The scope of an occurrence, lending it the walk's chain and memo.
    pub(crate) fn scope<'w>(&'w self, placed: &'w Placed<'a>, o: &Occurrence<'m>) -> Scope<'w, 'a> {
        Scope {
            placed,
            group: o.group,
            ancestors: Cow::Borrowed(self.chain(o.chain)),
            segment: o.segment,
            repetition: o.repetition,
            original: None,
            current: o.current,
            memo: MemoRef::Lent(&self.memo),
        }
    }

    /// The work the scopes of this walk have done so far (see [`Memo`]).
    pub(crate) fn work(&self) -> u64 {
        self.memo.work()
    }
}

/// The occurrences of a context: on the stack up to eight (most rules have one; a `SEG-f[*]`
/// context has one per repetition).
pub(crate) type Occurrences<'m> = SmallVec<[Occurrence<'m>; 8]>;

/// One occurrence of a rule's context, found in a [`Walk`]: what its [`Scope`] is made of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Occurrence<'m> {
    group: &'m GroupInstance,
    chain: Chain,
    segment: Option<usize>,
    repetition: Option<(usize, u16, usize)>,
    current: Option<crate::validate::tokens::Tok>,
}

/// Visits every segment in message order with the group holding it and that group's
/// ancestors.
fn walk_segments<'t>(
    inst: &'t GroupInstance,
    chain: &mut Vec<&'t GroupInstance>,
    f: &mut dyn FnMut(usize, &'t GroupInstance, &[&'t GroupInstance]),
) {
    for it in &inst.items {
        match it {
            Item::Segment { segment, .. } | Item::Unexpected { segment } => f(*segment, inst, chain),
            Item::Group { group, .. } => {
                chain.push(inst);
                walk_segments(group, chain, f);
                chain.pop();
            }
        }
    }
}

/// The scope of one segment occurrence: the default context of a predicate (the segment's
/// own occurrence). `None` when the message has no segment at that index.
pub fn segment_scope<'m, 'a>(placed: &'m Placed<'a>, segment: usize) -> Option<Scope<'m, 'a>> {
    let mut found = None;
    walk_segments(&placed.tree, &mut Vec::new(), &mut |i, group, chain| {
        if i == segment && found.is_none() {
            found = Some((group, chain.to_vec()));
        }
    });
    let (group, ancestors) = found?;
    Some(Scope { placed, group, ancestors: Cow::Owned(ancestors), segment: Some(segment), repetition: None, original: None, current: None, memo: MemoRef::Shared(Rc::default()) })
}

/// Every `(group, slice)` of the structure with this slice name (a group definition reused
/// at two places is listed once).
fn find_slices(def: &'static GroupDef, name: &str, out: &mut Vec<(&'static GroupDef, &'static SliceDef)>) {
    for s in def.slices {
        if s.name == name && !out.iter().any(|(g, x)| std::ptr::eq(*g, def) && std::ptr::eq(*x, *s)) {
            out.push((def, s));
        }
    }
    for child in def.children {
        if let Node::Group(g) = child {
            find_slices(g, name, out);
        }
    }
}

/// Whether `names` is a group path of the structure under `def`.
fn group_path_exists<'n>(def: &'static GroupDef, mut names: impl Iterator<Item = &'n str> + Clone) -> bool {
    let Some(first) = names.next() else { return true };
    def.children.iter().any(|c| match c {
        Node::Group(g) => g.name == first && group_path_exists(g, names.clone()),
        Node::Segment(_) => false,
    })
}

/// `SEG-f[*]` → `(SEG, f)`: a path of the one grammar (`crate::path::syntax`) naming a field
/// of a segment, then `[*]`.
fn repetition_context(context: &str) -> Option<(&str, u16)> {
    let p = crate::path::syntax::parse(context.strip_suffix("[*]")?).ok()?;
    match p.element {
        Some(e) if p.groups.is_empty() && p.segment.occurrence.is_none() && (e.repetition, e.component, e.subcomponent) == (None, None, None) => {
            Some((p.segment.name, u16::try_from(e.field).ok()?))
        }
        _ => None,
    }
}

/// A rule's `context` resolved against a profile's structure once, when the rule is compiled
/// (`validate::rules::plan`): validating a message then filters the walk's lists, without
/// splitting the context's text or looking its names up in the structure again.
#[derive(Debug, Clone)]
pub(crate) enum Context {
    /// No context: the whole message, once.
    Message,
    /// `slice:NAME`: every `(group, slice)` of the structure with that slice name.
    Slice(Vec<(&'static GroupDef, &'static SliceDef)>),
    /// `SEG-f[*]`: every repetition of that field of every segment with that id.
    Repetition { segment: String, field: u16 },
    /// A group path below the root (`ORDER/OBSERVATION`), its names in order.
    Group(Vec<String>),
}

impl Context {
    /// Resolves `context` in the structure of `def`; an error when it names nothing there, since
    /// the rule could then never be checked.
    pub(crate) fn compile(def: &'static crate::meta::MessageDef, context: Option<&str>) -> Result<Context, AssertionError> {
        let Some(context) = context else { return Ok(Context::Message) };
        let root = def.root;
        if let Some(name) = context.strip_prefix("slice:") {
            let mut slices = Vec::new();
            find_slices(root, name, &mut slices);
            if slices.is_empty() {
                return Err(AssertionError::new(6, format!("no slice `{name}` in the structure of {}", def.profile)));
            }
            return Ok(Context::Slice(slices));
        }
        if context.contains('-') {
            let Some((segment, field)) = repetition_context(context) else {
                return Err(AssertionError::new(0, format!("invalid context `{context}`: expected `SEG-f[*]`")));
            };
            return Ok(Context::Repetition { segment: segment.to_owned(), field });
        }
        let names = context.split('/');
        if names.clone().any(str::is_empty) || !group_path_exists(root, names.clone()) {
            return Err(AssertionError::new(0, format!("no group path `{context}` in the structure of {}", def.profile)));
        }
        Ok(Context::Group(names.map(str::to_owned).collect()))
    }
}

/// The evaluation occurrences of a rule's `context` in a placed message, in message order.
/// A known context with no occurrence gives an empty list (the rule holds vacuously); a
/// context that names nothing in the message's structure is an error, since the rule could
/// then never be checked.
pub fn contexts<'m, 'a>(placed: &'m Placed<'a>, context: Option<&str>) -> Result<Vec<Scope<'m, 'a>>, AssertionError> {
    let context = Context::compile(placed.def, context)?;
    let walk = Walk::new(placed);
    let mut found = Occurrences::new();
    contexts_in(placed, &walk, &context, &mut found);
    // Scopes that outlive the walk: each with its own copy of its chain, and a share of the
    // walk's memo (its own, made by `Walk::new`).
    let scope = |o: &Occurrence<'m>| Scope {
        placed,
        group: o.group,
        ancestors: Cow::Owned(walk.chain(o.chain).to_vec()),
        segment: o.segment,
        repetition: o.repetition,
        original: None,
        current: o.current,
        memo: walk.memo.clone(),
    };
    Ok(found.iter().map(scope).collect())
}

/// The occurrences of a compiled context in a message already walked, into `out` (cleared
/// first: the rules of a validation reuse one list).
pub(crate) fn contexts_in<'m, 'a>(placed: &'m Placed<'a>, walk: &Walk<'m, 'a>, context: &Context, out: &mut Occurrences<'m>) {
    out.clear();
    let memo = &*walk.memo;
    let of_group = |group, chain| Occurrence { group, chain, segment: None, repetition: None, current: None };
    let message = &placed.message;
    match context {
        Context::Message => {
            // The whole message: the root, whose ancestors (none) the walk lists first.
            if let Some(&(root, none)) = walk.groups.first() {
                out.push(of_group(root, none));
            }
            return;
        }
        Context::Slice(slices) => {
            for &(inst, chain) in &walk.groups {
                let view = GroupView { message, instance: inst };
                if slices.iter().any(|(g, s)| std::ptr::eq(*g, inst.def) && view.is_slice(s)) {
                    out.push(of_group(inst, chain));
                }
            }
        }
        Context::Repetition { segment: seg, field } => {
            for &(i, group, chain) in &walk.segments {
                if !message.segment_is(i, seg) {
                    continue;
                }
                let tokens = memo.tokens(message);
                // One walk over the repetitions; each scope keeps its repetition.
                for (r, rep) in tokens.reps(tokens.field(i, usize::from(*field))).enumerate() {
                    out.push(Occurrence { group, chain, segment: Some(i), repetition: Some((i, *field, r + 1)), current: Some(rep) });
                }
            }
        }
        Context::Group(names) => {
            for &(inst, chain) in &walk.groups {
                // The root is not named in a context path: compare the names below it.
                let ancestors = walk.chain(chain);
                let matches = ancestors.len() == names.len()
                    && ancestors.iter().skip(1).map(|g| g.def.name).chain(std::iter::once(inst.def.name)).eq(names.iter().map(String::as_str));
                if matches {
                    out.push(of_group(inst, chain));
                }
            }
        }
    }
    // From a context with several occurrences on, the memo keeps what scopes read: with one
    // occurrence each path is read once, and keeping it would cost more than the read.
    if out.len() > 1 {
        memo.share();
    }
}
