//! The hand-kept rules (predicates and conformance statements of spec/HAND-FORMAT.md),
//! evaluated with the assertion language in every occurrence of their context.

use std::borrow::Cow;

use super::assertion::{self, Scope, Truth};
use super::finding::{code, Severity};
use crate::meta::{MessageDef, RuleDef, RuleKind, Usage};
use crate::structure::{GroupInstance, Item};
use crate::typed::Placed;

/// What one rule reports in one context occurrence.
pub(crate) struct Outcome {
    pub severity: Severity,
    pub code: u16,
    pub at: Option<Loc>,
    pub message: String,
}

/// Where an outcome is reported: a segment (message index), and the element in it when the
/// rule names one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Loc {
    pub segment: usize,
    pub field: Option<u32>,
    pub repetition: Option<u32>,
    pub component: Option<u32>,
    pub subcomponent: Option<u32>,
}

impl Loc {
    fn segment(segment: usize) -> Loc {
        Loc { segment, ..Loc::default() }
    }
}

/// A rule with everything its text decides parsed: its expression, its `location` and a
/// predicate's element path. Parsed once per process and profile ([`plan`]), never per
/// message.
pub(crate) struct Compiled {
    pub(crate) rule: &'static RuleDef,
    expr: Result<assertion::Expr, assertion::AssertionError>,
    /// `Some` when the rule names a `location`: the path, `None` when it does not parse.
    location: Option<Option<assertion::Ref>>,
    /// A predicate on an element path (`PV1-19`): `present(path)`, `None` when it does not
    /// parse. Not set for a segment or group path.
    target: Option<assertion::Expr>,
    /// The rule's context resolved in the profile's structure, or why it does not resolve.
    context: Result<assertion::Context, assertion::AssertionError>,
    /// What a failed conformance statement shows: the distinct paths its expression reads in
    /// the evaluated message (the first 6), each with its text.
    shown: Vec<(assertion::Ref, String)>,
}

impl Compiled {
    fn new(def: &'static MessageDef, rule: &'static RuleDef) -> Compiled {
        let target = match rule.kind {
            RuleKind::Predicate { path, .. } if path.contains('-') => assertion::parse(&format!("present({path})")).ok(),
            _ => None,
        };
        let context = assertion::Context::compile(def, rule.context);
        let expr = assertion::parse(rule.expression);
        let shown = expr.as_ref().map(shown).unwrap_or_default();
        Compiled { rule, expr, location: rule.location.map(parse_ref), target, context, shown }
    }

    /// The element path of [`Compiled::target`].
    fn target_ref(&self) -> Option<&assertion::Ref> {
        match &self.target {
            Some(assertion::Expr::Present(r)) => Some(r),
            _ => None,
        }
    }
}

/// The rules of a profile and the profiles it extends ([`MessageDef::all_rules`], in that
/// order), compiled once per process and kept for its life, as the definitions are
/// ([`crate::plan`]: found without a lock on every worker thread).
pub(crate) fn plan(def: &'static MessageDef) -> &'static [Compiled] {
    crate::plan::of(def, || def.all_rules().map(|r| Compiled::new(def, r)).collect::<Vec<_>>())
}

/// Evaluates a compiled rule in every occurrence of its context, spending one step per
/// occurrence plus the values and group items it reads; stops when the budget is spent.
/// `occurrences` is a list the caller reuses from rule to rule.
pub(crate) fn evaluate<'m, 'a>(
    placed: &'m Placed<'a>,
    walk: &assertion::Walk<'m, 'a>,
    compiled: &Compiled,
    original: Option<&'m crate::er7::Message<'a>>,
    budget: &mut super::engine::Budget,
    occurrences: &mut assertion::Occurrences<'m>,
) -> Vec<Outcome> {
    let rule = compiled.rule;
    let mut out = Vec::new();
    let expr = match &compiled.expr {
        Ok(e) => e,
        Err(e) => {
            // A spec bug, not a message defect: say so rather than pass silently.
            out.push(info(None, format!("rule {} was not evaluated: its expression does not parse ({e})", rule.id)));
            return out;
        }
    };
    match &compiled.context {
        Ok(context) => assertion::contexts_in(placed, walk, context, occurrences),
        Err(e) => {
            out.push(info(None, format!("rule {} was not evaluated: its context does not resolve ({e})", rule.id)));
            return out;
        }
    }
    // Finding the context's occurrences walked the structure once.
    if !budget.spend(occurrences.len() as u64) {
        return out;
    }
    // The memo is the validation's: only the work done from here on is this rule's.
    let mut work = walk.work();
    for occurrence in occurrences.iter() {
        let scope = &Scope { original, ..walk.scope(placed, occurrence) };
        let done = scope.memo.work();
        if !budget.spend(1 + done.saturating_sub(work)) {
            return out;
        }
        work = done;
        let at = scope.segment.or_else(|| scope.group.first_segment()).map(Loc::segment);
        let truth = assertion::eval(expr, scope);
        match rule.kind {
            RuleKind::Conformance { warning } => match truth {
                Truth::True => {}
                Truth::False => out.push(Outcome {
                    severity: if warning { Severity::Warning } else { Severity::Error },
                    code: code::APPLICATION_INTERNAL,
                    at: conformance_location(compiled, scope).or(at),
                    message: not_held(compiled, scope),
                }),
                Truth::Unknown => out.push(info(at, format!("{} was not evaluated: it reads the acknowledged message, which was not given", describe(rule)))),
            },
            RuleKind::Predicate { path, when_true, when_false } => {
                let usage = match truth {
                    Truth::True => when_true,
                    Truth::False => when_false,
                    Truth::Unknown => {
                        out.push(info(at, format!("the condition of {path} was not evaluated: it reads the acknowledged message, which was not given")));
                        continue;
                    }
                };
                let present = match presence(path, compiled, scope) {
                    Some(p) => p,
                    None => {
                        out.push(info(at, format!("the usage of {path} was not checked: the path does not resolve")));
                        continue;
                    }
                };
                let cond = if truth == Truth::True { "holds" } else { "does not hold" };
                // An element path is reported at that element of the segment it resolves to.
                let target = compiled.target_ref().and_then(|r| element_location(r, scope));
                match (usage, present) {
                    (Usage::R, false) => out.push(Outcome {
                        severity: Severity::Error,
                        code: code::REQUIRED_FIELD_MISSING,
                        at: target.or(at),
                        message: format!("{path} is required when `{}` {cond}, and is absent", rule.expression),
                    }),
                    (Usage::X, true) => out.push(Outcome {
                        severity: Severity::Error,
                        code: code::DATA_TYPE,
                        at: target.or(at),
                        message: format!("{path} must not be sent when `{}` {cond}", rule.expression),
                    }),
                    _ => {}
                }
            }
        }
    }
    out
}

fn describe(rule: &RuleDef) -> Cow<'static, str> {
    if rule.description.is_empty() {
        Cow::Owned(format!("rule {}", rule.id))
    } else {
        Cow::Borrowed(rule.description.trim_end_matches('.'))
    }
}

/// The message of a conformance statement that does not hold, written into one string:
/// `… does not hold: `OBR-2 = ORC-2` (OBR-2 'DEM-1', ORC-2 'DEM-2')`.
fn not_held(compiled: &Compiled, scope: &Scope<'_, '_>) -> String {
    use std::fmt::Write;
    let rule = compiled.rule;
    let mut out = String::with_capacity(rule.description.len() + rule.expression.len() + 32 * (1 + compiled.shown.len()));
    // Writing to a String cannot fail.
    let _ = write!(out, "{} does not hold: `{}`", describe(rule), rule.expression);
    values_read(compiled, scope, &mut out);
    out
}

fn info(at: Option<Loc>, message: String) -> Outcome {
    Outcome { severity: Severity::Info, code: code::ACCEPTED, at, message }
}

/// Where a failed conformance statement is reported: its `location` element when it has one,
/// else the element it constrains, the first (non-`original.`) path its assertion reads, at
/// the segment occurrence that path resolves to in this scope. `None` when the statement reads
/// no element or the element's segment is not in the message (the caller falls back to the
/// context).
fn conformance_location(compiled: &Compiled, scope: &Scope<'_, '_>) -> Option<Loc> {
    match &compiled.location {
        Some(r) => r.as_ref().and_then(|r| element_location(r, scope)),
        // The first path of `shown` is the first the expression reads (`original.` aside).
        None => compiled.shown.first().and_then(|(r, _)| element_location(r, scope)),
    }
}

/// An element path of the assertion language (`OBR-2`, `PID-3[2].4.2`) on its own.
fn parse_ref(text: &str) -> Option<assertion::Ref> {
    match assertion::parse(&format!("present({text})")) {
        Ok(assertion::Expr::Present(r)) => Some(r),
        _ => None,
    }
}

/// The element `r` designates in `scope`: the segment occurrence it resolves to, the
/// repetition (explicit, or the scope's own in a `SEG-f[*]` context), component, subcomponent.
fn element_location(r: &assertion::Ref, scope: &Scope<'_, '_>) -> Option<Loc> {
    let segment = assertion::locate(scope, r)?;
    let repetition = r.repetition.map(u32::from).or_else(|| match scope.repetition {
        Some((s, f, rep)) if s == segment && f == r.field => u32::try_from(rep).ok(),
        _ => None,
    });
    Some(Loc {
        segment,
        field: Some(u32::from(r.field)),
        repetition,
        component: r.component.map(u32::from),
        subcomponent: r.subcomponent.map(u32::from),
    })
}

/// Whether the predicate's target is present in the scope: an element path (`PV1-19`), a
/// segment id (`ERR`) or a group path (`PATIENT_RESULT/ORDER_OBSERVATION/OBSERVATION`,
/// matched on its last name among the scope's descendants).
fn presence(path: &str, compiled: &Compiled, scope: &Scope<'_, '_>) -> Option<bool> {
    if path.contains('-') {
        let expr = compiled.target.as_ref()?;
        return Some(assertion::eval(expr, scope) == Truth::True);
    }
    let last = path.rsplit('/').next().unwrap_or(path);
    let is_segment = last.len() == 3 && last.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let mut found = false;
    if is_segment {
        let mut segs = Vec::new();
        scope.group.all_segments(&mut segs);
        found = segs.iter().any(|i| scope.placed.message.segment(*i).is_some_and(|s| s.id() == last));
    } else {
        any_group(scope.group, last, &mut found);
    }
    Some(found)
}

fn any_group(inst: &GroupInstance, name: &str, found: &mut bool) {
    for it in &inst.items {
        if let Item::Group { group, .. } = it {
            if group.def.name == name {
                *found = true;
                return;
            }
            any_group(group, name, found);
        }
    }
}

/// The paths a failure shows ([`Compiled::shown`]): those the expression reads, `original.`
/// ones aside, each once, the first 6, with their text; worked out with the plan, so that a
/// failure only reads the values.
fn shown(expr: &assertion::Expr) -> Vec<(assertion::Ref, String)> {
    let (refs, _) = expr.reads();
    let mut out: Vec<(assertion::Ref, String)> = Vec::new();
    for r in refs.into_iter().filter(|r| !r.original) {
        if out.len() == 6 {
            break;
        }
        if !out.iter().any(|(seen, _)| seen == r) {
            out.push((r.clone(), r.to_string()));
        }
    }
    out
}

/// The values the expression's paths read here, so a person sees why it failed, added to
/// `out`: ` (OBR-2 'DEM-1', ORC-2 'DEM-2')`.
fn values_read(compiled: &Compiled, scope: &Scope<'_, '_>, out: &mut String) {
    for (i, (r, label)) in compiled.shown.iter().enumerate() {
        out.push_str(if i == 0 { " (" } else { ", " });
        out.push_str(label);
        assertion::with_value(scope, r, |v| match v {
            Some(v) => {
                out.push_str(" '");
                out.push_str(v);
                out.push('\'');
            }
            None => out.push_str(" absent"),
        });
    }
    if !compiled.shown.is_empty() {
        out.push(')');
    }
}

