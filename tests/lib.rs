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
