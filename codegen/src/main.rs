//! `hl7-codegen generate --spec DIR --out DIR`: dumps the generated code for review.

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: hl7-codegen generate [--spec DIR] --out DIR [--runtime-path PATH]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("generate") {
        return usage();
    }
    let mut spec = PathBuf::from("spec");
    let mut out: Option<PathBuf> = None;
    let mut rt = "::hl7_runtime".to_owned();
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--spec", Some(v)) => spec = v.into(),
            ("--out", Some(v)) => out = Some(v.into()),
            ("--runtime-path", Some(v)) => rt = v,
            _ => return usage(),
        }
    }
    let Some(out) = out else { return usage() };
    match hl7_codegen::Config::new(&spec).runtime_path(rt).out_dir(&out).build() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hl7-codegen: {e}");
            ExitCode::from(1)
        }
    }
}
