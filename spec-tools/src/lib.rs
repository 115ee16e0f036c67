//! hl7-spec-tools: what library authors run when the guide is revised (see the README's
//! "Regenerating from a revised guide"): `extract` reads the guide's pages into the
//! table-derived spec files, `diff` says what changed between two spec folders in HL7 terms and
//! in terms of the generated API. The `hl7-codegen` command is a thin shell over this crate.

use std::path::Path;

pub mod coverage;
pub mod diff;
pub mod extract;

/// The code generator's configuration for a spec folder laid out as this repository's `spec/`:
/// the guide's profiles in `telerad/`, the base standard in `hl7v2.5.1/`, and the fixtures that
/// `violations` name in `tests/fixtures/` beside the spec folder (checked when that exists).
pub fn codegen_config(spec: &Path) -> hl7_codegen::Config {
    let config = hl7_codegen::Config::new(spec.join("telerad")).base_standard(spec.join("hl7v2.5.1"));
    let fixtures = spec.join("../tests/fixtures");
    if fixtures.is_dir() {
        config.fixtures(fixtures)
    } else {
        config
    }
}
