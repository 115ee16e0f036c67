//! Shared fixtures for the workspace's tests: the project's own messages
//! (`tests/fixtures/`) and the guide's examples (`../shared/ig/teleradiologie/examples/`).

pub mod growth;

use std::io::Write;
use std::path::{Path, PathBuf};

/// The project's own fixture folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The bytes of one fixture.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// Every `.hl7` fixture, sorted by name.
pub fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    hl7_files(&fixtures_dir())
}

/// The guide's example folder, or `None` (with a loud line on stderr) when `../shared` is not
/// beside the checkout. Under `CI=true` a missing folder fails the calling test instead: CI
/// always has `../shared`, so its absence there is a broken setup, not a reason to skip.
pub fn guide_examples_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ig/teleradiologie/examples");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but the guide's examples are missing at {}", dir.display());
    }
    // Written to the stderr handle itself, not through eprintln!, which the test harness
    // captures and hides for passing tests: a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: the guide's examples are not at {} (../shared missing); this check did not run",
        dir.display()
    );
    None
}

/// Every `.hl7` example of the guide, sorted by name (empty with a loud line when skipped).
pub fn guide_examples() -> Vec<(String, Vec<u8>)> {
    guide_examples_dir().map(|d| hl7_files(&d)).unwrap_or_default()
}

fn hl7_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "hl7"))
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (name, bytes)
        })
        .collect();
    out.sort();
    out
}

/// Types declared with the derive macros, shared by the equivalence tests and the benches.
pub mod derived {
    use hl7_derive::Segment;
    use hl7_runtime::typed::{Missing, Reps, Varies};
    use telerad::datatypes::{Ce, Ei, Id, Is, Nm, Si, St, Ts, Xad, Xcn, Xon};

    /// OBX re-declared with `#[derive(Segment)]`, field for field as HL7 v2.5.1 defines it
    /// (`spec/hl7v2.5.1/segments.json#/segments/OBX`): held to the generated `Obx` by
    /// `tests/tests/derive.rs`, and measured against it by `benches/benches/derive.rs`.
    #[derive(Segment, Debug)]
    #[hl7(id = "OBX", name = "Observation/Result")]
    pub struct DerivedObx<'a> {
        #[hl7(field = 1, datatype = "SI", len = 4, name = "Set ID - OBX")]
        pub set_id_obx: Option<Si<'a>>,
        #[hl7(field = 2, datatype = "ID", len = 2, table = "0125", name = "Value Type")]
        pub value_type: Option<Id<'a>>,
        #[hl7(field = 3, usage = "R", len = 250, name = "Observation Identifier")]
        pub observation_identifier: Result<Ce<'a>, Missing>,
        #[hl7(field = 4, datatype = "ST", len = 20, name = "Observation Sub-ID")]
        pub observation_sub_id: Option<St<'a>>,
        #[hl7(field = 5, max = "*", len = 99999, name = "Observation Value")]
        pub observation_value: Reps<'a, Varies<'a>>,
        #[hl7(field = 6, len = 250, name = "Units")]
        pub units: Option<Ce<'a>>,
        #[hl7(field = 7, datatype = "ST", len = 60, name = "References Range")]
        pub references_range: Option<St<'a>>,
        #[hl7(field = 8, datatype = "IS", max = "*", len = 5, table = "0078", name = "Abnormal Flags")]
        pub abnormal_flags: Reps<'a, Is<'a>>,
        #[hl7(field = 9, datatype = "NM", len = 5, name = "Probability")]
        pub probability: Option<Nm<'a>>,
        #[hl7(field = 10, datatype = "ID", max = "*", len = 2, table = "0080", name = "Nature of Abnormal Test")]
        pub nature_of_abnormal_test: Reps<'a, Id<'a>>,
        #[hl7(field = 11, datatype = "ID", usage = "R", len = 1, table = "0085", name = "Observation Result Status")]
        pub observation_result_status: Result<Id<'a>, Missing>,
        #[hl7(field = 12, len = 26, name = "Effective Date of Reference Range")]
        pub effective_date_of_reference_range: Option<Ts<'a>>,
        #[hl7(field = 13, datatype = "ST", len = 20, name = "User Defined Access Checks")]
        pub user_defined_access_checks: Option<St<'a>>,
        #[hl7(field = 14, len = 26, name = "Date/Time of the Observation")]
        pub date_time_of_the_observation: Option<Ts<'a>>,
        #[hl7(field = 15, len = 250, name = "Producer's ID")]
        pub producers_id: Option<Ce<'a>>,
        #[hl7(field = 16, max = "*", len = 250, name = "Responsible Observer")]
        pub responsible_observer: Reps<'a, Xcn<'a>>,
        #[hl7(field = 17, max = "*", len = 250, name = "Observation Method")]
        pub observation_method: Reps<'a, Ce<'a>>,
        #[hl7(field = 18, max = "*", len = 22, name = "Equipment Instance Identifier")]
        pub equipment_instance_identifier: Reps<'a, Ei<'a>>,
        #[hl7(field = 19, len = 26, name = "Date/Time of the Analysis")]
        pub date_time_of_the_analysis: Option<Ts<'a>>,
        #[hl7(field = 20, datatype = "ST", name = "Reserved for v2.6")]
        pub reserved_for_v2_6: Option<St<'a>>,
        #[hl7(field = 21, datatype = "ST", name = "Reserved for v2.6")]
        pub reserved_for_v2_6_2: Option<St<'a>>,
        #[hl7(field = 22, datatype = "ST", name = "Reserved for v2.6")]
        pub reserved_for_v2_6_3: Option<St<'a>>,
        #[hl7(field = 23, len = 567, name = "Performing Organization Name")]
        pub performing_organization_name: Option<Xon<'a>>,
        #[hl7(field = 24, len = 631, name = "Performing Organization Address")]
        pub performing_organization_address: Option<Xad<'a>>,
        #[hl7(field = 25, len = 3002, name = "Performing Organization Medical Director")]
        pub performing_organization_medical_director: Option<Xcn<'a>>,
    }
}
