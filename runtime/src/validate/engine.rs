//! The validation engine: one pass per rule family over a placed message, driven by the static
//! definitions (structure, element constraints of the profile and its slices, base field
//! definitions, tables, value sets, and the hand-kept rules). Every finding is returned, in a
//! deterministic order.
//!
//! HL7 table 0357 codes used (ERR-3), a documented choice since the table is coarse:
//! 100 for structure (missing, extra, unexpected or misplaced segments and groups), 101 for a
//! required element that is absent, 102 for a value of the wrong form (datatype format,
//! repetitions, length, an element present where usage is X), 103 for a value outside its fixed
//! value, value list, table or value set, 200/201/202/203 for an unsupported message type,
//! trigger event, processing id or version, 205 for an identifier two ORDER groups share
//! (flow 4), and 207 for a failed conformance statement.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;

use smallvec::SmallVec;

use super::finding::{code, Erl, Finding, Severity};
use crate::er7::saturating_u32;
use crate::limits::Limits;
use crate::meta::{DataTypeDef, ElementConstraint, GroupDef, MessageDef, Node, Registry, SegmentConstraints, SegmentDef, Usage};
use crate::structure::{GroupInstance, Item, StructureProblem};
use crate::typed::{trimmed, GroupView, Placed};
use super::tokens::{Tok, Tokens};

/// Validates a placed message against its profile, within [`Limits::DEFAULT`]; findings sorted
/// by severity, then location.
pub fn validate(placed: &Placed<'_>, registry: &Registry) -> Vec<Finding> {
    validate_with(placed, registry, None)
}

/// As [`validate`], with the acknowledged message for an ACK's `original.` rules (without it
/// they are reported as not evaluated).
pub fn validate_with<'a>(placed: &Placed<'a>, registry: &Registry, original: Option<&crate::er7::Message<'a>>) -> Vec<Finding> {
    validate_bounded(placed, registry, original, &Limits::DEFAULT).findings
}

/// What one validation run found, and the work it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Every finding, sorted as [`validate`] sorts them.
    pub findings: Vec<Finding>,
    /// Steps spent: one per segment placed, element, repetition, component and value
    /// checked, rule occurrence evaluated, and value or group item a rule read. Every loop
    /// of the validator spends a step per iteration, so this is the validator's work, which
    /// grows linearly with the message (`tests/tests/linearity.rs`).
    pub steps: u64,
}

/// As [`validate_with`], stopping after `limits.max_validation_steps` steps. A run stopped by
/// the limit ends with one Error finding saying so (code 207, rule `validation-limit`), so the
/// message is never accepted on a partial check: the findings before the stop are kept, and
/// the ones that would have come after are not silently dropped but declared missing.
pub fn validate_bounded<'a>(placed: &Placed<'a>, registry: &Registry, original: Option<&crate::er7::Message<'a>>, limits: &Limits) -> Validation {
    let budget = Budget { used: 0, limit: limits.max_validation_steps, exhausted: false };
    // The message's elements, found once, held by the memo the rules read through.
    let memo = super::assertion::Memo::with_tokens(Tokens::new(&placed.message));
    let tokens = memo.tokens(&placed.message);
    // Each segment's definition, looked up once for the passes that read it (on the stack
    // up to 32 segments: a flow's message has 6 to 20).
    let defs: SmallVec<[Option<&'static SegmentDef>; 32]> = placed.message.segment_ids().map(|id| registry.segment(id)).collect();
    let mut v = Run { placed, registry, tokens, memo: &memo, defs: &defs, tables: SmallVec::new(), out: Vec::new(), sequences: OnceCell::new(), original, budget };
    v.settle_slices();
    v.structure();
    v.base_fields();
    v.segment_own_constraints();
    v.profile_constraints();
    v.sub_ids();
    v.builtins();
    v.rules();
    if v.budget.exhausted {
        let message = format!(
            "validation stopped after {} steps (Limits::max_validation_steps): the rules past that point were not checked, so the message cannot be accepted",
            v.budget.limit
        );
        v.out.push(Finding { severity: Severity::Error, code: code::APPLICATION_INTERNAL, location: Erl::default(), rule: "validation-limit".into(), source: "hl7_runtime::Limits".into(), message });
    }
    let steps = v.budget.used;
    let mut out = v.out;
    out.sort_by(|a, b| (a.severity, &a.location, &a.rule, &a.message).cmp(&(b.severity, &b.location, &b.rule, &b.message)));
    out.dedup();
    Validation { findings: out, steps }
}

/// The step bound of one validation run.
pub(crate) struct Budget {
    used: u64,
    limit: u64,
    exhausted: bool,
}

impl Budget {
    /// Spends `n` steps; false once the limit is passed (and from then on).
    pub(crate) fn spend(&mut self, n: u64) -> bool {
        self.used = self.used.saturating_add(n);
        if self.used > self.limit {
            self.exhausted = true;
        }
        !self.exhausted
    }
}

/// 1-based occurrence of each segment among the segments with its id (ERL's sequence).
fn sequences(placed: &Placed<'_>) -> Vec<u32> {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    placed
        .message
        .segment_ids()
        .map(|id| {
            let n = seen.entry(id).or_insert(0);
            *n += 1;
            *n
        })
        .collect()
}

struct Run<'p, 'a> {
    placed: &'p Placed<'a>,
    registry: &'p Registry,
    /// The message's elements, found once for every check that reads them.
    tokens: &'p Tokens<'a>,
    /// The memo of the rules' reads, which holds `tokens`.
    memo: &'p super::assertion::Memo<'a>,
    /// The registry's definition of each segment of the message, by index.
    defs: &'p [Option<&'static SegmentDef>],
    /// The tables the constraints named so far, by the address of the name they gave: a
    /// message's constraints name a handful of tables, each many times.
    tables: SmallVec<[(usize, Option<&'static crate::meta::TableDef>); 16]>,
    out: Vec<Finding>,
    /// Each segment's ERL sequence, counted when a first finding is located: a message that
    /// passes never needs it.
    sequences: OnceCell<Vec<u32>>,
    original: Option<&'p crate::er7::Message<'a>>,
    budget: Budget,
}

/// Where an element sits, for findings.
#[derive(Clone, Copy)]
struct At {
    segment: usize,
    field: Option<u32>,
    repetition: Option<u32>,
    component: Option<u32>,
    subcomponent: Option<u32>,
}

impl At {
    fn segment(segment: usize) -> At {
        At { segment, field: None, repetition: None, component: None, subcomponent: None }
    }
}

impl<'p, 'a> Run<'p, 'a> {
    fn erl(&self, at: At) -> Erl {
        let id = self.placed.message.segment(at.segment).map(|s| s.id().to_owned());
        Erl {
            segment: id,
            sequence: self.sequences.get_or_init(|| sequences(self.placed)).get(at.segment).copied(),
            field: at.field,
            repetition: at.repetition,
            component: at.component,
            subcomponent: at.subcomponent,
        }
    }

    fn push(&mut self, severity: Severity, code: u16, at: Option<At>, rule: &str, source: &str, message: String) {
        let location = at.map(|a| self.erl(a)).unwrap_or_default();
        self.out.push(Finding { severity, code, location, rule: rule.to_owned(), source: source.to_owned(), message });
    }

    // ---------------------------------------------------------------- structure

    /// Which slices each sliced group instance matches, read off the message's elements before
    /// the structure check and every later pass ask (through [`GroupView::is_slice`]), which
    /// would read them through segment views.
    fn settle_slices(&self) {
        let message = &self.placed.message;
        let tokens = self.tokens;
        // What `GroupView::discriminated_text` reads: the first segment with the id in the
        // instance, then its element.
        each_sliced(&self.placed.tree, &mut |inst| {
            GroupView { message, instance: inst }.settle_matches(&|id, field, component| {
                let segment = inst.find_segment(&mut |i| message.segment_is(i, id))?;
                Some(view_text(tokens, segment, field, component))
            });
        });
    }

    #[inline(never)] // a pass of its own in profiles
    fn structure(&mut self) {
        // Placing and checking the structure visit each segment a bounded number of times.
        if !self.budget.spend(self.placed.message.segment_count() as u64) {
            return;
        }
        for f in self.placed.check_structure() {
            let (at, message) = match &f.problem {
                StructureProblem::Unexpected { segment } => {
                    (Some(At::segment(*segment)), format!("{} has no place in the {} structure here", f.path, self.placed.def.structure))
                }
                StructureProblem::TooFew { min, found } => (f.segment.map(At::segment), format!("{}: {found} found, at least {min} required", f.path)),
                StructureProblem::TooMany { max, found } => (f.segment.map(At::segment), format!("{}: {found} found, at most {max} allowed", f.path)),
            };
            // A Z segment is a local extension by agreement between the partners: reported,
            // but it does not make the message invalid. Any other segment out of place does.
            let z = matches!(f.problem, StructureProblem::Unexpected { segment } if self.placed.message.segment(segment).is_some_and(|s| s.id().starts_with('Z')));
            let severity = if z { Severity::Warning } else { Severity::Error };
            self.push(severity, code::SEGMENT_SEQUENCE, at, "structure", "st-profils.md", message);
        }
    }

    // ---------------------------------------------------------------- base definitions

    /// Base HL7 v2.5.1 field rules for every segment the registry defines: required fields,
    /// repetitions, lengths (warnings, as the guide's own values exceed some), formats.
    #[inline(never)] // a pass of its own in profiles
    fn base_fields(&mut self) {
        let message = &self.placed.message;
        let tokens = self.tokens;
        for i in 0..message.segment_count() {
            if !self.budget.spend(1) {
                return;
            }
            let Some(def) = self.defs.get(i).copied().flatten() else { continue };
            let plan = FieldPlan::of(def);
            // Required fields first: an empty one is all there is to say of it.
            for fd in &plan.required {
                if !self.budget.spend(1) {
                    return;
                }
                if tokens.field_raw(tokens.field(i, usize::from(fd.pos))).is_empty() {
                    let at = At { segment: i, field: Some(u32::from(fd.pos)), repetition: None, component: None, subcomponent: None };
                    let path = ElementPath::field(def.id, fd.pos);
                    self.push(Severity::Error, code::REQUIRED_FIELD_MISSING, Some(at), "base-usage", "hl7v2.5.1", format!("{path} ({}) is required by HL7 v2.5.1 but empty", fd.name));
                }
            }
            // Then the fields the segment has, not every field the definition lists: most are
            // absent (PV1 defines 52, a flow's PV1 sends 4), and an absent optional field has
            // nothing to check.
            for (pos, fd) in plan.checked.iter().enumerate().skip(1) {
                let Some(field) = tokens.field(i, pos) else { break };
                let Some(fd) = fd else { continue };
                if tokens.field_raw(Some(field)).is_empty() {
                    continue;
                }
                if !self.budget.spend(1) {
                    return;
                }
                let field = Some(field);
                let at = At { segment: i, field: Some(u32::from(fd.pos)), repetition: None, component: None, subcomponent: None };
                let path = ElementPath::field(def.id, fd.pos);
                let reps = saturating_u32(tokens.rep_count(field));
                if reps > fd.max {
                    self.push(Severity::Error, code::DATA_TYPE, Some(at), "base-repetitions", "hl7v2.5.1", format!("{path} has {reps} repetitions, at most {} allowed", fd.max));
                }
                let dt = fd.datatype.or_else(|| self.varies_type(i));
                // The length rule (spec/README.md, "Lengths"): HL7's length is checked on
                // primitive fields only, and never on a field whose values the profile
                // prescribes (fixed, listed, table, value set).
                let base_len = fd.len.filter(|_| dt.is_some_and(DataTypeDef::is_primitive));
                for (r, rep) in tokens.reps(field).enumerate() {
                    if !self.budget.spend(1) {
                        return;
                    }
                    let at = At { repetition: (reps > 1).then_some(saturating_u32(r + 1)), ..at };
                    // Decoding never lengthens a value (an escape or a UTF-8 sequence is at least
                    // as long as what it stands for), so a value no longer than the limit in
                    // bytes needs no decoding to be within it.
                    if let Some(len) = base_len.filter(|len| raw_exceeds(tokens.raw(rep), *len)) {
                        let chars = tokens.text(rep).chars().count();
                        if chars as u32 > len && !prescribed(self.placed.def, def.id, fd.pos) {
                            self.push(Severity::Warning, code::DATA_TYPE, Some(at), "base-length", "hl7v2.5.1", format!("{path} is {chars} characters long, HL7 v2.5.1 gives {len}"));
                        }
                    }
                    if let Some(dt) = dt {
                        self.formats(rep, dt, at, path);
                    }
                }
            }
        }
    }

    /// OBX-5's datatype, from OBX-2 of segment `segment`.
    fn varies_type(&self, segment: usize) -> Option<&'static DataTypeDef> {
        let tokens = self.tokens;
        self.registry.datatype(tokens.field_text(tokens.field(segment, 2)).trim())
    }

    /// Checks primitive formats down the components of `dt`, and the French composite rules
    /// (HD, CX, EI, XCN, XON) and ED's Base64 at the repetition level.
    fn formats(&mut self, part: super::tokens::Tok, dt: &'static DataTypeDef, at: At, path: ElementPath<'_>) {
        // IPC-3 is a DICOM Study Instance UID carried in EI-1 alone (the guide's IPC table and
        // example): the French EI rules for identifiers with an assigning authority do not fit.
        let french_rules = !path.is_field("IPC", 3);
        if !self.budget.spend(1) {
            return;
        }
        // No rule reads a value of this datatype or of any of its components.
        if !dt.checked {
            return;
        }
        let tokens = self.tokens;
        for p in super::composite::check(dt.id, part, tokens, french_rules) {
            let at = At { component: Some(u32::from(p.component)), subcomponent: p.subcomponent.map(u32::from), ..at };
            let source = if p.rule == "ED-BASE64" { "hl7v2.5.1" } else { "PAM-FR-DT-1.8.2" };
            self.push(Severity::Error, code::DATA_TYPE, Some(at), p.rule, source, format!("{path} ({}): {}", dt.id, p.message));
        }
        if dt.is_primitive() {
            // Only the primitives with a format are decoded.
            if super::has_primitive_format(dt.id) {
                let text = tokens.text(part);
                if let Some(problem) = super::primitive_format(dt.id, &text) {
                    self.push(Severity::Error, code::DATA_TYPE, Some(at), "format", "hl7v2.5.1", format!("{path} ({}): {problem}", dt.id));
                }
            }
            return;
        }
        // One pass over the children, matched to the component definitions by position (both
        // ascend); only the components some rule reads (`DataTypeDef::checked`) are visited.
        let mut children = tokens.children(part).zip(1usize..).filter(|(p, _)| !tokens.raw(*p).is_empty()).peekable();
        for c in dt.components.iter().filter(|c| c.datatype.checked) {
            let pos = usize::from(c.pos);
            while children.next_if(|(_, n)| *n < pos).is_some() {}
            if let Some((child, _)) = children.next_if(|(_, n)| *n == pos) {
                let at = match (at.component, at.subcomponent) {
                    (None, _) => At { component: Some(u32::from(c.pos)), ..at },
                    (Some(_), None) => At { subcomponent: Some(u32::from(c.pos)), ..at },
                    _ => at,
                };
                self.formats(child, c.datatype, at, path.child(c.pos));
            }
        }
    }

    // ---------------------------------------------------------------- segment constraints

    /// What a (derived) segment declares of itself, for every occurrence.
    #[inline(never)] // a pass of its own in profiles
    fn segment_own_constraints(&mut self) {
        let defs = self.defs;
        for (i, sc) in defs.iter().enumerate().filter_map(|(i, def)| Some((i, (*def)?.constraints?))) {
            self.segment_constraints(i, sc, "segment");
        }
    }

    // ---------------------------------------------------------------- profile constraints

    #[inline(never)] // a pass of its own in profiles
    fn profile_constraints(&mut self) {
        // The tree outlives the run: walked through this copy of the reference, the segments
        // in scope are visited in place rather than collected first.
        let placed = self.placed;
        let message = &placed.message;
        let def = placed.def;
        for sc in def.constraints() {
            match sc.group {
                // Every occurrence of the segment.
                None => {
                    // Ids compared as bytes: no text made of each id per constraint.
                    for i in (0..message.segment_count()).filter(|&i| message.segment_is(i, sc.segment)) {
                        self.segment_constraints(i, sc, "profile");
                    }
                }
                // Only those directly in the named group.
                Some(path) => each_instance_at(&placed.tree, path, &mut |g| {
                    for i in direct_segments(g, sc.segment, message) {
                        self.segment_constraints(i, sc, "profile");
                    }
                }),
            }
        }
        // Slices: their constraints apply to the segments directly in each matching instance.
        each_sliced(&placed.tree, &mut |inst| {
            let view = GroupView { message, instance: inst };
            if !inst.def.slices.iter().any(|s| view.is_slice(s) || view.is_kind_of(s)) {
                // The guide lists the kinds of this group; one it does not list is reported,
                // as a warning: the guide does not say its slicing is closed. An instance of a
                // listed kind (OBX-3) that matches none of its slices (OBX-4's m, OBX-2) is
                // reported by the rules of that kind instead (F1-REGION-SUBID-M, F3-PROTOCOL-OBX2 …).
                let kinds: Vec<&str> = inst.def.slices.iter().map(|s| s.name).collect();
                let at = inst.first_segment().map(At::segment);
                let text = format!("this {} is none of the kinds the guide defines ({})", inst.def.name, kinds.join(", "));
                self.push(Severity::Warning, code::SEGMENT_SEQUENCE, at, "slice", "st-profils.md", text);
            }
            for slice in inst.def.slices.iter().filter(|s| view.is_slice(s)) {
                for sc in slice.segments {
                    for i in direct_segments(inst, sc.segment, message) {
                        self.segment_constraints(i, sc, slice.name);
                    }
                }
            }
        });
    }

    fn segment_constraints(&mut self, segment: usize, sc: &SegmentConstraints, scope: &str) {
        if segment >= self.placed.message.segment_count() {
            return;
        }
        for ec in sc.elements {
            if !self.budget.spend(1) {
                return;
            }
            self.element(segment, ec, scope);
        }
    }

    fn element(&mut self, segment: usize, ec: &ElementConstraint, scope: &str) {
        let tokens = self.tokens;
        let field = tokens.field(segment, usize::from(ec.field));
        let at = At { segment, field: Some(u32::from(ec.field)), repetition: None, component: ec.component.map(u32::from), subcomponent: ec.subcomponent.map(u32::from) };
        // A component's usage holds only when its field is present (HL7: usage of a component
        // is relative to its parent).
        if ec.component.is_some() && tokens.field_raw(field).is_empty() {
            return;
        }
        // A constraint on usage alone (most of a profile's: R) reads only whether the element
        // is present; in a field without escapes that is whether its bytes are empty, which
        // needs no text made of each value.
        let usage_only = ec.fixed.is_none() && ec.values.is_empty() && ec.table.is_none() && ec.value_set.is_none();
        // One step per repetition (one for an empty field) either way.
        if !self.budget.spend(tokens.rep_count(field).max(1) as u64) {
            return;
        }
        let (values, any_present) = if usage_only && tokens.field_plain(field) {
            (None, tokens.reps(field).any(|rep| part_of_rep(tokens, rep, ec).is_some_and(|p| !tokens.raw(p).is_empty())))
        } else {
            let values = element_values(tokens, field, ec);
            let any_present = values.iter().any(|v| !v.text.is_empty());
            (Some(values), any_present)
        };
        match ec.usage {
            Some(Usage::R) if !any_present => {
                self.push(Severity::Error, code::REQUIRED_FIELD_MISSING, Some(at), &rule_name(scope, "usage"), ec.src, format!("{} is required by the guide but empty", ec.path));
                return;
            }
            Some(Usage::X) if any_present => {
                self.push(Severity::Error, code::DATA_TYPE, Some(at), &rule_name(scope, "usage"), ec.src, format!("{} must not be sent (usage X)", ec.path));
            }
            _ => {}
        }
        // Read from the bytes: usage was all there was to check.
        let Some(values) = values else { return };
        for v in values.iter().filter(|v| !v.text.is_empty()) {
            let at = At { repetition: (values.len() > 1).then_some(v.index), ..at };
            let value = v.text.trim();
            if let Some(fixed) = ec.fixed {
                if value != fixed {
                    let c = header_code(ec.path).unwrap_or(code::TABLE_VALUE_NOT_FOUND);
                    self.push(Severity::Error, c, Some(at), &rule_name(scope, "fixed"), ec.src, format!("{} is '{value}', the guide fixes '{fixed}'", ec.path));
                    continue;
                }
            }
            if !ec.values.is_empty() && !ec.values.contains(&value) {
                let c = header_code(ec.path).unwrap_or(code::TABLE_VALUE_NOT_FOUND);
                self.push(Severity::Error, c, Some(at), &rule_name(scope, "values"), ec.src, format!("{} is '{value}', expected one of {}", ec.path, ec.values.join(", ")));
                continue;
            }
            if let Some(t) = ec.table.and_then(|t| self.table(t)) {
                // A coded element (CE, CWE, ID of a composite) is checked on its code.
                let code_value = v.repetition.and_then(|r| self.code_of(segment, ec, r)).unwrap_or(Cow::Borrowed(value));
                if !t.codes.is_empty() && !TableIndex::of(t).lists(&code_value) {
                    self.push(Severity::Error, code::TABLE_VALUE_NOT_FOUND, Some(at), &rule_name(scope, "table"), ec.src, format!("{} '{code_value}' is not in table {} ({})", ec.path, t.id, t.name));
                }
            }
            if let Some(vs) = ec.value_set {
                self.value_set(ec, v.repetition, value, vs.name, at, scope);
            }
        }
    }

    /// The registry's table `id`, looked up once per name per validation (and found in the
    /// thread's cache of [`Registry::table_static`] after the first validation).
    fn table(&mut self, id: &'static str) -> Option<&'static crate::meta::TableDef> {
        let key = id.as_ptr() as usize;
        if let Some((_, t)) = self.tables.iter().find(|(k, _)| *k == key) {
            return *t;
        }
        let t = self.registry.table_static(id);
        self.tables.push((key, t));
        t
    }

    /// The first component of the constrained element when that element is a composite
    /// (the code of a CE/CWE), `None` when it is primitive.
    fn code_of(&self, segment: usize, ec: &ElementConstraint, r: Tok) -> Option<Cow<'a, str>> {
        let fd = self.defs.get(segment).copied().flatten()?.field(ec.field as usize)?;
        let mut dt = fd.datatype?;
        for n in [ec.component, ec.subcomponent].into_iter().flatten() {
            dt = dt.components.get(usize::from(n).checked_sub(1)?)?.datatype;
        }
        if dt.is_primitive() {
            return None;
        }
        let tokens = self.tokens;
        let part = match (ec.component, ec.subcomponent) {
            (None, _) => tokens.child(r, 1),
            (Some(c), None) => tokens.child(r, usize::from(c)).and_then(|c| tokens.child(c, 1)),
            (Some(_), Some(_)) => return None,
        };
        Some(trimmed(part.map(|p| tokens.text(p)).unwrap_or_default()))
    }

    fn value_set(&mut self, ec: &ElementConstraint, rep: Option<Tok>, code_value: &str, name: &str, at: At, scope: &str) {
        let rule = || rule_name(scope, "value-set");
        let Some(vs) = self.registry.value_set(name) else { return };
        if !vs.available {
            self.push(Severity::Info, code::ACCEPTED, Some(at), &rule(), ec.src, format!("{} '{code_value}' was not checked against {name}: the value set is not available offline", ec.path));
            return;
        }
        // The coding system is the third component of the coded value the code is the first of.
        let system = match ec.component {
            Some(1) => rep.map(|r| trimmed(self.tokens.child(r, 3).map(|c| self.tokens.text(c)).unwrap_or_default())),
            _ => None,
        };
        let ok = vs.codes.iter().any(|(s, c)| *c == code_value && system.as_deref().is_none_or(|sys| sys.is_empty() || sys == *s));
        if !ok {
            let sys = system.filter(|s| !s.is_empty()).map(|s| format!(" ({s})")).unwrap_or_default();
            self.push(Severity::Error, code::TABLE_VALUE_NOT_FOUND, Some(at), &rule(), ec.src, format!("{} '{code_value}'{sys} is not in {name}", ec.path));
        }
    }

    // ---------------------------------------------------------------- OBX-4 sub-ids

    /// The rules of sub-id.md, driven by the slices: OBX segments that share OBX-3 need an
    /// OBX-4 `n.m`; and the members of an occurrence `n` whose slices are R or C (a type of
    /// administered product and its lot; a main region for a topographic precision) come
    /// together. sub-id.md says "in a message"; with several ORDER groups (flow 4) sub-ids
    /// number the occurrences of one order, so the scope is the group holding the sliced
    /// OBSERVATION groups (errata of spec/README.md).
    #[inline(never)] // a pass of its own in profiles
    fn sub_ids(&mut self) {
        let mut scopes = SlicedParents::new();
        sliced_parents(&self.placed.tree, &mut scopes);
        // The first OBX of each OBSERVATION of a scope, the list reused from scope to scope (on
        // the stack up to 16: the guide's messages send up to a dozen).
        let mut obxs: SmallVec<[FirstObx<'_>; 16]> = SmallVec::new();
        for (parent, slot) in scopes {
            let Some(crate::meta::Node::Group(gdef)) = parent.def.children.get(slot as usize) else { continue };
            // The first OBX of each OBSERVATION instance: (segment index, OBX-3.1, OBX-4).
            if !self.budget.spend(parent.items.len() as u64) {
                return;
            }
            // Read off the message's elements (as the views read OBX-3.1 and OBX-4: the first
            // repetition's component, the whole field), not through segment views: the OBX of
            // every OBSERVATION is read here.
            let message = &self.placed.message;
            let tokens = self.tokens;
            obxs.clear();
            obxs.extend(
                parent
                    .groups_at(slot)
                    .filter_map(|g| g.find_segment(&mut |i| message.segment_is(i, "OBX")))
                    .map(|i| (i, trimmed(view_text(tokens, i, 3, Some(1))), trimmed(view_text(tokens, i, 4, None)))),
            );
            // By code, then in message order (a stable sort): the OBX of each code in one run.
            obxs.sort_by(|a, b| a.1.cmp(&b.1));
            for members in obxs.chunk_by(|a, b| a.1 == b.1) {
                let Some((_, code_value, _)) = members.first() else { continue };
                if members.len() > 1 {
                    for (seg, _, sub) in members.iter().map(|m| (m.0, &m.1, &m.2)) {
                        if parse_sub_id(sub).is_none() {
                            let (c, what) = if sub.is_empty() { (code::REQUIRED_FIELD_MISSING, "is empty".to_owned()) } else { (code::DATA_TYPE, format!("is '{sub}', not n.m")) };
                            let at = At { field: Some(4), ..At::segment(seg) };
                            self.push(Severity::Error, c, Some(at), "SUBID-REQUIRED", "sub-id.md#h:Contraintes d’utilisation", format!("OBX-4 {what}: {} OBX segments share OBX-3 {code_value}, so each needs a sub-id n.m", members.len()));
                        }
                    }
                }
                self.sub_id_unique(code_value, members);
                self.sub_id_family(gdef, code_value, members);
                self.sub_id_dependencies(gdef, code_value, members);
            }
        }
    }

    /// At most one OBX per (OBX-3, n.m) in the scope: n numbers the occurrences of a business
    /// concept and m the kind of information, so a second OBX with the same pair repeats an
    /// element the guide gives [0..1] per occurrence (erratum E14 of flow 4). Each repeat is
    /// reported at its OBX-4.
    fn sub_id_unique(&mut self, code_value: &str, members: &[FirstObx<'_>]) {
        // (n.m, segment) sorted: the members come in message order, so the first of each run
        // of one n.m is where it is first sent and the others repeat it.
        let mut keys: SmallVec<[((u32, u32), usize); 16]> = members.iter().filter_map(|m| Some((parse_sub_id(&m.2)?, m.0))).collect();
        keys.sort_unstable();
        for run in keys.chunk_by(|a, b| a.0 == b.0) {
            let Some((&(key, first), repeats)) = run.split_first() else { continue };
            for &(_, seg) in repeats {
                let first_erl = self.erl(At { field: Some(4), ..At::segment(first) });
                let at = At { field: Some(4), ..At::segment(seg) };
                let message = format!("a second OBX with OBX-3 {code_value} and OBX-4 {}.{} (the first is at {first_erl}): each n.m is sent once per occurrence", key.0, key.1);
                self.push(Severity::Error, code::SEGMENT_SEQUENCE, Some(at), "SUBID-UNIQUE", "sub-id.md#h:Principe général", message);
            }
        }
    }

    /// The dependencies between the members of an occurrence `n` that the guide draws (the
    /// arrows of the functional diagrams, st-profils.md) or recommends, where the member
    /// depended upon is optional (a required or conditional one is SUBID-FAMILY's): a
    /// topographic precision n.2 belongs to its main location n.1 (error), and the quantity n.3
    /// is "fortement recommandée" when the product n.1 is given (warning).
    fn sub_id_dependencies(&mut self, gdef: &crate::meta::GroupDef, code_value: &str, members: &[FirstObx<'_>]) {
        for dep in SUB_ID_DEPENDENCIES.iter().filter(|d| d.code == code_value) {
            // Only where the profile slices this code by both m (flow 1 and flow 4).
            let usage_of = |m: u32| {
                gdef.slices.iter().find_map(|s| {
                    let of_code = s.discriminator.iter().any(|d| matches!(d, crate::meta::Discriminator::Value { field: 3, component: Some(1), value, .. } if *value == code_value));
                    let of_m = s.discriminator.iter().any(|d| matches!(d, crate::meta::Discriminator::SubIdSuffix { suffix, .. } if *suffix == m));
                    (of_code && of_m).then_some(s.usage)
                })
            };
            let (Some(_), Some(needed_usage)) = (usage_of(dep.m), usage_of(dep.needs)) else { continue };
            if dep.severity == Severity::Error && matches!(needed_usage, Usage::R | Usage::C) {
                continue; // SUBID-FAMILY already requires it
            }
            // (n, m, segment) sorted, so that whether an occurrence n has its member m is a
            // binary search.
            let mut present: SmallVec<[(u32, u32, usize); 16]> = members.iter().filter_map(|m| parse_sub_id(&m.2).map(|(n, mm)| (n, mm, m.0))).collect();
            present.sort_unstable();
            let has = |n: u32, m: u32| present.binary_search_by(|p| (p.0, p.1).cmp(&(n, m))).is_ok();
            for (n, _, seg) in present.iter().filter(|(_, m, _)| *m == dep.m) {
                if !has(*n, dep.needs) {
                    let at = At { field: Some(4), ..At::segment(*seg) };
                    let message = format!("{code_value} {n}.{} ({}) has no {n}.{} ({}) with it: {}", dep.m, dep.what, dep.needs, dep.needs_what, dep.why);
                    self.push(dep.severity, code::REQUIRED_FIELD_MISSING, Some(at), dep.rule, dep.src, message);
                }
            }
        }
    }

    fn sub_id_family(&mut self, gdef: &crate::meta::GroupDef, code_value: &str, members: &[FirstObx<'_>]) {
        use crate::meta::Discriminator;
        // The slices of this code told apart by OBX-4's `m`: (m, usage, name).
        let family: SmallVec<[(u32, Usage, &str); 4]> = gdef
            .slices
            .iter()
            .filter(|s| s.discriminator.iter().any(|d| matches!(d, Discriminator::Value { field: 3, component: Some(1), value, .. } if *value == code_value)))
            .filter_map(|s| {
                s.discriminator.iter().find_map(|d| match d {
                    Discriminator::SubIdSuffix { suffix, .. } => Some((*suffix, s.usage, s.name)),
                    _ => None,
                })
            })
            .collect();
        if family.len() < 2 {
            return;
        }
        // (n, segment, m) sorted: the members of each occurrence n in one run, in message order.
        let mut occurrences: SmallVec<[(u32, usize, u32); 16]> = members.iter().filter_map(|m| parse_sub_id(&m.2).map(|(n, mm)| (n, m.0, mm))).collect();
        occurrences.sort_unstable();
        for present in occurrences.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(n, first, _)) = present.first() else { continue };
            for (m, usage, name) in &family {
                if matches!(usage, Usage::R | Usage::C) && !present.iter().any(|(_, _, pm)| pm == m) {
                    let at = At { field: Some(4), ..At::segment(first) };
                    self.push(Severity::Error, code::REQUIRED_FIELD_MISSING, Some(at), "SUBID-FAMILY", "sub-id.md#h:Principe général", format!("{code_value} occurrence {n} has no OBX-4 {n}.{m} ({name}), which the guide requires with the other members of the occurrence"));
                }
            }
        }
    }

    // ---------------------------------------------------------------- built-in checks

    /// The named checks the assertion language cannot express (`builtin.rs`).
    #[inline(never)] // a pass of its own in profiles
    fn builtins(&mut self) {
        for h in super::builtin::check(self.placed, &mut self.budget) {
            let at = At { field: h.field, component: h.component, ..At::segment(h.segment) };
            self.push(h.severity, h.code, Some(at), h.rule, h.source, h.message);
        }
    }

    // ---------------------------------------------------------------- hand-kept rules

    #[inline(never)] // a pass of its own in profiles
    fn rules(&mut self) {
        let plan = super::rules::plan(self.placed.def);
        let walk = super::assertion::Walk::lending(self.placed, self.memo);
        let mut occurrences = super::assertion::Occurrences::new();
        for compiled in plan.iter() {
            if self.budget.exhausted {
                return;
            }
            let rule = compiled.rule;
            let outcome = super::rules::evaluate(self.placed, &walk, compiled, self.original, &mut self.budget, &mut occurrences);
            for o in outcome {
                let at = o.at.map(|l| At { segment: l.segment, field: l.field, repetition: l.repetition, component: l.component, subcomponent: l.subcomponent });
                self.push(o.severity, o.code, at, rule.id, rule.src, o.message);
            }
        }
    }
}

/// The base field definitions of a segment arranged for [`Run::base_fields`], once per
/// segment definition and process ([`crate::plan`]).
struct FieldPlan {
    /// The required fields (HL7 usage R), MSH-1 and MSH-2 aside (never empty: the parse
    /// reads the separators from them).
    required: Vec<&'static crate::meta::FieldDef>,
    /// The definition of each position (index 0 unused), `None` for a position the definition
    /// skips and for MSH-1 and MSH-2 (nothing of theirs is checked here).
    checked: Vec<Option<&'static crate::meta::FieldDef>>,
}

impl FieldPlan {
    fn of(def: &'static SegmentDef) -> &'static FieldPlan {
        crate::plan::of(def, || {
            let opaque = |fd: &crate::meta::FieldDef| def.id == "MSH" && fd.pos <= 2;
            let required = def.fields.iter().filter(|fd| fd.usage == Usage::R && !opaque(fd)).collect();
            let last = def.fields.iter().map(|fd| usize::from(fd.pos)).max().unwrap_or(0);
            let mut checked = vec![None; last + 1];
            for fd in def.fields.iter().filter(|fd| !opaque(fd)) {
                if let Some(slot) = checked.get_mut(usize::from(fd.pos)) {
                    // The first definition of a position, as `SegmentDef::field` would find it.
                    slot.get_or_insert(fd);
                }
            }
            FieldPlan { required, checked }
        })
    }
}

/// A table's codes arranged for look-up, once per table and process ([`crate::plan`]): a
/// message's constraints look up a dozen coded values, each in a table of up to a few hundred
/// codes (HL7 tables hold up to 286), and comparing them one by one was the largest cost of
/// the constraints pass.
struct TableIndex {
    codes: rustc_hash::FxHashSet<&'static str>,
    /// The codes written as patterns (`HL7nnnn` in table 0396: any HL7 table), which match
    /// by shape.
    patterns: Vec<&'static str>,
}

impl TableIndex {
    fn of(table: &'static crate::meta::TableDef) -> &'static TableIndex {
        crate::plan::of(table, || TableIndex {
            codes: table.codes.iter().copied().collect(),
            patterns: table.codes.iter().copied().filter(|c| c.ends_with("nnnn")).collect(),
        })
    }

    /// Whether `value` is one of the codes, or has the shape of a pattern.
    fn lists(&self, value: &str) -> bool {
        self.codes.contains(value) || self.patterns.iter().any(|p| table_code_matches(p, value))
    }
}

/// Table codes written as patterns (`HL7nnnn`) match by shape.
fn table_code_matches(code: &str, value: &str) -> bool {
    match code.strip_suffix("nnnn") {
        Some(prefix) => value.strip_prefix(prefix).is_some_and(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit())),
        _ => code == value,
    }
}

/// MSH-9, MSH-11 and MSH-12 mismatches are the unsupported-message conditions of table 0357.
fn header_code(path: &str) -> Option<u16> {
    match path {
        "MSH-9.1" | "MSH-9" => Some(code::UNSUPPORTED_MESSAGE_TYPE),
        "MSH-9.2" => Some(code::UNSUPPORTED_EVENT),
        "MSH-11" | "MSH-11.1" => Some(code::UNSUPPORTED_PROCESSING_ID),
        "MSH-12" | "MSH-12.1" => Some(code::UNSUPPORTED_VERSION),
        _ => None,
    }
}

/// The constrained element in one repetition of its field.
struct Value<'a> {
    /// 1-based repetition number.
    index: u32,
    /// Decoded text, empty when absent; borrowed from the message unless it had escapes.
    text: Cow<'a, str>,
    /// The repetition itself, kept so later checks read its other components by index.
    repetition: Option<Tok>,
}

/// The text the segment views give of field `field` of segment `segment` (`Field::text`), or
/// of its component `c` (`Field::component`: of the first repetition), read off the element
/// lists.
fn view_text<'a>(tokens: &Tokens<'a>, segment: usize, field: u16, component: Option<u16>) -> Cow<'a, str> {
    let field = tokens.field(segment, usize::from(field));
    match component {
        Some(c) => tokens.reps(field).next().and_then(|r| tokens.child(r, usize::from(c))).map(|c| tokens.text(c)).unwrap_or_default(),
        None => tokens.field_text(field),
    }
}

/// The constrained element in one repetition of its field (`None` when absent).
fn part_of_rep(tokens: &Tokens<'_>, rep: Tok, ec: &ElementConstraint) -> Option<Tok> {
    match (ec.component, ec.subcomponent) {
        (None, _) => Some(rep),
        (Some(c), None) => tokens.child(rep, usize::from(c)),
        (Some(c), Some(s)) => tokens.child(rep, usize::from(c)).and_then(|c| tokens.child(c, usize::from(s))),
    }
}

/// The decoded value of the constrained element in each repetition of its field, in one pass.
fn element_values<'a>(tokens: &Tokens<'a>, field: Option<u32>, ec: &ElementConstraint) -> Values<'a> {
    let absent = || Value { index: 1, text: Cow::Borrowed(""), repetition: None };
    let mut reps = tokens.reps(field).enumerate().map(|(r, rep)| {
        let text = part_of_rep(tokens, rep, ec).map(|p| tokens.text(p)).unwrap_or_default();
        Value { index: saturating_u32(r + 1), text, repetition: Some(rep) }
    });
    let Some(first) = reps.next() else { return Values::One([absent()]) };
    match reps.next() {
        None => Values::One([first]),
        Some(second) => {
            let mut all = vec![first, second];
            all.extend(reps);
            Values::Many(all)
        }
    }
}

/// The values of a constrained element: one (most fields do not repeat) without allocating.
/// (Several on the stack made every one larger to move: 2 % more instructions for `check`.)
enum Values<'a> {
    One([Value<'a>; 1]),
    Many(Vec<Value<'a>>),
}

impl<'a> std::ops::Deref for Values<'a> {
    type Target = [Value<'a>];
    fn deref(&self) -> &[Value<'a>] {
        match self {
            Values::One(v) => v,
            Values::Many(v) => v,
        }
    }
}

/// The rule name of a finding on a constrained element: `what` for the profile's own
/// constraints, `what:slice` for a slice's or `what:segment` for a derived segment's. Built
/// only when a finding is reported.
fn rule_name(scope: &str, what: &'static str) -> Cow<'static, str> {
    if scope == "profile" {
        Cow::Borrowed(what)
    } else {
        Cow::Owned(format!("{what}:{scope}"))
    }
}

/// The first OBX of an OBSERVATION instance: (segment index, OBX-3.1, OBX-4), trimmed.
type FirstObx<'a> = (usize, Cow<'a, str>, Cow<'a, str>);

/// A dependency between two members of a sub-id occurrence (see `Run::sub_id_dependencies`).
struct SubIdDependency {
    code: &'static str,
    m: u32,
    what: &'static str,
    needs: u32,
    needs_what: &'static str,
    severity: Severity,
    rule: &'static str,
    src: &'static str,
    why: &'static str,
}

const SUB_ID_DEPENDENCIES: [SubIdDependency; 2] = [
    SubIdDependency {
        code: "REGION_ANATOMIQUE",
        m: 2,
        what: "topographic precision",
        needs: 1,
        needs_what: "main anatomical location",
        severity: Severity::Error,
        rule: "SUBID-DEPENDS",
        src: "st-profils.md#h:Description fonctionnelle",
        why: "the precision qualifies the main location of the same n (diagrams of flows 1 and 4: 'Usage C', arrow from the main location; sub-id.md: OBX with the same OBX-3 and n describe one occurrence)",
    },
    SubIdDependency {
        code: "PRODUIT_ADMINISTRE",
        m: 1,
        what: "product type",
        needs: 3,
        needs_what: "administered quantity",
        severity: Severity::Warning,
        rule: "SUBID-RECOMMENDED",
        src: "st_flux4.md#h:Groupe OBSERVATION – Quantité de produit administré",
        why: "'La quantité est optionnelle mais fortement recommandée lorsque le produit est renseigné'",
    },
];

/// `n.m` with both positive integers.
fn parse_sub_id(s: &str) -> Option<(u32, u32)> {
    let (n, m) = s.split_once('.')?;
    let ok = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()) && !x.starts_with('0');
    if ok(n) && ok(m) {
        Some((n.parse().ok()?, m.parse().ok()?))
    } else {
        None
    }
}

/// Group instances with a child group that has slices, with that child's slot: one or two in
/// the guide's messages, ten in the ten-order OMI.
type SlicedParents<'t> = SmallVec<[(&'t GroupInstance, u16); 4]>;

/// Group instances with a child group that has slices, with that child's slot.
fn sliced_parents<'t>(inst: &'t GroupInstance, out: &mut SlicedParents<'t>) {
    for (slot, child) in inst.def.children.iter().enumerate() {
        if let crate::meta::Node::Group(g) = child {
            if !g.slices.is_empty() {
                out.push((inst, slot as u16));
            }
        }
    }
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            sliced_parents(group, out);
        }
    }
}

/// Visits every group instance that has slices, depth first, in message order.
fn each_sliced<'t>(inst: &'t GroupInstance, f: &mut dyn FnMut(&'t GroupInstance)) {
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            if !group.def.slices.is_empty() {
                f(group);
            }
            each_sliced(group, f);
        }
    }
}

/// Visits the instances of the group at `path` (group names from the root, `/`-separated).
fn each_instance_at<'t>(inst: &'t GroupInstance, path: &str, f: &mut dyn FnMut(&'t GroupInstance)) {
    let (head, rest) = match path.split_once('/') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            if group.def.name == head {
                match rest {
                    None => f(group),
                    Some(r) => each_instance_at(group, r, f),
                }
            }
        }
    }
}

/// Message indexes of the segments with this id directly in `inst`.
fn direct_segments<'t>(inst: &'t GroupInstance, id: &'t str, message: &'t crate::er7::Message<'_>) -> impl Iterator<Item = usize> + 't {
    inst.items
        .iter()
        .filter_map(|it| match it {
            Item::Segment { segment, .. } => Some(*segment),
            _ => None,
        })
        .filter(move |i| message.segment_is(*i, id))
}

/// Whether the profile (or one it extends) prescribes the values of field `segment-field`:
/// a fixed value, a list, a table or a value set, in its segment constraints or in a slice's.
fn prescribed(def: &MessageDef, segment: &str, field: u16) -> bool {
    fn in_constraints(list: &[SegmentConstraints], segment: &str, field: u16) -> bool {
        list.iter().filter(|c| c.segment == segment).flat_map(|c| c.elements).any(|e| {
            e.field == field && e.component.is_none() && (e.fixed.is_some() || !e.values.is_empty() || e.table.is_some() || e.value_set.is_some())
        })
    }
    fn in_group(g: &GroupDef, segment: &str, field: u16) -> bool {
        g.slices.iter().any(|s| in_constraints(s.segments, segment, field))
            || g.children.iter().any(|c| matches!(c, Node::Group(inner) if in_group(inner, segment, field)))
    }
    std::iter::successors(Some(def), |d| d.extends)
        .take(16)
        .any(|d| in_constraints(d.segments, segment, field) || in_group(d.root, segment, field))
}

/// Whether a value of these raw bytes can be longer than `len` characters once decoded.
fn raw_exceeds(raw: &[u8], len: u32) -> bool {
    u32::try_from(raw.len()).map_or(true, |n| n > len)
}

/// An element's path in messages (`PID-5.1.2`), written only when a finding needs it: the
/// format checks visit every component of every field, and most find nothing.
#[derive(Clone, Copy)]
struct ElementPath<'p> {
    segment: &'p str,
    field: u16,
    components: [u16; 3],
    depth: usize,
}

impl<'p> ElementPath<'p> {
    fn field(segment: &'p str, field: u16) -> Self {
        ElementPath { segment, field, components: [0; 3], depth: 0 }
    }

    fn child(self, pos: u16) -> Self {
        let mut next = self;
        if let Some(slot) = next.components.get_mut(self.depth) {
            *slot = pos;
            next.depth += 1;
        }
        next
    }

    fn is_field(&self, segment: &str, field: u16) -> bool {
        self.depth == 0 && self.segment == segment && self.field == field
    }
}

impl std::fmt::Display for ElementPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.segment, self.field)?;
        for c in self.components.iter().take(self.depth) {
            write!(f, ".{c}")?;
        }
        Ok(())
    }
}
