//! What the spec-tools tests share: the repository, the guide copy beside it, folder copies.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The guide copy (`rel` under `../shared/ig/teleradiologie`), or None after a SKIPPED line the
/// harness does not hide when it is absent outside CI; under `CI=true` its absence fails.
pub fn guide(rel: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/ig/teleradiologie").join(rel);
    if p.join("input/pagecontent").is_dir() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{} is missing in CI", p.display());
    }
    let _ = std::io::stderr().write_all(format!("SKIPPED: {} not found\n", p.display()).as_bytes());
    None
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
