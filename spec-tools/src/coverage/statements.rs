//! The failable statements of a spec folder, read from the checked model (tables, hand files,
//! common rules) and from `telerad/engine_rules.json` (what the engine checks natively).

use std::collections::BTreeSet;

use hl7_codegen::model::{Discriminator, ElementConstraint, ElementPath, Group, Model, Node, Profile, RuleKind, Usage, Violation};
use hl7_runtime::meta::UNBOUNDED;
use hl7_runtime::validate::{Finding, Severity};

/// One failable statement and how to break it.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The profile whose fixtures prove it (`common` statements are proven in the first
    /// profile that includes them).
    pub profile: String,
    /// What it says, readable and unique in the report (`[modality] OBX-11 fixed 'O'`).
    pub what: String,
    /// Provenance in the guide.
    pub src: String,
    /// The finding a breach must produce (its location is settled by the case).
    pub expect: Expect,
    pub how: How,
    /// Why no message can break it, for a statement the guide writes but the structure
    /// already decides (listed, not counted).
    pub not_failable: Option<String>,
    /// Why a failable statement has no case (counted, not proven).
    pub unprovable: Option<String>,
}

/// The finding a case must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub severity: Severity,
    /// HL7 table 0357.
    pub code: u16,
    /// ERL location (`OBX[3]-4`); with `prefix`, any location that starts with it.
    pub at: Option<String>,
    pub prefix: bool,
    /// The rule id the finding carries.
    pub rule: String,
    /// A text the finding's message must contain (the element or slice name of a structure
    /// finding, whose location is the group's first segment).
    pub message: Option<String>,
}

impl Expect {
    pub fn matches(&self, f: &Finding) -> bool {
        let loc = f.location.to_string();
        f.severity == self.severity
            && f.code == self.code
            && f.rule == self.rule
            && self.at.as_deref().is_none_or(|a| if self.prefix { loc.starts_with(a) } else { loc == a })
            && self.message.as_deref().is_none_or(|m| f.message.contains(m))
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = self.severity.word();
        write!(f, "{sev} {} at {}{} rule {}", self.code, self.at.as_deref().unwrap_or("*"), if self.prefix { "*" } else { "" }, self.rule)?;
        if let Some(m) = &self.message {
            write!(f, " saying '{m}'")?;
        }
        Ok(())
    }
}

/// Where an element constraint applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every occurrence of the segment, or those directly in this group.
    Message { group: Option<String> },
    /// The occurrences directly in the group instances that match the slice.
    Slice { group: String, name: String },
}

/// How a statement is broken.
#[derive(Debug, Clone)]
pub enum How {
    /// Change one element of one occurrence in scope.
    Element { scope: Scope, segment: String, field: u16, component: Option<u16>, subcomponent: Option<u16>, change: Change },
    /// Remove every occurrence of a segment or group in one parent instance (`Bound::Min`), or
    /// add occurrences past its maximum.
    Node { parent: String, name: String, group: bool, bound: Bound },
    /// The same for the instances of a slice.
    Slice { group: String, name: String, bound: Bound },
    /// Written counterexamples (rules and the engine's own checks).
    Written { violations: Vec<Violation> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Min(u32),
    Max(u32),
}

/// What the element is changed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Emptied (usage R).
    Empty,
    /// Given a value (usage X).
    Present,
    /// A value other than the fixed one.
    NotFixed(String),
    /// A value outside the list: a code of the element's table when one is outside the list
    /// (so the value is otherwise well formed), else a made-up one.
    NotInList { list: Vec<String>, table: Vec<String> },
    /// A code outside the table (the element's first component when it is composite).
    NotInTable { table: String, composite: bool },
    /// A code outside the value set.
    NotInValueSet(String),
    /// A value of the wrong form for the datatype.
    BadFormat(String),
}

/// HL7 table 0357 codes of the header conditions (what the engine reports for MSH-9, MSH-11
/// and MSH-12 instead of 103).
fn header_code(path: &str) -> Option<u16> {
    match path {
        "MSH-9.1" | "MSH-9" => Some(200),
        "MSH-9.2" => Some(201),
        "MSH-11" | "MSH-11.1" => Some(202),
        "MSH-12" | "MSH-12.1" => Some(203),
        _ => None,
    }
}

/// Datatypes whose values have a form the validator checks.
fn has_format(datatype: &str) -> bool {
    matches!(datatype, "DT" | "DTM" | "TM" | "NM" | "SI" | "TS" | "ED")
}

/// Every failable statement of the model, in spec order (profiles by id, then structure,
/// slices, element constraints, rules), then the engine's own rules.
pub fn collect(model: &Model) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut common_seen = BTreeSet::new();
    for p in &model.profiles {
        let mut list = Vec::new();
        structure(p, &p.root, &mut list);
        for sc in &p.segments {
            let scope = Scope::Message { group: sc.group.clone() };
            for ec in &sc.elements {
                element(model, p, &scope, ec, &mut list);
            }
        }
        slices(model, p, &p.root, &mut list);
        for r in &p.rules {
            let violations = r.violations.clone();
            match &r.kind {
                RuleKind::Conformance { warning } => {
                    let severity = if *warning { Severity::Warning } else { Severity::Error };
                    list.push(Statement {
                        profile: p.id.clone(),
                        what: format!("{} `{}`", r.id, r.expression),
                        src: r.src.clone(),
                        expect: Expect { severity, code: 207, at: None, prefix: false, rule: r.id.clone(), message: None },
                        how: How::Written { violations },
                        not_failable: None,
                unprovable: None,
                    });
                }
                RuleKind::Predicate { path, when_true, when_false } => {
                    for (branch, usage) in [("true", when_true), ("false", when_false)] {
                        let code = match usage {
                            Usage::R => 101,
                            Usage::X => 102,
                            _ => continue,
                        };
                        let mine: Vec<Violation> = violations.iter().filter(|v| v.code == code).cloned().collect();
                        list.push(Statement {
                            profile: p.id.clone(),
                            what: format!("{} {path} {} when `{}` is {branch}", r.id, usage.code(), r.expression),
                            src: r.src.clone(),
                            expect: Expect { severity: Severity::Error, code, at: None, prefix: false, rule: r.id.clone(), message: None },
                            how: How::Written { violations: mine },
                            not_failable: None,
                unprovable: None,
                        });
                    }
                }
            }
        }
        for st in list {
            // The common constraints and rules are included in every flow: one statement each.
            if is_common(&st) {
                let key = (st.what.clone(), st.src.clone(), st.expect.rule.clone());
                if !common_seen.insert(key) {
                    continue;
                }
            }
            out.push(st);
        }
    }
    out.extend(engine_rules(model));
    out
}

fn is_common(st: &Statement) -> bool {
    st.src.starts_with("st-contraintes.md") || st.src.starts_with("PAM-FR") || st.expect.rule.starts_with("C-")
}

fn structure(p: &Profile, g: &Group, out: &mut Vec<Statement>) {
    for child in &g.children {
        let (name, src, usage, group) = match child {
            Node::Segment(s) => (s.id.clone(), s.src.clone(), s.usage, false),
            Node::Group(c) => (c.name.clone(), c.src.clone(), c.usage, true),
        };
        let at = if g.path.is_empty() { name.clone() } else { format!("{}/{name}", g.path) };
        // MSH is read by the parser before any structure exists: a message without it, or
        // with a second one, does not parse, and that is the finding.
        let msh = g.path.is_empty() && name == "MSH";
        let expect = Expect {
            severity: Severity::Error,
            code: 100,
            at: None,
            prefix: false,
            rule: if msh { "parse" } else { "structure" }.into(),
            message: None,
        };
        // The only segment that can open its group: an instance exists only with it, and a
        // second one opens the next instance, so its own bounds cannot be broken (the group's
        // are, and are statements of their own).
        let opener = !g.path.is_empty() && g.first.len() == 1 && g.first[0] == name && !group;
        let not_failable = opener.then(|| format!("{name} alone opens {}: without it there is no {}, and a second one opens the next", g.path, g.name));
        let mut push = |bound: Bound, what: String| {
            out.push(Statement {
                profile: p.id.clone(),
                what,
                src: src.clone(),
                expect: expect.clone(),
                how: How::Node { parent: g.path.clone(), name: name.clone(), group, bound },
                not_failable: not_failable.clone(),
                unprovable: None,
            })
        };
        if child.min() >= 1 && !g.choice {
            push(Bound::Min(child.min()), format!("{at} {} min {}", usage.code(), child.min()));
        }
        if child.max() != UNBOUNDED {
            push(Bound::Max(child.max()), format!("{at} {} max {}", usage.code(), child.max()));
        }
        if let Node::Group(c) = child {
            structure(p, c, out);
        }
    }
}

fn slices(model: &Model, p: &Profile, g: &Group, out: &mut Vec<Statement>) {
    for s in &g.slices {
        let label = format!("{}:{}", g.path, s.name);
        let expect = Expect { severity: Severity::Error, code: 100, at: None, prefix: false, rule: "structure".into(), message: Some(format!(":{}", s.name)) };
        for bound in [(s.min >= 1).then_some(Bound::Min(s.min)), (s.max != UNBOUNDED).then_some(Bound::Max(s.max))].into_iter().flatten() {
            let what = match bound {
                Bound::Min(n) => format!("{label} {} min {n}", s.usage.code()),
                Bound::Max(n) => format!("{label} {} max {n}", s.usage.code()),
            };
            out.push(Statement {
                profile: p.id.clone(),
                what,
                src: s.src.clone(),
                expect: expect.clone(),
                how: How::Slice { group: g.path.clone(), name: s.name.clone(), bound },
                not_failable: None,
                unprovable: None,
            });
        }
        let scope = Scope::Slice { group: g.path.clone(), name: s.name.clone() };
        let discriminators: Vec<&ElementPath> = s
            .discriminator
            .iter()
            .map(|d| match d {
                Discriminator::Value { path, .. } | Discriminator::SubIdSuffix { path, .. } => path,
            })
            .collect();
        for sc in &s.segments {
            for ec in &sc.elements {
                let start = out.len();
                element(model, p, &scope, ec, out);
                // An element the slice is told apart by: another value makes the OBSERVATION
                // another kind (or none), it does not break this slice.
                if let Some(d) = discriminators.iter().find(|d| encloses(&ec.path, d)) {
                    for st in &mut out[start..] {
                        st.not_failable = Some(format!("{} tells the slice {} apart ({}): another value is another kind of {}", ec.path.text, s.name, d.text, g.name));
                    }
                }
            }
        }
    }
    for child in &g.children {
        if let Node::Group(c) = child {
            slices(model, p, c, out);
        }
    }
}

/// Whether `outer` is `inner` or one of its parents (OBX-3 encloses OBX-3.1).
fn encloses(outer: &ElementPath, inner: &ElementPath) -> bool {
    outer.segment == inner.segment
        && outer.field == inner.field
        && (outer.component.is_none() || outer.component == inner.component)
        && (outer.subcomponent.is_none() || outer.subcomponent == inner.subcomponent)
}

/// The datatype of an element, from the base definitions (`None` for OBX-5, whose datatype is
/// OBX-2's value).
fn datatype_of(model: &Model, segment: &str, field: u16, component: Option<u16>, subcomponent: Option<u16>) -> Option<String> {
    let f = model.segments.get(segment)?.fields.get(usize::from(field).checked_sub(1)?)?;
    let mut dt = f.datatype.clone()?;
    for pos in [component, subcomponent].into_iter().flatten() {
        let d = model.datatypes.get(&dt)?;
        dt = d.components.get(usize::from(pos).checked_sub(1)?)?.datatype.clone();
    }
    Some(dt)
}

fn element(model: &Model, p: &Profile, scope: &Scope, ec: &ElementConstraint, out: &mut Vec<Statement>) {
    let path = &ec.path;
    let (label, suffix) = match scope {
        Scope::Message { group: None } => (String::new(), String::new()),
        Scope::Message { group: Some(g) } => (format!("{g} "), String::new()),
        Scope::Slice { name, .. } => (format!("[{name}] "), format!(":{name}")),
    };
    let base_dt = datatype_of(model, &path.segment, path.field, path.component, path.subcomponent);
    let composite = base_dt.as_deref().and_then(|d| model.datatypes.get(d)).is_some_and(|d| !d.components.is_empty());
    let separators = path.segment == "MSH" && path.field <= 2;
    let mut push = |what: String, rule: &str, code: u16, change: Change| {
        out.push(Statement {
            profile: p.id.clone(),
            what: format!("{label}{} {what}", path.text),
            src: ec.src.clone(),
            expect: Expect { severity: Severity::Error, code, at: None, prefix: false, rule: format!("{rule}{suffix}"), message: None },
            how: How::Element { scope: scope.clone(), segment: path.segment.clone(), field: path.field, component: path.component, subcomponent: path.subcomponent, change },
            not_failable: (separators && what == "R").then(|| "MSH-1 and MSH-2 are the separators: every message that parses has them".to_owned()),
            unprovable: None,
        });
    };
    match ec.usage {
        Some(Usage::R) => push("R".into(), "usage", 101, Change::Empty),
        Some(Usage::X) => push("X".into(), "usage", 102, Change::Present),
        _ => {}
    }
    let header = header_code(&path.text);
    if let Some(v) = &ec.fixed {
        push(format!("fixed '{v}'"), "fixed", header.unwrap_or(103), Change::NotFixed(v.clone()));
    }
    let table_codes: Vec<String> = ec.table.as_ref().and_then(|t| model.tables.get(t)).map(|t| t.values.iter().map(|(c, _)| c.clone()).collect()).unwrap_or_default();
    if !ec.values.is_empty() {
        push(format!("in ({})", ec.values.join(", ")), "values", header.unwrap_or(103), Change::NotInList { list: ec.values.clone(), table: table_codes.clone() });
    }
    if let Some(t) = &ec.table {
        // A fixed value or a list narrower than the table is checked first, and a value
        // outside the table is outside it too: that is the finding a breach of the table gets.
        match (&ec.fixed, ec.values.is_empty()) {
            (Some(v), _) => push(format!("table {t} (through its fixed value)"), "fixed", header.unwrap_or(103), Change::NotFixed(v.clone())),
            (None, false) => push(format!("table {t} (through its value list)"), "values", header.unwrap_or(103), Change::NotInList { list: ec.values.clone(), table: table_codes.clone() }),
            (None, true) => push(format!("table {t}"), "table", 103, Change::NotInTable { table: t.clone(), composite }),
        }
    }
    if let Some((vs, _)) = &ec.value_set {
        push(format!("value set {vs}"), "value-set", 103, Change::NotInValueSet(vs.clone()));
        if model.value_sets.get(vs).is_some_and(|v| !v.available) {
            if let Some(st) = out.last_mut() {
                // Failable, and not proven: the validator says it did not check.
                st.how = How::Written { violations: Vec::new() };
                st.unprovable = Some(format!("{vs} is not available offline: the validator reports an info that the code was not checked"));
            }
        }
    }
    if let Some(dt) = ec.datatype.as_deref().filter(|d| has_format(d)) {
        let rule = if dt == "ED" { "ED-BASE64" } else { "format" };
        out.push(Statement {
            profile: p.id.clone(),
            what: format!("{label}{} datatype {dt}", path.text),
            src: ec.src.clone(),
            // Formats are checked on every occurrence by the base definitions (OBX-5 by OBX-2's
            // value): the finding carries the format rule, not the slice's.
            expect: Expect { severity: Severity::Error, code: 102, at: None, prefix: true, rule: rule.into(), message: None },
            how: How::Element { scope: scope.clone(), segment: path.segment.clone(), field: path.field, component: path.component, subcomponent: path.subcomponent, change: Change::BadFormat(dt.to_owned()) },
            not_failable: None,
                unprovable: None,
        });
    }
}

/// `telerad/engine_rules.json`: the checks the engine makes natively.
fn engine_rules(model: &Model) -> Vec<Statement> {
    model
        .engine_rules
        .iter()
        .map(|r| Statement {
            profile: r.profile.clone(),
            what: format!("{} {}", r.id, r.description),
            src: r.src.clone(),
            expect: Expect {
                severity: if r.severity.as_deref() == Some("warning") { Severity::Warning } else { Severity::Error },
                code: r.code,
                at: None,
                prefix: false,
                rule: r.id.clone(),
                message: None,
            },
            how: How::Written { violations: r.violations.clone() },
            not_failable: None,
            unprovable: None,
        })
        .collect()
}
