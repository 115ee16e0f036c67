//! Compile-error snapshots of the derive macros (one folder per error class) and programs that
//! must compile under `#![deny(warnings)]` and run.
//!
//! rustc's messages change between releases, so the snapshots are tied to the compiler they
//! were blessed with (`tests/ui/RUSTC_VERSION`). A `rust-toolchain.toml` would make cargo try
//! to download that compiler, which CI cannot; instead this test fails with a clear message
//! when the compiler differs, and `TRYBUILD=overwrite` re-blesses both the snapshots and the
//! recorded version.

use std::path::Path;
use std::process::Command;

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    match Command::new(&rustc).arg("-V").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!("`{rustc} -V` failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("cannot run `{rustc} -V`: {e}"),
    }
}

#[test]
fn ui() {
    let recorded_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/RUSTC_VERSION");
    let recorded = std::fs::read_to_string(&recorded_path).expect("tests/ui/RUSTC_VERSION").trim().to_owned();
    let current = rustc_version();
    let overwrite = std::env::var_os("TRYBUILD").is_some_and(|v| v == "overwrite");
    if current != recorded {
        if overwrite {
            std::fs::write(&recorded_path, format!("{current}\n")).expect("write tests/ui/RUSTC_VERSION");
        } else {
            panic!(
                "the UI snapshots were blessed with `{recorded}` but this compiler is `{current}`: rustc's \
                 messages change between releases. Re-bless with `TRYBUILD=overwrite cargo test -p hl7-derive \
                 --test ui` and review the .stderr diffs."
            );
        }
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
    t.pass("tests/ui-pass/*.rs");
}

/// At least twelve error classes, each with at least one case and its snapshot.
#[test]
fn every_error_class_has_a_snapshot() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut classes = 0;
    for dir in std::fs::read_dir(&ui).expect("tests/ui").flatten().filter(|e| e.path().is_dir()) {
        let cases: Vec<_> = std::fs::read_dir(dir.path()).expect("class folder").flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "rs")).collect();
        assert!(!cases.is_empty(), "{} has no case", dir.path().display());
        for case in &cases {
            assert!(case.with_extension("stderr").exists(), "{} has no .stderr snapshot", case.display());
        }
        classes += 1;
    }
    assert!(classes >= 12, "only {classes} error classes");
}
