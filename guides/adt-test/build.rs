//! Generates the test guide's typed messages from its own spec folder: the profiles in
//! `spec/adt`, over the cut-down HL7 v2.5.1 base in `spec/hl7v2.5.1` (spec/README.md).

fn main() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let config = hl7_codegen::Config::new(spec.join("adt")).base_standard(spec.join("hl7v2.5.1"));
    if let Err(e) = config.runtime_path("::hl7_runtime").build() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
