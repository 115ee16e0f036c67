//! Generates the typed messages of the guide from `spec/` (see hl7-codegen).
//!
//! The spec is read from `telerad/spec`, a symbolic link to the repository's `spec/` folder:
//! one copy of the spec (the repository's, which the code generator's tests, spec-tools and
//! the documentation name as `spec/`), and `cargo package` copies the files behind the link
//! into the published crate, so this script finds the spec inside its package in both places.

fn main() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let config = hl7_codegen::Config::new(spec.join("telerad")).base_standard(spec.join("hl7v2.5.1"));
    if let Err(e) = config.runtime_path("::hl7_runtime").build() {
        // Print every spec problem, then fail the build: generated code from a broken spec
        // would only move the errors somewhere less readable.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
