//! Placing the segments of a message into the groups of its structure.
//!
//! Placement is the one thing every typed view depends on, so it lives here once, driven by
//! the static [`GroupDef`] tree. It never fails: a segment that fits nowhere (a Z segment, a
//! segment out of order, a second PID) is kept in place as [`Item::Unexpected`] in the innermost
//! open group, so nothing is dropped and validation can report it.
//!
//! The rule: a segment goes to the innermost open group that can still take it at or after the
//! group's current position; otherwise the nearest enclosing group that can, which closes the
//! inner ones (so a second OBX after an NTE opens a new OBSERVATION rather than being glued to
//! the previous one, and a new ORC opens a new ORDER). A group "can take" a segment when one of
//! its children from the cursor on is that segment with room left, or is a group whose `first`
//! set contains it.

use crate::meta::{GroupDef, Node};

/// One placed element of a group instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The message's segment number `segment` (0-based), as child `slot` of the group.
    Segment { slot: u16, segment: usize },
    /// An instance of the group that is child `slot` of the enclosing group.
    Group { slot: u16, group: GroupInstance },
    /// A segment the structure has no place for here, kept where it stood.
    Unexpected { segment: usize },
}

/// One occurrence of a group in a message.
#[derive(Debug, Clone)]
pub struct GroupInstance {
    pub def: &'static GroupDef,
    pub items: Vec<Item>,
    /// Which of `def.slices` this instance matches, worked out on the first question
    /// ([`crate::typed::GroupView::is_slice`]): the structure check, the slice constraints and
    /// every `slice:` rule ask it again of the same finished instance.
    pub(crate) slices: std::sync::OnceLock<SliceMatches>,
}

/// The slices (the first 64 of its definition) a group instance matches, as bit masks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SliceMatches {
    /// Every discriminator of slice `i` holds.
    pub(crate) is: u64,
    /// The OBX-3 discriminators of slice `i` hold (it is of that kind).
    pub(crate) kind: u64,
}

impl GroupInstance {
    /// An instance of `def` holding `items`.
    pub fn new(def: &'static GroupDef, items: Vec<Item>) -> GroupInstance {
        GroupInstance { def, items, slices: std::sync::OnceLock::new() }
    }
}

/// A placed tree has a vector of items per group instance: six on a flow-3 response, a
/// heap allocation and a free each, a quarter of the placement's instructions and more of its
/// time. The vectors of dropped instances are kept per thread (at most 64, none of more than
/// 64 items) and placement takes its vectors from there, so a thread that places message after
/// message (an exchange worker, a batch) stops allocating for them. The placement stack's two
/// vectors are kept the same way (two more allocations a placement).
mod buffers {
    use super::{Frame, Item};
    use std::cell::{Cell, RefCell};

    /// How many emptied vectors a thread keeps.
    const KEPT: usize = 64;
    /// The largest capacity kept: a vector grown by an unusual message is freed, not held.
    const KEPT_CAPACITY: usize = 64;

    thread_local! {
        static SPARE: RefCell<Vec<Vec<Item>>> = const { RefCell::new(Vec::new()) };
        static STACK: Cell<Option<(Vec<Frame>, Vec<u32>)>> = const { Cell::new(None) };
    }

    /// The stack's frames and counts, empty: the last placement's when there are.
    pub(super) fn take_stack() -> (Vec<Frame>, Vec<u32>) {
        // `try_with`: while the thread's locals are being destroyed, fresh vectors.
        STACK.try_with(Cell::take).ok().flatten().unwrap_or_else(|| (Vec::with_capacity(8), Vec::with_capacity(64)))
    }

    /// Keeps the stack's vectors, emptied, for the next placement on this thread. Their size
    /// follows the structure's depth and width, not the message.
    pub(super) fn give_stack(mut frames: Vec<Frame>, mut counts: Vec<u32>) {
        frames.clear();
        counts.clear();
        let _ = STACK.try_with(|stack| stack.set(Some((frames, counts))));
    }

    /// An empty vector, kept from a dropped instance when there is one.
    pub(super) fn take() -> Vec<Item> {
        // `try_with`: while the thread's locals are being destroyed, a fresh vector.
        SPARE.try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.pop())).ok().flatten().unwrap_or_default()
    }

    /// Keeps `items`, emptied, for the next [`take`] on this thread.
    pub(super) fn give(mut items: Vec<Item>) {
        if items.capacity() == 0 || items.capacity() > KEPT_CAPACITY {
            return;
        }
        // Emptied before the list is borrowed: nested instances give theirs back first.
        items.clear();
        let _ = SPARE.try_with(|spare| {
            if let Ok(mut spare) = spare.try_borrow_mut() {
                if spare.len() < KEPT {
                    spare.push(items);
                }
            }
        });
    }
}

impl Drop for GroupInstance {
    fn drop(&mut self) {
        buffers::give(std::mem::take(&mut self.items));
    }
}

/// Two instances are equal when they are of the same definition (by identity: definitions are
/// statics) and hold the same items.
impl PartialEq for GroupInstance {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.def, other.def) && self.items == other.items
    }
}

impl Eq for GroupInstance {}

impl GroupInstance {
    /// Segment numbers placed at child `slot`, in message order.
    pub fn segments_at(&self, slot: u16) -> impl Iterator<Item = usize> + '_ {
        self.items.iter().filter_map(move |it| match it {
            Item::Segment { slot: s, segment } if *s == slot => Some(*segment),
            _ => None,
        })
    }

    /// Instances of the group at child `slot`, in message order.
    pub fn groups_at(&self, slot: u16) -> impl Iterator<Item = &GroupInstance> + '_ {
        self.items.iter().filter_map(move |it| match it {
            Item::Group { slot: s, group } if *s == slot => Some(group),
            _ => None,
        })
    }

    /// Segments kept in this instance without a place in the structure.
    pub fn unexpected(&self) -> impl Iterator<Item = usize> + '_ {
        self.items.iter().filter_map(|it| match it {
            Item::Unexpected { segment } => Some(*segment),
            _ => None,
        })
    }

    /// The first segment number of this instance (placed or not), for locations.
    pub fn first_segment(&self) -> Option<usize> {
        self.items.iter().find_map(|it| match it {
            Item::Segment { segment, .. } | Item::Unexpected { segment } => Some(*segment),
            Item::Group { group, .. } => group.first_segment(),
        })
    }

    /// The first segment number (in message order) for which `pred` holds, without collecting.
    pub fn find_segment(&self, pred: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        self.items.iter().find_map(|it| match it {
            Item::Segment { segment, .. } | Item::Unexpected { segment } => pred(*segment).then_some(*segment),
            Item::Group { group, .. } => group.find_segment(pred),
        })
    }

    /// Every segment number in this instance, in message order.
    /// How many segments the instance holds, its groups' included.
    pub fn segment_count(&self) -> usize {
        self.count_segments(|_| true)
    }

    /// How many segments of the instance, its groups' included, satisfy `keep`.
    pub fn count_segments(&self, keep: impl Fn(usize) -> bool + Copy) -> usize {
        self.items
            .iter()
            .map(|it| match it {
                Item::Segment { segment, .. } | Item::Unexpected { segment } => usize::from(keep(*segment)),
                Item::Group { group, .. } => group.count_segments(keep),
            })
            .sum()
    }

    pub fn all_segments(&self, out: &mut Vec<usize>) {
        for it in &self.items {
            match it {
                Item::Segment { segment, .. } | Item::Unexpected { segment } => out.push(*segment),
                Item::Group { group, .. } => group.all_segments(out),
            }
        }
    }
}

struct Frame {
    def: &'static GroupDef,
    cursor: usize,
    /// Where this instance's occurrence counts (one per child slot) start in
    /// [`Stack::counts`].
    counts: usize,
    items: Vec<Item>,
}

/// The open group instances, innermost last. Their occurrence counts share one vector, so
/// opening a group allocates nothing but its items.
struct Stack {
    frames: Vec<Frame>,
    counts: Vec<u32>,
}

impl Stack {
    fn new(root: &'static GroupDef) -> Self {
        let (frames, counts) = buffers::take_stack();
        let mut stack = Stack { frames, counts };
        stack.open(root);
        stack
    }

    /// Hands the (empty) vectors back for the next placement on this thread.
    fn recycle(self) {
        buffers::give_stack(self.frames, self.counts);
    }

    fn open(&mut self, def: &'static GroupDef) {
        let counts = self.counts.len();
        self.counts.resize(counts + def.children.len(), 0);
        self.frames.push(Frame { def, cursor: 0, counts, items: buffers::take() });
    }

    fn counts_of(&self, frame: &Frame) -> &[u32] {
        self.counts.get(frame.counts..frame.counts + frame.def.children.len()).unwrap_or(&[])
    }

    /// The child slot of `frame` that can take `id` from its cursor on, if any.
    #[inline]
    fn accepts(&self, frame: &Frame, id: &str) -> Option<usize> {
        let counts = self.counts_of(frame);
        if frame.def.choice && counts.iter().any(|&c| c > 0) {
            // A choice holds one alternative; a second one belongs to a new instance.
            return None;
        }
        let mut i = frame.cursor;
        while let Some(child) = frame.def.children.get(i) {
            let count = counts.get(i).copied().unwrap_or(0);
            let room = count < child.max();
            let matches = match child {
                Node::Segment(s) => crate::meta::ids_equal(s.def.id, id),
                Node::Group(g) => g.opens(id),
            };
            if matches && room {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Closes the innermost instance into its parent's items (the root stays open).
    fn close_top(&mut self) {
        if self.frames.len() < 2 {
            return;
        }
        if let Some(done) = self.frames.pop() {
            self.counts.truncate(done.counts);
            if let Some(parent) = self.frames.last_mut() {
                parent.items.push(Item::Group { slot: parent.cursor as u16, group: GroupInstance::new(done.def, done.items) });
            }
        }
    }

    /// Places segment `segment` at `slot` of the innermost instance, opening nested groups
    /// down to the segment child that starts with `id`.
    fn descend(&mut self, mut slot: usize, id: &str, segment: usize) {
        loop {
            let Some(top) = self.frames.last_mut() else { return };
            top.cursor = slot;
            if let Some(c) = self.counts.get_mut(top.counts + slot) {
                *c += 1;
            }
            match top.def.children.get(slot) {
                Some(Node::Segment(_)) => {
                    top.items.push(Item::Segment { slot: slot as u16, segment });
                    return;
                }
                Some(Node::Group(g)) => {
                    self.open(g);
                    let next = self.frames.last().and_then(|f| self.accepts(f, id));
                    match next {
                        Some(s) => slot = s,
                        None => {
                            // `first` promised a place; keep the segment rather than lose it.
                            if let Some(top) = self.frames.last_mut() {
                                top.items.push(Item::Unexpected { segment });
                            }
                            return;
                        }
                    }
                }
                None => return,
            }
        }
    }
}

/// Places segments (given by their ids, in message order) into `root`'s structure.
pub fn place<'i>(root: &'static GroupDef, ids: impl IntoIterator<Item = &'i str>) -> GroupInstance {
    let mut stack = Stack::new(root);
    for (segment, id) in ids.into_iter().enumerate() {
        let found = stack.frames.iter().enumerate().rev().find_map(|(d, f)| stack.accepts(f, id).map(|s| (d, s)));
        match found {
            Some((depth, slot)) => {
                while stack.frames.len() > depth + 1 {
                    stack.close_top();
                }
                stack.descend(slot, id, segment);
            }
            None => {
                if let Some(top) = stack.frames.last_mut() {
                    top.items.push(Item::Unexpected { segment });
                }
            }
        }
    }
    while stack.frames.len() > 1 {
        stack.close_top();
    }
    let tree = match stack.frames.pop() {
        Some(root_frame) => GroupInstance::new(root_frame.def, root_frame.items),
        None => GroupInstance::new(root, Vec::new()),
    };
    stack.recycle();
    tree
}

/// A structural problem of a placed message: what validation reports first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureFinding {
    /// Where, as a group path with occurrences and the element: `ORDER[1]/ORC`, `ZTL[1]`, and
    /// `ORDER[1]/ORDER_DETAIL[1]/OBSERVATION:modality` for a slice of the guide.
    pub path: String,
    pub problem: StructureProblem,
    /// A segment to locate the finding at (message index): the unexpected segment itself, or
    /// the first segment of the group instance the missing or extra element belongs to.
    pub segment: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StructureProblem {
    /// Fewer occurrences than the cardinality's minimum (a missing required element).
    TooFew { min: u32, found: u32 },
    /// More occurrences than the cardinality's maximum.
    TooMany { max: u32, found: u32 },
    /// A segment the structure has no place for here (index in the message).
    Unexpected { segment: usize },
}

impl std::fmt::Display for StructureFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.problem {
            StructureProblem::TooFew { min, found } => write!(f, "{}: {found} found, at least {min} required", self.path),
            StructureProblem::TooMany { max, found } => write!(f, "{}: {found} found, at most {max} allowed", self.path),
            StructureProblem::Unexpected { segment } => {
                write!(f, "{}: segment {} has no place in the structure here", self.path, segment + 1)
            }
        }
    }
}

/// Checks cardinalities of segments, groups and slices, and reports unexpected segments.
/// `ids` are the segment ids of the message, for naming unexpected segments.
pub fn check(tree: &GroupInstance, ids: &[&str], slice_of: &dyn Fn(&GroupInstance, &crate::meta::SliceDef) -> bool) -> Vec<StructureFinding> {
    let mut out = Vec::new();
    check_group(tree, None, ids, slice_of, &mut out);
    out
}

/// The path of a group instance (`ORDER[2]/OBSERVATION[1]/`), a chain of borrowed links so
/// that it is written out only when a finding needs it.
#[derive(Clone, Copy)]
struct Prefix<'p> {
    parent: Option<&'p Prefix<'p>>,
    name: &'static str,
    index: usize,
}

struct PrefixText<'p>(Option<&'p Prefix<'p>>);

impl std::fmt::Display for PrefixText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.0 {
            PrefixText(p.parent).fmt(f)?;
            write!(f, "{}[{}]/", p.name, p.index)?;
        }
        Ok(())
    }
}

fn check_group(
    inst: &GroupInstance,
    prefix: Option<&Prefix<'_>>,
    ids: &[&str],
    slice_of: &dyn Fn(&GroupInstance, &crate::meta::SliceDef) -> bool,
    out: &mut Vec<StructureFinding>,
) {
    let mut seen_unexpected: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for it in &inst.items {
        if let Item::Unexpected { segment } = it {
            let id = ids.get(*segment).copied().unwrap_or("???");
            let n = seen_unexpected.entry(id).or_insert(0);
            *n += 1;
            out.push(StructureFinding { path: format!("{}{id}[{n}]", PrefixText(prefix)), problem: StructureProblem::Unexpected { segment: *segment }, segment: Some(*segment) });
        }
    }
    // One pass over the items counts every child: (segments, group instances) per slot.
    // On the stack for the groups of every profile (at most a few dozen children); a
    // generated or derived group with more gets a vector.
    let mut inline = [(0u32, 0u32); 32];
    let mut spilled;
    let children = inst.def.children.len();
    let counts: &mut [(u32, u32)] = match inline.get_mut(..children) {
        Some(c) => c,
        None => {
            spilled = vec![(0u32, 0u32); children];
            &mut spilled
        }
    };
    for it in &inst.items {
        match it {
            Item::Segment { slot, .. } => {
                if let Some(c) = counts.get_mut(usize::from(*slot)) {
                    c.0 += 1;
                }
            }
            Item::Group { slot, .. } => {
                if let Some(c) = counts.get_mut(usize::from(*slot)) {
                    c.1 += 1;
                }
            }
            Item::Unexpected { .. } => {}
        }
    }
    for (slot, (child, &(segments, groups))) in inst.def.children.iter().zip(counts.iter()).enumerate() {
        let slot = slot as u16;
        let found = match child {
            Node::Segment(_) => segments,
            Node::Group(_) => groups,
        };
        // Paths are written only for findings: a valid message builds none.
        let path = || format!("{}{}", PrefixText(prefix), child.name());
        if found < child.min() {
            out.push(StructureFinding { path: path(), problem: StructureProblem::TooFew { min: child.min(), found }, segment: inst.first_segment() });
        }
        if found > child.max() {
            out.push(StructureFinding { path: path(), problem: StructureProblem::TooMany { max: child.max(), found }, segment: inst.first_segment() });
        }
        if let Node::Group(g) = child {
            // One pass over the instances counts every slice.
            // On the stack: a group has a handful of slices (flow 1's OBSERVATION has 13).
            let mut matching: smallvec::SmallVec<[u32; 16]> = smallvec::smallvec![0; g.slices.len()];
            for gi in inst.groups_at(slot) {
                for (n, slice) in matching.iter_mut().zip(g.slices) {
                    *n += u32::from(slice_of(gi, slice));
                }
            }
            for (slice, &n) in g.slices.iter().zip(&matching) {
                let spath = || format!("{}:{}", path(), slice.name);
                if n < slice.min {
                    out.push(StructureFinding { path: spath(), problem: StructureProblem::TooFew { min: slice.min, found: n }, segment: inst.first_segment() });
                }
                if n > slice.max {
                    out.push(StructureFinding { path: spath(), problem: StructureProblem::TooMany { max: slice.max, found: n }, segment: inst.first_segment() });
                }
            }
            for (i, gi) in inst.groups_at(slot).enumerate() {
                let link = Prefix { parent: prefix, name: child.name(), index: i + 1 };
                check_group(gi, Some(&link), ids, slice_of, out);
            }
        }
    }
}
