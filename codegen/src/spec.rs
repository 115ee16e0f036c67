//! Stage 1: serde types mirroring the JSON of `spec/`, and nothing else.
//!
//! No checks here beyond JSON shape, and every struct denies unknown keys: a misspelt key is a
//! spec error (file and JSON pointer), never a silently dropped rule. Every semantic problem is
//! found by the model pass, which reports all of them at once with file and JSON pointer.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `"max": 3` or `"max": "*"`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum MaxSpec {
    Bounded(u32),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentsFile {
    pub version: String,
    pub segments: BTreeMap<String, SegmentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    pub name: String,
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub pos: u32,
    pub name: String,
    pub datatype: String,
    pub usage: String,
    pub min: u32,
    pub max: MaxSpec,
    #[serde(default)]
    pub len: Option<u32>,
    #[serde(default)]
    pub table: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatatypesFile {
    pub datatypes: BTreeMap<String, DatatypeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatatypeSpec {
    pub name: String,
    #[serde(default)]
    pub primitive: bool,
    #[serde(default)]
    pub components: Vec<ComponentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    pub pos: u32,
    pub name: String,
    pub datatype: String,
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub len: Option<u32>,
    #[serde(default)]
    pub table: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TablesFile {
    pub tables: BTreeMap<String, TableSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub src: Option<String>,
    /// Documentation only (national tables say where IHE France specialises the HL7 table).
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub values: Vec<TableValueSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableValueSpec {
    pub code: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub src: Option<String>,
}

/// An element of a structure: exactly one of `segment`, `group`, `choice` is set (checked by
/// the model, so that a mistake is reported with its pointer rather than as a serde mismatch).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementSpec {
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub choice: Option<String>,
    /// Absent when the extractor could not read the cell; a hand `structure_overrides` entry
    /// must then supply it (the model reports it otherwise).
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<MaxSpec>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub children: Vec<ElementSpec>,
    #[serde(default)]
    pub alternatives: Vec<ElementSpec>,
    /// Free text the guide gives for the row (its "Meaning" column); kept for docs.
    #[serde(default)]
    pub meaning: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageIdSpec {
    pub code: String,
    #[serde(default)]
    pub event: Option<String>,
    pub structure: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileTablesFile {
    pub profile: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<MessageIdSpec>,
    #[serde(default)]
    pub includes: Vec<String>,
    #[serde(default)]
    pub structure: Vec<ElementSpec>,
    #[serde(default)]
    pub segments: Vec<SegmentConstraintSpec>,
    #[serde(default)]
    pub slices: Vec<SliceSpec>,
    /// Local code tables (`code_tables.tables.json`), read as a [`TablesFile`] by the model.
    #[serde(default)]
    pub tables: BTreeMap<String, TableSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentConstraintSpec {
    pub segment: String,
    /// Limits the constraints to the occurrences directly in this group (`ORDER/ORDER_DETAIL`).
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<MaxSpec>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub elements: Vec<ElementConstraintSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSetSpec {
    pub name: String,
    #[serde(default)]
    pub oid: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementConstraintSpec {
    pub path: String,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<MaxSpec>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub datatype: Option<String>,
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub value_set: Option<ValueSetSpec>,
    #[serde(default)]
    pub len: Option<u32>,
    /// The row's Description/Contenu column: documentation only.
    #[serde(default)]
    pub description: Option<String>,
    /// The row's Valeur column, verbatim: documentation only.
    #[serde(default)]
    pub guide_value: Option<String>,
    /// Hand files: the `errata` entry that explains the choice.
    #[serde(default)]
    pub erratum: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Hand `overrides` only: the slice of the tables file the constraint is restricted to
    /// (HAND-FORMAT.md, "overrides").
    #[serde(default)]
    pub slice: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscriminatorSpec {
    pub path: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliceSpec {
    pub group: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    pub usage: String,
    pub min: u32,
    pub max: MaxSpec,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub discriminator: Vec<DiscriminatorSpec>,
    #[serde(default)]
    pub segments: Vec<SegmentConstraintSpec>,
    /// Hand files only: start from another profile's slice …
    #[serde(default)]
    pub reuse: Option<ReuseSpec>,
    /// … and change these elements of its segment constraints.
    #[serde(default)]
    pub overrides: Vec<ElementConstraintSpec>,
    #[serde(default)]
    pub erratum: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReuseSpec {
    pub profile: String,
    pub slice: String,
}

/// A hand choice on a structure element (`ORDER/ORDER_DETAIL/OBSERVATION`, `ORDER/ORC`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureOverrideSpec {
    pub path: String,
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<MaxSpec>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub erratum: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A hand choice on a slice of the tables file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliceOverrideSpec {
    pub slice: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<MaxSpec>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub erratum: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The hand-kept part of a profile. Only `overrides` changes the typed API; the rest is
/// carried to the validation engine of a later issue and checked for well-formed paths.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileHandFile {
    pub profile: String,
    #[serde(default)]
    pub overrides: Vec<ElementConstraintSpec>,
    #[serde(default)]
    pub structure_overrides: Vec<StructureOverrideSpec>,
    #[serde(default)]
    pub slice_overrides: Vec<SliceOverrideSpec>,
    #[serde(default)]
    pub slices: Vec<SliceSpec>,
    #[serde(default)]
    pub predicates: Vec<PredicateSpec>,
    #[serde(default)]
    pub conformance: Vec<ConformanceSpec>,
    #[serde(default)]
    pub errata: Vec<ErratumSpec>,
    #[serde(default)]
    pub notes: Vec<NoteSpec>,
}

/// An erratum of a hand file: where the guide contradicts itself and the choice made.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErratumSpec {
    pub id: String,
    #[serde(rename = "where")]
    pub where_: String,
    #[serde(default)]
    pub also: Vec<String>,
    pub says: String,
    pub choice: String,
    pub why: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A prose rule no machine check carries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSpec {
    pub text: String,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A message that breaks a rule: a fixture of `tests/fixtures`, edited, and the finding the
/// validator must then report (spec/HAND-FORMAT.md, "violations").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolationSpec {
    pub fixture: String,
    /// For an ACK rule that reads the acknowledged message (`original.MSH-10`): the fixture
    /// it acknowledges, given to the validator with the ACK.
    #[serde(default)]
    pub original: Option<String>,
    #[serde(default)]
    pub edits: Vec<EditSpec>,
    pub expect: ExpectSpec,
    #[serde(default)]
    pub comment: Option<String>,
}

/// One edit: exactly one of `set` (with `to`), `delete`, `insert_after` (with `segment`),
/// `replace` (with `with`), `swap` (with `with`); the model checks the shape and the addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditSpec {
    #[serde(default)]
    pub set: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub delete: Option<String>,
    #[serde(default)]
    pub insert_after: Option<String>,
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub replace: Option<String>,
    #[serde(default)]
    pub with: Option<String>,
    #[serde(default)]
    pub swap: Option<String>,
}

/// `engine_rules.json` (in the guide's folder): the checks the engine makes natively, each with its written
/// counterexamples (spec/HAND-FORMAT.md, "violations"), read by the violation suite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineRulesFile {
    #[serde(default)]
    pub comment: Option<String>,
    pub rules: Vec<EngineRuleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineRuleSpec {
    pub id: String,
    pub profile: String,
    pub description: String,
    pub src: String,
    #[serde(default)]
    pub severity: Option<String>,
    pub code: u16,
    pub violations: Vec<ViolationSpec>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The finding a violation must produce.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    pub code: u16,
    pub at: String,
    #[serde(default)]
    pub severity: Option<String>,
}

/// `value_sets.json` (in the guide's folder): the value sets the guide binds (converted by
/// `spec/tools/convert_value_sets.py`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSetsFile {
    #[serde(default)]
    pub systems: BTreeMap<String, String>,
    pub value_sets: BTreeMap<String, ValueSetFileEntry>,
    #[serde(default)]
    pub not_available: BTreeMap<String, UnavailableValueSet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSetFileEntry {
    #[serde(default)]
    pub oid: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    pub codes: Vec<ValueSetCode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSetCode {
    pub system: String,
    pub code: String,
    #[serde(default)]
    pub display: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnavailableValueSet {
    #[serde(default)]
    pub oid: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub why: Option<String>,
}

/// A predicate of a hand file (spec/HAND-FORMAT.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredicateSpec {
    pub path: String,
    pub condition: String,
    pub true_usage: String,
    pub false_usage: String,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub violations: Vec<ViolationSpec>,
}

/// A conformance statement of a hand file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConformanceSpec {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub assertion: String,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    /// The element a failure is reported at (`SEG-f[.c[.s]]`); default: the first element
    /// path the assertion reads.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub violations: Vec<ViolationSpec>,
}
