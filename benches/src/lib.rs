//! Shared inputs and the SIMD floor for the criterion benchmarks.
//!
//! The workloads that peers run too live in `benches/common/workloads.rs`: the peers are
//! dev-dependencies, so this library cannot name them.

pub mod built;
pub mod floor;

/// The bytes of a fixture of `tests/fixtures/` (`bench/…` for the bench-only ones).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `tests/fixtures/` of the repository.
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The 1.4 KB flow-3 ORU with a long FT protocol carrying escapes: the gate's input.
pub const ORU_FT: &str = "flux3_ok_ft.hl7";
/// A flow-3 ORU whose protocol is a 64 KB Base64 ED (generated, `tests/fixtures/bench/`).
pub const ORU_ED_64K: &str = "bench/flux3_ok_ed_64k.hl7";
/// A flow-3 ORU whose FT protocol has 80 lines, 318 escape characters in one OBX (generated,
/// `tests/fixtures/bench/`): the parse's and the read's escape handling at a report's length.
pub const ORU_FT_80_LINES: &str = "bench/flux3_ok_ft_80_lines.hl7";
/// A flow-4 OMI with 10 ORDER groups (generated, `tests/fixtures/bench/`).
pub const OMI_10_ORDERS: &str = "bench/flux4_sr_ten_orders.hl7";
/// A flow-1 ORM in ISO-8859-15.
pub const ORM_LATIN9: &str = "flux1_nw_latin9.hl7";

/// Every input of the benches: one fixture per flow plus the large and Latin-9 ones.
pub const ALL: &[&str] = &[
    "flux1_nw_full.hl7",
    ORM_LATIN9,
    "flux2_ca.hl7",
    ORU_FT,
    ORU_ED_64K,
    "flux4_sr.hl7",
    OMI_10_ORDERS,
];

/// A short label for a fixture path, for benchmark ids.
pub fn label(name: &str) -> &str {
    name.trim_start_matches("bench/").trim_end_matches(".hl7")
}
