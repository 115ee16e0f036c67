//! Generates the typed messages of the guide from `spec/` (see hl7-codegen).

fn main() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    if let Err(e) = hl7_codegen::Config::new(spec).runtime_path("::hl7_runtime").build() {
        // Print every spec problem, then fail the build: generated code from a broken spec
        // would only move the errors somewhere less readable.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
