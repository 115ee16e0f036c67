//! `telerad validate` on what integrators capture: folders, files of several messages, FHS/BHS
//! batches, standard input; the summary, `--min-severity`, the JSON and JUnit outputs, the exit
//! code contract (README, "Command line"), and the errors in the command's terms.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

fn fixture_text(name: &str) -> String {
    String::from_utf8(std::fs::read(fixture(name)).unwrap()).unwrap()
}

/// flux1_nw_minimal with MSH-12 `2.3`: one error (203, rule `fixed`).
fn invalid_message() -> String {
    fixture_text("flux1_nw_minimal.hl7").replacen("|2.5.1|", "|2.3|", 1)
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// `telerad args` with `env`; its output read while it runs (a large output would fill a pipe
/// that is only read at the end).
fn telerad(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin()).args(args).envs(env.iter().copied()).stdin(Stdio::null()).output().expect("telerad runs")
}

fn run(args: &[&str]) -> Output {
    telerad(args, &[])
}

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(bin()).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A folder: a batch of three messages (the second invalid), a file of two messages with an
/// empty line between them (the second with LF line ends: invalid unless lenient), a single
/// valid message in a subfolder, notes and hidden files that are not read.
fn traffic(dir: &Path) {
    let batch = format!("FHS|^~\\&|RIS\rBHS|^~\\&|RIS\r{}{}{}BTS|3\rFTS|1\r", fixture_text("flux1_nw_full.hl7"), invalid_message(), fixture_text("flux2_ca.hl7"));
    std::fs::write(dir.join("batch.hl7"), batch).unwrap();
    std::fs::write(dir.join("two.hl7"), format!("{}\r{}", fixture_text("flux4_sr.hl7"), fixture_text("flux3_ok_ft.hl7").replace('\r', "\n"))).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/one.er7"), fixture_text("flux1_nw_minimal.hl7")).unwrap();
    std::fs::write(dir.join("notes.txt"), "captured on the RIS test bed\n").unwrap();
    std::fs::write(dir.join(".hidden.hl7"), invalid_message()).unwrap();
    std::fs::create_dir(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/x.hl7"), invalid_message()).unwrap();
}

#[test]
fn a_folder_of_batches_and_multi_message_files() {
    let dir = tempfile::tempdir().unwrap();
    traffic(dir.path());
    let d = dir.path().to_str().unwrap();
    let out = run(&["validate", "--format", "json", d]);
    assert_eq!(out.status.code(), Some(1), "one message is invalid: {}", stderr(&out));
    let lines = json_lines(&out);
    let at: Vec<(String, u64, u64, bool)> = lines
        .iter()
        .map(|l| (l["file"].as_str().unwrap().strip_prefix(d).unwrap().to_owned(), l["message"].as_u64().unwrap(), l["line"].as_u64().unwrap(), l["valid"].as_bool().unwrap()))
        .collect();
    // Sorted by name, the hidden files and the notes left out; each message where it is.
    let full_lines = fixture_text("flux1_nw_full.hl7").matches('\r').count() as u64;
    assert_eq!(
        at,
        [
            ("/batch.hl7".to_owned(), 1, 3, true),
            ("/batch.hl7".to_owned(), 2, 3 + full_lines, false),
            ("/batch.hl7".to_owned(), 3, 3 + full_lines + invalid_message().matches('\r').count() as u64, true),
            ("/sub/one.er7".to_owned(), 1, 1, true),
            ("/two.hl7".to_owned(), 1, 1, true),
            ("/two.hl7".to_owned(), 2, fixture_text("flux4_sr.hl7").matches('\r').count() as u64 + 2, false),
        ]
    );
    assert_eq!(lines[1]["control_id"], "CHUXF1-20260106-0001");
    assert_eq!(lines[1]["profile"], "flux1_orm_o01_nw");
    let f = lines[1]["findings"].as_array().unwrap().iter().find(|f| f["severity"] == "error").unwrap();
    assert_eq!((f["code"].as_u64(), f["rule"].as_str()), (Some(203), Some("fixed")));
    // The guide page and row, as the text output gives it.
    assert_eq!(f["source"], "st-contraintes.md#t1.r12");
    let err = stderr(&out);
    assert!(err.contains("notes.txt: skipped: not an HL7 message file"), "{err}");
    assert!(!err.contains("hidden") && !err.contains(".git"), "{err}");

    // The text output names the message in its file, and ends with the summary.
    let out = run(&["validate", d]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains(&format!("{d}/batch.hl7#2 (line {}): invalid (1 error(s)) [flux1_orm_o01_nw]", 3 + full_lines)), "{text}");
    assert!(text.contains("  error 203 MSH[1]-12.1: MSH-12.1 is '2.3', the guide fixes '2.5.1' (rule fixed, st-contraintes.md#t1.r12)"), "{text}");
    assert!(text.contains(&format!("{d}/sub/one.er7: valid [flux1_orm_o01_nw]\n")), "{text}");
    assert!(text.contains("summary: 6 message(s) in 3 file(s): 4 valid, 2 invalid\n  1 file(s) skipped (not HL7)\n"), "{text}");
    assert!(text.contains(&format!("  files with errors:\n    {d}/batch.hl7 (1 of 3 message(s) invalid)\n    {d}/two.hl7 (1 of 2 message(s) invalid)\n")), "{text}");
    assert!(text.contains("Give --lenient to accept LF and CRLF line ends"), "{text}");
    // Lenient: the LF message is read.
    let out = run(&["validate", "--lenient", "--format", "json", d]);
    assert_eq!(json_lines(&out).iter().filter(|l| l["valid"] == false).count(), 1);
}

#[test]
fn the_summary_of_the_fixtures() {
    let dir = fixture("");
    let out = run(&["validate", dir.to_str().unwrap(), "--summary"]);
    assert_eq!(out.status.code(), Some(0), "every fixture is valid: {}", stderr(&out));
    let text = stdout(&out);
    let (messages, summary) = text.split_once("\nsummary: ").expect("a summary");
    let fixtures = telerad_tests::all_fixtures();
    // One line per message (the README is skipped, the bench folder walked), no finding lines.
    let lines: Vec<&str> = messages.lines().collect();
    assert!(lines.len() > fixtures.len(), "{} lines for {} fixtures", lines.len(), fixtures.len());
    assert!(lines.iter().all(|l| l.contains(": valid [")), "{messages}");
    assert!(lines.iter().any(|l| l.contains("bench/")), "{messages}");
    assert!(summary.starts_with(&format!("{n} message(s) in {n} file(s): {n} valid, 0 invalid\n", n = lines.len())), "{summary}");
    for part in ["  per profile:\n", "    flux1_orm_o01_nw  ", "  per rule (error / warning / info):\n", "  findings: 0 error(s), "] {
        assert!(summary.contains(part), "`{part}` in {summary}");
    }
    // The counts add up: findings per rule = findings per severity.
    let total: usize = summary.split("per rule (error / warning / info):\n").nth(1).unwrap().lines().filter(|l| l.starts_with("    ")).map(|l| l.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() + l.split_whitespace().nth(3).unwrap().parse::<usize>().unwrap() + l.split_whitespace().nth(5).unwrap().parse::<usize>().unwrap()).sum();
    let json = run(&["validate", "--format", "json", dir.to_str().unwrap()]);
    let findings: usize = json_lines(&json).iter().map(|l| l["findings"].as_array().unwrap().len()).sum();
    assert_eq!(total, findings);
    assert!(findings > 0);
}

#[test]
fn min_severity_filters_what_is_shown_not_validity() {
    let dir = tempfile::tempdir().unwrap();
    traffic(dir.path());
    let d = dir.path().to_str().unwrap();
    let all = run(&["validate", "--format", "json", d]);
    let errors = run(&["validate", "--format", "json", "--min-severity", "error", d]);
    let warnings = run(&["validate", "--format", "json", "--min-severity", "warning", d]);
    assert_eq!(errors.status.code(), Some(1));
    let count = |o: &Output, sev: &str| json_lines(o).iter().flat_map(|l| l["findings"].as_array().unwrap().clone()).filter(|f| f["severity"] == sev).count();
    assert!(count(&all, "info") > 0 && count(&all, "warning") > 0, "the traffic has infos and warnings");
    assert_eq!((count(&errors, "error"), count(&errors, "warning"), count(&errors, "info")), (2, 0, 0));
    assert_eq!((count(&warnings, "error"), count(&warnings, "warning"), count(&warnings, "info")), (2, count(&all, "warning"), 0));
    let valid = |o: &Output| json_lines(o).iter().map(|l| l["valid"].as_bool().unwrap()).collect::<Vec<_>>();
    assert_eq!(valid(&all), valid(&errors));
    // The text summary counts what is shown, and says so.
    let text = stdout(&run(&["validate", "--min-severity", "error", d]));
    assert!(!text.contains("  warning ") && !text.contains("  info "), "{text}");
    assert!(text.contains("  findings (at or above error): 2 error(s), 0 warning(s), 0 info(s)"), "{text}");
    // --summary in JSON: a last line with the counts.
    let out = run(&["validate", "--format", "json", "--summary", "--min-severity", "warning", d]);
    let lines = json_lines(&out);
    let s = &lines.last().unwrap()["summary"];
    assert_eq!((s["messages"].as_u64(), s["invalid"].as_u64(), s["files_skipped"].as_u64()), (Some(6), Some(2), Some(1)));
    assert_eq!(s["findings"]["warning"].as_u64(), Some(count(&all, "warning") as u64));
    // Rules, most frequent first; only errors and warnings counted.
    let totals: Vec<u64> = s["rules"].as_array().unwrap().iter().map(|r| r["findings"]["error"].as_u64().unwrap() + r["findings"]["warning"].as_u64().unwrap() + r["findings"]["info"].as_u64().unwrap()).collect();
    assert!(!totals.is_empty() && totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");
    assert!(s["rules"].as_array().unwrap().iter().all(|r| r["findings"]["info"] == 0));
    assert!(s["files_with_errors"][0]["file"].as_str().unwrap().ends_with("batch.hl7"));
    assert!(lines[..lines.len() - 1].iter().all(|l| l.get("summary").is_none()));
}

/// Every core or one: the same bytes (results are collected in input order).
#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["flux1_nw_full.hl7", "flux2_ca.hl7", "flux3_ok_ed.hl7", "flux4_sr_three_orders.hl7", "ack_ae.hl7", "flux1_nw_latin9.hl7"];
    // 600 messages in 60 files, some single, some batches of 19, with one invalid among them.
    for i in 0..60 {
        let mut content = String::new();
        let count = if i % 3 == 0 { 19 } else { 1 };
        for j in 0..count {
            let name = names[(i + j) % names.len()];
            let bytes = std::fs::read(fixture(name)).unwrap();
            content.push_str(&String::from_utf8_lossy(&bytes));
        }
        if i == 37 {
            content = invalid_message();
        }
        std::fs::write(dir.path().join(format!("f{i:03}.hl7")), content).unwrap();
    }
    let d = dir.path().to_str().unwrap();
    let one = telerad(&["validate", "--format", "json", d], &[("RAYON_NUM_THREADS", "1")]);
    let many = telerad(&["validate", "--format", "json", d], &[("RAYON_NUM_THREADS", "4")]);
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(many.status.code(), Some(1));
    assert!(json_lines(&one).len() > 400);
    assert!(one.stdout == many.stdout, "JSON differs between one thread and four");
    let one = telerad(&["validate", d], &[("RAYON_NUM_THREADS", "1")]);
    let many = telerad(&["validate", d], &[("RAYON_NUM_THREADS", "3")]);
    assert!(one.stdout == many.stdout, "text differs between one thread and three");
    // Redirected standard error: no progress bar, nothing at all for a folder of messages.
    assert!(many.stderr.is_empty(), "{}", stderr(&many));
}

#[test]
fn standard_input_may_hold_a_batch() {
    let input = format!("BHS|^~\\&\r{}{}BTS|2\r", fixture_text("flux2_ca.hl7"), invalid_message());
    let out = with_stdin(&["validate", "--format", "json", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.iter().map(|l| (l["file"].as_str().unwrap(), l["message"].as_u64().unwrap(), l["valid"].as_bool().unwrap())).collect::<Vec<_>>(), [("-", 1, true), ("-", 2, false)]);
    let out = with_stdin(&["validate", "-"], input.as_bytes());
    assert!(stdout(&out).contains("-#2 (line "), "{}", stdout(&out));
}

#[test]
fn exit_codes_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.hl7"), fixture_text("flux2_ca.hl7")).unwrap();
    let d = dir.path().to_str().unwrap();
    assert_eq!(run(&["validate", d]).status.code(), Some(0));
    // A single message: no summary.
    assert!(!stdout(&run(&["validate", d])).contains("summary:"));
    // A path that does not exist: exit 2, the others still reported.
    let out = run(&["validate", "/nonexistent/folder", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read /nonexistent/folder"), "{}", stderr(&out));
    assert!(stdout(&out).contains("ok.hl7: valid"), "{}", stdout(&out));
    std::fs::write(dir.path().join("bad.hl7"), invalid_message()).unwrap();
    assert_eq!(run(&["validate", d]).status.code(), Some(1));
    assert_eq!(run(&["validate", "/nonexistent/folder", d]).status.code(), Some(2), "2 wins over 1");
    assert_eq!(run(&["validate", "--min-severity", "fatal", d]).status.code(), Some(2));
    // A batch without messages is not an error; a segment after the trailer is.
    std::fs::write(dir.path().join("bad.hl7"), "FHS|^~\\&\rBHS|^~\\&\rBTS|0\rFTS|1\r").unwrap();
    let out = run(&["validate", d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.hl7: a batch without any message"), "{}", stderr(&out));
    std::fs::write(dir.path().join("bad.hl7"), format!("{}BTS|1\rPID|||1\r", fixture_text("flux2_ca.hl7"))).unwrap();
    let out = run(&["validate", d]);
    assert_eq!(out.status.code(), Some(1));
    let line = fixture_text("flux2_ca.hl7").matches('\r').count() + 2;
    assert!(stdout(&out).contains(&format!("error 100 message: line {line}: segment `PID` belongs to no message (a message starts at MSH;")), "{}", stdout(&out));
}

/// The errors name the command's options and what is in the file.
#[test]
fn errors_in_the_commands_terms() {
    let dir = tempfile::tempdir().unwrap();
    let lf = dir.path().join("lf.hl7");
    std::fs::write(&lf, fixture_text("flux2_ca.hl7").replace('\r', "\n")).unwrap();
    let crlf = dir.path().join("crlf.hl7");
    std::fs::write(&crlf, fixture_text("flux2_ca.hl7").replace('\r', "\r\n")).unwrap();
    let bom = dir.path().join("bom.hl7");
    std::fs::write(&bom, [b"\xEF\xBB\xBF".as_slice(), &std::fs::read(fixture("flux2_ca.hl7")).unwrap()].concat()).unwrap();
    for file in [&lf, &crlf] {
        let f = file.to_str().unwrap();
        for out in [run(&["validate", f]), run(&["fmt", f]), run(&["json", f])] {
            assert_eq!(out.status.code(), Some(1));
            let all = stdout(&out) + &stderr(&out);
            assert!(all.contains("line feed (LF) found") && all.contains("Give --lenient to accept LF and CRLF line ends"), "{all}");
            assert!(!all.contains("ParseOptions"), "{all}");
        }
        assert_eq!(run(&["validate", "--lenient", f]).status.code(), Some(0));
    }
    let b = bom.to_str().unwrap();
    for out in [run(&["validate", b]), run(&["fmt", b]), run(&["json", b])] {
        assert_eq!(out.status.code(), Some(1));
        let all = stdout(&out) + &stderr(&out);
        assert!(all.contains("the file starts with a UTF-8 byte-order mark (bytes EF BB BF)") && all.contains("--lenient"), "{all}");
        assert!(!all.contains("must start with"), "{all}");
    }
    assert_eq!(run(&["validate", "--lenient", b]).status.code(), Some(0));
    // fmt --lenient: the message as the guide wants it (no mark, CR line ends).
    for file in [&lf, &crlf, &bom] {
        let out = run(&["fmt", "--lenient", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(out.stdout == std::fs::read(fixture("flux2_ca.hl7")).unwrap(), "{}", stdout(&out));
    }
    // A byte that does not fit MSH-18: the set and the byte, located.
    let latin1 = dir.path().join("latin1.hl7");
    std::fs::write(&latin1, [std::fs::read(fixture("flux2_ca.hl7")).unwrap(), b"NTE|1||Fi\xe8vre\r".to_vec()].concat()).unwrap();
    let out = run(&["validate", latin1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("NTE-3 (byte ") && stdout(&out).contains("byte 0xE8 is not valid in the declared character set UNICODE UTF-8"), "{}", stdout(&out));
    // A report that cannot be written: a usage error, said before anything is validated.
    let out = run(&["validate", "--report", "/nonexistent/folder/report.html", latin1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write the report /nonexistent/folder/report.html"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // An empty line inside a message.
    let empty = dir.path().join("empty.hl7");
    std::fs::write(&empty, fixture_text("flux2_ca.hl7").replacen('\r', "\r\r", 1)).unwrap();
    let out = run(&["validate", empty.to_str().unwrap()]);
    assert!(stdout(&out).contains("give --lenient to skip empty lines"), "{}", stdout(&out));
}

#[test]
fn split_writes_each_message_alone() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch.hl7");
    let messages = [fixture_text("flux1_nw_full.hl7"), invalid_message(), fixture_text("flux2_ca.hl7").replace('\r', "\n")];
    std::fs::write(&batch, format!("FHS|^~\\&\rBHS|^~\\&\r{}{}\r\n{}BTS|3\rFTS|1\r", messages[0], messages[1], messages[2])).unwrap();
    let into = dir.path().join("out");
    let out = run(&["split", batch.to_str().unwrap(), "--into", into.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let expected: Vec<String> = (1..=3).map(|i| into.join(format!("batch-000{i}.hl7")).display().to_string()).collect();
    assert_eq!(written, expected);
    for (path, message) in written.iter().zip(&messages) {
        // Byte for byte as in the file: split changes nothing.
        assert_eq!(&std::fs::read_to_string(path).unwrap(), message);
    }
    // The pieces validate as the whole did.
    assert_eq!(run(&["validate", &written[0]]).status.code(), Some(0));
    assert_eq!(run(&["validate", &written[1]]).status.code(), Some(1));
    assert_eq!(run(&["validate", "--lenient", &written[2]]).status.code(), Some(0));
    // Never over an existing file.
    let again = run(&["split", batch.to_str().unwrap(), "--into", into.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("batch-0001.hl7"), "{}", stderr(&again));
    // To standard output: the messages, an empty line between two; read back the same.
    let out = run(&["split", batch.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{}\r{}\r{}", messages[0], messages[1], messages[2]));
    let back = with_stdin(&["validate", "--format", "json", "--lenient", "-"], &out.stdout);
    assert_eq!(json_lines(&back).iter().map(|l| l["valid"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false, true]);
    // A byte-order mark is the file's, not the first message's.
    let bom = dir.path().join("bom.hl7");
    std::fs::write(&bom, format!("\u{FEFF}{}{}", messages[0], messages[1])).unwrap();
    let out = run(&["split", bom.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\r{}", messages[0], messages[1]));
    // Not a message file: a located error, exit 1.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello\n").unwrap();
    let out = run(&["split", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("notes.txt: line 1: segment `hel` belongs to no message"), "{}", stderr(&out));
}

/// On a terminal (a pseudo-terminal from util-linux's `script`) the progress bar is drawn on
/// standard error; the output is the same as without one.
#[test]
fn progress_bar_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        let why = "util-linux's `script` is not installed: no pseudo-terminal to draw the progress bar on";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    traffic(dir.path());
    let d = dir.path().to_str().unwrap();
    let json = dir.path().join("out.json");
    let command = format!("{} validate --format json {d} > {}", bin(), json.display());
    let terminal = Command::new("script").args(["-qec", &command, "/dev/null"]).stdin(Stdio::null()).output().unwrap();
    // `script` exits with the command's status.
    assert_eq!(terminal.status.code(), Some(1), "{}", stderr(&terminal));
    let transcript = stdout(&terminal);
    assert!(transcript.contains("validating ") && transcript.contains("file(s)"), "no progress bar on the terminal: {transcript:?}");
    let redirected = run(&["validate", "--format", "json", d]);
    assert!(std::fs::read(&json).unwrap() == redirected.stdout);
    assert!(!stderr(&redirected).contains("validating"), "{}", stderr(&redirected));
}
