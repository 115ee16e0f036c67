//! Static definitions of segments, datatypes, message structures and profiles.
//!
//! The code generator emits these as `static` items; one hand-written engine (structure
//! placement, generic access, JSON, and later validation) reads them. Generated typed code only
//! wraps the engine, so a definition change never needs new engine code.

/// HL7 usage of an element. `RE` is the guide's "(Requis si connu)".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Usage {
    /// Required.
    R,
    /// Required if known (may be empty when the sender does not know the value).
    RE,
    /// Optional.
    O,
    /// Conditional: the usage depends on a predicate of the profile.
    C,
    /// Not supported: must not be sent.
    X,
    /// Backward compatible (kept only for older versions).
    B,
}

impl Usage {
    /// The code as the guide and HL7 write it.
    pub const fn code(self) -> &'static str {
        match self {
            Usage::R => "R",
            Usage::RE => "RE",
            Usage::O => "O",
            Usage::C => "C",
            Usage::X => "X",
            Usage::B => "B",
        }
    }
}

/// Upper bound of a cardinality; `UNBOUNDED` is HL7's `*`.
pub const UNBOUNDED: u32 = u32::MAX;

/// A datatype: primitives have no components.
#[derive(Debug)]
pub struct DataTypeDef {
    pub id: &'static str,
    pub name: &'static str,
    pub components: &'static [ComponentDef],
    /// Whether a value of this datatype can break a datatype rule of the validator: a
    /// primitive format (DT, DTM, TM, NM, SI) or a French composite rule (HD, EI, CX, XCN,
    /// XON, ED) applies to it or to one of its components, at any depth. Decided when the
    /// definition is built ([`DataTypeDef::new`], evaluated at compile time for generated and
    /// derived datatypes), so that the validator does not walk the components of the many
    /// values no rule reads (CE, ST, ID…).
    pub checked: bool,
}

impl DataTypeDef {
    /// The definition, with [`DataTypeDef::checked`] settled from `id` and the components'
    /// own flags.
    pub const fn new(id: &'static str, name: &'static str, components: &'static [ComponentDef]) -> DataTypeDef {
        let mut checked = crate::validate::datatype_has_rules(id);
        let mut rest = components;
        while let [first, tail @ ..] = rest {
            checked = checked || first.datatype.checked;
            rest = tail;
        }
        DataTypeDef { id, name, components, checked }
    }

    pub const fn is_primitive(&self) -> bool {
        self.components.is_empty()
    }
}

/// A component (or subcomponent) of a composite datatype.
#[derive(Debug)]
pub struct ComponentDef {
    pub pos: u16,
    pub name: &'static str,
    /// The accessor name generated code uses, also the JSON key.
    pub ident: &'static str,
    pub datatype: &'static DataTypeDef,
    pub usage: Usage,
    pub len: Option<u32>,
    pub table: Option<&'static str>,
}

/// A field of a segment.
#[derive(Debug)]
pub struct FieldDef {
    pub pos: u16,
    pub name: &'static str,
    /// The accessor name generated code uses, also the JSON key.
    pub ident: &'static str,
    /// `None` for OBX-5 ("varies"): its datatype is OBX-2's value.
    pub datatype: Option<&'static DataTypeDef>,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub len: Option<u32>,
    pub table: Option<&'static str>,
}

/// A segment of base HL7 v2.5.1 (or one an application declares).
#[derive(Debug)]
pub struct SegmentDef {
    pub id: &'static str,
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    /// Constraints of the segment itself, checked wherever it appears: what a derived segment
    /// declares beyond HL7's field table (fixed values, value lists, value sets). `None` for
    /// the base segments, whose constraints belong to the profiles.
    pub constraints: Option<&'static SegmentConstraints>,
}

impl SegmentDef {
    /// The field at an HL7 position (1-based).
    pub fn field(&self, pos: usize) -> Option<&'static FieldDef> {
        pos.checked_sub(1).and_then(|i| self.fields.get(i))
    }
}

/// One element of a message structure.
#[derive(Debug)]
pub enum Node {
    Segment(SegmentNode),
    Group(&'static GroupDef),
}

impl Node {
    pub const fn usage(&self) -> Usage {
        match self {
            Node::Segment(s) => s.usage,
            Node::Group(g) => g.usage,
        }
    }
    pub const fn min(&self) -> u32 {
        match self {
            Node::Segment(s) => s.min,
            Node::Group(g) => g.min,
        }
    }
    pub const fn max(&self) -> u32 {
        match self {
            Node::Segment(s) => s.max,
            Node::Group(g) => g.max,
        }
    }
    /// The name HL7 paths use: the segment id or the group name.
    pub const fn name(&self) -> &'static str {
        match self {
            Node::Segment(s) => s.def.id,
            Node::Group(g) => g.name,
        }
    }
}

/// A structure element known by type (see `typed::StructureElement`): a segment, whose
/// usage and cardinality are its place's, or a group, which carries its own.
#[derive(Debug, Clone, Copy)]
pub enum Element {
    Segment(&'static SegmentDef),
    Group(&'static GroupDef),
}

impl Element {
    /// The name HL7 paths use: the segment id or the group name.
    pub const fn name(self) -> &'static str {
        match self {
            Element::Segment(d) => d.id,
            Element::Group(g) => g.name,
        }
    }

    /// Whether a place declared with this cardinality fits the element: any place fits a
    /// segment; a group must be declared with its own cardinality.
    pub const fn agrees(self, min: u32, max: u32) -> bool {
        match self {
            Element::Segment(_) => true,
            Element::Group(g) => g.min == min && g.max == max,
        }
    }
}

/// String equality in constant evaluation, for the checks derived code makes at compile
/// time (a derived field's declared datatype against its Rust type's).
pub const fn same_id(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.split_first(), b.split_first()) {
            (Some((x, ra)), Some((y, rb))) if *x == *y => (a, b) = (ra, rb),
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The definition with this id in one registry's list. The generated lists are sorted by id
/// (the code generator emits them so), so a binary search finds it: validation looks up
/// tables and segments for every constrained element, and a linear scan of the 245 tables
/// showed in its profiles. A list written by hand need not be sorted, so a miss falls back
/// to a linear scan: the answer never depends on the order.
fn lookup<T: ?Sized>(list: &'static [&'static T], id: &str, id_of: impl Fn(&T) -> &str) -> Option<&'static T> {
    // Ids are a few bytes (`PID`, `CWE`, `0136`): compared in line, not through `memcmp` (a
    // call per probe was most of a segment's look-up).
    match list.binary_search_by(|x| id_of(x).bytes().cmp(id.bytes())) {
        Ok(i) => list.get(i).copied(),
        Err(_) => list.iter().copied().find(|x| id_of(x) == id),
    }
}

/// A derived element's datatype, settled when the constant is evaluated (so a mistake is a
/// compile error at the field): the definition its Rust type carries (a composite view), else
/// the one the `datatype` attribute names (a primitive view, which all primitives share); when
/// both are known they must agree.
pub const fn derived_datatype(
    of_type: Option<&'static DataTypeDef>,
    declared: Option<&'static DataTypeDef>,
    mismatch: &'static str,
    undeclared: &'static str,
) -> &'static DataTypeDef {
    match (of_type, declared) {
        (Some(t), Some(d)) => {
            if !same_id(t.id, d.id) {
                panic!("{}", mismatch)
            }
            t
        }
        (Some(t), None) => t,
        (None, Some(d)) => d,
        (None, None) => panic!("{}", undeclared),
    }
}

impl Node {
    /// The node for an element at a place with this usage and cardinality; a group keeps its
    /// own (derived code checks that the two agree).
    pub const fn of(element: Element, usage: Usage, min: u32, max: u32, src: &'static str) -> Node {
        match element {
            Element::Segment(def) => Node::Segment(SegmentNode { def, usage, min, max, src }),
            Element::Group(g) => Node::Group(g),
        }
    }
}

/// A segment's place in a structure.
#[derive(Debug)]
pub struct SegmentNode {
    pub def: &'static SegmentDef,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub src: &'static str,
}

/// A group (or, with `choice`, a choice between its children).
#[derive(Debug)]
pub struct GroupDef {
    pub name: &'static str,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub choice: bool,
    pub children: &'static [Node],
    /// Segment ids that can open an instance of this group: computed by the code generator
    /// so that placement does not walk the tree for every segment.
    pub first: &'static [&'static str],
    pub slices: &'static [&'static SliceDef],
    pub src: &'static str,
}

impl GroupDef {
    /// Whether a segment with this id can open an instance of the group: one of its children
    /// up to the first required one (any child of a choice). Read from `first` when the code
    /// generator computed it; a derived group, whose children are only known as types when
    /// the macro runs, leaves `first` empty and is walked instead.
    pub fn opens(&self, id: &str) -> bool {
        if !self.first.is_empty() {
            return self.first.iter().any(|f| ids_equal(f, id));
        }
        for child in self.children {
            let opens = match child {
                Node::Segment(s) => ids_equal(s.def.id, id),
                Node::Group(g) => g.opens(id),
            };
            if opens {
                return true;
            }
            if child.min() > 0 && !self.choice {
                return false;
            }
        }
        false
    }
}

/// A constraint the guide puts on one element (field, component or subcomponent).
#[derive(Debug)]
pub struct ElementConstraint {
    /// `SEG-f`, `SEG-f.c` or `SEG-f.c.s`.
    pub path: &'static str,
    pub field: u16,
    pub component: Option<u16>,
    pub subcomponent: Option<u16>,
    pub usage: Option<Usage>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub fixed: Option<&'static str>,
    pub values: &'static [&'static str],
    pub datatype: Option<&'static str>,
    pub table: Option<&'static str>,
    pub value_set: Option<ValueSetRef>,
    pub len: Option<u32>,
    pub src: &'static str,
}

impl ElementConstraint {
    /// A constraint that says nothing: generated code spreads it (`..ElementConstraint::DEFAULT`)
    /// and spells only what the guide gives, so a literal reads as the guide's row.
    pub const DEFAULT: ElementConstraint = ElementConstraint {
        path: "",
        field: 0,
        component: None,
        subcomponent: None,
        usage: None,
        min: None,
        max: None,
        fixed: None,
        values: &[],
        datatype: None,
        table: None,
        value_set: None,
        len: None,
        src: "",
    };
}

/// A CI-SIS value set named by the guide.
#[derive(Debug, Clone, Copy)]
pub struct ValueSetRef {
    pub name: &'static str,
    pub oid: Option<&'static str>,
}

/// Constraints on every occurrence of a segment (in a message or in a slice).
#[derive(Debug)]
pub struct SegmentConstraints {
    pub segment: &'static str,
    /// When set, only the occurrences directly in this group (`ORDER/ORDER_DETAIL`).
    pub group: Option<&'static str>,
    pub usage: Option<Usage>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub elements: &'static [ElementConstraint],
    pub src: &'static str,
}

/// How a slice is told apart from the other instances of its group.
#[derive(Debug)]
pub enum Discriminator {
    /// The element must have this value (e.g. OBX-3.1 = MODALITE_IMAGERIE).
    Value { path: &'static str, field: u16, component: Option<u16>, value: &'static str },
    /// OBX-4 must be `<n>.<m>` with this `m` (the guide's `n.1`, `n.2` ...).
    SubIdSuffix { path: &'static str, field: u16, suffix: u32 },
}

/// A named kind of group instance (the guide's OBSERVATION kinds).
#[derive(Debug)]
pub struct SliceDef {
    pub name: &'static str,
    pub title: &'static str,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub discriminator: &'static [Discriminator],
    pub segments: &'static [SegmentConstraints],
    /// OBX-5's datatype in this slice, when the guide fixes OBX-2.
    pub value_type: Option<&'static DataTypeDef>,
    pub src: &'static str,
}

/// A message profile of the guide.
#[derive(Debug)]
pub struct MessageDef {
    pub profile: &'static str,
    pub title: &'static str,
    pub code: &'static str,
    pub event: Option<&'static str>,
    pub structure: &'static str,
    pub root: &'static GroupDef,
    pub segments: &'static [SegmentConstraints],
    /// Predicates and conformance statements of the hand-kept file (the common ones included).
    pub rules: &'static [RuleDef],
    /// The profile this one extends (an application's variant of a flow of the guide): its
    /// element constraints and rules apply too, after this profile's own.
    pub extends: Option<&'static MessageDef>,
}

impl MessageDef {
    /// This profile's segment constraints, then those of the profiles it extends.
    pub fn constraints(&self) -> impl Iterator<Item = &'static SegmentConstraints> + '_ {
        self.chain().flat_map(|d| d.segments.iter())
    }

    /// This profile's rules, then those of the profiles it extends.
    pub fn all_rules(&self) -> impl Iterator<Item = &'static RuleDef> + '_ {
        self.chain().flat_map(|d| d.rules.iter())
    }

    /// The profile itself, then each profile it extends.
    fn chain(&self) -> impl Iterator<Item = &MessageDef> + '_ {
        // `extends` chains are written by hand or by a derive, never cyclic by construction
        // (a static cannot reference itself through `extends` without a cycle error at
        // compile time); the bound is a guard all the same.
        std::iter::successors(Some(self), |d| d.extends).take(16)
    }
}

/// What a hand-kept rule does with its expression.
#[derive(Debug, Clone, Copy)]
pub enum RuleKind {
    /// A conditional usage: `path` has `when_true` usage when the expression holds, else
    /// `when_false`.
    Predicate { path: &'static str, when_true: Usage, when_false: Usage },
    /// A statement that must hold in every context occurrence; a failure has this severity.
    Conformance { warning: bool },
}

/// A predicate or conformance statement, in the assertion language of spec/HAND-FORMAT.md.
#[derive(Debug)]
pub struct RuleDef {
    pub id: &'static str,
    pub kind: RuleKind,
    pub expression: &'static str,
    /// Group path, `slice:<name>`, `SEG-f[*]`, or `None` for the whole message.
    pub context: Option<&'static str>,
    /// The element a failed conformance statement is reported at (`SEG-f[.c[.s]]`, resolved
    /// in the context like the assertion's paths); `None`: the first element path the
    /// assertion reads.
    pub location: Option<&'static str>,
    pub description: &'static str,
    pub src: &'static str,
}

/// A code table: HL7 (`0136`) or local to the guide (`TLR_OBSERVATION`).
#[derive(Debug)]
pub struct TableDef {
    pub id: &'static str,
    pub name: &'static str,
    pub codes: &'static [&'static str],
}

/// A CI-SIS value set: codes with the HL7 v2 coding-system name of each (X.3), or, when the
/// value set is not available offline, no codes and `available == false`.
#[derive(Debug)]
pub struct ValueSetDef {
    pub name: &'static str,
    pub oid: Option<&'static str>,
    pub available: bool,
    /// (coding system as the guide writes it in X.3, code)
    pub codes: &'static [(&'static str, &'static str)],
    pub src: &'static str,
}

/// Every definition a generated crate knows, for lookups by name.
///
/// An application extends the guide's registry with its own derived segments, datatypes and
/// profiles ([`Registry::extend`]): lookups try the extension first, then its base, so a
/// derived profile is chosen before the guide's profile of the same message type and a
/// derived segment shadows a generated one of the same id.
#[derive(Debug)]
pub struct Registry {
    pub segments: &'static [&'static SegmentDef],
    pub datatypes: &'static [&'static DataTypeDef],
    pub profiles: &'static [&'static MessageDef],
    pub tables: &'static [&'static TableDef],
    pub value_sets: &'static [&'static ValueSetDef],
    /// The registry this one extends.
    pub base: Option<&'static Registry>,
}

impl Registry {
    /// A registry with these definitions in front of `base`'s (usable in a `static`).
    pub const fn extend(
        base: &'static Registry,
        segments: &'static [&'static SegmentDef],
        datatypes: &'static [&'static DataTypeDef],
        profiles: &'static [&'static MessageDef],
    ) -> Registry {
        Registry { segments, datatypes, profiles, tables: &[], value_sets: &[], base: Some(base) }
    }

    /// This registry, then each registry it extends.
    fn chain(&self) -> impl Iterator<Item = &Registry> + '_ {
        std::iter::successors(Some(self), |r| r.base).take(16)
    }

    /// Every profile, the extension's first: the order profile selection tries them in.
    pub fn all_profiles(&self) -> impl Iterator<Item = &'static MessageDef> + '_ {
        self.chain().flat_map(|r| r.profiles.iter().copied())
    }
    pub fn segment(&self, id: &str) -> Option<&'static SegmentDef> {
        self.chain().find_map(|r| lookup(r.segments, id, |s| s.id))
    }
    pub fn datatype(&self, id: &str) -> Option<&'static DataTypeDef> {
        self.chain().find_map(|r| lookup(r.datatypes, id, |d| d.id))
    }
    pub fn profile(&self, id: &str) -> Option<&'static MessageDef> {
        self.all_profiles().find(|p| p.profile == id)
    }
    /// A table by id, HL7 (`0136`, also found as `HL70136`) or local (`TLR_OBSERVATION`).
    pub fn table(&self, id: &str) -> Option<&'static TableDef> {
        let id = id.strip_prefix("HL7").filter(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit())).unwrap_or(id);
        self.chain().find_map(|r| lookup(r.tables, id, |t| t.id))
    }
    /// [`Registry::table`] of a name that lives as long as the definitions (a constraint's
    /// table), remembered per thread: the validator looks up a dozen tables per message, and
    /// a look-up by name compares strings down a sorted list of hundreds. The answer depends
    /// only on the name and on the definition lists of the registries in the chain, all
    /// `'static` and never changed, so those lists' addresses (not the registry's own, which
    /// may be a value on the stack) and the name's make a key that cannot go stale.
    pub(crate) fn table_static(&self, id: &'static str) -> Option<&'static TableDef> {
        use std::cell::RefCell;
        type Key = (usize, usize, [(usize, usize); 4]);
        let mut lists = [(0usize, 0usize); 4];
        let mut levels = self.chain();
        for (slot, r) in lists.iter_mut().zip(&mut levels) {
            *slot = (r.tables.as_ptr() as usize, r.tables.len());
        }
        // A deeper chain than the key holds is looked up every time.
        if levels.next().is_some() {
            return self.table(id);
        }
        let key: Key = (id.as_ptr() as usize, id.len(), lists);
        thread_local! {
            static SEEN: RefCell<Vec<(Key, Option<&'static TableDef>)>> = const { RefCell::new(Vec::new()) };
        }
        if let Some(found) = SEEN.with_borrow(|seen| seen.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)) {
            return found;
        }
        let found = self.table(id);
        // Bounded: a process names finitely many static tables (a guard all the same).
        SEEN.with_borrow_mut(|seen| {
            if seen.len() < 4096 {
                seen.push((key, found));
            }
        });
        found
    }

    pub fn value_set(&self, name: &str) -> Option<&'static ValueSetDef> {
        self.chain().flat_map(|r| r.value_sets.iter().copied()).find(|v| v.name == name)
    }
}

/// Whether two segment ids are the same. Ids are three bytes, compared in place: comparing
/// them as slices calls `memcmp`, which cost more than the rest of a placement step (typed
/// parse profile, issue 21).
#[inline]
pub(crate) fn ids_equal(a: &str, b: &str) -> bool {
    match (a.as_bytes(), b.as_bytes()) {
        ([a0, a1, a2], [b0, b1, b2]) => a0 == b0 && a1 == b1 && a2 == b2,
        (a, b) => a == b,
    }
}
