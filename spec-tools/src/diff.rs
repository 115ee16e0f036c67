//! `hl7-codegen diff OLD NEW`: what changed between two spec folders, in HL7 terms (profiles,
//! structures, slices, constraints, code tables, base segments and datatypes) and in terms of
//! the generated Rust API, each API change classified breaking or not.
//!
//! The API side is computed, not guessed: both models are turned into the list of public items
//! the emitter would generate (types, accessors and their return shapes, builder fields and
//! `new` parameters) following the same rules as `hl7_codegen::emit`, the two lists are diffed,
//! and each API change is attached to the HL7 change that caused it (the change at the same
//! path, or the addition/removal of an ancestor). An API change no HL7 change explains (a
//! renamed accessor after a name collision, say) gets an entry of its own, `api_changed`.
//!
//! Report format and exit codes: spec-tools/README.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use hl7_codegen::model::{DataType, Discriminator, ElementConstraint, Group, Model, Node, Profile, SegmentConstraints, Slice, Usage, UNBOUNDED};
use hl7_codegen::api::{children, surface, ItemKind, Surface};
use serde::Serialize;

/// Exit code: the two folders define the same thing.
pub const EXIT_SAME: u8 = 0;
/// Exit code: something changed (breaking or not, unless `--fail-on-breaking`).
pub const EXIT_CHANGED: u8 = 1;
/// Exit code: a folder cannot be read or does not check, or the report cannot be written.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: breaking API changes, with `--fail-on-breaking`.
pub const EXIT_BREAKING: u8 = 3;

/// Loads both folders, prints the report (text or JSON) on stdout, and returns the exit code:
/// 0 no change, 1 changes, 3 breaking changes when `fail_on_breaking`, 2 when a folder does
/// not load (its spec problems are printed on stderr) or stdout cannot be written.
pub fn run(old: &Path, new: &Path, json: bool, fail_on_breaking: bool) -> ExitCode {
    // A mistyped folder would otherwise show as one "cannot read" per spec file.
    let missing: Vec<&Path> = [old, new].into_iter().filter(|d| !d.is_dir()).collect();
    if !missing.is_empty() {
        for d in missing {
            eprintln!("hl7-codegen diff: {}: not a folder", d.display());
        }
        return ExitCode::from(EXIT_ERROR);
    }
    let a = crate::codegen_config(old).model();
    let b = crate::codegen_config(new).model();
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            // Both folders' problems at once, so one run tells the whole story.
            for (dir, r) in [(old, a.err()), (new, b.err())] {
                if let Some(e) = r {
                    eprint!("hl7-codegen diff: {}: {e}", dir.display());
                }
            }
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let report = diff(&a, &b);
    let text = if json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("hl7-codegen diff: cannot write the JSON report: {e}");
                return ExitCode::from(EXIT_ERROR);
            }
        }
    } else {
        report.to_string()
    };
    // A closed pipe (`| head`) is an error to report, not a panic as with `print!`.
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        eprintln!("hl7-codegen diff: cannot write the report: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    ExitCode::from(report.exit_code(fail_on_breaking))
}

/// Every change from `old` to `new`: base definitions first, then profiles by id.
pub fn diff(old: &Model, new: &Model) -> Report {
    let mut d = Differ::default();
    d.datatypes(old, new);
    d.segments(old, new);
    d.tables(old, new);
    d.profiles(old, new);
    let api = api_changes(&surface(old), &surface(new));
    let mut changes = d.changes;
    attach(&mut changes, api);
    // `api_changed` entries were appended; stable sort brings them into their profile's run.
    changes.sort_by(|a, b| a.profile.cmp(&b.profile));
    for c in &mut changes {
        c.breaking = c.api.iter().any(|a| a.ends_with(BREAKING_MARK));
    }
    Report { changes }
}

const BREAKING_MARK: &str = " (breaking)";

/// The result of [`diff`]: `Display` is the text report, `Serialize` the JSON one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<Change>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
    pub fn has_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking)
    }
    /// The command's exit code for this report (see [`run`]).
    pub fn exit_code(&self, fail_on_breaking: bool) -> u8 {
        if self.is_empty() {
            EXIT_SAME
        } else if fail_on_breaking && self.has_breaking() {
            EXIT_BREAKING
        } else {
            EXIT_CHANGED
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no changes");
        }
        for c in &self.changes {
            writeln!(f, "{c}")?;
            for a in &c.api {
                writeln!(f, "    {a}")?;
            }
        }
        let breaking = self.changes.iter().filter(|c| c.breaking).count();
        writeln!(f, "{} change(s), {breaking} breaking", self.changes.len())
    }
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Summary {
            changes: usize,
            breaking: usize,
        }
        #[derive(Serialize)]
        struct Json<'a> {
            summary: Summary,
            changes: &'a [Change],
        }
        let summary = Summary { changes: self.changes.len(), breaking: self.changes.iter().filter(|c| c.breaking).count() };
        Json { summary, changes: &self.changes }.serialize(serializer)
    }
}

/// One change. `profile` is `None` for the base definitions (segments, datatypes, tables).
/// `path` is a group path (`ORDER/ORDER_DETAIL/OBSERVATION`), a slice (`…/OBSERVATION:modality`),
/// an element (`ORC-2.4`, inside a slice `…/OBSERVATION:modality/OBX-5`), a base segment, field,
/// datatype or component (`PID`, `PID-3`, `CX`, `CX.1`), or a table id; empty for the profile
/// itself. `old`/`new` are `None` for "absent". `api` lists the generated-API consequences, one
/// line each, `item: old → new`, ending in ` (breaking)` when breaking; `breaking` is true when
/// one of them is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: Kind,
    pub profile: Option<String>,
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub breaking: bool,
    pub api: Vec<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.profile.as_deref().unwrap_or("base"))?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        let none = "(none)";
        if self.kind.is_added() {
            write!(f, " + {}", self.new.as_deref().unwrap_or(none))?;
        } else if self.kind.is_removed() {
            write!(f, " - {}", self.old.as_deref().unwrap_or(none))?;
        } else if self.kind == Kind::ApiChanged {
            f.write_str(" generated API changed")?;
        } else {
            write!(f, " {} {} → {}", self.kind.aspect(), self.old.as_deref().unwrap_or(none), self.new.as_deref().unwrap_or(none))?;
        }
        if self.breaking {
            f.write_str(BREAKING_MARK)?;
        }
        Ok(())
    }
}

/// What changed. Serialized in snake case (`usage_changed`); the set only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    ProfileAdded,
    ProfileRemoved,
    /// MSH-9 of the profile (`ORM^O01^ORM_O01`).
    MessageChanged,
    TitleChanged,
    /// A segment in a structure (profile set) or in segments.json (profile `None`).
    SegmentAdded,
    SegmentRemoved,
    GroupAdded,
    GroupRemoved,
    /// A group became a choice or back.
    ChoiceChanged,
    /// The children of a group kept their names but not their order.
    OrderChanged,
    UsageChanged,
    CardinalityChanged,
    SliceAdded,
    SliceRemoved,
    DiscriminatorChanged,
    /// The OBX-5 datatype of a slice (from its OBX-2 fixed value).
    ValueTypeChanged,
    ConstraintAdded,
    ConstraintRemoved,
    FixedChanged,
    ValuesChanged,
    TableChanged,
    ValueSetChanged,
    DatatypeChanged,
    LenChanged,
    NameChanged,
    FieldAdded,
    FieldRemoved,
    ComponentAdded,
    ComponentRemoved,
    DatatypeAdded,
    DatatypeRemoved,
    TableAdded,
    TableRemoved,
    CodeAdded,
    CodeRemoved,
    CodeDescriptionChanged,
    /// Generated API changes no HL7 change explains (e.g. a name moved by collision handling).
    ApiChanged,
}

impl Kind {
    fn is_added(self) -> bool {
        matches!(self, Kind::ProfileAdded | Kind::SegmentAdded | Kind::GroupAdded | Kind::SliceAdded | Kind::ConstraintAdded | Kind::FieldAdded | Kind::ComponentAdded | Kind::DatatypeAdded | Kind::TableAdded | Kind::CodeAdded)
    }
    fn is_removed(self) -> bool {
        matches!(
            self,
            Kind::ProfileRemoved | Kind::SegmentRemoved | Kind::GroupRemoved | Kind::SliceRemoved | Kind::ConstraintRemoved | Kind::FieldRemoved | Kind::ComponentRemoved | Kind::DatatypeRemoved | Kind::TableRemoved | Kind::CodeRemoved
        )
    }
    /// The word of the text report for a change of one aspect.
    fn aspect(self) -> &'static str {
        match self {
            Kind::MessageChanged => "message",
            Kind::TitleChanged => "title",
            Kind::ChoiceChanged => "kind",
            Kind::OrderChanged => "order",
            Kind::UsageChanged => "usage",
            Kind::CardinalityChanged => "cardinality",
            Kind::DiscriminatorChanged => "discriminator",
            Kind::ValueTypeChanged => "OBX-5 datatype",
            Kind::FixedChanged => "fixed",
            Kind::ValuesChanged => "values",
            Kind::TableChanged => "table",
            Kind::ValueSetChanged => "value set",
            Kind::DatatypeChanged => "datatype",
            Kind::LenChanged => "len",
            Kind::NameChanged => "name",
            Kind::CodeDescriptionChanged => "description",
            _ => "change",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HL7 side

#[derive(Default)]
struct Differ {
    changes: Vec<Change>,
}

fn card(min: u32, max: u32) -> String {
    if max == UNBOUNDED {
        format!("{min}..*")
    } else {
        format!("{min}..{max}")
    }
}

fn opt_card(min: Option<u32>, max: Option<u32>) -> Option<String> {
    if min.is_none() && max.is_none() {
        return None;
    }
    let max = max.map(|m| if m == UNBOUNDED { "*".to_owned() } else { m.to_string() });
    Some(format!("{}..{}", min.map(|m| m.to_string()).unwrap_or_default(), max.unwrap_or_default()))
}

impl Differ {
    fn push(&mut self, kind: Kind, profile: Option<&str>, path: impl Into<String>, old: Option<String>, new: Option<String>) {
        self.changes.push(Change { kind, profile: profile.map(str::to_owned), path: path.into(), old, new, breaking: false, api: Vec::new() });
    }

    /// One aspect of something present on both sides: an entry only when it differs.
    fn aspect<T: PartialEq + ToString>(&mut self, kind: Kind, profile: Option<&str>, path: &str, old: Option<T>, new: Option<T>) {
        if old != new {
            self.push(kind, profile, path, old.map(|v| v.to_string()), new.map(|v| v.to_string()));
        }
    }

    fn datatypes(&mut self, old: &Model, new: &Model) {
        for (id, a) in &old.datatypes {
            if !new.datatypes.contains_key(id) {
                self.push(Kind::DatatypeRemoved, None, id, Some(datatype_desc(a)), None);
            }
        }
        for (id, b) in &new.datatypes {
            let Some(a) = old.datatypes.get(id) else {
                self.push(Kind::DatatypeAdded, None, id, None, Some(datatype_desc(b)));
                continue;
            };
            self.aspect(Kind::NameChanged, None, id, Some(&a.name), Some(&b.name));
            let n = a.components.len().max(b.components.len());
            for i in 0..n {
                let path = format!("{id}.{}", i + 1);
                match (a.components.get(i), b.components.get(i)) {
                    (Some(x), None) => self.push(Kind::ComponentRemoved, None, path, Some(member_desc(&x.name, Some(&x.datatype), x.usage, None)), None),
                    (None, Some(y)) => self.push(Kind::ComponentAdded, None, path, None, Some(member_desc(&y.name, Some(&y.datatype), y.usage, None))),
                    (Some(x), Some(y)) => {
                        self.aspect(Kind::NameChanged, None, &path, Some(&x.name), Some(&y.name));
                        self.aspect(Kind::DatatypeChanged, None, &path, Some(&x.datatype), Some(&y.datatype));
                        self.aspect(Kind::UsageChanged, None, &path, Some(x.usage.code()), Some(y.usage.code()));
                        self.aspect(Kind::LenChanged, None, &path, x.len, y.len);
                        self.aspect(Kind::TableChanged, None, &path, x.table.as_ref(), y.table.as_ref());
                    }
                    (None, None) => {}
                }
            }
        }
    }

    fn segments(&mut self, old: &Model, new: &Model) {
        for (id, a) in &old.segments {
            if !new.segments.contains_key(id) {
                self.push(Kind::SegmentRemoved, None, id, Some(format!("\"{}\"", a.name)), None);
            }
        }
        for (id, b) in &new.segments {
            let Some(a) = old.segments.get(id) else {
                self.push(Kind::SegmentAdded, None, id, None, Some(format!("\"{}\"", b.name)));
                continue;
            };
            self.aspect(Kind::NameChanged, None, id, Some(&a.name), Some(&b.name));
            let n = a.fields.len().max(b.fields.len());
            for i in 0..n {
                let path = format!("{id}-{}", i + 1);
                let dt = |f: &hl7_codegen::model::Field| f.datatype.clone().unwrap_or_else(|| "varies".to_owned());
                match (a.fields.get(i), b.fields.get(i)) {
                    (Some(x), None) => self.push(Kind::FieldRemoved, None, path, Some(member_desc(&x.name, Some(&dt(x)), x.usage, Some((x.min, x.max)))), None),
                    (None, Some(y)) => self.push(Kind::FieldAdded, None, path, None, Some(member_desc(&y.name, Some(&dt(y)), y.usage, Some((y.min, y.max))))),
                    (Some(x), Some(y)) => {
                        self.aspect(Kind::NameChanged, None, &path, Some(&x.name), Some(&y.name));
                        self.aspect(Kind::DatatypeChanged, None, &path, Some(dt(x)), Some(dt(y)));
                        self.aspect(Kind::UsageChanged, None, &path, Some(x.usage.code()), Some(y.usage.code()));
                        self.aspect(Kind::CardinalityChanged, None, &path, Some(card(x.min, x.max)), Some(card(y.min, y.max)));
                        self.aspect(Kind::LenChanged, None, &path, x.len, y.len);
                        self.aspect(Kind::TableChanged, None, &path, x.table.as_ref(), y.table.as_ref());
                    }
                    (None, None) => {}
                }
            }
        }
    }

    fn tables(&mut self, old: &Model, new: &Model) {
        for (id, a) in &old.tables {
            if !new.tables.contains_key(id) {
                self.push(Kind::TableRemoved, None, id, Some(format!("\"{}\"", a.name)), None);
            }
        }
        for (id, b) in &new.tables {
            let Some(a) = old.tables.get(id) else {
                self.push(Kind::TableAdded, None, id, None, Some(format!("\"{}\"", b.name)));
                continue;
            };
            self.aspect(Kind::NameChanged, None, id, Some(&a.name), Some(&b.name));
            let olds: BTreeMap<&str, &str> = a.values.iter().map(|(c, d)| (c.as_str(), d.as_str())).collect();
            let news: BTreeMap<&str, &str> = b.values.iter().map(|(c, d)| (c.as_str(), d.as_str())).collect();
            for (code, _) in &a.values {
                if !news.contains_key(code.as_str()) {
                    self.push(Kind::CodeRemoved, None, id, Some(code.clone()), None);
                }
            }
            for (code, desc) in &b.values {
                match olds.get(code.as_str()) {
                    None => self.push(Kind::CodeAdded, None, id, None, Some(code.clone())),
                    Some(od) if od != desc => self.push(Kind::CodeDescriptionChanged, None, id, Some(format!("{code} \"{od}\"")), Some(format!("{code} \"{desc}\""))),
                    Some(_) => {}
                }
            }
        }
    }

    fn profiles(&mut self, old: &Model, new: &Model) {
        let ids: BTreeSet<&str> = old.profiles.iter().chain(&new.profiles).map(|p| p.id.as_str()).collect();
        for id in ids {
            let a = old.profiles.iter().find(|p| p.id == id);
            let b = new.profiles.iter().find(|p| p.id == id);
            match (a, b) {
                (Some(a), None) => self.push(Kind::ProfileRemoved, Some(id), "", Some(profile_desc(a)), None),
                (None, Some(b)) => self.push(Kind::ProfileAdded, Some(id), "", None, Some(profile_desc(b))),
                (Some(a), Some(b)) => self.profile(a, b),
                (None, None) => {}
            }
        }
    }

    fn profile(&mut self, a: &Profile, b: &Profile) {
        let p = Some(a.id.as_str());
        self.aspect(Kind::MessageChanged, p, "", Some(message_type(a)), Some(message_type(b)));
        self.aspect(Kind::TitleChanged, p, "", Some(&a.title), Some(&b.title));
        self.group(p, "", &a.root, &b.root);
        self.constraints(p, "", &a.segments, &b.segments);
    }

    /// Children, slices and constraints of a group present on both sides, recursively.
    fn group(&mut self, p: Option<&str>, path: &str, a: &Group, b: &Group) {
        let olds = children(a, path);
        let news = children(b, path);
        let find = |list: &[(String, &'_ Node)], k: &str| list.iter().position(|(p, _)| p == k);
        let same_kind = |x: &Node, y: &Node| matches!((x, y), (Node::Segment(_), Node::Segment(_)) | (Node::Group(_), Node::Group(_)));
        for (cp, x) in &olds {
            if !find(&news, cp).is_some_and(|i| same_kind(x, news[i].1)) {
                let kind = if matches!(x, Node::Segment(_)) { Kind::SegmentRemoved } else { Kind::GroupRemoved };
                self.push(kind, p, cp, Some(node_desc(x)), None);
            }
        }
        for (cp, y) in &news {
            let x = find(&olds, cp).map(|i| olds[i].1).filter(|x| same_kind(x, y));
            let Some(x) = x else {
                let kind = if matches!(y, Node::Segment(_)) { Kind::SegmentAdded } else { Kind::GroupAdded };
                self.push(kind, p, cp, None, Some(node_desc(y)));
                continue;
            };
            let (ux, uy) = (node_usage(x), node_usage(y));
            self.aspect(Kind::UsageChanged, p, cp, Some(ux.code()), Some(uy.code()));
            self.aspect(Kind::CardinalityChanged, p, cp, Some(card(x.min(), x.max())), Some(card(y.min(), y.max())));
            if let (Node::Group(gx), Node::Group(gy)) = (x, y) {
                self.aspect(Kind::ChoiceChanged, p, cp, Some(group_word(gx)), Some(group_word(gy)));
                self.group(p, cp, gx, gy);
            }
        }
        // Order of the children both sides share: a reordering moves no name, so say it once.
        let keep_o: Vec<&str> = olds.iter().filter(|(k, _)| find(&news, k).is_some()).map(|(k, _)| leaf(k)).collect();
        let keep_n: Vec<&str> = news.iter().filter(|(k, _)| find(&olds, k).is_some()).map(|(k, _)| leaf(k)).collect();
        if keep_o != keep_n {
            self.push(Kind::OrderChanged, p, path, Some(keep_o.join(", ")), Some(keep_n.join(", ")));
        }
        self.slices(p, path, &a.slices, &b.slices);
    }

    fn slices(&mut self, p: Option<&str>, gpath: &str, a: &[Slice], b: &[Slice]) {
        for x in a {
            if !b.iter().any(|y| y.name == x.name) {
                self.push(Kind::SliceRemoved, p, format!("{gpath}:{}", x.name), Some(slice_desc(x)), None);
            }
        }
        for y in b {
            let sp = format!("{gpath}:{}", y.name);
            let Some(x) = a.iter().find(|x| x.name == y.name) else {
                self.push(Kind::SliceAdded, p, sp, None, Some(slice_desc(y)));
                continue;
            };
            self.aspect(Kind::TitleChanged, p, &sp, Some(&x.title), Some(&y.title));
            self.aspect(Kind::UsageChanged, p, &sp, Some(x.usage.code()), Some(y.usage.code()));
            self.aspect(Kind::CardinalityChanged, p, &sp, Some(card(x.min, x.max)), Some(card(y.min, y.max)));
            self.aspect(Kind::DiscriminatorChanged, p, &sp, Some(discriminator(x)), Some(discriminator(y)));
            self.aspect(Kind::ValueTypeChanged, p, &sp, x.value_type.as_ref(), y.value_type.as_ref());
            self.constraints(p, &format!("{sp}/"), &x.segments, &y.segments);
        }
    }

    fn constraints(&mut self, p: Option<&str>, prefix: &str, a: &[SegmentConstraints], b: &[SegmentConstraints]) {
        let olds = constraint_items(prefix, a);
        let news = constraint_items(prefix, b);
        let index: BTreeMap<&str, &Constraint> = olds.iter().map(|(k, c)| (k.as_str(), c)).collect();
        let new_keys: BTreeSet<&str> = news.iter().map(|(k, _)| k.as_str()).collect();
        for (k, c) in &olds {
            if !new_keys.contains(k.as_str()) {
                self.push(Kind::ConstraintRemoved, p, k, Some(c.summary()), None);
            }
        }
        for (k, y) in &news {
            let Some(x) = index.get(k.as_str()) else {
                self.push(Kind::ConstraintAdded, p, k, None, Some(y.summary()));
                continue;
            };
            self.aspect(Kind::UsageChanged, p, k, x.usage.map(Usage::code), y.usage.map(Usage::code));
            self.aspect(Kind::CardinalityChanged, p, k, opt_card(x.min, x.max), opt_card(y.min, y.max));
            self.aspect(Kind::FixedChanged, p, k, x.fixed.as_ref(), y.fixed.as_ref());
            self.aspect(Kind::ValuesChanged, p, k, x.values(), y.values());
            self.aspect(Kind::DatatypeChanged, p, k, x.datatype.as_ref(), y.datatype.as_ref());
            self.aspect(Kind::TableChanged, p, k, x.table.as_ref(), y.table.as_ref());
            self.aspect(Kind::ValueSetChanged, p, k, x.value_set(), y.value_set());
            self.aspect(Kind::LenChanged, p, k, x.len, y.len);
        }
    }
}

/// The children of a group with their paths; a name met twice in one group gets `[2]`, `[3]`…
/// so that every child has its own path.
fn leaf(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn node_usage(n: &Node) -> Usage {
    match n {
        Node::Segment(s) => s.usage,
        Node::Group(g) => g.usage,
    }
}

fn group_word(g: &Group) -> &'static str {
    if g.choice {
        "choice"
    } else {
        "group"
    }
}

fn node_desc(n: &Node) -> String {
    match n {
        Node::Segment(s) => format!("segment {} {}", s.usage.code(), card(s.min, s.max)),
        Node::Group(g) => format!("{} {} {}", group_word(g), g.usage.code(), card(g.min, g.max)),
    }
}

fn discriminator(s: &Slice) -> String {
    let parts: Vec<String> = s
        .discriminator
        .iter()
        .map(|d| match d {
            Discriminator::Value { path, value } => format!("{} = {value}", path.text),
            Discriminator::SubIdSuffix { path, suffix } => format!("{} like n.{suffix}", path.text),
        })
        .collect();
    parts.join(", ")
}

fn slice_desc(s: &Slice) -> String {
    let mut d = format!("slice {} {} where {}", s.usage.code(), card(s.min, s.max), discriminator(s));
    if let Some(v) = &s.value_type {
        d.push_str(&format!(", OBX-5 {v}"));
    }
    d
}

fn message_type(p: &Profile) -> String {
    format!("{}^{}^{}", p.code, p.event.as_deref().unwrap_or("*"), p.structure)
}

fn profile_desc(p: &Profile) -> String {
    format!("profile {} \"{}\"", message_type(p), p.title)
}

fn datatype_desc(d: &DataType) -> String {
    if d.components.is_empty() {
        format!("primitive \"{}\"", d.name)
    } else {
        format!("{} components \"{}\"", d.components.len(), d.name)
    }
}

fn member_desc(name: &str, datatype: Option<&str>, usage: Usage, card_: Option<(u32, u32)>) -> String {
    let mut d = String::new();
    if let Some(dt) = datatype {
        d.push_str(dt);
        d.push(' ');
    }
    d.push_str(usage.code());
    if let Some((min, max)) = card_ {
        d.push(' ');
        d.push_str(&card(min, max));
    }
    d.push_str(&format!(" \"{name}\""));
    d
}

/// A segment-level or element-level constraint, flattened so both compare alike.
struct Constraint {
    usage: Option<Usage>,
    min: Option<u32>,
    max: Option<u32>,
    fixed: Option<String>,
    values_: Vec<String>,
    datatype: Option<String>,
    table: Option<String>,
    value_set_: Option<(String, Option<String>)>,
    len: Option<u32>,
}

impl Constraint {
    fn of_element(e: &ElementConstraint) -> Self {
        Constraint {
            usage: e.usage,
            min: e.min,
            max: e.max,
            fixed: e.fixed.clone(),
            values_: e.values.clone(),
            datatype: e.datatype.clone(),
            table: e.table.clone(),
            value_set_: e.value_set.clone(),
            len: e.len,
        }
    }
    fn values(&self) -> Option<String> {
        (!self.values_.is_empty()).then(|| self.values_.join("|"))
    }
    fn value_set(&self) -> Option<String> {
        self.value_set_.as_ref().map(|(name, oid)| match oid {
            Some(oid) => format!("{name} ({oid})"),
            None => name.clone(),
        })
    }
    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(u) = self.usage {
            parts.push(format!("usage {}", u.code()));
        }
        if let Some(c) = opt_card(self.min, self.max) {
            parts.push(format!("cardinality {c}"));
        }
        if let Some(v) = &self.fixed {
            parts.push(format!("fixed {v}"));
        }
        if let Some(v) = self.values() {
            parts.push(format!("values {v}"));
        }
        if let Some(v) = &self.datatype {
            parts.push(format!("datatype {v}"));
        }
        if let Some(v) = &self.table {
            parts.push(format!("table {v}"));
        }
        if let Some(v) = self.value_set() {
            parts.push(format!("value set {v}"));
        }
        if let Some(v) = self.len {
            parts.push(format!("len {v}"));
        }
        if parts.is_empty() {
            "constraint (no rule)".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// Constraints by path, in file order. A path constrained twice (e.g. in common and in the
/// profile) keeps both: the second is `PATH#2`, so every rule is compared with its counterpart.
fn constraint_items(prefix: &str, list: &[SegmentConstraints]) -> Vec<(String, Constraint)> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut add = |key: String, c: Constraint, out: &mut Vec<(String, Constraint)>| {
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        let key = if *n == 1 { key } else { format!("{key}#{n}") };
        out.push((key, c));
    };
    for s in list {
        let scope = match &s.group {
            Some(g) => format!("{prefix}{g}/"),
            None => prefix.to_owned(),
        };
        if s.usage.is_some() || s.min.is_some() || s.max.is_some() {
            let c = Constraint { usage: s.usage, min: s.min, max: s.max, fixed: None, values_: Vec::new(), datatype: None, table: None, value_set_: None, len: None };
            add(format!("{scope}{}", s.segment), c, &mut out);
        }
        for e in &s.elements {
            add(format!("{scope}{}", e.path.text), Constraint::of_element(e), &mut out);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Generated-API side: the public items `hl7_codegen::emit` writes, listed by
// `hl7_codegen::api::surface` from the same decisions.

struct ApiChange {
    profile: Option<String>,
    origin: String,
    text: String,
}

fn api_line(name: &str, old: Option<&str>, new: Option<&str>, breaking: bool) -> String {
    let mark = if breaking { BREAKING_MARK } else { "" };
    format!("{name}: {} → {}{mark}", old.unwrap_or("(none)"), new.unwrap_or("(none)"))
}

/// Removing or changing an item breaks callers; adding one breaks them only where every caller
/// must name it: a `new` parameter, a variant of the exhaustive `AnyMessage`.
fn api_changes(old: &Surface, new: &Surface) -> Vec<ApiChange> {
    let mut out = Vec::new();
    for name in &old.order {
        let Some(x) = old.items.get(name) else { continue };
        if !new.items.contains_key(name) {
            let sig = (x.kind != ItemKind::ParamOrder).then_some(x.sig.as_str());
            if x.kind == ItemKind::ParamOrder {
                // The builder went away; its type's removal already says so.
                continue;
            }
            out.push(ApiChange { profile: x.profile.clone(), origin: x.origin.clone(), text: api_line(name, sig, None, true) });
        }
    }
    for name in &new.order {
        let Some(y) = new.items.get(name) else { continue };
        match old.items.get(name) {
            None => {
                if y.kind == ItemKind::ParamOrder {
                    continue;
                }
                let breaking = matches!(y.kind, ItemKind::Param | ItemKind::Variant);
                out.push(ApiChange { profile: y.profile.clone(), origin: y.origin.clone(), text: api_line(name, None, Some(&y.sig), breaking) });
            }
            Some(x) if y.kind == ItemKind::ParamOrder => {
                // Added or removed parameters are items of their own; only a reordering of the
                // parameters both sides share is reported here.
                let xs: Vec<&str> = x.sig.split(", ").filter(|s| !s.is_empty()).collect();
                let ys: Vec<&str> = y.sig.split(", ").filter(|s| !s.is_empty()).collect();
                let common_x: Vec<&str> = xs.iter().copied().filter(|n| ys.contains(n)).collect();
                let common_y: Vec<&str> = ys.iter().copied().filter(|n| xs.contains(n)).collect();
                if common_x != common_y {
                    let (o, n) = (format!("({})", x.sig), format!("({})", y.sig));
                    out.push(ApiChange { profile: y.profile.clone(), origin: y.origin.clone(), text: api_line(name, Some(&o), Some(&n), true) });
                }
            }
            Some(x) if x.sig != y.sig || x.kind != y.kind => {
                out.push(ApiChange { profile: y.profile.clone(), origin: y.origin.clone(), text: api_line(name, Some(&x.sig), Some(&y.sig), true) });
            }
            Some(_) => {}
        }
    }
    out
}

/// The path one level up: `A/B:s` → `A/B`, `A/B` → `A`, `PID-3` → `PID`, `CX.1` → `CX`, `A` → ``.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    Some(path.rfind(['/', ':', '-', '.']).map(|i| &path[..i]).unwrap_or(""))
}

/// Puts each API change under the HL7 change that explains it: the first change at its path,
/// else the addition or removal of the nearest ancestor, else a new `api_changed` entry.
fn attach(changes: &mut Vec<Change>, api: Vec<ApiChange>) {
    for a in api {
        let same = |c: &Change, path: &str| c.profile == a.profile && c.path == path;
        let mut target = changes.iter().position(|c| same(c, &a.origin));
        let mut up = parent(&a.origin);
        while target.is_none() {
            let Some(p) = up else { break };
            target = changes.iter().position(|c| same(c, p) && (c.kind.is_added() || c.kind.is_removed()));
            up = parent(p);
        }
        match target {
            Some(i) => changes[i].api.push(a.text),
            None => changes.push(Change { kind: Kind::ApiChanged, profile: a.profile, path: a.origin, old: None, new: None, breaking: false, api: vec![a.text] }),
        }
    }
}
