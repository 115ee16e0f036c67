//! Stage 2: the checked model. References are resolved, usage is folded into min/max, names
//! are chosen, and every problem of the spec is collected (never the first one only).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{token, SpecErrors};
use crate::names;
use crate::spec::*;

pub const UNBOUNDED: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Usage {
    R,
    RE,
    O,
    C,
    X,
    B,
}

impl Usage {
    fn parse(s: &str) -> Option<Usage> {
        Some(match s {
            "R" => Usage::R,
            "RE" => Usage::RE,
            "O" => Usage::O,
            "C" => Usage::C,
            "X" => Usage::X,
            "B" => Usage::B,
            _ => return None,
        })
    }
    pub fn code(self) -> &'static str {
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

#[derive(Debug)]
pub struct Model {
    pub version: String,
    pub datatypes: BTreeMap<String, DataType>,
    pub segments: BTreeMap<String, Segment>,
    pub tables: BTreeMap<String, Table>,
    pub value_sets: BTreeMap<String, ValueSet>,
    pub profiles: Vec<Profile>,
    /// The checks the engine makes natively (`engine_rules.json` of the guide's folder), for the violation
    /// suite; nothing is generated from them.
    pub engine_rules: Vec<EngineRule>,
    /// Every spec file read, as `<folder>/<file>` (the guide's or the base standard's folder
    /// name, then the file: `hl7v2.5.1/segments.json`), for rerun-if-changed and headers.
    pub files: Vec<String>,
    /// The names of the guide's folder and of the base standard's folder, the first component
    /// of their files' names.
    pub guide: String,
    pub base: String,
}

#[derive(Debug)]
pub struct DataType {
    pub id: String,
    pub name: String,
    pub rust: String,
    pub components: Vec<Component>,
}

#[derive(Debug)]
pub struct Component {
    pub pos: u16,
    pub name: String,
    pub ident: String,
    pub datatype: String,
    pub usage: Usage,
    pub len: Option<u32>,
    pub table: Option<String>,
}

#[derive(Debug)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub rust: String,
    pub fields: Vec<Field>,
}

#[derive(Debug)]
pub struct Field {
    pub pos: u16,
    pub name: String,
    pub ident: String,
    /// `None` for "varies" (OBX-5).
    pub datatype: Option<String>,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub len: Option<u32>,
    pub table: Option<String>,
}

#[derive(Debug)]
pub struct Table {
    pub id: String,
    pub name: String,
    pub values: Vec<(String, String)>,
}

/// A CI-SIS value set; `available == false` when it is only named (not kept offline).
#[derive(Debug)]
pub struct ValueSet {
    pub name: String,
    pub oid: Option<String>,
    pub available: bool,
    /// (coding system as written in X.3, code)
    pub codes: Vec<(String, String)>,
    pub src: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    Predicate { path: String, when_true: Usage, when_false: Usage },
    Conformance { warning: bool },
}

/// A predicate or conformance statement of a hand file.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    pub expression: String,
    pub context: Option<String>,
    /// Conformance statements: the element a failure is reported at (`SEG-f[.c[.s]]`,
    /// resolved in the context); `None`: the first element path the assertion reads.
    pub location: Option<String>,
    pub description: String,
    pub src: String,
    /// Messages that break the rule (for tests; not emitted).
    pub violations: Vec<Violation>,
}

/// A fixture edited so that it breaks a rule, and the finding expected
/// (spec/HAND-FORMAT.md, "violations"). Addresses are ERL display strings, checked to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub fixture: String,
    /// The acknowledged message, for the rules that read it (`original.` paths).
    pub original: Option<String>,
    pub edits: Vec<Edit>,
    /// HL7 table 0357 code of the expected finding.
    pub code: u16,
    /// ERL of the expected finding (`OBR[1]-2`).
    pub at: String,
    /// `"error"` or `"warning"`, when the violation says.
    pub severity: Option<String>,
    pub comment: Option<String>,
}

/// One edit of a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The element at this ERL gets this raw ER7 text.
    Set { at: String, to: String },
    /// The segment occurrence `SEG[k]` is removed.
    Delete { segment: String },
    /// A raw ER7 segment (no CR) is inserted after the segment occurrence `SEG[k]`.
    InsertAfter { after: String, segment: String },
    /// The first occurrence of `text` is replaced.
    Replace { text: String, with: String },
    /// Every occurrence of the separator character `from` is written `to` (the message with
    /// other separators).
    Swap { from: String, to: String },
}

/// A check the engine makes natively (`engine_rules.json` of the guide's folder), with its counterexamples.
#[derive(Debug, Clone)]
pub struct EngineRule {
    pub id: String,
    /// The profile whose fixtures the counterexamples edit.
    pub profile: String,
    pub description: String,
    pub src: String,
    /// `"error"` (default) or `"warning"`.
    pub severity: Option<String>,
    /// HL7 table 0357 code of its findings.
    pub code: u16,
    pub violations: Vec<Violation>,
}

#[derive(Debug)]
pub struct Profile {
    pub id: String,
    pub title: String,
    pub code: String,
    pub event: Option<String>,
    pub structure: String,
    /// The file the profile's tables came from, for provenance lines.
    pub file: String,
    pub root: Group,
    pub segments: Vec<SegmentConstraints>,
    pub rules: Vec<Rule>,
}

#[derive(Debug)]
pub struct Group {
    pub name: String,
    /// `ORDER/ORDER_DETAIL`; empty for the message root.
    pub path: String,
    /// The view type's name, unique within the profile (set by `naming`).
    pub rust: String,
    pub ident: String,
    /// The accessor on the parent group (plural when repeated), unique there (set by `naming`).
    pub accessor: String,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub choice: bool,
    pub children: Vec<Node>,
    pub first: Vec<String>,
    pub slices: Vec<Slice>,
    pub src: String,
    pub pointer: String,
    /// The guide's words for the row (its Meaning column): documentation.
    pub meaning: Option<String>,
}

#[derive(Debug)]
pub enum Node {
    Segment(SegmentRef),
    Group(Group),
}

impl Node {
    pub fn min(&self) -> u32 {
        match self {
            Node::Segment(s) => s.min,
            Node::Group(g) => g.min,
        }
    }
    pub fn max(&self) -> u32 {
        match self {
            Node::Segment(s) => s.max,
            Node::Group(g) => g.max,
        }
    }
}

#[derive(Debug)]
pub struct SegmentRef {
    pub id: String,
    pub ident: String,
    /// The accessor on the parent group (plural when repeated), unique there (set by `naming`).
    pub accessor: String,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub src: String,
    pub pointer: String,
    /// The guide's words for the row (its Meaning column): documentation.
    pub meaning: Option<String>,
}

#[derive(Debug)]
pub struct Slice {
    pub name: String,
    /// The spec file the slice is defined in (a tables file, or a hand file for hand slices).
    pub file: String,
    /// The view type's name, unique within the profile (set by `naming`).
    pub rust: String,
    /// The accessor on the group that holds the sliced group (set by `naming`).
    pub accessor: String,
    pub title: String,
    pub usage: Usage,
    pub min: u32,
    pub max: u32,
    pub discriminator: Vec<Discriminator>,
    pub segments: Vec<SegmentConstraints>,
    pub value_type: Option<String>,
    pub src: String,
    pub pointer: String,
}

#[derive(Debug)]
pub enum Discriminator {
    Value { path: ElementPath, value: String },
    SubIdSuffix { path: ElementPath, suffix: u32 },
}

#[derive(Debug)]
pub struct SegmentConstraints {
    pub segment: String,
    pub group: Option<String>,
    pub usage: Option<Usage>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub elements: Vec<ElementConstraint>,
    pub src: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPath {
    pub text: String,
    pub segment: String,
    pub field: u16,
    pub component: Option<u16>,
    pub subcomponent: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct ElementConstraint {
    pub path: ElementPath,
    pub usage: Option<Usage>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub fixed: Option<String>,
    pub values: Vec<String>,
    pub datatype: Option<String>,
    pub table: Option<String>,
    pub value_set: Option<(String, Option<String>)>,
    pub len: Option<u32>,
    pub src: String,
    /// The guide's name of the element in its row (its Description column): documentation.
    pub description: Option<String>,
    /// The guide's own words for the element's value (its Valeur column): documentation.
    pub guide_value: Option<String>,
}

/// Where the spec is read from: the guide's folder of profiles, the base standard's folder, and
/// optionally the folder of fixtures that `violations` name.
#[derive(Debug, Clone)]
pub struct Folders<'a> {
    pub guide: &'a Path,
    pub base: &'a Path,
    pub fixtures: Option<&'a Path>,
}

/// Reads and checks a guide's folder against its base standard's folder.
pub fn load(folders: &Folders<'_>, profiles_wanted: Option<&[String]>) -> Result<Model, SpecErrors> {
    let mut cx = Cx::new(folders);
    let segments_file: Option<SegmentsFile> = cx.read(&cx.base_file("segments.json"));
    let datatypes_file: Option<DatatypesFile> = cx.read(&cx.base_file("datatypes.json"));
    let tables_file: Option<TablesFile> = cx.read(&cx.base_file("tables.json"));
    // A guide's local code tables, when it has any.
    let code_tables: Option<TablesFile> = cx.read_optional(&cx.guide_file("code_tables.tables.json"));

    let mut model = Model {
        version: segments_file.as_ref().map(|s| s.version.clone()).unwrap_or_default(),
        datatypes: BTreeMap::new(),
        segments: BTreeMap::new(),
        tables: BTreeMap::new(),
        value_sets: BTreeMap::new(),
        profiles: Vec::new(),
        engine_rules: Vec::new(),
        files: Vec::new(),
        guide: cx.guide_label.clone(),
        base: cx.base_label.clone(),
    };
    if let Some(f) = datatypes_file {
        cx.datatypes(f, &mut model);
    }
    if let Some(f) = segments_file {
        cx.segments(&cx.base_file("segments.json"), f, &mut model);
    }
    // The guide's own segments (Z segments), in the base file's format, when it has any.
    let guide_segments = cx.guide_file("segments.json");
    if let Some(f) = cx.read_optional::<SegmentsFile>(&guide_segments) {
        cx.segments(&guide_segments, f, &mut model);
    }
    // National specialisations of HL7 user-defined tables (IHE France) replace the base ones.
    let national: Option<TablesFile> = cx.read_optional(&cx.guide_file("national_tables.json"));
    for f in [tables_file, code_tables, national].into_iter().flatten() {
        for (id, t) in f.tables {
            let values = t.values.into_iter().map(|v| (v.code, v.description.unwrap_or_default())).collect();
            model.tables.insert(id.clone(), Table { id, name: t.name, values });
        }
    }

    if let Some(f) = cx.read_optional::<ValueSetsFile>(&cx.guide_file("value_sets.json")) {
        for (name, v) in f.value_sets {
            let codes = v.codes.into_iter().map(|c| (c.system, c.code)).collect();
            let src = v.source.unwrap_or_default();
            model.value_sets.insert(name.clone(), ValueSet { name, oid: v.oid, available: true, codes, src });
        }
        for (name, v) in f.not_available {
            let src = v.why.unwrap_or_default();
            model.value_sets.insert(name.clone(), ValueSet { name, oid: v.oid, available: false, codes: Vec::new(), src });
        }
    }
    // Constraints every profile that `includes` "common" shares, when the guide has any.
    let common: Option<ProfileTablesFile> = cx.read_optional(&cx.guide_file("common.tables.json"));
    let common_hand: Option<ProfileHandFile> = cx.read_optional(&cx.guide_file("common.hand.json"));
    let mut ids = cx.profile_ids();
    if let Some(wanted) = profiles_wanted {
        for w in wanted {
            if !ids.contains(w) {
                let (guide, label) = (cx.guide.display().to_string(), cx.guide_label.clone());
                cx.errors.push(&label, "", format!("profile `{w}` was asked for but {guide} has no {w}.tables.json"));
            }
        }
        ids.retain(|id| wanted.contains(id));
    }
    for id in ids {
        let file = cx.guide_file(&format!("{id}.tables.json"));
        let Some(tables) = cx.read::<ProfileTablesFile>(&file) else { continue };
        let hand_file = cx.guide_file(&format!("{id}.hand.json"));
        let hand = cx.read_optional::<ProfileHandFile>(&hand_file);
        if let Some(p) = cx.profile(&file, tables, hand.map(|h| (hand_file, h)), common.as_ref(), common_hand.as_ref(), &model) {
            model.profiles.push(p);
        }
    }
    // Read for the violation suite only: not a file the generated code depends on.
    let rel = cx.guide_file("engine_rules.json");
    if let Ok(text) = std::fs::read_to_string(cx.file_path(&rel)) {
        if let Some(f) = cx.parse::<EngineRulesFile>(&rel, &text) {
            model.engine_rules = cx.engine_rules(&rel, &f, &model);
        }
    }
    model.files = cx.files.clone();
    model.files.sort();
    model.files.dedup();
    cx.errors.into_result(model)
}

struct Cx {
    guide: PathBuf,
    base: PathBuf,
    fixtures: Option<PathBuf>,
    /// The folders' own names, which name their files in reports and provenance lines.
    guide_label: String,
    base_label: String,
    errors: SpecErrors,
    files: Vec<String>,
}

/// The last component of a folder's path (`spec/hl7v2.5.1` → `hl7v2.5.1`), resolving `.`.
pub(crate) fn folder_label(dir: &Path) -> String {
    let named = |d: &Path| d.file_name().map(|n| n.to_string_lossy().into_owned());
    named(dir).or_else(|| named(&dir.canonicalize().ok()?)).unwrap_or_default()
}

impl Cx {
    fn new(f: &Folders<'_>) -> Cx {
        let mut cx = Cx {
            guide: f.guide.to_path_buf(),
            base: f.base.to_path_buf(),
            fixtures: f.fixtures.map(Path::to_path_buf),
            guide_label: folder_label(f.guide),
            base_label: folder_label(f.base),
            errors: SpecErrors::default(),
            files: Vec::new(),
        };
        // File names are `<folder>/<file>`: two folders of one name could not be told apart.
        if cx.guide_label == cx.base_label {
            let label = cx.guide_label.clone();
            cx.errors.push(&label, "", format!("the guide's folder and the base standard's folder are both named `{label}`"));
        }
        cx
    }

    fn guide_file(&self, name: &str) -> String {
        format!("{}/{name}", self.guide_label)
    }

    fn base_file(&self, name: &str) -> String {
        format!("{}/{name}", self.base_label)
    }

    /// Where a file named `<folder>/<file>` is on disk.
    fn file_path(&self, rel: &str) -> PathBuf {
        match rel.split_once('/') {
            Some((folder, name)) if folder == self.base_label => self.base.join(name),
            Some((folder, name)) if folder == self.guide_label => self.guide.join(name),
            _ => self.guide.join(rel),
        }
    }

    fn read<T: serde::de::DeserializeOwned>(&mut self, rel: &str) -> Option<T> {
        let path = self.file_path(rel);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                self.files.push(rel.to_owned());
                self.parse(rel, &text)
            }
            Err(e) => {
                self.errors.push(rel, "", format!("cannot read {}: {e}", path.display()));
                None
            }
        }
    }

    fn read_optional<T: serde::de::DeserializeOwned>(&mut self, rel: &str) -> Option<T> {
        if self.file_path(rel).exists() {
            self.read(rel)
        } else {
            None
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, rel: &str, text: &str) -> Option<T> {
        let de = &mut serde_json::Deserializer::from_str(text);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Some(v),
            Err(e) => {
                let pointer = path_to_pointer(e.path());
                let inner = e.into_inner();
                self.errors.push(rel, pointer, format!("{inner}"));
                None
            }
        }
    }

    fn profile_ids(&mut self) -> Vec<String> {
        let dir = self.guide.clone();
        let mut ids = Vec::new();
        match std::fs::read_dir(&dir) {
            Ok(rd) => {
                for entry in rd.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let Some(id) = name.strip_suffix(".tables.json") {
                        if id != "common" && id != "code_tables" {
                            ids.push(id.to_owned());
                        }
                    }
                }
            }
            Err(e) => {
                let label = self.guide_label.clone();
                self.errors.push(&label, "", format!("cannot list {}: {e}", dir.display()))
            }
        }
        ids.sort();
        ids
    }

    fn usage(&mut self, file: &str, pointer: &str, s: &str) -> Usage {
        Usage::parse(s).unwrap_or_else(|| {
            self.errors.push(file, pointer, format!("unknown usage `{s}`; expected R, RE, O, C, X or B"));
            Usage::O
        })
    }

    fn max(&mut self, file: &str, pointer: &str, m: &MaxSpec) -> u32 {
        match m {
            MaxSpec::Bounded(n) => *n,
            MaxSpec::Text(t) if t == "*" => UNBOUNDED,
            MaxSpec::Text(t) => match t.parse() {
                Ok(n) => n,
                Err(_) => {
                    self.errors.push(file, pointer, format!("max must be a number or \"*\", not `{t}`"));
                    UNBOUNDED
                }
            },
        }
    }

    fn datatypes(&mut self, f: DatatypesFile, model: &mut Model) {
        let file = &self.base_file("datatypes.json");
        let known: BTreeSet<String> = f.datatypes.keys().filter(|k| *k != "varies").cloned().collect();
        for (id, d) in f.datatypes {
            // "varies" marks OBX-5 in segments.json; it is no datatype of its own.
            if id == "varies" {
                continue;
            }
            let base = format!("/datatypes/{}", token(&id));
            if d.primitive && !d.components.is_empty() {
                self.errors.push(file, &base, "a primitive datatype has no components");
            }
            let mut comps = Vec::new();
            for (i, c) in d.components.iter().enumerate() {
                let p = format!("{base}/components/{i}");
                if c.pos as usize != i + 1 {
                    self.errors.push(file, format!("{p}/pos"), format!("component {} is at index {i}: positions must run 1, 2, 3… without gaps", c.pos));
                }
                if !known.contains(&c.datatype) {
                    self.errors.push(file, format!("{p}/datatype"), format!("unknown datatype `{}`", c.datatype));
                }
                let usage = match &c.usage {
                    Some(u) => self.usage(file, &format!("{p}/usage"), u),
                    None => Usage::O,
                };
                comps.push(Component {
                    pos: c.pos as u16,
                    name: c.name.clone(),
                    ident: names::snake(&c.name),
                    datatype: c.datatype.clone(),
                    usage,
                    len: c.len,
                    table: c.table.clone(),
                });
            }
            let mut idents: Vec<String> = comps.iter().map(|c| c.ident.clone()).collect();
            names::dedupe(&mut idents, &["part"]);
            for (c, n) in comps.iter_mut().zip(idents) {
                c.ident = n;
            }
            let rust = names::camel(&id);
            model.datatypes.insert(id.clone(), DataType { id, name: d.name, rust, components: comps });
        }
    }

    /// The segments of `file`: the base standard's, or the guide's own (Z segments), which may
    /// not redefine a base segment.
    fn segments(&mut self, file: &str, f: SegmentsFile, model: &mut Model) {
        for (id, s) in f.segments {
            let base = format!("/segments/{}", token(&id));
            if model.segments.contains_key(&id) {
                self.errors.push(file, &base, format!("segment `{id}` is already defined by the base standard"));
                continue;
            }
            if !valid_segment_id(&id) {
                self.errors.push(file, &base, format!("segment id `{id}` must be 3 uppercase letters or digits, starting with a letter"));
            }
            let mut fields = Vec::new();
            for (i, fl) in s.fields.iter().enumerate() {
                let p = format!("{base}/fields/{i}");
                if fl.pos as usize != i + 1 {
                    self.errors.push(file, format!("{p}/pos"), format!("field {} is at index {i}: positions must run 1, 2, 3… without gaps", fl.pos));
                }
                let datatype = if fl.datatype == "varies" {
                    None
                } else {
                    if !model.datatypes.contains_key(&fl.datatype) {
                        self.errors.push(file, format!("{p}/datatype"), format!("unknown datatype `{}`", fl.datatype));
                    }
                    Some(fl.datatype.clone())
                };
                let usage = self.usage(file, &format!("{p}/usage"), &fl.usage);
                let max = self.max(file, &format!("{p}/max"), &fl.max);
                if max < fl.min {
                    self.errors.push(file, format!("{p}/max"), format!("max {max} is below min {}", fl.min));
                }
                fields.push(Field {
                    pos: fl.pos as u16,
                    name: fl.name.clone(),
                    ident: names::snake(&fl.name),
                    datatype,
                    usage,
                    min: fl.min,
                    max,
                    len: fl.len,
                    table: fl.table.clone(),
                });
            }
            // Positional aliases (`pid_3`) are always generated too, so they are reserved.
            let positional: Vec<String> = (1..=fields.len()).map(|i| format!("{}_{i}", id.to_lowercase())).collect();
            let mut reserved: Vec<&str> = positional.iter().map(String::as_str).collect();
            reserved.extend(["segment", "raw", "location", "field"]);
            let mut idents: Vec<String> = fields.iter().map(|f| f.ident.clone()).collect();
            names::dedupe(&mut idents, &reserved);
            for (f, n) in fields.iter_mut().zip(idents) {
                f.ident = n;
            }
            let rust = names::camel(&id);
            model.segments.insert(id.clone(), Segment { id, name: s.name, rust, fields });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn profile(
        &mut self,
        file: &str,
        t: ProfileTablesFile,
        hand: Option<(String, ProfileHandFile)>,
        common: Option<&ProfileTablesFile>,
        common_hand: Option<&ProfileHandFile>,
        model: &Model,
    ) -> Option<Profile> {
        let mut t = t;
        // Hand choices on the structure and on slices are applied to the tables' spec before it
        // is checked, so that the checks and the folding of usage see the final values.
        let mut hand_slices: Vec<(String, String, SliceSpec)> = Vec::new();
        if let Some((hf, h)) = &hand {
            self.structure_overrides(hf, &h.structure_overrides, &mut t.structure);
            self.slice_overrides(hf, &h.slice_overrides, &mut t.slices);
            self.element_overrides_in_slices(hf, &h.overrides, &mut t.slices);
            for (i, sl) in h.slices.iter().enumerate() {
                let p = format!("/slices/{i}");
                if let Some(resolved) = self.resolve_reuse(hf, &p, sl) {
                    hand_slices.push((hf.clone(), p, resolved));
                }
            }
        }
        let expected = file.trim_start_matches(&format!("{}/", self.guide_label)).trim_end_matches(".tables.json");
        if t.profile != expected {
            self.errors.push(file, "/profile", format!("profile `{}` does not match its file name (`{expected}`)", t.profile));
        }
        let Some(message) = &t.message else {
            self.errors.push(file, "", "a profile needs `message` (code, event, structure)");
            return None;
        };
        let mut root = Group {
            name: message.structure.clone(),
            path: String::new(),
            rust: "Message".to_owned(),
            ident: String::new(),
            accessor: String::new(),
            usage: Usage::R,
            min: 1,
            max: 1,
            choice: false,
            children: Vec::new(),
            first: Vec::new(),
            slices: Vec::new(),
            src: String::new(),
            pointer: "/structure".to_owned(),
            meaning: None,
        };
        root.children = self.children(file, "/structure", "", &t.structure, model);
        // The message is the structure table itself: its header row (`…#tN.r1`).
        root.src = t.structure.first().and_then(|e| e.src.as_deref()).and_then(|s| s.split_once(".r")).map(|(table, _)| format!("{table}.r1")).unwrap_or_default();
        if root.children.is_empty() {
            self.errors.push(file, "/structure", "the structure is empty");
        }
        compute_first(&mut root);

        // Segment constraints: included files first, then the profile's, then hand overrides.
        let mut segments: Vec<SegmentConstraints> = Vec::new();
        for inc in &t.includes {
            match (inc.as_str(), common) {
                ("common", Some(c)) => {
                    let (common_file, common_hand_file) = (self.guide_file("common.tables.json"), self.guide_file("common.hand.json"));
                    for (i, s) in c.segments.iter().enumerate() {
                        let sc = self.segment_constraints(&common_file, &format!("/segments/{i}"), s, model);
                        segments.push(sc);
                    }
                    if let Some(h) = common_hand {
                        self.overrides(&common_hand_file, &h.overrides, &mut segments, model);
                    }
                }
                ("common", None) => self.errors.push(file, "/includes", "`common` is included but the guide has no common.tables.json"),
                (other, _) => self.errors.push(file, "/includes", format!("unknown include `{other}`; only `common` exists")),
            }
        }
        for (i, s) in t.segments.iter().enumerate() {
            let sc = self.segment_constraints(file, &format!("/segments/{i}"), s, model);
            segments.push(sc);
        }
        if let Some((hf, h)) = &hand {
            if h.profile != t.profile {
                self.errors.push(hf, "/profile", format!("profile `{}` does not match `{}`", h.profile, t.profile));
            }
            self.overrides(hf, &h.overrides, &mut segments, model);
        }

        let table_slices = t.slices.iter().enumerate().map(|(i, sl)| (file.to_owned(), format!("/slices/{i}"), sl.clone()));
        for (f, p, sl) in table_slices.collect::<Vec<_>>().into_iter().chain(hand_slices) {
            let slice = self.slice(&f, &p, &sl, model);
            match find_group_mut(&mut root, &sl.group) {
                Some(g) => g.slices.push(slice),
                None => self.errors.push(&f, format!("{p}/group"), format!("no group `{}` in this profile's structure", sl.group)),
            }
        }
        let mut slice_names: Vec<String> = Vec::new();
        collect_slice_names(&root, &mut slice_names);
        let mut seen = BTreeSet::new();
        for n in slice_names {
            if !seen.insert(n.clone()) {
                self.errors.push(file, "/slices", format!("slice name `{n}` is used twice"));
            }
        }

        crate::naming::profile(&mut root);
        let mut rules = Vec::new();
        if t.includes.iter().any(|i| i == "common") {
            if let Some(h) = common_hand {
                let common_hand_file = self.guide_file("common.hand.json");
                self.rules(&common_hand_file, h, &root, model, &mut rules);
            }
        }
        if let Some((hf, h)) = &hand {
            self.rules(hf, h, &root, model, &mut rules);
        }
        let mut ids = BTreeSet::new();
        for r in &rules {
            if !ids.insert(r.id.clone()) {
                self.errors.push(file, "", format!("rule id `{}` is used twice (with the common rules included)", r.id));
            }
        }
        Some(Profile {
            id: t.profile.clone(),
            title: t.title.clone().unwrap_or_else(|| t.profile.clone()),
            code: message.code.clone(),
            event: message.event.clone(),
            structure: message.structure.clone(),
            file: file.to_owned(),
            root,
            segments,
            rules,
        })
    }

    /// Predicates and conformance statements of a hand file. Every expression, path, context
    /// and location is parsed and resolved here, with the runtime's own assertion parser, so a
    /// typo is a spec error (file and pointer) rather than a rule that never evaluates.
    fn rules(&mut self, file: &str, h: &ProfileHandFile, root: &Group, model: &Model, out: &mut Vec<Rule>) {
        for (i, p) in h.predicates.iter().enumerate() {
            let ptr = format!("/predicates/{i}");
            self.expression(file, &format!("{ptr}/condition"), &p.condition, model);
            self.context(file, &format!("{ptr}/context"), p.context.as_deref(), root, model);
            self.predicate_target(file, &format!("{ptr}/path"), &p.path, root, model);
            let violations = self.violations(file, &ptr, &p.violations);
            let when_true = self.usage(file, &format!("{ptr}/true_usage"), &p.true_usage);
            let when_false = self.usage(file, &format!("{ptr}/false_usage"), &p.false_usage);
            let id = p.id.clone().unwrap_or_else(|| format!("{}-PRED-{}", h.profile.to_uppercase(), p.path.replace('/', "-")));
            out.push(Rule {
                id,
                kind: RuleKind::Predicate { path: p.path.clone(), when_true, when_false },
                expression: p.condition.clone(),
                context: p.context.clone(),
                location: None,
                violations,
                description: p.comment.clone().unwrap_or_default(),
                src: p.src.clone().unwrap_or_default(),
            });
        }
        for (i, c) in h.conformance.iter().enumerate() {
            let warning = match c.severity.as_deref() {
                None | Some("error") => false,
                Some("warning") => true,
                Some(other) => {
                    self.errors.push(file, format!("/conformance/{i}/severity"), format!("severity `{other}`; expected error or warning"));
                    false
                }
            };
            let ptr = format!("/conformance/{i}");
            self.expression(file, &format!("{ptr}/assertion"), &c.assertion, model);
            self.context(file, &format!("{ptr}/context"), c.context.as_deref(), root, model);
            if let Some(loc) = &c.location {
                self.path(file, &format!("{ptr}/location"), loc, model);
            }
            let violations = self.violations(file, &ptr, &c.violations);
            out.push(Rule {
                id: c.id.clone(),
                kind: RuleKind::Conformance { warning },
                expression: c.assertion.clone(),
                context: c.context.clone(),
                location: c.location.clone(),
                violations,
                description: c.description.clone().unwrap_or_default(),
                src: c.src.clone().unwrap_or_default(),
            });
        }
    }

    /// Parses an expression with the runtime's parser and resolves every element path and
    /// counted segment it reads against the base definitions.
    fn expression(&mut self, file: &str, pointer: &str, text: &str, model: &Model) {
        use hl7_runtime::validate::assertion;
        let expr = match assertion::parse(text) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push(file, pointer, format!("`{text}` is not an expression of the assertion language (spec/HAND-FORMAT.md): {e}"));
                return;
            }
        };
        let (refs, segs) = expr.reads();
        for r in refs {
            let mut path = format!("{}-{}", r.segment, r.field);
            for n in [r.component, r.subcomponent].into_iter().flatten() {
                path.push_str(&format!(".{n}"));
            }
            self.path(file, pointer, &path, model);
        }
        for s in segs {
            if !model.segments.contains_key(s) {
                self.errors.push(file, pointer, format!("unknown segment `{s}` in `count({s})`"));
            }
        }
    }

    /// A rule's context: a group path of the profile's structure, `slice:<name>` of the
    /// profile, or `SEG-f[*]` (spec/HAND-FORMAT.md, "Contexts").
    fn context(&mut self, file: &str, pointer: &str, context: Option<&str>, root: &Group, model: &Model) {
        let Some(context) = context else { return };
        if let Some(name) = context.strip_prefix("slice:") {
            let mut names = Vec::new();
            collect_slice_names(root, &mut names);
            if !names.iter().any(|n| n == name) {
                self.errors.push(file, pointer, format!("no slice `{name}` in profile structure `{}`", root.name));
            }
        } else if context.contains('-') {
            match context.strip_suffix("[*]").and_then(parse_path) {
                Some(p) if p.component.is_none() => {
                    self.path(file, pointer, &p.text, model);
                }
                _ => self.errors.push(file, pointer, format!("context `{context}` is not `SEG-f[*]`")),
            }
        } else if find_group(root, context).is_none() {
            self.errors.push(file, pointer, format!("no group path `{context}` in the structure {}", root.name));
        }
    }

    /// A predicate's target: an element path, a segment id, or a group path of the structure.
    fn predicate_target(&mut self, file: &str, pointer: &str, path: &str, root: &Group, model: &Model) {
        if path.contains('-') {
            self.path(file, pointer, path, model);
        } else if valid_segment_id(path) {
            if !model.segments.contains_key(path) {
                self.errors.push(file, pointer, format!("unknown segment `{path}`"));
            }
        } else if find_group(root, path).is_none() {
            self.errors.push(file, pointer, format!("`{path}` is neither an element path, a segment nor a group path of the structure {}", root.name));
        }
    }

    fn engine_rules(&mut self, file: &str, f: &EngineRulesFile, model: &Model) -> Vec<EngineRule> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, r) in f.rules.iter().enumerate() {
            let p = format!("/rules/{i}");
            if !seen.insert(r.id.clone()) {
                self.errors.push(file, format!("{p}/id"), format!("rule id `{}` is used twice", r.id));
            }
            if !model.profiles.is_empty() && !model.profiles.iter().any(|pr| pr.id == r.profile) {
                self.errors.push(file, format!("{p}/profile"), format!("no profile `{}`", r.profile));
            }
            if !matches!(r.severity.as_deref(), None | Some("error" | "warning")) {
                self.errors.push(file, format!("{p}/severity"), "severity is error or warning");
            }
            let codes = hl7_runtime::validate::finding::code::USED;
            if !codes.contains(&r.code) {
                self.errors.push(file, format!("{p}/code"), format!("{} is not a code of HL7 table 0357 the validator writes ({codes:?})", r.code));
            }
            let violations = self.violations(file, &p, &r.violations);
            out.push(EngineRule { id: r.id.clone(), profile: r.profile.clone(), description: r.description.clone(), src: r.src.clone(), severity: r.severity.clone(), code: r.code, violations });
        }
        out
    }

    /// The `violations` of a rule: edit shapes, ERL addresses, and an expected 0357 code the
    /// validator writes.
    fn violations(&mut self, file: &str, rule_ptr: &str, list: &[ViolationSpec]) -> Vec<Violation> {
        let fixtures = self.fixtures.clone();
        let mut out = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let p = format!("{rule_ptr}/violations/{i}");
            for (key, name) in [("fixture", Some(&v.fixture)), ("original", v.original.as_ref())] {
                let Some(name) = name else { continue };
                if name.is_empty() || name.contains('/') {
                    self.errors.push(file, format!("{p}/{key}"), format!("`{name}` is not a file name of tests/fixtures"));
                } else if fixtures.as_ref().is_some_and(|f| !f.join(name).is_file()) {
                    self.errors.push(file, format!("{p}/{key}"), format!("no fixture `{name}` in tests/fixtures"));
                }
            }
            let mut edits = Vec::new();
            for (j, e) in v.edits.iter().enumerate() {
                let ep = format!("{p}/edits/{j}");
                let edit = match (e.set.as_ref(), e.to.as_ref(), e.delete.as_ref(), e.insert_after.as_ref(), e.segment.as_ref(), e.replace.as_ref(), e.with.as_ref(), e.swap.as_ref()) {
                    (None, None, None, None, None, None, Some(to), Some(from)) => {
                        if from.chars().count() != 1 || to.chars().count() != 1 {
                            self.errors.push(file, format!("{ep}/swap"), "`swap` and `with` are one character each (a separator and its replacement)");
                        }
                        Edit::Swap { from: from.clone(), to: to.clone() }
                    }
                    (Some(at), Some(to), None, None, None, None, None, None) => {
                        self.erl(file, &format!("{ep}/set"), at, true);
                        Edit::Set { at: at.clone(), to: to.clone() }
                    }
                    (None, None, Some(seg), None, None, None, None, None) => {
                        self.erl(file, &format!("{ep}/delete"), seg, false);
                        Edit::Delete { segment: seg.clone() }
                    }
                    (None, None, None, Some(after), Some(seg), None, None, None) => {
                        self.erl(file, &format!("{ep}/insert_after"), after, false);
                        if !seg.get(..3).is_some_and(valid_segment_id) || seg.contains('\r') || seg.contains('\n') {
                            self.errors.push(file, format!("{ep}/segment"), format!("`{seg}` is not one ER7 segment (an id, then fields; no CR)"));
                        }
                        Edit::InsertAfter { after: after.clone(), segment: seg.clone() }
                    }
                    (None, None, None, None, None, Some(from), Some(with), None) => {
                        if from.is_empty() {
                            self.errors.push(file, format!("{ep}/replace"), "`replace` needs a non-empty text to find");
                        }
                        Edit::Replace { text: from.clone(), with: with.clone() }
                    }
                    _ => {
                        self.errors.push(file, &ep, "an edit is one of {set, to}, {delete}, {insert_after, segment}, {replace, with}, {swap, with}");
                        continue;
                    }
                };
                edits.push(edit);
            }
            let codes = hl7_runtime::validate::finding::code::USED;
            if !codes.contains(&v.expect.code) {
                self.errors.push(file, format!("{p}/expect/code"), format!("{} is not a code of HL7 table 0357 the validator writes ({codes:?})", v.expect.code));
            }
            if let Err(e) = v.expect.at.parse::<hl7_runtime::validate::Erl>() {
                self.errors.push(file, format!("{p}/expect/at"), e);
            }
            let severity = match v.expect.severity.as_deref() {
                None => None,
                Some(s @ ("error" | "warning")) => Some(s.to_owned()),
                Some(other) => {
                    self.errors.push(file, format!("{p}/expect/severity"), format!("severity `{other}`; expected error or warning"));
                    None
                }
            };
            out.push(Violation { fixture: v.fixture.clone(), original: v.original.clone(), edits, code: v.expect.code, at: v.expect.at.clone(), severity, comment: v.comment.clone() });
        }
        out
    }

    /// An ERL address (`OBR[1]-2.1`, `PID[1]-3[2].4.2`, `OBX[2]`): with a field for `set`,
    /// a segment occurrence `SEG[k]` only for `delete` and `insert_after`.
    fn erl(&mut self, file: &str, pointer: &str, text: &str, element: bool) {
        match text.parse::<hl7_runtime::validate::Erl>() {
            Err(e) => self.errors.push(file, pointer, e),
            Ok(erl) if erl.segment.is_none() || erl.sequence.is_none() => {
                self.errors.push(file, pointer, format!("`{text}` names no segment occurrence (`SEG[k]`)"));
            }
            Ok(erl) if element && erl.field.is_none() => self.errors.push(file, pointer, format!("`{text}` names no element (`SEG[k]-f…`)")),
            Ok(erl) if !element && erl.field.is_some() => self.errors.push(file, pointer, format!("`{text}` is an element; a segment occurrence `SEG[k]` is expected")),
            Ok(_) => {}
        }
    }

    fn structure_overrides(&mut self, file: &str, list: &[StructureOverrideSpec], structure: &mut [ElementSpec]) {
        for (i, o) in list.iter().enumerate() {
            let p = format!("/structure_overrides/{i}");
            let Some(e) = find_element_mut(structure, &o.path) else {
                self.errors.push(file, format!("{p}/path"), format!("no segment or group `{}` in the structure", o.path));
                continue;
            };
            if o.usage.is_some() {
                e.usage = o.usage.clone();
            }
            if o.min.is_some() {
                e.min = o.min;
            }
            if o.max.is_some() {
                e.max = o.max.clone();
            }
        }
    }

    fn slice_overrides(&mut self, file: &str, list: &[SliceOverrideSpec], slices: &mut [SliceSpec]) {
        for (i, o) in list.iter().enumerate() {
            let Some(sl) = slices.iter_mut().find(|s| s.name == o.slice) else {
                self.errors.push(file, format!("/slice_overrides/{i}/slice"), format!("no slice `{}` in the tables file", o.slice));
                continue;
            };
            if let Some(u) = &o.usage {
                sl.usage = u.clone();
            }
            if let Some(m) = o.min {
                sl.min = m;
            }
            if let Some(m) = &o.max {
                sl.max = m.clone();
            }
            if let Some(title) = &o.title {
                sl.title = Some(title.clone());
            }
        }
    }

    /// A hand slice, with `reuse` resolved: the other profile's slice (from its tables file)
    /// with this entry's identity and cardinality, and its `overrides` applied.
    fn resolve_reuse(&mut self, file: &str, p: &str, sl: &SliceSpec) -> Option<SliceSpec> {
        let Some(reuse) = &sl.reuse else { return Some(sl.clone()) };
        let other_file = self.guide_file(&format!("{}.tables.json", reuse.profile));
        if !self.file_path(&other_file).is_file() {
            self.errors.push(file, format!("{p}/reuse/profile"), format!("no profile `{}` to reuse a slice from", reuse.profile));
            return None;
        }
        let other = self.read::<ProfileTablesFile>(&other_file)?;
        let Some(base) = other.slices.into_iter().find(|s| s.name == reuse.slice) else {
            self.errors.push(file, format!("{p}/reuse/slice"), format!("profile `{}` has no slice `{}`", reuse.profile, reuse.slice));
            return None;
        };
        let mut out = base;
        out.group = sl.group.clone();
        out.name = sl.name.clone();
        out.title = sl.title.clone().or(out.title);
        out.usage = sl.usage.clone();
        out.min = sl.min;
        out.max = sl.max.clone();
        out.src = sl.src.clone().or(out.src);
        out.reuse = None;
        for (i, o) in sl.overrides.iter().enumerate() {
            let Some(seg) = parse_path(&o.path).map(|x| x.segment) else {
                self.errors.push(file, format!("{p}/overrides/{i}/path"), format!("`{}` is not an element path", o.path));
                continue;
            };
            let Some(sc) = out.segments.iter_mut().find(|s| s.segment == seg) else {
                self.errors.push(file, format!("{p}/overrides/{i}/path"), format!("the reused slice constrains no {seg}"));
                continue;
            };
            match sc.elements.iter_mut().find(|e| e.path == o.path) {
                Some(e) => *e = o.clone(),
                None => sc.elements.push(o.clone()),
            }
        }
        out.overrides = Vec::new();
        Some(out)
    }

    fn children(&mut self, file: &str, pointer: &str, parent_path: &str, elems: &[ElementSpec], model: &Model) -> Vec<Node> {
        let mut out = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            let p = format!("{pointer}/{i}");
            let kinds = [e.segment.is_some(), e.group.is_some(), e.choice.is_some()].iter().filter(|b| **b).count();
            if kinds != 1 {
                self.errors.push(file, &p, "an element has exactly one of `segment`, `group`, `choice`");
                continue;
            }
            let (Some(usage), Some(max), Some(min)) = (&e.usage, &e.max, e.min) else {
                let missing: Vec<&str> = [("usage", e.usage.is_none()), ("min", e.min.is_none()), ("max", e.max.is_none())]
                    .into_iter()
                    .filter_map(|(k, absent)| absent.then_some(k))
                    .collect();
                self.errors.push(file, &p, format!("no {} (the tables gave none readable): a hand `structure_overrides` entry must supply it", missing.join(", ")));
                continue;
            };
            let mut usage = self.usage(file, &format!("{p}/usage"), usage);
            let mut max = self.max(file, &format!("{p}/max"), max);
            let mut min = min;
            if max < min {
                self.errors.push(file, format!("{p}/max"), format!("max {max} is below min {min}"));
            }
            // Usage folded into cardinality: R needs one, X allows none, O/RE need none.
            match usage {
                Usage::R => min = min.max(1),
                Usage::X => {
                    min = 0;
                    max = 0;
                }
                Usage::O | Usage::RE | Usage::C | Usage::B => {
                    if min > 0 {
                        self.errors.push(file, format!("{p}/min"), format!("usage {} with min {min}: a non-required element cannot have a minimum", usage.code()));
                    }
                }
            }
            if max == 0 && usage != Usage::X {
                usage = Usage::X;
            }
            let src = e.src.clone().unwrap_or_default();
            if let Some(seg) = &e.segment {
                if !model.segments.contains_key(seg) {
                    self.errors.push(file, format!("{p}/segment"), format!("unknown segment `{seg}`"));
                }
                out.push(Node::Segment(SegmentRef {
                    id: seg.clone(),
                    ident: names::snake(seg),
                    accessor: String::new(),
                    usage,
                    min,
                    max,
                    src,
                    pointer: p,
                    meaning: e.meaning.clone(),
                }));
            } else {
                let (name, kids, key, choice) = match (&e.group, &e.choice) {
                    (Some(g), _) => (g.clone(), &e.children, "children", false),
                    (_, Some(c)) => (c.clone(), &e.alternatives, "alternatives", true),
                    _ => continue,
                };
                let path = if parent_path.is_empty() { name.clone() } else { format!("{parent_path}/{name}") };
                let children = self.children(file, &format!("{p}/{key}"), &path, kids, model);
                if children.is_empty() {
                    self.errors.push(file, format!("{p}/{key}"), format!("group `{name}` is empty"));
                }
                out.push(Node::Group(Group {
                    rust: names::camel(&name),
                    ident: names::snake(&name),
                    accessor: String::new(),
                    name,
                    path,
                    usage,
                    min,
                    max,
                    choice,
                    children,
                    first: Vec::new(),
                    slices: Vec::new(),
                    src,
                    pointer: p,
                    meaning: e.meaning.clone(),
                }));
            }
        }
        out
    }

    fn segment_constraints(&mut self, file: &str, pointer: &str, s: &SegmentConstraintSpec, model: &Model) -> SegmentConstraints {
        if !model.segments.contains_key(&s.segment) {
            self.errors.push(file, format!("{pointer}/segment"), format!("unknown segment `{}`", s.segment));
        }
        let usage = s.usage.as_ref().map(|u| self.usage(file, &format!("{pointer}/usage"), u));
        let max = s.max.as_ref().map(|m| self.max(file, &format!("{pointer}/max"), m));
        let mut elements = Vec::new();
        for (i, e) in s.elements.iter().enumerate() {
            let p = format!("{pointer}/elements/{i}");
            if let Some(c) = self.element(file, &p, e, Some(&s.segment), model) {
                elements.push(c);
            }
        }
        SegmentConstraints {
            segment: s.segment.clone(),
            group: s.group.clone(),
            usage,
            min: s.min,
            max,
            elements,
            src: s.src.clone().unwrap_or_default(),
        }
    }

    /// The `overrides` that name a `slice` (HAND-FORMAT.md): applied to that slice of the tables
    /// file, replacing the element with the same path in its segment constraints, or adding it.
    fn element_overrides_in_slices(&mut self, file: &str, list: &[ElementConstraintSpec], slices: &mut [SliceSpec]) {
        for (i, o) in list.iter().enumerate() {
            let Some(name) = override_slice(o) else { continue };
            let p = format!("/overrides/{i}");
            let Some(sl) = slices.iter_mut().find(|s| s.name == name) else {
                self.errors.push(file, format!("{p}/slice"), format!("no slice `{name}` in the tables file"));
                continue;
            };
            let Some(seg) = parse_path(&o.path).map(|x| x.segment) else {
                self.errors.push(file, format!("{p}/path"), format!("`{}` is not an element path", o.path));
                continue;
            };
            let Some(sc) = sl.segments.iter_mut().find(|s| s.segment == seg) else {
                self.errors.push(file, format!("{p}/path"), format!("slice `{name}` constrains no {seg}"));
                continue;
            };
            match sc.elements.iter_mut().find(|e| e.path == o.path) {
                Some(e) => *e = o.clone(),
                None => sc.elements.push(o.clone()),
            }
        }
    }

    fn overrides(&mut self, file: &str, list: &[ElementConstraintSpec], segments: &mut Vec<SegmentConstraints>, model: &Model) {
        for (i, e) in list.iter().enumerate() {
            if override_slice(e).is_some() {
                continue; // applied to its slice by `element_overrides_in_slices`
            }
            let p = format!("/overrides/{i}");
            let Some(c) = self.element(file, &p, e, None, model) else { continue };
            let seg = c.path.segment.clone();
            match segments.iter_mut().rev().find(|s| s.segment == seg) {
                // The hand file wins: an element the tables constrain is replaced whole.
                Some(s) => match s.elements.iter_mut().find(|e| e.path == c.path) {
                    Some(e) => *e = c,
                    None => s.elements.push(c),
                },
                None => segments.push(SegmentConstraints {
                    segment: seg,
                    group: None,
                    usage: None,
                    min: None,
                    max: None,
                    elements: vec![c],
                    src: e.src.clone().unwrap_or_default(),
                }),
            }
        }
    }

    fn element(&mut self, file: &str, p: &str, e: &ElementConstraintSpec, segment: Option<&str>, model: &Model) -> Option<ElementConstraint> {
        let path = self.path(file, &format!("{p}/path"), &e.path, model)?;
        if let Some(seg) = segment {
            if path.segment != seg {
                self.errors.push(file, format!("{p}/path"), format!("`{}` is not an element of {seg}", e.path));
            }
        }
        let usage = e.usage.as_ref().map(|u| self.usage(file, &format!("{p}/usage"), u));
        let max = e.max.as_ref().map(|m| self.max(file, &format!("{p}/max"), m));
        if let Some(dt) = &e.datatype {
            if !model.datatypes.contains_key(dt) {
                self.errors.push(file, format!("{p}/datatype"), format!("unknown datatype `{dt}`"));
            }
        }
        if let Some(v) = &e.value_set {
            if !model.value_sets.contains_key(&v.name) {
                self.errors.push(file, format!("{p}/value_set/name"), format!("unknown value set `{}` (not in {}/value_sets.json)", v.name, self.guide_label));
            }
        }
        if let Some(t) = &e.table {
            if !model.tables.contains_key(t) {
                self.errors.push(file, format!("{p}/table"), format!("unknown table `{t}` (neither in {}/tables.json nor in {}/code_tables.tables.json)", self.base_label, self.guide_label));
            }
        }
        Some(ElementConstraint {
            path,
            usage,
            min: e.min,
            max,
            fixed: e.fixed.clone(),
            values: e.values.clone(),
            datatype: e.datatype.clone(),
            table: e.table.clone(),
            value_set: e.value_set.as_ref().map(|v| (v.name.clone(), v.oid.clone())),
            len: e.len,
            src: e.src.clone().unwrap_or_default(),
            description: e.description.clone(),
            guide_value: e.guide_value.clone(),
        })
    }

    /// Parses and resolves `SEG-f[.c[.s]]` against the base definitions.
    fn path(&mut self, file: &str, pointer: &str, text: &str, model: &Model) -> Option<ElementPath> {
        let Some(path) = parse_path(text) else {
            self.errors.push(file, pointer, format!("`{text}` is not an element path (SEG-f, SEG-f.c or SEG-f.c.s)"));
            return None;
        };
        let Some(seg) = model.segments.get(&path.segment) else {
            self.errors.push(file, pointer, format!("unknown segment `{}` in `{text}`", path.segment));
            return None;
        };
        let Some(field) = seg.fields.get(path.field as usize - 1) else {
            self.errors.push(file, pointer, format!("{} has {} fields; `{text}` names field {}", seg.id, seg.fields.len(), path.field));
            return None;
        };
        if let Some(c) = path.component {
            // OBX-5's components depend on OBX-2: they are checked against the slice's datatype.
            if let Some(dt) = field.datatype.as_ref().and_then(|d| model.datatypes.get(d)) {
                match dt.components.get(c as usize - 1) {
                    None => {
                        self.errors.push(file, pointer, format!("{}-{} is {} with {} components; `{text}` names component {c}", seg.id, path.field, dt.id, dt.components.len()));
                        return None;
                    }
                    Some(comp) => {
                        if let Some(s) = path.subcomponent {
                            let sub = model.datatypes.get(&comp.datatype);
                            let n = sub.map(|d| d.components.len()).unwrap_or(0);
                            if s as usize > n {
                                self.errors.push(file, pointer, format!("{}-{}.{c} is {} with {n} subcomponents; `{text}` names subcomponent {s}", seg.id, path.field, comp.datatype));
                                return None;
                            }
                        }
                    }
                }
            }
        }
        Some(path)
    }

    fn slice(&mut self, file: &str, p: &str, s: &SliceSpec, model: &Model) -> Slice {
        let usage = self.usage(file, &format!("{p}/usage"), &s.usage);
        let max = self.max(file, &format!("{p}/max"), &s.max);
        let mut min = s.min;
        if usage == Usage::R {
            min = min.max(1);
        }
        let mut discriminator = Vec::new();
        for (i, d) in s.discriminator.iter().enumerate() {
            let dp = format!("{p}/discriminator/{i}");
            let Some(path) = self.path(file, &format!("{dp}/path"), &d.path, model) else { continue };
            match (&d.value, &d.pattern) {
                (Some(v), None) => discriminator.push(Discriminator::Value { path, value: v.clone() }),
                (None, Some(pat)) => match pat.strip_prefix("n.").and_then(|m| m.parse::<u32>().ok()) {
                    Some(suffix) => discriminator.push(Discriminator::SubIdSuffix { path, suffix }),
                    None => self.errors.push(file, format!("{dp}/pattern"), format!("pattern `{pat}` is not of the form n.<number>")),
                },
                _ => self.errors.push(file, &dp, "a discriminator has exactly one of `value`, `pattern`"),
            }
        }
        if discriminator.is_empty() {
            self.errors.push(file, format!("{p}/discriminator"), "a slice needs a discriminator");
        }
        let mut segments = Vec::new();
        let mut value_type = None;
        for (i, sc) in s.segments.iter().enumerate() {
            let c = self.segment_constraints(file, &format!("{p}/segments/{i}"), sc, model);
            for e in &c.elements {
                if e.path.segment == "OBX" && e.path.field == 2 && e.path.component.is_none() {
                    if let Some(v) = &e.fixed {
                        if model.datatypes.contains_key(v) {
                            value_type = Some(v.clone());
                        } else {
                            self.errors.push(file, format!("{p}/segments/{i}"), format!("OBX-2 is fixed to `{v}`, which is no datatype"));
                        }
                    }
                }
            }
            segments.push(c);
        }
        Slice {
            rust: names::camel(&s.name),
            accessor: String::new(),
            file: file.to_owned(),
            name: s.name.clone(),
            title: s.title.clone().unwrap_or_else(|| s.name.clone()),
            usage,
            min,
            max,
            discriminator,
            segments,
            value_type,
            src: s.src.clone().unwrap_or_default(),
            pointer: p.to_owned(),
        }
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment as S;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            S::Seq { index } => out.push_str(&index.to_string()),
            S::Map { key } => out.push_str(&token(key)),
            S::Enum { variant } => out.push_str(&token(variant)),
            S::Unknown => out.push('?'),
        }
    }
    out
}

pub fn valid_segment_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 3 && b[0].is_ascii_uppercase() && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `PID-3`, `ORC-12.9.2` → parts; `None` when malformed. The runtime's path grammar
/// (`hl7_runtime::path::syntax`), of which a spec's element path takes a segment without
/// occurrence and a field, component and subcomponent without repetition.
pub fn parse_path(text: &str) -> Option<ElementPath> {
    let p = hl7_runtime::path::syntax::parse(text).ok()?;
    let e = p.element?;
    if !p.groups.is_empty() || p.segment.occurrence.is_some() || e.repetition.is_some() {
        return None;
    }
    // A position beyond u16 makes the path malformed here; an absent one does not.
    let pos = |n: usize| u16::try_from(n).ok();
    let below = |n: Option<usize>| n.map_or(Some(None), |n| pos(n).map(Some));
    Some(ElementPath {
        text: text.to_owned(),
        segment: p.segment.name.to_owned(),
        field: pos(e.field)?,
        component: below(e.component)?,
        subcomponent: below(e.subcomponent)?,
    })
}

/// The segment ids that can open each group: its children's, up to the first required one.
fn compute_first(g: &mut Group) {
    for c in &mut g.children {
        if let Node::Group(inner) = c {
            compute_first(inner);
        }
    }
    let mut first = Vec::new();
    for c in &g.children {
        match c {
            Node::Segment(s) => first.push(s.id.clone()),
            Node::Group(inner) => first.extend(inner.first.iter().cloned()),
        }
        if c.min() > 0 && !g.choice {
            break;
        }
    }
    first.sort();
    first.dedup();
    g.first = first;
}

/// The structure element at a path of group names ending with a group or segment name.
fn find_element_mut<'e>(elems: &'e mut [ElementSpec], path: &str) -> Option<&'e mut ElementSpec> {
    let (head, rest) = match path.split_once('/') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let name_of = |e: &ElementSpec| e.segment.clone().or_else(|| e.group.clone()).or_else(|| e.choice.clone());
    let e = elems.iter_mut().find(|e| name_of(e).as_deref() == Some(head))?;
    match rest {
        None => Some(e),
        Some(r) => {
            let kids = if e.choice.is_some() { &mut e.alternatives } else { &mut e.children };
            find_element_mut(kids, r)
        }
    }
}

fn find_group_mut<'g>(g: &'g mut Group, path: &str) -> Option<&'g mut Group> {
    if g.path == path {
        return Some(g);
    }
    for c in &mut g.children {
        if let Node::Group(inner) = c {
            if path == inner.path || path.starts_with(&format!("{}/", inner.path)) {
                return find_group_mut(inner, path);
            }
        }
    }
    None
}

/// The group at a `/`-separated path of names below the root.
fn find_group<'g>(root: &'g Group, path: &str) -> Option<&'g Group> {
    let mut g = root;
    for name in path.split('/') {
        g = g.children.iter().find_map(|c| match c {
            Node::Group(inner) if inner.name == name => Some(inner),
            _ => None,
        })?;
    }
    Some(g)
}

fn collect_slice_names(g: &Group, out: &mut Vec<String>) {
    out.extend(g.slices.iter().map(|s| s.name.clone()));
    for c in &g.children {
        if let Node::Group(inner) = c {
            collect_slice_names(inner, out);
        }
    }
}

/// The slice an element override is restricted to (`"slice"` of HAND-FORMAT.md's overrides).
fn override_slice(e: &ElementConstraintSpec) -> Option<&str> {
    e.slice.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse_path("ORC-12.9.2").unwrap();
        assert_eq!((p.segment.as_str(), p.field, p.component, p.subcomponent), ("ORC", 12, Some(9), Some(2)));
        assert!(parse_path("ORC-0").is_none());
        assert!(parse_path("orc-1").is_none());
        assert!(parse_path("ORC-1.2.3.4").is_none());
        assert!(parse_path("ORC1").is_none());
        // The runtime's grammar, less what a spec's element path does not take.
        assert!(parse_path("ORC-01").is_none());
        assert!(parse_path("ORC-1[2]").is_none());
        assert!(parse_path("ORC[2]-1").is_none());
        assert!(parse_path("ORDER/ORC-1").is_none());
        assert!(parse_path("ORC-70000").is_none());
        assert!(parse_path("ORC").is_none());
    }
}
