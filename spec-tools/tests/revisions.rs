//! Regenerating from a revised guide, end to end: the two earlier revisions of the guide
//! extract and `diff` reports their field-level changes; an edited copy of the pages yields
//! the matching spec change and a report that flags the breaking ones.

mod common;
use common::{copy_dir, guide, repo};

use std::path::{Path, PathBuf};

use hl7_spec_tools::{diff, extract};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hl7-revisions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Extracts `ig` into a copy of the committed spec (hand files and base kept) and diffs the
/// committed spec against it.
fn extract_and_diff(ig: &Path, name: &str, old_is_committed: bool) -> diff::Report {
    let spec = temp(name);
    copy_dir(&repo().join("spec"), &spec);
    assert_eq!(extract::run(ig, &spec, false), std::process::ExitCode::SUCCESS);
    let committed = hl7_spec_tools::codegen_config(&repo().join("spec")).model().unwrap();
    let extracted = hl7_spec_tools::codegen_config(&spec).model().unwrap_or_else(|e| panic!("{name}: {e}"));
    let report = if old_is_committed { diff::diff(&committed, &extracted) } else { diff::diff(&extracted, &committed) };
    let _ = std::fs::remove_dir_all(&spec);
    report
}

#[test]
fn earlier_revisions_diff_to_the_known_field_level_changes() {
    let Some(ig) = guide("history/0469084") else { return };
    let text = extract_and_diff(&ig, "0469084", false).to_string();
    for line in [
        "flux1_orm_o01_nw ORDER/ORDER_DETAIL/OBSERVATION:anatomical_region/OBX-5.3 fixed SNT → SCT",
        "flux1_orm_o01_nw ORC-2.1 + usage R",
        "flux2_orm_o01_ca ORC-2.3 + usage R",
        "flux3_oru_r01 ORC-2.4 + usage R",
        "flux4_omi_o23 ORDER/OBSERVATION:viewer_url/OBX-2 fixed TX → ED",
        "flux4_omi_o23 ORDER/OBSERVATION:viewer_url OBX-5 datatype TX → ED (breaking)",
        "    flux4_omi_o23::ViewerUrl::value(): Option<Tx> → Option<Ed> (breaking)",
        "flux4_omi_o23 IPC-2.3 fixed (none) → 2.16.840.1.113883.6.1",
        "flux4_omi_o23 IPC-4.3 fixed (none) → 2.16.840.1.113883.6.1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }

    let Some(ig) = guide("history/5fbc622") else { return };
    let report = extract_and_diff(&ig, "5fbc622", false);
    // 5fbc622 → e13d37a: the OBX-8 coding-system row of the history slice was removed (the
    // extractor reports that row of 5fbc622 as naming no element of OBX-8, an IS).
    assert_eq!(report.to_string().lines().next(), Some("flux1_orm_o01_nw ORDER/ORDER_DETAIL/OBSERVATION:history/OBX-8 values (none) → SANS_IMPACT|PERTINENT|MAJEUR"));
    assert!(!report.has_breaking());
}

/// Removes the first `<tr>` … `</tr>` that contains `marker`.
fn remove_row(page: &str, marker: &str) -> String {
    let at = page.find(marker).expect("marker present");
    let start = page[..at].rfind("<tr").unwrap();
    let end = at + page[at..].find("</tr>").unwrap() + "</tr>".len();
    format!("{}{}", &page[..start], &page[end..])
}

#[test]
fn an_edited_page_yields_the_matching_change_and_flags_the_breaking_ones() {
    let Some(current) = guide("") else { return };
    let ig = temp("edited-ig");
    copy_dir(&current.join("input/pagecontent"), &ig.join("input/pagecontent"));
    let pages = ig.join("input/pagecontent");

    // Flow 1: PV1 becomes optional, PD1 leaves the PATIENT group.
    let profils = std::fs::read_to_string(pages.join("st-profils.md")).unwrap();
    let pv1 = "<td><p>PV1</p></td>\n      <td><p>Patient Visit</p></td>\n      <td><p>R</p></td>\n      <td><p>[1..1]</p></td>";
    assert!(profils.contains(pv1));
    let profils = profils.replacen(pv1, "<td><p>[PV1]</p></td>\n      <td><p>Patient Visit</p></td>\n      <td><p>O</p></td>\n      <td><p>[0..1]</p></td>", 1);
    let profils = remove_row(&profils, "<td><p>[PD1]</p></td>");
    std::fs::write(pages.join("st-profils.md"), profils).unwrap();
    // A code added to TLR_OBSERVATION.
    let obs = std::fs::read_to_string(pages.join("table_obs.md")).unwrap();
    let row = "    <tr>\n      <td><p><strong>TEMPERATURE</strong></p></td>\n      <td><p>Température corporelle</p></td>\n      <td><p>TLR_OBSERVATION</p></td>\n    </tr>\n  </tbody>";
    std::fs::write(pages.join("table_obs.md"), obs.replacen("  </tbody>", row, 1)).unwrap();

    let report = extract_and_diff(&ig, "edited", true);
    let text = report.to_string();
    for line in [
        "flux1_orm_o01_nw PATIENT/PATIENT_VISIT/PV1 usage R → O (breaking)",
        "    flux1_orm_o01_nw::PatientVisit::pv1(): Result<Pv1, Missing> → Option<Pv1> (breaking)",
        "base TLR_OBSERVATION + TEMPERATURE",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with("flux1_orm_o01_nw PATIENT/PD1 - segment") && l.ends_with("(breaking)")), "{text}");
    assert!(report.has_breaking());
    assert_eq!(report.exit_code(true), 3);
    let _ = std::fs::remove_dir_all(&ig);
}
